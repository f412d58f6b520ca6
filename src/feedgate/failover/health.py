"""Live slicer health: the one in-memory table that ingest, the engine and readers share.

Each process keeps, per slicer (system ID), when its last heartbeat reached this process (on the
engine's monotonic clock), and when it last breached a signal threshold or came back from silence.
Ingest writes it (a local heartbeat, or one flushed by another instance and announced on the change
feed); the engine reads it through `member_view`. The rules that turn these inputs into a state
(healthy / unhealthy / offline) are `policy.slicer_state`'s; this module only records the inputs.
"""

import threading
from collections.abc import Callable, Container, Iterable
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
        # Slicers held by an open fleet-wide disruption (the engine sets them): a beat after their silence is the
        # control plane hearing them again, not the slicer coming back, so it is no return from offline.
        self.held: set[str] = set()
        # How much of a span (clock ms) the control plane itself could not hear (its loop or feed stalled):
        # a gap it caused is no return from silence. Handed in by the runtime.
        self.stalled_ms: Callable[[int, int], int] = lambda _a, _b: 0

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
            elif previous is not None and now - previous > timeout_ms and key not in self.held \
                    and now - previous - self.stalled_ms(previous, now) > timeout_ms:
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

    def breach(self, key: str, now: int, reason: str) -> None:
        """A breach this process observed itself (a frozen playlist), as if a heartbeat had reported it."""
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                row = self._rows[key] = Health()
            row.last_bad_ms, row.last_bad_reason = now, reason

    def restart(self, keys: Iterable[str], now: int) -> None:
        """A fresh timeout clock for these slicers (a fleet-wide disruption ended): silent ones get a whole
        timeout from `now` to be heard again, as after a restart of feedgate."""
        with self._lock:
            for key in keys:
                row = self._rows.get(key)
                if row is not None and row.seen_ms is not None and row.seen_ms < now:
                    row.seen_ms = now

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

