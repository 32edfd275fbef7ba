"""The safe URL fetcher (rostro.api.fetch) against a local HTTP server, and its address
rules without any network (name resolution is faked)."""

from __future__ import annotations

import ipaddress
import socket

import httpx
import pytest

from rostro.api import fetch
from rostro.api.fetch import (
    FetchError, FetchPolicy, FetchRefused, FetchStatus, FetchTooLarge, fetch_bytes, is_public,
)

LOCAL = FetchPolicy(allow_private=True)


def fake_resolver(monkeypatch, address: str) -> None:
    def getaddrinfo(host, port, *args, **kwargs):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
    monkeypatch.setattr(fetch.socket, "getaddrinfo", getaddrinfo)


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
    address = fetch._target(url, FetchPolicy())
    assert address == "93.184.216.34"
    with httpx.Client() as client:
        request = fetch._request(client, url, address)
    assert request.url.host == "93.184.216.34" and request.url.port == 8443
    assert request.url.path == "/a/face.jpg" and request.url.query == b"x=1"
    assert request.headers["host"] == "images.example:8443"
    assert request.extensions["sni_hostname"] == "images.example"


def test_allowed_hosts_skip_the_address_check(monkeypatch):
    fake_resolver(monkeypatch, "10.0.0.7")
    policy = FetchPolicy(allowed_hosts=frozenset({"images.internal"}))
    assert fetch._target("http://images.internal/a.jpg", policy) is None
    with pytest.raises(FetchRefused):
        fetch._target("http://other.internal/a.jpg", policy)


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
