"""Fetching an image from a URL with the safety rules of the service.

http and https only; connect and read timeouts; the body is capped while it streams; a few
redirects at most, each re-checked; hosts that resolve to private, loopback or link-local
addresses are refused unless the operator allows them.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

MAX_IMAGE_BYTES = 6 * 1024 * 1024


class FetchError(Exception):
    """The URL is not allowed or could not be downloaded (Azure: InvalidURL)."""


class FetchTooLarge(FetchError):
    """The body is larger than the cap (Azure: InvalidImageSize)."""


@dataclass(frozen=True)
class FetchPolicy:
    """What the fetcher may do. ``allow_private`` admits private/loopback/link-local hosts;
    ``allowed_hosts`` admits the named hosts (or address literals) whatever they resolve to."""

    allow_private: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    max_bytes: int = MAX_IMAGE_BYTES
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    max_redirects: int = 3


def _check_host(url: str, policy: FetchPolicy) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise FetchError(f"only http and https URLs are allowed: {url!r}")
    host = parts.hostname
    if policy.allow_private or host in policy.allowed_hosts:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (address.is_private or address.is_loopback or address.is_link_local
                or address.is_reserved or address.is_multicast or address.is_unspecified):
            raise FetchError(f"{host} resolves to a non-public address ({address})")


def fetch_bytes(url: str, policy: FetchPolicy | None = None) -> bytes:
    """Download ``url`` under ``policy`` and return the body.

    Raises FetchError (bad scheme, refused host, network error, HTTP error status, too many
    redirects) or FetchTooLarge (body over ``policy.max_bytes``).
    """
    policy = policy or FetchPolicy()
    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        for _ in range(policy.max_redirects + 1):
            _check_host(url, policy)
            try:
                with client.stream("GET", url) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        continue
                    if response.status_code >= 400:
                        raise FetchError(f"the server answered {response.status_code}")
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > policy.max_bytes:
                        raise FetchTooLarge(f"the image is larger than {policy.max_bytes} bytes")
                    chunks, size = [], 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > policy.max_bytes:
                            raise FetchTooLarge(f"the image is larger than {policy.max_bytes} bytes")
                        chunks.append(chunk)
                    return b"".join(chunks)
            except httpx.HTTPError as exc:
                raise FetchError(f"error downloading {url}: {exc}") from exc
    raise FetchError("too many redirects")
