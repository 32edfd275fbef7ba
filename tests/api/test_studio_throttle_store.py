"""The Studio sign-in throttle on real SQLite files and a real PostgreSQL server (each test
runs on both): the per-address and per-account limits, shared by two separate connections to
one database (as two worker processes are), and exact under parallel attempts. The server
side (rotating X-Forwarded-For, two processes) is in tests/studio/test_studio_security.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from rostro.store.db import open_database
from rostro.studio import throttle


@pytest.fixture
def two_processes(database_location):
    """Two independent Database objects (own engines and pools) on one database."""
    first, second = open_database(database_location), open_database(database_location)
    yield first, second
    first.close()
    second.close()


def test_address_is_locked_after_five_failures_whichever_process_counts_them(two_processes):
    first, second = two_processes
    now = 1_000_000.0
    for attempt in range(throttle.ADDRESS_FAILURES):
        database = (first, second)[attempt % 2]
        assert throttle.reserve(database, "203.0.113.7", now + attempt).retry_after == 0
    held = throttle.reserve(first, "203.0.113.7", now + 5)
    assert held.retry_after == throttle.ADDRESS_LOCKOUT - 1
    assert throttle.reserve(second, "203.0.113.8", now + 5).retry_after == 0  # other address
    assert throttle.reserve(second, "203.0.113.7", now + 4 + throttle.ADDRESS_LOCKOUT)\
        .retry_after == 0  # the lockout is over


def test_account_slows_down_whatever_the_addresses(two_processes):
    first, second = two_processes
    now = 2_000_000.0
    for attempt in range(throttle.ACCOUNT_FREE_FAILURES):
        database = (first, second)[attempt % 2]
        assert throttle.reserve(database, f"198.51.100.{attempt}", now).retry_after == 0
    # the 11th address is new, but the account waits 1 s, then 2 s, 4 s... after each failure
    assert throttle.reserve(first, "198.51.100.200", now).retry_after == 1
    assert throttle.reserve(second, "198.51.100.201", now + 1).retry_after == 0
    assert throttle.reserve(first, "198.51.100.202", now + 2).retry_after == 1
    assert throttle.reserve(first, "198.51.100.202", now + 3).retry_after == 0
    assert throttle.reserve(second, "198.51.100.203", now + 4).retry_after == 3
    # a success takes its own attempt back and clears its address, not the account's count:
    # 12 failures stay, so the next one waits 4 s after the latest (now + 3), the one after 8 s
    attempt = throttle.reserve(first, "198.51.100.204", now + 7)
    assert attempt.retry_after == 0
    throttle.succeeded(first, "198.51.100.204", attempt)
    assert throttle.reserve(second, "198.51.100.205", now + 7.5).retry_after == 0
    assert throttle.reserve(first, "198.51.100.206", now + 8).retry_after == 8
    # failures older than the window no longer count
    assert throttle.reserve(second, "198.51.100.207",
                            now + 8 + throttle.ACCOUNT_WINDOW).retry_after == 0


def test_parallel_attempts_are_counted_exactly(two_processes):
    first, second = two_processes
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: throttle.reserve((first, second)[i % 2], "192.0.2.1"),
                                range(24)))
    assert sum(1 for r in results if r.retry_after == 0) == throttle.ADDRESS_FAILURES


def test_ipv6_addresses_count_per_64_and_mapped_ipv4_as_ipv4():
    assert throttle.address_scope("2001:db8:1:2:aaaa::1") == \
        throttle.address_scope("2001:db8:1:2:bbbb::2") == "address:2001:db8:1:2::/64"
    assert throttle.address_scope("::ffff:192.0.2.1") == "address:192.0.2.1"
    assert throttle.address_scope("testclient") == "address:testclient"
    assert throttle.address_scope(None) == "address:"
