"""The HTTP server's own limits: a connection cap below the file-descriptor limit, header and body timeouts.

uvicorn has a keep-alive timeout but none for a request that arrives a byte at a time, so slow clients
could hold connections (and file descriptors) forever. This protocol closes a connection whose request
headers are not complete within `header_timeout_s`, or whose body is not complete within
`body_timeout_s`, and refuses connections beyond `max_connections` (logged, at most every 10 s), so
the process always keeps descriptors for its database, its files and `/healthz`.
"""

import asyncio
import logging
import resource
import time
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from feedgate.kit.errors import FeedgateError
from feedgate.kit.hotpath import RECEIVED
from feedgate.kit.time import clock_ms

log = logging.getLogger("feedgate.server")
RESERVED_FDS = 256  # database connections, the SQLite file and WAL, logs, the mmdb file
MAX_URL_BYTES = 32 * 1024  # a signed URL is at most ~17 KiB (msg is bounded at 16,384 characters)
MAX_HEADER_BYTES = 32 * 1024


class TooLarge(Exception):
    """Raised from a parser callback: the request line or head is over its limit (414 / 431)."""


def default_max_connections() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(64, min(10_000, soft - RESERVED_FDS))


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a connection cap, head and body deadlines, and JSON refusals.

    The limits are class attributes, set per process by `guarded_protocol`.
    """

    max_connections = 10_000
    header_timeout_s = 10.0
    body_timeout_s = 30.0
    open_connections = 0
    last_cap_log = 0.0
    refused = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._counted = False
        self._header_bytes = 0
        self._refusal: tuple[int, str] | None = None

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_URL_BYTES:
            self._refusal = (414, f"The request URL is longer than {MAX_URL_BYTES} bytes.")
            raise TooLarge

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > MAX_HEADER_BYTES:
            self._refusal = (431, f"The request headers are larger than {MAX_HEADER_BYTES} bytes together.")
            raise TooLarge
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        """The server library's refusals in feedgate's JSON error body (it would send plain text)."""
        status, description = self._refusal or (400, "The request is not valid HTTP/1.1.")
        error = FeedgateError(status, description)
        body = orjson.dumps(error.body())
        self.transport.write(b"".join([
            f"HTTP/1.1 {status} {error.reason}\r\n".encode(), b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n", b"connection: close\r\n\r\n", body]))
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        cls = type(self)
        if cls.open_connections >= cls.max_connections:
            cls.refused += 1
            now = time.monotonic()
            if now - cls.last_cap_log >= 10:
                cls.last_cap_log = now
                log.warning("connection cap of %d reached: refusing new connections (%d refused so far); "
                            "slow clients are closed after %.0f s", cls.max_connections, cls.refused,
                            cls.header_timeout_s)
            transport.abort()
            return
        cls.open_connections += 1
        self._counted = True
        self._arm(self.header_timeout_s)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope[RECEIVED] = clock_ms()  # type: ignore[literal-required]  # a heartbeat counts from here
        self._header_bytes = 0
        self._arm(self.header_timeout_s)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_timeout_s)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._counted:
            self._counted = False
            type(self).open_connections -= 1
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(max_connections: int, header_timeout_s: float, body_timeout_s: float) -> type[asyncio.Protocol]:
    """A protocol class with these limits (and its own connection count)."""
    return type("GuardedHttpProtocol", (GuardedHttpProtocol,), {
        "max_connections": max_connections, "header_timeout_s": header_timeout_s, "body_timeout_s": body_timeout_s,
        "open_connections": 0, "last_cap_log": 0.0, "refused": 0})


def _configured() -> type[asyncio.Protocol]:
    from feedgate.settings import get_settings

    settings = get_settings()
    return guarded_protocol(settings.max_connections or default_max_connections(), settings.header_timeout_s,
                            settings.body_timeout_s)


# What `feedgate serve` names to uvicorn ("feedgate.kit.server:GuardedProtocol"): each worker process
# imports it and builds its limits from its FEEDGATE_* environment.
GuardedProtocol = _configured()
