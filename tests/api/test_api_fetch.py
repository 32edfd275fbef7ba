"""The safe URL fetcher (rostro.service.url_fetch) against a local HTTP server, and its address
rules without any network (name resolution is faked)."""

from __future__ import annotations

import ipaddress
import socket
import time

import anyio
import httpx
import pytest

from rostro.service import url_fetch
from rostro.service.url_fetch import (
    FetchError,
    FetchPolicy,
    FetchRefused,
    FetchStatus,
    FetchTooLarge,
    fetch_bytes,
    is_public,
)

LOCAL = FetchPolicy(allow_private=True)


def fake_resolver(monkeypatch, address: str) -> None:
    def getaddrinfo(host, port, *args, **kwargs):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
    monkeypatch.setattr(url_fetch.socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("address,public", [
    ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True),
    ("127.0.0.1", False), ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("::1", False),
    ("fe80::1", False), ("fc00::1", False), ("::ffff:127.0.0.1", False), ("224.0.0.1", False),
])
def test_is_public(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize("url", ["ftp://example.com/a.jpg", "file:///etc/passwd",
                                 "gopher://x/", "http:///nohost", "data:image/png;base64,AA"])
def test_refused_schemes(url):
    with pytest.raises(FetchRefused):
        fetch_bytes(url, LOCAL)


def test_name_resolving_to_private_address_is_refused(monkeypatch):
    fake_resolver(monkeypatch, "10.0.0.7")
    with pytest.raises(FetchRefused, match="non-public"):
        fetch_bytes("http://images.example/face.jpg", FetchPolicy())


def test_connection_is_pinned_to_the_checked_address(monkeypatch):
    fake_resolver(monkeypatch, "93.184.216.34")
    url = "https://images.example:8443/a/face.jpg?x=1"
    address = url_fetch._target(url, FetchPolicy())
    assert address == "93.184.216.34"
    with httpx.Client() as client:
        request = url_fetch._request(client, url, address)
    assert request.url.host == "93.184.216.34" and request.url.port == 8443
    assert request.url.path == "/a/face.jpg" and request.url.query == b"x=1"
    assert request.headers["host"] == "images.example:8443"
    assert request.extensions["sni_hostname"] == "images.example"


def test_allowed_hosts_skip_the_address_check(monkeypatch):
    fake_resolver(monkeypatch, "10.0.0.7")
    policy = FetchPolicy(allowed_hosts=frozenset({"images.internal"}))
    assert url_fetch._target("http://images.internal/a.jpg", policy) is None
    with pytest.raises(FetchRefused):
        url_fetch._target("http://other.internal/a.jpg", policy)


def test_download_and_errors(image_server, images):
    assert fetch_bytes(image_server.url("face.jpg"), LOCAL) == images["face.jpg"]
    with pytest.raises(FetchStatus) as missing:
        fetch_bytes(image_server.url("missing.jpg"), LOCAL)
    assert missing.value.status == 404
    with pytest.raises(FetchTooLarge):
        fetch_bytes(image_server.url("face.png"), FetchPolicy(allow_private=True, max_bytes=1000))
    assert fetch_bytes(image_server.url("redirect/2/face.jpg"), LOCAL) == images["face.jpg"]
    with pytest.raises(FetchError, match="too many redirects"):
        fetch_bytes(image_server.url("redirect/5/face.jpg"), LOCAL)
    with pytest.raises(FetchError):
        fetch_bytes("http://127.0.0.1:1/closed.jpg", LOCAL)


def test_loopback_refused_by_default(image_server):
    with pytest.raises(FetchRefused):
        fetch_bytes(image_server.url("face.jpg"))


def test_read_timeout(image_server):
    image_server.release.clear()
    try:
        with pytest.raises(FetchError):
            fetch_bytes(image_server.url("slow/face.jpg"),
                        FetchPolicy(allow_private=True, read_timeout=0.5))
    finally:
        image_server.release.set()


@pytest.mark.parametrize("address,inner", [
    ("64:ff9b::7f00:1", "127.0.0.1"), ("64:ff9b::a00:1", "10.0.0.1"),
    ("2002:7f00:1::1", "127.0.0.1"), ("2002:a9fe:a9fe::", "169.254.169.254"),
    ("::ffff:192.168.1.1", "192.168.1.1"), ("::10.0.0.1", "10.0.0.1"), ("::127.0.0.1", "127.0.0.1"),
    ("64:ff9b::808:808", "8.8.8.8"), ("2002:808:808::1", "8.8.8.8"), ("::ffff:8.8.8.8", "8.8.8.8"),
])
def test_ipv6_forms_are_judged_by_their_ipv4_address(address, inner):
    ipv6 = ipaddress.ip_address(address)
    assert url_fetch.embedded_ipv4(ipv6) == ipaddress.ip_address(inner)
    assert is_public(ipv6) is is_public(ipaddress.ip_address(inner))


@pytest.mark.parametrize("address", [
    "64:ff9b:1::808:808",  # local-use NAT64 (RFC 8215)
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo with a public client
])
def test_never_public_whatever_they_carry(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address,kind", [
    ("2002:7f00:1::1", "loopback"), ("64:ff9b::a9fe:a9fe", "link-local"),
    ("::ffff:10.0.0.1", "private"), ("100.64.0.1", "private"), ("0.0.0.0", "unspecified"),
])
def test_refusal_names_the_kind_of_address(monkeypatch, address, kind):
    fake_resolver(monkeypatch, address)
    with pytest.raises(FetchRefused) as refused:
        fetch_bytes("http://images.example/face.jpg", FetchPolicy())
    assert (refused.value.host, refused.value.kind) == ("images.example", kind)


def test_deadline_covers_trickling_headers(image_server):
    """A server that sends its headers a byte at a time (each read well inside the read
    timeout) is cut off at the overall deadline, not after the headers end (minutes)."""
    image_server.trickle_release.clear()
    started = time.monotonic()
    try:
        with pytest.raises(url_fetch.FetchTimeout):
            fetch_bytes(image_server.url("trickle/face.jpg"),
                        FetchPolicy(allow_private=True, total_timeout=1.0))
    finally:
        image_server.trickle_release.set()
    assert time.monotonic() - started < 30  # the trickle alone lasts 800 s


def test_timeout_answers_azure_download_error():
    from rostro.api.images import _download_error

    error = _download_error(url_fetch.FetchTimeout("took longer than 10 s"), state=None)
    assert (error.status, error.code) == (400, "InvalidURL")
    assert error.message.endswith('"An error occurred while sending the request."')


def test_fetch_timeout_option_reaches_the_policy():
    """`rostro serve --fetch-timeout` -> settings (through the workers' JSON) -> policy."""
    from rostro.cli import build_parser
    from rostro.cli.service_cmd import service_settings
    from rostro.service.settings import ServiceSettings

    assert ServiceSettings().fetch_policy().total_timeout == 10.0
    settings = service_settings(build_parser().parse_args(["serve", "--fetch-timeout", "2.5"]))
    assert ServiceSettings.from_json(settings.to_json()).fetch_policy().total_timeout == 2.5
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--fetch-timeout", "0"])


def test_download_slots_bound_each_host():
    """A host gets at most ``per_host`` of the slots; others still get theirs."""
    slots = url_fetch.DownloadSlots(total=4, per_host=2)
    inside: dict[str, int] = {"slow.example": 0, "other.example": 0}
    most: dict[str, int] = dict(inside)
    release = anyio.Event()

    async def download(host: str) -> None:
        async with slots.hold(f"http://{host}/a.jpg"):
            inside[host] += 1
            most[host] = max(most[host], inside[host])
            await release.wait()
            inside[host] -= 1

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(download, "slow.example")
            await anyio.wait_all_tasks_blocked()
            group.start_soon(download, "other.example")
            await anyio.wait_all_tasks_blocked()
            assert inside == {"slow.example": 2, "other.example": 1}
            release.set()
        assert slots.busy_hosts() == 0

    anyio.run(main)
    assert most == {"slow.example": 2, "other.example": 1}
