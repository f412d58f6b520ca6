"""One thread per process that follows the configuration version and tells whoever keeps a copy.

A change committed in this process `kick`s it (the listeners run at once); a change committed by
another process is seen at the next poll (`config_poll_ms`), so every process follows within it.
"""

import logging
import threading
from collections.abc import Callable

from sqlalchemy import select

from feedgate.kit.db import Database
from feedgate.kit.models import ConfigVersion

log = logging.getLogger("feedgate.watch")
# Reloads are at most this often: a burst of changes costs one reload (each is O(configuration)), while
# this process's own reads see their changes at once through generation counters, and other processes
# still follow within a second (this + the poll).
COALESCE_S = 0.5


class ConfigWatcher:
    def __init__(self, db: Database, poll_ms: int) -> None:
        self.db = db
        self.poll_s = poll_ms / 1000
        self.listeners: list[Callable[[int], None]] = []
        self._kicked = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: int | None = None

    def kick(self) -> None:
        self._kicked.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="config-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._kicked.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def check(self, force: bool = False) -> None:
        with self.db.reading() as conn:
            version = conn.execute(select(ConfigVersion.version).where(ConfigVersion.id == 1)).scalar() or 0
        if force or version != self._seen:
            for listener in self.listeners:
                listener(version)
            self._seen = version

    def _run(self) -> None:
        while not self._stop.is_set():
            kicked = self._kicked.wait(self.poll_s)
            if kicked:
                self._stop.wait(COALESCE_S)
            self._kicked.clear()
            if self._stop.is_set():
                return
            try:
                self.check(force=kicked)
            except Exception as exc:  # the database may be away; keep the last copies and retry
                log.warning("configuration refresh failed (%s); retrying", exc.__class__.__name__)
