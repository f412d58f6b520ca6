"""Frozen output as a health signal: a slicer that heartbeats while its playlist stopped advancing.

Watched once per fleet, by the engine leader: every group member that announced an HLS playlist is fetched
through the same upstream cache the viewers use (so a watched channel costs no extra fetch). Once a member's
first rendition has not advanced for 3 target durations, the leader records `playlist_stale_ms` (the time
since it last advanced) as a breach in its health table, where the group's threshold (`playlist_stale_ms`,
0 by default: any report) turns it into a failover, and stores it as the slicer's observed signal (shown
beside the slicer's own signals by the API and the console). Followers fetch nothing for it.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy import update

from feedgate.failover.health import HealthTable
from feedgate.failover.models import Slicer
from feedgate.failover.policy import breached_signal
from feedgate.failover.registry import Registry
from feedgate.kit.db import Database
from feedgate.kit.time import clock_ms
from feedgate.stream.upstream import Upstream

log = logging.getLogger("feedgate.stream")
STALE_TARGETS = 3


class FrozenWatch:
    def __init__(self, registry: Registry, health: HealthTable, upstream: Upstream, db: Database,
                 is_leader: Callable[[], bool], wake: Callable[[str], None], interval_s: float = 0.5) -> None:
        self.registry = registry
        self.health = health
        self.upstream = upstream
        self.db = db
        self.is_leader = is_leader
        self.wake = wake
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._observed: dict[str, dict[str, float]] = {}  # key -> what is stored as its observed signals
        self.stale_s: dict[str, float] = {}  # key -> seconds since its playlist last moved, as last checked

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
                if self.is_leader():
                    await self.check_all()
            except Exception:  # never let one bad pass end the watch
                log.exception("frozen-playlist watch pass failed")
            await asyncio.sleep(self.interval_s)

    async def check_all(self) -> None:
        fleet = self.registry.current
        watched = {key: fleet.hls_urls[key] for key in fleet.members if key in fleet.hls_urls}
        found = await asyncio.gather(*(self._check(key, url) for key, url in watched.items()))
        seen = dict(zip(watched, found, strict=True))
        self.stale_s = {key: age for key in watched if (age := self._age(watched[key])) is not None}
        changed = {key: signals for key, signals in seen.items() if _moved(self._observed.get(key, {}), signals)}
        changed.update({key: {} for key in self._observed.keys() - watched.keys() if self._observed[key]})
        if changed:
            await asyncio.to_thread(self._store, changed)
        for key, signals in changed.items():
            self._observed[key] = signals
        for key in self._observed.keys() - watched.keys():
            del self._observed[key]

    async def _check(self, key: str, url: str) -> dict[str, float]:
        await self.upstream.media(url, 0)  # bounded per origin by the outbound policy, not fleet-wide
        stale = self.upstream.stale_ms(self.upstream.rendition_url(url, 0))
        if stale is None or stale[0] < STALE_TARGETS * stale[1]:
            return {}
        signals = {"playlist_stale_ms": float(stale[0])}
        fleet = self.registry.current
        member = fleet.members.get(key)
        group = fleet.groups.get(member.group_id) if member is not None else None
        if group is not None:
            breach = breached_signal(signals, group.policy.thresholds)
            if breach is not None:
                self.health.breach(key, clock_ms(), breach)
                self.wake(group.id)
        return signals

    def frozen(self) -> set[str]:
        """Slicers whose playlist stopped advancing, as last checked (leader only; empty elsewhere)."""
        return {key for key, signals in self._observed.items() if signals}

    def _age(self, url: str) -> float | None:
        stale = self.upstream.stale_ms(self.upstream.rendition_url(url, 0))
        return None if stale is None else stale[0] / 1000

    def _store(self, changed: dict[str, dict[str, float]]) -> None:
        with self.db.sessions() as session, session.begin():
            for key, signals in changed.items():
                session.execute(update(Slicer).where(Slicer.id == key).values(observed=signals))


def _moved(before: dict[str, float], now: dict[str, float]) -> bool:
    """Worth writing: it started or stopped, or its age moved by 5 s (not a write per check per slicer)."""
    if before.keys() != now.keys():
        return True
    return any(abs(now[k] - before[k]) >= 5000 for k in now)
