"""Sign-in throttle and log redaction against real servers: two `rostro serve` processes on one
$ROSTRO_HOME (one SQLite database). ``proxied`` is the Studio tests' shared server, which
believes X-Forwarded-For from 127.0.0.1 (``--forwarded-allow-ips``) and logs every request
(``--access-log``); ``direct`` runs with the defaults, which believe no forwarded header. The
database-level checks of the throttle, on SQLite and PostgreSQL, are in
tests/api/test_studio_throttle_store.py."""

from __future__ import annotations

import re
import time
import urllib.request

import pytest
import requests
from studio_server import login, start, stop

from rostro.store.db import open_database
from rostro.store.studio_accounts import SignInFailure
from rostro.studio import throttle


@pytest.fixture(scope="module")
def direct(studio_server, models_root):
    """A second process on the shared server's home, with the default proxy settings."""
    server = start(studio_server.home, models_root, password=studio_server.password)
    yield server
    stop(server.process)


def _forget_failures(server) -> None:
    database = open_database(server.home / "rostro.db")
    with database.transaction() as connection:
        connection.execute(SignInFailure.__table__.delete())
    database.close()


@pytest.fixture
def servers_fresh(studio_server, direct):
    """The two servers, with no failed sign-in counted (before and after the test, so the
    other Studio tests are not held back)."""
    _forget_failures(studio_server)
    yield studio_server, direct
    _forget_failures(studio_server)


def _attempts(server, count: int, first: int = 0) -> list[requests.Response]:
    """``count`` wrong passwords, each from a new X-Forwarded-For address."""
    return [login(server, f"guess-{i}",
                  headers={"X-Forwarded-For": f"10.9.{i // 250}.{i % 250}"})[1]
            for i in range(first, first + count)]


def test_rotating_forwarded_for_is_ignored_by_default(servers_fresh):
    _, direct = servers_fresh
    answers = _attempts(direct, throttle.ADDRESS_FAILURES + 3)
    statuses = [a.status_code for a in answers]
    assert statuses == [401] * throttle.ADDRESS_FAILURES + [429] * 3  # all from 127.0.0.1
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= throttle.ADDRESS_LOCKOUT
    assert "Too many failed attempts" in answers[-1].text
    assert login(direct, direct.password)[1].status_code == 429  # not checked while locked


def test_trusted_proxy_addresses_are_throttled_per_account_in_every_process(servers_fresh):
    proxied, direct = servers_fresh
    answers = _attempts(proxied, throttle.ACCOUNT_FREE_FAILURES + 1)
    assert [a.status_code for a in answers] == \
        [401] * throttle.ACCOUNT_FREE_FAILURES + [429]  # each from a new address
    assert answers[-1].headers["Retry-After"] == "1"
    checked, delays, index = throttle.ACCOUNT_FREE_FAILURES, [], 100
    while checked < throttle.ACCOUNT_FREE_FAILURES + 2:  # two more, each after a longer wait
        answer = _attempts(proxied, 1, first=index)[0]
        index += 1
        if answer.status_code == 429:
            delays.append(int(answer.headers["Retry-After"]))
            time.sleep(delays[-1])
        else:
            assert answer.status_code == 401
            checked += 1
    assert max(delays) == 2
    # the other process, on another address, sees the same account: held back, not checked
    held = login(direct, direct.password)[1]
    assert held.status_code == 429 and 1 <= int(held.headers["Retry-After"]) <= 4
    time.sleep(int(held.headers["Retry-After"]))
    assert login(direct, direct.password)[1].status_code == 303  # the operator gets in


def test_access_log_and_errors_never_show_keys(servers_fresh):
    proxied, _ = servers_fresh
    created = proxied.cli("resources", "create", "logged", "--tier", "S0")
    key = re.search(r"KEY 1:\s+(\w+)", created.stdout).group(1)
    base = proxied.base
    requests.get(f"{base}/face/v1.0/persongroups?subscription-key={key}", timeout=30)
    # urllib sends the URL as written (requests would decode %2D into "-")
    urllib.request.urlopen(f"{base}/face/v1.0/persongroups?top=2&subscription%2Dkey={key}",
                           timeout=30).read()
    requests.post(f"{base}/face/v1.0/detect?subscription-key={key}&returnFaceId=nope",
                  json={"url": "http://127.0.0.1:1/x.jpg"}, timeout=30)
    requests.get(f"{base}/face/v1.0/nowhere?subscription-key={key}", timeout=30)
    requests.get(f"{base}/face/v1.0/facelists", headers={"Ocp-Apim-Subscription-Key": key},
                 timeout=30)
    requests.get(f"{base}/studio/resources?subscription-key={key}&a=1", timeout=30)  # redirected
    # to /studio/login?next=%2Fstudio%2Fresources%3Fsubscription-key%3D...
    requests.get(f"{base}/face/v1.0/persongroups?subscription-key={key[:-1]}x", timeout=30)
    time.sleep(0.5)  # the access log is written after each answer
    text = proxied.log.read_text(errors="replace")
    assert text.count("subscription-key=***") >= 4 and "subscription%2Dkey=***" in text
    assert "subscription-key%3D***%26a%3D1" in text
    assert key not in text and key[:-1] not in text
    assert '"GET /face/v1.0/facelists HTTP/1.1" 200' in text
