"""How far this process's event loop runs behind: a tick every 50 ms, and the time since the last one.

A heartbeat stamped on arrival can still wait behind a busy loop before the handler counts it; the engine
(another thread) reads `lag_ms` and judges silence net of it, so a slicer is not blamed for the server's own
delay. Read at any moment, it grows while the loop is blocked (not only once it is free again). Past stalls
are kept (`Stalls`): the gap before a beat counted after a stall is the server's, not the slicer's.
"""

import asyncio
import contextlib
import threading
from collections import deque

from feedgate.kit.time import clock_ms

TICK_MS = 50
SLACK_MS = 50  # scheduling noise that is no lag


class Stalls:
    """Recent spans (clock ms) in which this control plane could not hear its slicers."""

    def __init__(self, keep: int = 256) -> None:
        self._spans: deque[tuple[int, int]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def add(self, start: int, end: int) -> None:
        if end > start:
            with self._lock:
                self._spans.append((start, end))

    def within(self, a: int, b: int) -> int:
        """How much of [a, b] they cover (spans may overlap: the longest single cover, not a sum)."""
        with self._lock:
            spans = list(self._spans)
        return max([0, *(min(e, b) - max(s, a) for s, e in spans)])


class LoopLag:
    def __init__(self) -> None:
        self._last = clock_ms()
        self._task: asyncio.Task[None] | None = None
        self.stalls = Stalls()

    def start(self) -> None:
        self._last = clock_ms()
        self._task = asyncio.get_running_loop().create_task(self._tick(), name="loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _tick(self) -> None:
        while True:
            now = clock_ms()
            if now - self._last > TICK_MS + SLACK_MS:
                self.stalls.add(self._last + TICK_MS, now)
            self._last = now
            await asyncio.sleep(TICK_MS / 1000)

    def stalled_ms(self, a: int, b: int) -> int:
        """How much of [a, b] the loop spent stalled, the stall going on now included."""
        ongoing = self.lag_ms(b)
        return max(self.stalls.within(a, b), min(ongoing, b - a))

    def lag_ms(self, now: int | None = None) -> int:
        if self._task is None:
            return 0
        now = clock_ms() if now is None else now
        return max(0, now - self._last - TICK_MS - SLACK_MS)
