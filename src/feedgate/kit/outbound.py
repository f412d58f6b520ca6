"""Every request feedgate makes on a tenant's behalf (webhook deliveries, source playlists) under one policy.

The outbound machinery is shared by every tenant, so one tenant must not be able to break it for another:
- **a total deadline** per request (connect, redirects, headers and body together), not per read, so a
  receiver that trickles a byte every few seconds is cut off like one that hangs;
- **a size cap**: the body is streamed and the request abandoned past `max_bytes` (a webhook's answer is
  read up to the cap and discarded);
- **per-tenant concurrency**: each tenant has its own slots; the connection pool itself is unbounded, so
  a tenant that fills its slots waits for its own requests only;
- **the address guard** (`check_address`): every address the host resolves to must be global, or, with
  FEEDGATE_ALLOW_PRIVATE_URLS=1, at least not link-local or a cloud-metadata address; applied when a URL
  is saved and again on every hop, redirects followed by hand;
- **any failure, of any exception type, is an `Outcome`** with the error text: the caller records it and
  carries on.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from feedgate.kit.errors import bad_request

# Never fetched, whatever the setting: link-local and the clouds' metadata services (AWS, GCP and Azure on
# 169.254.169.254 and fd00:ec2::254, Alibaba on 100.100.100.200, Oracle on 192.0.0.192), and site-local IPv6.
METADATA = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"),
            ipaddress.ip_network("fd00:ec2::254/128"), ipaddress.ip_network("100.100.100.200/32"),
            ipaddress.ip_network("192.0.0.192/32"), ipaddress.ip_network("fec0::/10"))
# Not globally reachable (IANA), though this Python's `is_global` says otherwise.
NOT_GLOBAL = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("100.64.0.0/10"))
MAX_REDIRECTS = 5
_RESOLVER = ThreadPoolExecutor(4, thread_name_prefix="outbound-dns")


class Refused(Exception):
    """The URL may not be fetched: its scheme, or an address its host resolves to."""


def _embedded(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses hidden in an IPv6 one (mapped, 6to4, Teredo): they are checked too."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool) -> str | None:
    """Why this address may not be fetched, or None."""
    for candidate in (address, *_embedded(address)):
        if any(candidate in network for network in METADATA) or candidate.is_link_local:
            return f"{address} is a link-local or cloud-metadata address"
        if candidate.is_multicast or candidate.is_unspecified:
            return f"{address} is not a unicast address"
        if (not candidate.is_global or any(candidate in network for network in NOT_GLOBAL)) and not allow_private:
            return (f"{address} is a loopback, private or otherwise non-global address; set "
                    "FEEDGATE_ALLOW_PRIVATE_URLS=1 to allow your own network")
    return None


def literal_refusal(url: str, allow_private: bool) -> str | None:
    """Why `url` may not be fetched, judged without DNS (on a hot path): its scheme, an address literal, or
    localhost. A name is resolved, and checked, on every fetch."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it is not an http:// or https:// URL with a host"
    host = parts.hostname
    if host == "localhost" or host.endswith(".localhost"):
        return None if allow_private else "it names localhost; set FEEDGATE_ALLOW_PRIVATE_URLS=1 to allow it"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return refusal(address, allow_private)


def resolve_checked(url: str, allow_private: bool, timeout_s: float = 2.0) -> None:
    """Raise Refused unless `url` is http(s) with a host whose every address may be fetched."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"'{url[:200]}' is not an http:// or https:// URL with a host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = _RESOLVER.submit(socket.getaddrinfo, parts.hostname, port, proto=socket.IPPROTO_TCP).result(timeout_s)
    except (OSError, ValueError, TimeoutError, UnicodeError) as exc:
        raise Refused(f"host '{parts.hostname}' cannot be resolved ({exc or f'no answer in {timeout_s:g} s'})") \
            from None
    for info in infos:
        why = refusal(ipaddress.ip_address(str(info[4][0]).split("%")[0]), allow_private)
        if why is not None:
            raise Refused(f"'{parts.hostname}' resolves to {why}")


def check_address(url: str, allow_private: bool, field: str = "url") -> None:
    """The save-time check: a 400 naming the field when `url` may not be fetched."""
    try:
        httpx.URL(url)  # what httpx would refuse later (a tab, CR/LF, odd digits) is refused now
        resolve_checked(url, allow_private)
    except httpx.InvalidURL as exc:
        raise bad_request(f"Field '{field}' is not a usable URL: {exc}.") from None
    except Refused as exc:
        raise bad_request(f"Field '{field}': {exc}.") from None


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: no answer (refused, timed out, too large, any other failure)
    body: bytes = b""
    error: str = ""
    url: str = ""  # the last hop's URL (after redirects)
    headers: Mapping[str, str] = field(default_factory=dict)  # the answer's (a feed's ETag, Last-Modified)


class Outbound:
    def __init__(self, deadline_s: float, max_bytes: int, per_tenant: int, allow_private: bool,
                 headers: Mapping[str, str] | None = None, keep_body: bool = True) -> None:
        self.deadline_s, self.max_bytes, self.per_tenant = deadline_s, max_bytes, per_tenant
        self.allow_private, self.keep_body = allow_private, keep_body
        self._slots: dict[str, asyncio.Semaphore] = {}
        self.client = httpx.AsyncClient(headers=dict(headers or {}), follow_redirects=False, timeout=deadline_s,
                                        limits=httpx.Limits(max_connections=None, max_keepalive_connections=100))

    async def aclose(self) -> None:
        await self.client.aclose()

    async def request(self, tenant: str, method: str, url: str, content: bytes | None = None,
                      headers: Mapping[str, str] | None = None) -> Outcome:
        slots = self._slots.setdefault(tenant, asyncio.Semaphore(self.per_tenant))
        try:
            async with asyncio.timeout(self.deadline_s):
                async with slots:
                    return await self._follow(method, url, content, headers)
        except TimeoutError:
            return Outcome(None, error=f"no complete answer within {self.deadline_s:g} s", url=url)
        except Exception as exc:  # any failure is the request's own: recorded by the caller
            return Outcome(None, error=f"{exc.__class__.__name__}: {exc}"[:500], url=url)

    async def _follow(self, method: str, url: str, content: bytes | None,
                      headers: Mapping[str, str] | None) -> Outcome:
        for _ in range(MAX_REDIRECTS + 1):
            await asyncio.to_thread(resolve_checked, url, self.allow_private)
            async with self.client.stream(method, url, content=content, headers=headers) as response:
                if response.is_redirect and method == "GET" and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                body = await self._read(response)
                return Outcome(response.status_code, body, url=url, headers=response.headers)
        return Outcome(None, error=f"more than {MAX_REDIRECTS} redirects", url=url)

    async def _read(self, response: httpx.Response) -> bytes:
        parts, size = [], 0
        async for chunk in response.aiter_bytes():  # decoded: the cap holds for compressed answers too
            size += len(chunk)
            if size > self.max_bytes:
                if not self.keep_body:
                    break  # a webhook's answer: the status is what counts, the rest is discarded
                raise ValueError(f"answer larger than {self.max_bytes} bytes")
            if self.keep_body:
                parts.append(chunk)
        return b"".join(parts)
