"""Pricing tiers enforced by a real `rostro serve`: F0 per minute and per month, S0 per
second, counters persisted in the database and reported by the usage endpoint and CLI."""

from __future__ import annotations

import json
import re
import time

import requests

from rostro.store.db import open_database
from rostro.store.resources import get_resource
from rostro.store.usage import record_calls


def new_resource(service, name: str, tier: str) -> str:
    created = service.cli("resources", "create", name, "--tier", tier)
    return re.search(r"KEY 1:\s+(\w+)", created.stdout).group(1)


def cheap_call(service, key: str) -> requests.Response:
    """A counted call that does no inference (the body is refused after the key check)."""
    return requests.post(service.url("/face/v1.0/detect"), timeout=30,
                         headers={"Ocp-Apim-Subscription-Key": key})


def usage(service, key: str) -> dict:
    response = requests.get(service.url("/rostro/v1.0/usage"), timeout=30,
                            headers={"Ocp-Apim-Subscription-Key": key})
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_fresh_window(seconds: int, margin: float) -> None:
    """Sleep until at least ``margin`` seconds remain in the current UTC window."""
    into = time.time() % seconds
    if seconds - into < margin:
        time.sleep(seconds - into + 0.05)


def test_f0_twenty_calls_per_minute(service):
    key = new_resource(service, "f0-minute", "F0")
    wait_for_fresh_window(60, 5)
    statuses = [cheap_call(service, key).status_code for _ in range(20)]
    assert statuses == [415] * 20
    refused = cheap_call(service, key)
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.json() == {"error": {"code": "429", "message": (
        "Requests to the Detect Operation under Face API - v1.0 have exceeded rate limit of "
        f"your current Face F0 pricing tier. Please retry after {retry_after} "
        f"second{'s' if retry_after != 1 else ''}. To increase your rate limit switch to a "
        "paid tier.")}}
    report = usage(service, key)
    assert report["tier"] == "F0"
    assert report["callsThisMinute"] == 20 and report["callsThisMonth"] == 20
    assert report["rateLimit"] == {"calls": 20, "per": "minute", "remaining": 0}
    assert report["monthlyQuota"] == 30000 and report["monthRemaining"] == 29980


def test_f0_month_quota(service):
    key = new_resource(service, "f0-month", "F0")
    database = open_database(service.home / "rostro.db", create=False)
    try:
        with database.transaction() as connection:
            resource = get_resource(connection, "f0-month")
            record_calls(connection, resource.id, 29_999, windows=("month",))
    finally:
        database.close()
    wait_for_fresh_window(60, 5)
    assert cheap_call(service, key).status_code == 415  # call number 30,000
    refused = cheap_call(service, key)
    assert refused.status_code == 403
    body = refused.json()["error"]
    assert body["code"] == "403"
    assert body["message"].startswith("Out of call volume quota for FaceAPI F0 pricing tier.")
    assert int(refused.headers["Retry-After"]) > 0
    report = usage(service, key)
    assert report["callsThisMonth"] == 30000 and report["monthRemaining"] == 0
    cli = service.cli("usage", "f0-month", "--json")
    assert json.loads(cli.stdout)["monthRemaining"] == 0


def test_s0_ten_calls_per_second(service):
    key = new_resource(service, "s0-second", "S0")
    session = requests.Session()
    started = time.time()
    results = []  # (sent, answered, response): the server admitted the call in between
    for _ in range(40):
        sent = time.time()
        response = session.post(service.url("/face/v1.0/detect"), timeout=30,
                                headers={"Ocp-Apim-Subscription-Key": key})
        results.append((sent, time.time(), response))
    accepted = [(a, b) for a, b, r in results if r.status_code == 415]
    refused = [r for _, _, r in results if r.status_code == 429]
    # Calls sent and answered within one clock second were admitted in that second (the
    # server runs on this machine's clock): never more than 10 of them. Bucketing by answer
    # time alone fails on a busy machine, where a call admitted at the end of one second is
    # answered in the next.
    per_second: dict[int, int] = {}
    for sent, answered in accepted:
        if int(sent) == int(answered):
            per_second[int(sent)] = per_second.get(int(sent), 0) + 1
    assert max(per_second.values(), default=0) <= 10
    if time.time() - started > 3:  # a very slow machine cannot reach the limit; say so
        seconds = {int(b) for _, b, _ in results} | {int(a) for a, _, _ in results}
        assert len(accepted) <= 10 * len(seconds)
        return
    assert refused, "40 calls within ~1-3 s must exceed 10 per second"
    assert refused[0].headers["Retry-After"] == "1"
    assert "Face S0 pricing tier. Please retry after 1 second." in refused[0].json()["error"]["message"]
    assert usage(service, key)["rateLimit"]["per"] == "second"


def test_unlimited_tier_is_never_throttled(service):
    key = new_resource(service, "no-limits", "unlimited")
    session = requests.Session()
    statuses = {session.post(service.url("/face/v1.0/detect"), timeout=30,
                             headers={"Ocp-Apim-Subscription-Key": key}).status_code
                for _ in range(30)}
    assert statuses == {415}
    report = usage(service, key)
    assert report["monthlyQuota"] is None and report["rateLimit"]["calls"] is None


def test_usage_endpoint_needs_a_key_and_is_not_counted(service):
    key = new_resource(service, "usage-check", "F0")
    assert requests.get(service.url("/rostro/v1.0/usage"), timeout=30).status_code == 401
    for _ in range(3):
        usage(service, key)
    assert usage(service, key)["callsThisMonth"] == 0


def test_usage_cli(service):
    key = new_resource(service, "usage-cli", "F0")
    wait_for_fresh_window(60, 5)
    for _ in range(3):
        cheap_call(service, key)
    text = service.cli("usage", "usage-cli").stdout
    assert "usage-cli (F0)" in text
    assert re.search(r"calls this minute:\s+3 of 20 \(remaining 17\)", text), text
    assert re.search(r"calls this month:\s+3 of 30,000 \(remaining 29,997", text), text
    missing = service.cli("usage", "nobody", check=False)
    assert missing.returncode == 1 and "no resource named 'nobody'" in missing.stderr
