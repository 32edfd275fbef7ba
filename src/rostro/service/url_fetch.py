"""Fetching an image from a URL with the safety rules of the service.

http and https only; one overall deadline per fetch (connect, headers and body, redirects
included: a server that trickles its headers a byte at a time cannot hold a download for
longer); the body is capped while it streams; a few redirects at most, each re-checked; hosts
that resolve to private, loopback, link-local or otherwise non-public addresses (IPv6 forms
that carry an IPv4 address are judged by that address) are refused unless the operator allows
them. The connection goes to the address that was checked (the name is resolved once), so a
DNS answer that changes between the check and the connection cannot redirect the request to an
internal address. Downloads run on the event loop (no thread each) and ``DownloadSlots``
bounds them per process and per host, so one slow server cannot take every slot.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import anyio
import httpx

MAX_IMAGE_BYTES = 6 * 1024 * 1024


class FetchError(Exception):
    """The URL is not allowed or could not be downloaded (Azure: InvalidURL)."""


class FetchRefused(FetchError):
    """The URL itself is refused: not http(s), no host, or a non-public address. For an
    address, ``host`` is the URL's host and ``kind`` says what the address is (loopback,
    private, link-local...), so the answer and the log can say why and how to allow it."""

    def __init__(self, message: str, host: str = "", kind: str = "") -> None:
        super().__init__(message)
        self.host = host
        self.kind = kind


class FetchTimeout(FetchError):
    """The download did not finish within the policy's deadline."""


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
    ``total_timeout`` bounds the whole download (connect, headers, body, redirects
    included); ``connect_timeout`` and ``read_timeout`` bound each step inside it."""

    allow_private: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    max_bytes: int = MAX_IMAGE_BYTES
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    max_redirects: int = 3
    total_timeout: float = 10.0


Address = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address in the last 32 bits
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local use, never public
SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598: carrier-grade NAT, private in use
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (::ffff:a.b.c.d, ::a.b.c.d, NAT64
    64:ff9b::a.b.c.d, 6to4 2002:AABB:CCDD::, Teredo's client), or None."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):  # not :: or ::1
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _kind(address: Address) -> str:
    if address in LOCAL_NAT64 or address in SHARED:
        return "private"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "reserved"
    return ""


def address_kind(address: Address) -> str:
    """What a non-public address is, in words ('loopback', 'private', ...); '' if public.
    An IPv6 form that carries an IPv4 address is judged by that address first, then by
    itself (Teredo's 2001::/32 stays refused whatever client it names)."""
    inner = embedded_ipv4(address)
    return (_kind(inner) if inner is not None else "") or _kind(address)


def is_public(address: Address) -> bool:
    """True for globally routable unicast addresses. IPv6 forms that embed an IPv4 address
    are judged by that address (a NAT64 or 6to4 form of 127.0.0.1 is loopback)."""
    return not address_kind(address)


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
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        kind = address_kind(address)
        if kind:
            what = "is" if host.strip("[]") == str(address) else f"resolves to {address}, which is"
            raise FetchRefused(f"{host} {what} a non-public ({kind}) address", host, kind)
    if not addresses:
        raise FetchError(f"cannot resolve {host}")
    return str(addresses[0])


def _request(client: httpx.AsyncClient, url: str, address: str | None) -> httpx.Request:
    """Build a GET for ``url``, sent to ``address`` when given (Host header and TLS name stay
    those of the URL)."""
    if address is None:
        return client.build_request("GET", url)
    original = httpx.URL(url)
    host_header = original.netloc.decode("ascii")
    pinned = original.copy_with(host=address)
    return client.build_request("GET", pinned, headers={"Host": host_header},
                                extensions={"sni_hostname": original.host})


async def _download(url: str, policy: FetchPolicy) -> bytes:
    """Follow ``url`` (redirects re-checked) and return the body; no deadline of its own."""
    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    too_large = FetchTooLarge(f"the image is larger than {policy.max_bytes} bytes")
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                                 trust_env=False) as client:
        for _ in range(policy.max_redirects + 1):
            # getaddrinfo blocks: resolve in a thread, abandoned if the deadline passes.
            address = await anyio.to_thread.run_sync(_target, url, policy,
                                                     abandon_on_cancel=True)
            request = _request(client, url, address)
            try:
                response = await client.send(request, stream=True)
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
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > policy.max_bytes:
                            raise too_large
                        chunks.append(chunk)
                    return b"".join(chunks)
                finally:
                    await response.aclose()
            except httpx.HTTPError as exc:
                raise FetchError(f"error downloading {url}: {exc}") from exc
    raise FetchError("too many redirects")


async def fetch_bytes_async(url: str, policy: FetchPolicy | None = None) -> bytes:
    """Download ``url`` under ``policy`` within ``policy.total_timeout`` seconds, all steps
    together, and return the body.

    Raises FetchRefused (bad scheme, refused host), FetchStatus (HTTP error status),
    FetchTooLarge (body over ``policy.max_bytes``), FetchTimeout (deadline passed) or
    FetchError (network error, too many redirects).
    """
    policy = policy or FetchPolicy()
    try:
        with anyio.fail_after(policy.total_timeout):
            return await _download(url, policy)
    except TimeoutError:
        raise FetchTimeout(f"download of {url} took longer than {policy.total_timeout:g} s") from None


def fetch_bytes(url: str, policy: FetchPolicy | None = None) -> bytes:
    """``fetch_bytes_async`` for blocking callers (the CLI, a notebook cell). It runs its own
    event loop: in this thread, or in a short-lived worker thread when this thread already
    runs one (a Jupyter kernel, Playwright's sync API), where a second loop cannot start."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return anyio.run(fetch_bytes_async, url, policy)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, fetch_bytes_async, url, policy).result()


class DownloadSlots:
    """At most ``total`` downloads at once in a process, and at most ``per_host`` of them to
    one host, so a server that answers slowly (or trickles on purpose) cannot hold every slot:
    its extra requests queue on their host's limit without taking a slot from anyone else."""

    def __init__(self, total: int, per_host: int) -> None:
        self.total = anyio.CapacityLimiter(total)
        self.per_host = max(1, min(per_host, total))
        self._hosts: dict[str, anyio.CapacityLimiter] = {}
        self._users: dict[str, int] = {}  # downloads holding or awaiting each host's limiter

    @asynccontextmanager
    async def hold(self, url: str) -> AsyncIterator[None]:
        """Hold a slot for a download of ``url`` (keyed by its host name) while inside."""
        host = (urlsplit(url).hostname or "").lower()
        limiter = self._hosts.setdefault(host, anyio.CapacityLimiter(self.per_host))
        self._users[host] = self._users.get(host, 0) + 1
        try:
            async with limiter, self.total:
                yield
        finally:
            self._users[host] -= 1
            if not self._users[host]:
                del self._users[host], self._hosts[host]

    def busy_hosts(self) -> int:
        """How many hosts have downloads in progress or waiting."""
        return len(self._hosts)
