"""Heartbeat ingest: the steady state in memory, the database written in batches.

A heartbeat from a slicer the registry knows, for the group it is already in, touches no database:
it updates the health table, queues its fields (hostname, thumb, signals, time) for the next batch,
and is answered from the cached group view. Every `flush_ms` one transaction writes all queued
beats with one UPDATE; on PostgreSQL the same transaction NOTIFYs the flushed keys so every instance
(and the engine leader, wherever it runs) hears beats that reached another. Processes sharing a SQLite
file (`--workers N`) send the same payloads to each other by Unix datagram after the commit. Registration and joins
take the synchronous path (`service.heartbeat`).

A crash loses at most the queued beats (one flush window): after a restart the slicers are simply
late, and the engine gives every member a fresh timeout clock (see `FailoverEngine._seed`).
"""

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from feedgate.failover.health import HealthTable
from feedgate.failover.models import Slicer
from feedgate.failover.policy import HEALTHY, GroupView, MemberView, breached_signal, role_for
from feedgate.failover.registry import DEFAULT_INTERVAL_MS, GroupConfig, Registry
from feedgate.kit.db import Database
from feedgate.kit.ids import new_id
from feedgate.kit.metrics import HEARTBEAT_FLUSH, HEARTBEATS, HEARTBEATS_FLUSHED, HEARTBEATS_PENDING
from feedgate.kit.peers import Peers, runtime_dir
from feedgate.kit.time import clock_ms, now_ms
from feedgate.slicers.schemas import HeartbeatAnswer

log = logging.getLogger("feedgate.ingest")
CHANNEL = "feedgate_heartbeats"
NOTIFY_BYTES = 7000  # PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more


@dataclass(frozen=True)
class Beat:
    hostname: str
    thumb_url: str
    signals: dict[str, float]
    wall_ms: int
    breach: str | None


def answer(group: GroupConfig | None, key: str, members: Any = None) -> HeartbeatAnswer:
    """The heartbeat answer: what the slicer should do, and how often to beat."""
    if group is None:
        return HeartbeatAnswer(role="hot", active=False, failover_group_id=None,
                               heartbeat_interval_ms=DEFAULT_INTERVAL_MS)
    if members is None:
        members = [MemberView(key=key, name="")]
    role = role_for(key, GroupView(members=members, active=group.active), group.hot_warm, group.no_slicer)
    return HeartbeatAnswer(role=role, active=role == "active", failover_group_id=group.id,
                           heartbeat_interval_ms=group.interval_ms)


class Ingest:
    def __init__(self, db: Database, registry: Registry, health: HealthTable, flush_ms: int,
                 wake: Callable[[str], None]) -> None:
        self.db = db
        self.registry = registry
        self.health = health
        self.flush_s = flush_ms / 1000
        self.wake = wake
        self.instance = new_id()
        self._pending: dict[str, Beat] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one flush at a time (the thread, or stop's last one)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # Processes sharing a SQLite file hear each other's flushed beats by datagram (PostgreSQL: NOTIFY).
        self.peers = None if db.is_postgres else Peers(runtime_dir(db.url), self.instance,
                                                       lambda data: self._heard(data.decode()))

    # The fast path ------------------------------------------------------------------------------

    def beat(self, owner: str, slicer_id: str, hostname: str, thumb_url: str, signals: dict[str, float],
             group_id: str | None, hls_url: str | None = None) -> HeartbeatAnswer | None:
        """Record a steady-state heartbeat and answer it; None when it needs the database path.

        The registry may be up to one reload (0.5 s) behind an operator's change: the answer then shows
        the role of just before it. Sending every beat to the database while it reloads would make one
        operator's PATCH cost thousands of transactions at fleet scale.
        """
        fleet = self.registry.current
        key = fleet.slicers.get((owner, slicer_id))
        if key is None:
            return None
        member = fleet.members.get(key)
        current_group = member.group_id if member is not None else None
        if group_id is not None and group_id != current_group:
            return None  # a join, or a conflict to report: the checked path
        if hls_url is not None and hls_url != fleet.hls_urls.get(key, ""):
            return None  # a new playlist URL is configuration: viewers' playlists are built from it
        group = fleet.groups.get(current_group) if current_group is not None else None
        signals = self.health.with_observed(key, signals)
        breach = None
        if group is not None and member is not None:
            breach = breached_signal(signals, group.policy.thresholds)
            if self.health.beat(key, clock_ms(), breach, group.policy.heartbeat_timeout_ms) or member.state != HEALTHY \
                    or group.active is None:
                self.wake(group.id)
        self._queue(key, Beat(hostname, thumb_url, signals, now_ms(), breach))
        HEARTBEATS.inc()
        members = None
        if group is not None and group.hot_warm > 0:  # ranking standbys needs the whole group
            members = [MemberView(key=k, name=fleet.members[k].name, order=fleet.members[k].order,
                                  enabled=fleet.members[k].enabled) for k in group.members]
        elif member is not None:
            members = [MemberView(key=key, name=member.name, enabled=member.enabled)]
        return answer(group, key, members)

    def recorded(self, key: str, group: GroupConfig | None, hostname: str, thumb_url: str,
                 signals: dict[str, float]) -> None:
        """The database path committed a heartbeat: mirror it in the health table, tell the engine, and
        queue it like any beat, so the next batch announces it to the other instances (NOTIFY)."""
        if group is None:
            return
        signals = self.health.with_observed(key, signals)
        breach = breached_signal(signals, group.policy.thresholds)
        self.health.beat(key, clock_ms(), breach, group.policy.heartbeat_timeout_ms)
        self._queue(key, Beat(hostname, thumb_url, signals, now_ms(), breach))
        self.wake(group.id)

    def _queue(self, key: str, beat: Beat) -> None:
        with self._lock:
            self._pending[key] = beat
            HEARTBEATS_PENDING.set(len(self._pending))

    # Batches ------------------------------------------------------------------------------------

    def flush(self) -> int:
        """Write every queued beat in one transaction; return how many. Failed batches are re-queued."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, {}
            if not batch:
                return 0
            started = time.perf_counter()
            try:
                with self.db.sessions() as session, session.begin():
                    missed = self._write(session, batch)
                    if self.db.is_postgres:
                        for payload in self._payloads(batch):
                            session.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": payload})
            except Exception:
                missed = set(batch)
                raise
            finally:
                if missed:
                    with self._lock:  # kept for the next batch; a newer beat of the same slicer wins
                        for key in missed:
                            self._pending.setdefault(key, batch[key])
            if self.peers is not None:
                self.peers.send([p.encode() for p in self._payloads(batch)])
            HEARTBEATS_FLUSHED.inc(len(batch) - len(missed))
            HEARTBEAT_FLUSH.observe(time.perf_counter() - started)
            with self._lock:
                HEARTBEATS_PENDING.set(len(self._pending))
            return len(batch) - len(missed)

    def _write(self, session: Session, batch: dict[str, Beat]) -> set[str]:
        """One statement for the whole batch; returns the keys to try again (rows locked by a change).

        `updated` is left alone: it tells API clients about configuration changes, not liveness.
        """
        rows = json.dumps([{"k": key, "h": b.hostname, "t": b.thumb_url, "s": b.signals, "m": b.wall_ms}
                           for key, b in sorted(batch.items())])
        if not self.db.is_postgres:  # one writer at a time: nothing else can hold these rows
            session.execute(text(
                "UPDATE slicers SET hostname = v.h, thumb_url = v.t, signals = v.s, last_heartbeat_ms = v.m "
                "FROM (SELECT value->>'k' AS k, value->>'h' AS h, value->>'t' AS t, json(value->'s') AS s, "
                "value->>'m' AS m FROM json_each(:rows)) AS v WHERE slicers.id = v.k"), {"rows": rows})
            return set()
        # Rows a configuration change holds are skipped (SKIP LOCKED), not waited for: a heartbeat batch
        # must never deadlock with, or delay, an operator's change. They go in the next batch.
        written = set(session.execute(text(
            "UPDATE slicers AS s SET hostname = v.h, thumb_url = v.t, signals = v.s::json, last_heartbeat_ms = v.m "
            "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(k text, h text, t text, s jsonb, m bigint) "
            "WHERE s.id = v.k AND s.id IN (SELECT id FROM slicers WHERE id = ANY(:keys) ORDER BY id "
            "FOR UPDATE SKIP LOCKED) RETURNING s.id"), {"rows": rows, "keys": list(batch)}).scalars())
        if len(written) == len(batch):
            return set()
        missing = [key for key in batch if key not in written]
        return set(session.execute(select(Slicer.id).where(Slicer.id.in_(missing))).scalars())  # not deleted

    def _payloads(self, batch: dict[str, Beat]) -> list[str]:
        """The flushed keys (with any breach), in NOTIFY-sized JSON chunks: {"i": instance, "b": [[key, breach]]}."""
        chunks: list[list[Any]] = []
        current: list[Any] = []
        size = 0
        for key, beat in batch.items():
            item = [key, beat.breach]
            item_size = len(key) + 8 + (len(beat.breach) if beat.breach else 0)
            if current and size + item_size > NOTIFY_BYTES:
                chunks.append(current)
                current, size = [], 0
            current.append(item)
            size += item_size
        if current:
            chunks.append(current)
        return [json.dumps({"i": self.instance, "b": chunk}, separators=(",", ":")) for chunk in chunks]

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_s):
            try:
                self.flush()
            except Exception as exc:
                log.warning("heartbeat batch write failed (%s); retrying", exc.__class__.__name__)

    # The change feed (several instances or workers) --------------------------------------------------

    def _listen_loop(self) -> None:
        url = make_url(self.db.url).set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._heard(note.payload)
            except psycopg.Error as exc:
                log.warning("heartbeat feed connection failed (%s); reconnecting", exc.__class__.__name__)
                self._stop.wait(1.0)

    def _heard(self, payload: str) -> None:
        """Beats another instance flushed: they count here as heard now (on this process's clock)."""
        try:
            data = json.loads(payload)
        except ValueError:
            return
        if data.get("i") == self.instance:
            return
        now, fleet = clock_ms(), self.registry.current
        for key, breach in data.get("b", ()):
            member = fleet.members.get(key)
            group = fleet.groups.get(member.group_id) if member is not None else None
            if member is None or group is None:
                continue
            if self.health.beat(key, now, breach, group.policy.heartbeat_timeout_ms) or member.state != HEALTHY:
                self.wake(group.id)

    def start(self) -> None:
        if self.peers is not None:
            self.peers.start()
        targets = [self._flush_loop] + ([self._listen_loop] if self.db.is_postgres else [])
        for target in targets:
            thread = threading.Thread(target=target, name=f"heartbeat-{target.__name__.strip('_')}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        try:
            self.flush()  # a clean stop loses nothing
        except Exception as exc:
            log.warning("last heartbeat batch write failed (%s)", exc.__class__.__name__)
        if self.peers is not None:
            self.peers.stop()
