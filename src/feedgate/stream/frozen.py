"""Frozen output as a health signal: a slicer that heartbeats while its playlist stopped advancing.

Every group member that announced an HLS playlist is watched through the same upstream cache the
viewers use (so a watched channel costs no extra fetch). Once a member's first rendition has not
advanced for 3 target durations, this process reports `playlist_stale_ms` (the time since it last
advanced) in the health table; ingest adds it to the slicer's own signals in each heartbeat, where
the group's threshold (`playlist_stale_ms`, 0 by default: any report) turns it into a failover.
"""

import asyncio
import contextlib
import logging

from feedgate.failover.health import HealthTable
from feedgate.failover.registry import Registry
from feedgate.stream.upstream import Upstream

log = logging.getLogger("feedgate.stream")
STALE_TARGETS = 3
CONCURRENT = 50


class FrozenWatch:
    def __init__(self, registry: Registry, health: HealthTable, upstream: Upstream, interval_s: float = 0.5) -> None:
        self.registry = registry
        self.health = health
        self.upstream = upstream
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._watched: set[str] = set()
        self._limit = asyncio.Semaphore(CONCURRENT)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="frozen-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.check_all()
            except Exception:  # never let one bad pass end the watch
                log.exception("frozen-playlist watch pass failed")
            await asyncio.sleep(self.interval_s)

    async def check_all(self) -> None:
        fleet = self.registry.current
        watched = {key: fleet.hls_urls[key] for key in fleet.members if key in fleet.hls_urls}
        await asyncio.gather(*(self._check(key, url) for key, url in watched.items()))
        for key in self._watched - watched.keys():
            self.health.observe(key, None)
        self._watched = set(watched)

    async def _check(self, key: str, url: str) -> None:
        async with self._limit:
            await self.upstream.media(url, 0)
        stale = self.upstream.stale_ms(self.upstream.rendition_url(url, 0))
        if stale is not None and stale[0] >= STALE_TARGETS * stale[1]:
            self.health.observe(key, {"playlist_stale_ms": float(stale[0])})
        else:
            self.health.observe(key, None)
