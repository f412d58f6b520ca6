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

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("feedgate.server")
RESERVED_FDS = 256  # database connections, the SQLite file and WAL, logs, the mmdb file


def default_max_connections() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(64, min(10_000, soft - RESERVED_FDS))


def guarded_protocol(max_connections: int, header_timeout_s: float, body_timeout_s: float) -> type[asyncio.Protocol]:
    class GuardedHttpProtocol(HttpToolsProtocol):
        open_connections = 0
        last_cap_log = 0.0
        refused = 0

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._deadline: asyncio.TimerHandle | None = None
            self._counted = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            cls = type(self)
            if cls.open_connections >= max_connections:
                cls.refused += 1
                now = time.monotonic()
                if now - cls.last_cap_log >= 10:
                    cls.last_cap_log = now
                    log.warning("connection cap of %d reached: refusing new connections (%d refused so far); "
                                "slow clients are closed after %.0f s", max_connections, cls.refused, header_timeout_s)
                transport.abort()
                return
            cls.open_connections += 1
            self._counted = True
            self._arm(header_timeout_s)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm(header_timeout_s)

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._arm(body_timeout_s)

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

    return GuardedHttpProtocol


def _configured() -> type[asyncio.Protocol]:
    from feedgate.settings import get_settings

    settings = get_settings()
    return guarded_protocol(settings.max_connections or default_max_connections(), settings.header_timeout_s,
                            settings.body_timeout_s)


# What `feedgate serve` names to uvicorn ("feedgate.kit.server:GuardedProtocol"): each worker process
# imports it and builds its limits from its FEEDGATE_* environment.
GuardedProtocol = _configured()
