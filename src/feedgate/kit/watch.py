"""One thread per process that follows the two domain versions and tells whoever keeps a copy.

A change committed in this process `kick`s it (the decision state rebuilds at once); a change committed by
another process is seen at the next poll (`config_poll_ms`), so every process follows within it. The fleet's
listeners get its version (they catch up by delta, from the change log); the decisions' listeners get theirs.
"""

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import delete, select

from feedgate.kit.db import Database
from feedgate.kit.time import now_ms
from feedgate.kit.versions import DECISIONS, FLEET, ConfigVersion, FleetChange

log = logging.getLogger("feedgate.watch")
# Decision rebuilds are at most this often: a burst of changes costs one (each is O(configuration)), while
# this process's own reads see their changes at once through generation counters, and other processes
# still follow within a second (this + the poll).
COALESCE_S = 0.5
KEEP_CHANGES_MS = 10 * 60 * 1000  # the fleet's change log: a process further behind reloads the whole registry
PRUNE_EVERY_S = 60

Listener = Callable[[int], None]


class ConfigWatcher:
    def __init__(self, db: Database, poll_ms: int) -> None:
        self.db = db
        self.poll_s = poll_ms / 1000
        self.on_decisions: list[Listener] = []
        self.on_fleet: list[Listener] = []
        self._kicked = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: dict[int, int] = {}

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

    def versions(self) -> dict[int, int]:
        with self.db.reading() as conn:
            return {row.id: row.version for row in conn.execute(select(ConfigVersion.id, ConfigVersion.version))}

    def check(self, force: bool = False) -> None:
        found = self.versions()
        for domain, listeners in ((FLEET, self.on_fleet), (DECISIONS, self.on_decisions)):
            version = found.get(domain, 0)
            if force or version != self._seen.get(domain):
                for listener in listeners:
                    listener(version)
                self._seen[domain] = version

    def prune(self) -> int:
        """Forget fleet changes older than ten minutes (every process may: it is the same delete)."""
        with self.db.sessions() as session, session.begin():
            done = session.execute(delete(FleetChange).where(FleetChange.changed_ms < now_ms() - KEEP_CHANGES_MS))
        return int(done.rowcount or 0)  # type: ignore[attr-defined]

    def _run(self) -> None:
        next_prune = time.monotonic() + PRUNE_EVERY_S
        while not self._stop.is_set():
            kicked = self._kicked.wait(self.poll_s)
            if kicked:
                self._stop.wait(COALESCE_S)
            self._kicked.clear()
            if self._stop.is_set():
                return
            try:
                self.check(force=kicked)
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_EVERY_S
                    self.prune()
            except Exception as exc:  # the database may be away; keep the last copies and retry
                log.warning("configuration refresh failed (%s); retrying", exc.__class__.__name__)
