"""Fetching an image from a URL with the safety rules of the service.

http and https only; connect, read and total timeouts; the body is capped while it streams; a
few redirects at most, each re-checked; hosts that resolve to private, loopback, link-local or
otherwise non-public addresses are refused unless the operator allows them. The connection
goes to the address that was checked (the name is resolved once), so a DNS answer that changes
between the check and the connection cannot redirect the request to an internal address.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

MAX_IMAGE_BYTES = 6 * 1024 * 1024


class FetchError(Exception):
    """The URL is not allowed or could not be downloaded (Azure: InvalidURL)."""


class FetchRefused(FetchError):
    """The URL itself is refused: not http(s), no host, or a non-public address."""


class FetchStatus(FetchError):
    """The remote server answered with an HTTP error status."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"the server answered {status} {reason}".rstrip())
        self.status = status
        self.reason = reason


class FetchTooLarge(FetchError):
    """The body is larger than the cap (Azure: InvalidImageSize)."""


@dataclass(frozen=True)
class FetchPolicy:
    """What the fetcher may do. ``allow_private`` admits private/loopback/link-local hosts;
    ``allowed_hosts`` admits the named hosts (or address literals) whatever they resolve to.
    ``total_timeout`` bounds the whole download, redirects included."""

    allow_private: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    max_bytes: int = MAX_IMAGE_BYTES
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    max_redirects: int = 3
    total_timeout: float = 30.0


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for globally routable unicast addresses (IPv4-mapped IPv6 is judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _target(url: str, policy: FetchPolicy) -> str | None:
    """Check ``url`` and return the address to connect to (None: connect by name, because
    the operator trusts this host). Raises FetchRefused."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise FetchRefused(f"only http and https URLs are allowed: {url!r}")
    host = parts.hostname
    if policy.allow_private or host.lower() in policy.allowed_hosts:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise FetchRefused(f"invalid port in {url!r}") from exc
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in addresses:
        if not is_public(address):
            raise FetchRefused(f"{host} resolves to a non-public address ({address})")
    if not addresses:
        raise FetchError(f"cannot resolve {host}")
    return str(addresses[0])


def _request(client: httpx.Client, url: str, address: str | None) -> httpx.Request:
    """Build a GET for ``url``, sent to ``address`` when given (Host header and TLS name stay
    those of the URL)."""
    if address is None:
        return client.build_request("GET", url)
    original = httpx.URL(url)
    host_header = original.netloc.decode("ascii")
    pinned = original.copy_with(host=address)
    return client.build_request("GET", pinned, headers={"Host": host_header},
                                extensions={"sni_hostname": original.host})


def fetch_bytes(url: str, policy: FetchPolicy | None = None) -> bytes:
    """Download ``url`` under ``policy`` and return the body.

    Raises FetchRefused (bad scheme, refused host), FetchStatus (HTTP error status),
    FetchTooLarge (body over ``policy.max_bytes``) or FetchError (network error, timeout,
    too many redirects).
    """
    policy = policy or FetchPolicy()
    deadline = time.monotonic() + policy.total_timeout
    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    too_large = FetchTooLarge(f"the image is larger than {policy.max_bytes} bytes")
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        for _ in range(policy.max_redirects + 1):
            request = _request(client, url, _target(url, policy))
            try:
                response = client.send(request, stream=True)
                try:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        continue
                    if response.status_code >= 400:
                        raise FetchStatus(response.status_code, response.reason_phrase)
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > policy.max_bytes:
                        raise too_large
                    chunks, size = [], 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > policy.max_bytes:
                            raise too_large
                        if time.monotonic() > deadline:
                            raise FetchError(f"download of {url} took longer than "
                                             f"{policy.total_timeout:g} s")
                        chunks.append(chunk)
                    return b"".join(chunks)
                finally:
                    response.close()
            except httpx.HTTPError as exc:
                raise FetchError(f"error downloading {url}: {exc}") from exc
    raise FetchError("too many redirects")
