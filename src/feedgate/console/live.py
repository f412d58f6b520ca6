"""The console's live stream: woken by the one after-commit dispatcher (and by changes other processes
made, through the watcher); the streams also tick once a second for heartbeat ages."""

import asyncio
import threading


class ConsoleFeed:
    def __init__(self) -> None:
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._lock = threading.Lock()
        self.closed = False  # the server is stopping: open streams end, so they do not hold the shutdown

    def close(self) -> None:
        self.closed = True
        self.notify()

    def notify(self, *_: object) -> None:
        """Something changed: wake every open stream (callable from any thread)."""
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    async def wait(self, timeout: float) -> bool:
        """Until something changed (True) or `timeout` seconds passed (False)."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters.add(entry)
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters.discard(entry)
