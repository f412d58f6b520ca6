"""How far this process's event loop runs behind: a tick every 50 ms, and the time since the last one.

A heartbeat stamped on arrival can still wait behind a busy loop before the handler counts it; the engine
(another thread) reads `lag_ms` and judges silence net of it, so a slicer is not blamed for the server's own
delay. Read at any moment, it grows while the loop is blocked (not only once it is free again).
"""

import asyncio
import contextlib

from feedgate.kit.time import clock_ms

TICK_MS = 50
SLACK_MS = 50  # scheduling noise that is no lag


class LoopLag:
    def __init__(self) -> None:
        self._last = clock_ms()
        self._task: asyncio.Task[None] | None = None

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
            self._last = clock_ms()
            await asyncio.sleep(TICK_MS / 1000)

    def lag_ms(self, now: int | None = None) -> int:
        if self._task is None:
            return 0
        now = clock_ms() if now is None else now
        return max(0, now - self._last - TICK_MS - SLACK_MS)
