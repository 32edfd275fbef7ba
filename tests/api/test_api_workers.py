"""`rostro serve --workers 2 --allow-private-urls`: several processes share one database, so
keys and tier limits hold across workers."""

from __future__ import annotations

import re

import pytest
import requests
from api_service import start_service, stop_service

STREAM = {"Content-Type": "application/octet-stream"}


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory, models_root):
    home = tmp_path_factory.mktemp("rostro-workers")
    running = start_service(home, models_root, "--workers", "2", "--allow-private-urls")
    yield running
    stop_service(running.process)


def test_two_workers_serve_and_fetch_private_urls(two_workers, image_server, images):
    responses = [requests.post(
        two_workers.endpoint + "face/v1.0/detect?returnFaceId=false", timeout=60,
        headers={"Ocp-Apim-Subscription-Key": two_workers.default_key, "Connection": "close"},
        json={"url": f"{image_server.other_base}/face.jpg"}) for _ in range(4)]
    for response in responses:
        assert response.status_code == 200, response.text
        assert len(response.json()) == 1


def test_rate_limit_is_shared_between_workers(two_workers):
    created = two_workers.cli("resources", "create", "shared-f0", "--tier", "F0")
    key = re.search(r"KEY 1:\s+(\w+)", created.stdout).group(1)
    statuses = []
    for _ in range(25):  # a new connection each time, so both workers take calls
        statuses.append(requests.post(
            two_workers.url("/face/v1.0/detect"), timeout=30,
            headers={"Ocp-Apim-Subscription-Key": key, "Connection": "close"}).status_code)
    accepted = statuses.count(415)
    # 20 per minute across all workers (or up to 40 if the calls straddled a minute).
    assert statuses.count(429) >= 5 or accepted <= 40
    assert accepted in (20, 25) and accepted + statuses.count(429) == 25
    if accepted == 20:
        assert statuses[20:] == [429] * 5
