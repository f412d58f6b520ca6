"""Live slicer health: the one in-memory table that ingest, the engine and readers share.

Each process keeps, per slicer (system ID), when its last heartbeat reached this process (on the
engine's monotonic clock), and when it last breached a signal threshold or came back from silence.
Ingest writes it (a local heartbeat, or one flushed by another instance and announced on the change
feed); the engine reads it through `member_view`. The rules that turn these inputs into a state
(healthy / unhealthy / offline) are `policy.slicer_state`'s; this module only records the inputs.
"""

import threading
from collections.abc import Container
from dataclasses import dataclass


@dataclass
class Health:
    seen_ms: int | None = None  # clock_ms() when the last heartbeat reached this process
    last_bad_ms: int | None = None  # last breach, or the moment it came back after silence
    last_bad_reason: str = ""
    # Known before but not heard by this process yet (restart): its first heartbeat is a return.
    returning: bool = False


class HealthTable:
    """slicer key -> Health. Writes are short and under one lock; reads take a consistent copy."""

    def __init__(self) -> None:
        self._rows: dict[str, Health] = {}
        self._lock = threading.Lock()
        # Signals feedgate observes itself rather than hears (a frozen HLS playlist), by slicer key. They
        # join the slicer's own signals in each heartbeat, so they are stored, shown and thresholded alike.
        self._observed: dict[str, dict[str, float]] = {}

    def observe(self, key: str, signals: dict[str, float] | None) -> None:
        """Set (or, with None, clear) what this process observes about a slicer."""
        if signals:
            self._observed[key] = signals
        else:
            self._observed.pop(key, None)

    def with_observed(self, key: str, signals: dict[str, float]) -> dict[str, float]:
        observed = self._observed.get(key)
        return {**signals, **observed} if observed else signals

    def beat(self, key: str, now: int, breach: str | None, timeout_ms: int) -> bool:
        """Record a heartbeat; True when it may change the slicer's state (the engine should look now)."""
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                row = self._rows[key] = Health()
            previous = row.seen_ms
            changed = previous is None or now - previous > timeout_ms
            if breach is not None:
                row.last_bad_ms, row.last_bad_reason = now, breach
                changed = True
            elif previous is not None and now - previous > timeout_ms:
                # Back from silence: it must stay clean for clear_after_ms before it counts as healthy.
                row.last_bad_ms, row.last_bad_reason = now, f"back after {now - previous} ms without heartbeat"
            elif previous is None and row.returning:
                row.last_bad_ms, row.last_bad_reason = now, "back after a restart of feedgate"
            row.seen_ms = max(now, previous or now)
            row.returning = False
            return changed

    def seed(self, key: str, now: int, alive: bool) -> None:
        """A slicer known from the database but not heard here yet (start, or leadership acquired).

        An alive one gets a fresh timeout clock (a restart must not fail it over); one that was offline
        stays offline until it beats, and then has to stay clean for clear_after_ms like any return.
        """
        with self._lock:
            if key in self._rows:
                return
            self._rows[key] = Health(seen_ms=now) if alive else Health(returning=True)

    def get(self, key: str) -> Health:
        row = self._rows.get(key)
        if row is None:
            return Health()
        with self._lock:
            return Health(row.seen_ms, row.last_bad_ms, row.last_bad_reason, row.returning)

    def forget(self, key: str) -> None:
        with self._lock:
            self._rows.pop(key, None)

    def retain(self, keys: Container[str]) -> None:
        """Drop slicers that no longer exist (deleted), so the table does not grow with churn."""
        with self._lock:
            for key in [k for k in self._rows if k not in keys]:
                del self._rows[key]

    def __len__(self) -> int:
        return len(self._rows)

