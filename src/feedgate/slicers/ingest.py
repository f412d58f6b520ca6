"""Heartbeat ingest: every heartbeat answered from memory, the database written in batches.

A heartbeat from a slicer the registry knows, for the group it is already in, touches no database: it
updates the health table, queues its fields (hostname, thumb, signals, time) for the next batch, and is
answered from the registry. So do the beats that change the fleet, whatever their number at once: a slicer's
first beat (its registration), a join, a return to a group and a new playlist URL are checked against the
registry (the group exists and the owner may use it; the slicer is in no other group), applied to it at
once, and written by the same batch (`Admission`). Only a beat the registry cannot answer (a group it has
not heard of yet) takes the synchronous, checked path (`service.heartbeat`).

Every `flush_ms` one transaction writes every queued admission and beat; it logs the fleet's delta
(`kit.versions`), and on PostgreSQL it NOTIFYs the flushed keys and the new fleet version, so every instance
(and the engine leader, wherever it runs) hears beats that reached another and applies the joins as a
delta. Processes sharing a SQLite file (`--workers N`) send the same payloads to each other by Unix datagram.

A beat counts as heard when the server received it (`received_ms`, stamped by the HTTP protocol), not when
the handler got round to it. A crash loses at most the queued beats and admissions (one flush window): after
a restart the slicers are simply late, and the engine gives every member a fresh timeout clock.
"""

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from feedgate.failover.events import Happened, write_events
from feedgate.failover.health import HealthTable
from feedgate.failover.models import FailoverGroup, Slicer
from feedgate.failover.policy import HEALTHY, OFFLINE, GroupView, MemberView, breached_signal, role_for
from feedgate.failover.registry import DEFAULT_INTERVAL_MS, GroupConfig, Registry
from feedgate.kit.actor import unattributed
from feedgate.kit.bulk import insert_rows, rows_table
from feedgate.kit.db import Database
from feedgate.kit.errors import FeedgateError, bad_request, conflict
from feedgate.kit.ids import new_id
from feedgate.kit.lag import Stalls
from feedgate.kit.metrics import HEARTBEAT_FLUSH, HEARTBEATS, HEARTBEATS_FLUSHED, HEARTBEATS_PENDING
from feedgate.kit.outbound import literal_refusal
from feedgate.kit.peers import Peers, runtime_dir
from feedgate.kit.time import clock_ms, now_ms
from feedgate.kit.versions import fleet_changed
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


@dataclass(frozen=True)
class Admission:
    """A beat that changes the fleet, applied to the registry already, written by the next batch."""

    key: str
    owner: str
    slicer_id: str
    new: bool  # the slicer's first beat: its row is created
    group: GroupConfig | None  # the group it joins, when it joins one
    name: str  # how the group shows it
    order: int  # its place in the group, next after the last (two instances may give the same: ties go by name)
    hostname: str
    hls_url: str | None  # a new playlist URL, when announced

    @property
    def group_id(self) -> str | None:
        return self.group.id if self.group is not None else None


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


def in_another_group(slicer_id: str, group_id: str) -> FeedgateError:
    return conflict(f"Field 'failover_group_id': slicer '{slicer_id}' is a member of failover group "
                    f"'{group_id}'; remove it from there first.")


class Ingest:
    def __init__(self, db: Database, registry: Registry, health: HealthTable, flush_ms: int,
                 wake: Callable[[str], None], feed: "FeedClock | None" = None) -> None:
        self.db = db
        self.registry = registry
        self.health = health
        self.flush_s = flush_ms / 1000
        self.wake = wake
        self.instance = new_id()
        self._pending: dict[str, Beat] = {}
        self._admitted: dict[str, Admission] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one flush at a time (the thread, or stop's last one)
        self._writing: set[str] = set()  # keys whose admissions the batch being written holds
        self._recorded: set[str] = set()  # keys the checked path committed: announced with the next batch
        self._early: dict[str, tuple[int, str | None]] = {}  # others' beats of slicers not known here yet
        self._catch_up = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.feed = feed or FeedClock()
        self.loop_lag: Callable[[], int] = lambda: 0  # this process's event-loop lag, told to the others
        self.allow_private, self.max_sources = False, 1000  # the runtime sets them from the settings
        self._sources: dict[str, set[str]] = {}  # owner -> slicer IDs that announced a playlist URL here
        self._unsent: dict[str, str | None] = {}  # beats not yet announced to the others: key -> breach
        self._notify: psycopg.Connection[Any] | None = None  # PostgreSQL: the feed's sending connection
        # Processes sharing a SQLite file hear each other's flushed beats by datagram (PostgreSQL: NOTIFY).
        self.peers = None if db.is_postgres else Peers(runtime_dir(db.url), self.instance,
                                                       lambda data: self._heard(data.decode()))

    # Every heartbeat ---------------------------------------------------------------------------

    def beat(self, owner: str, slicer_id: str, hostname: str, thumb_url: str, signals: dict[str, float],
             group_id: str | None, hls_url: str | None = None,
             received_ms: int | None = None) -> HeartbeatAnswer | None:
        """Record a heartbeat and answer it; None when only the database can answer it (the checked path).

        The registry may be a poll behind another process's change: the answer then shows the role of just
        before it. Sending every beat to the database instead would make one operator's change cost
        thousands of transactions at fleet scale.
        """
        fleet = self.registry.current
        key = fleet.slicers.get((owner, slicer_id))
        member = fleet.members.get(key) if key is not None else None
        joins = group_id is not None and (member is None or member.group_id != group_id)
        new_url = hls_url is not None and hls_url != fleet.hls_urls.get(key or "", "")
        if new_url and hls_url:
            self._check_source(owner, slicer_id, hls_url)
        if key is None or joins or new_url:
            admitted = self._admit(owner, slicer_id, key, member, group_id if joins else None, hostname,
                                   hls_url if new_url or key is None else None)
            if admitted is None:
                return None
            key, member = admitted
        group = fleet.groups.get(member.group_id) if member is not None else None
        breach = None
        if group is not None and member is not None:
            breach = breached_signal(signals, group.policy.thresholds)
            heard = received_ms if received_ms is not None else clock_ms()
            if self.health.beat(key, heard, breach, group.policy.heartbeat_timeout_ms) or member.state != HEALTHY \
                    or group.active is None:
                self.wake(group.id)
        self._queue(key, Beat(hostname, thumb_url, signals, now_ms(), breach))
        HEARTBEATS.inc()
        members = None
        if group is not None and group.hot_warm > 0:  # ranking standbys needs the whole group
            members = [MemberView(key=k, name=fleet.members[k].name, order=fleet.members[k].order,
                                  enabled=fleet.members[k].enabled) for k in group.members if k in fleet.members]
        elif member is not None:
            members = [MemberView(key=key, name=member.name, enabled=member.enabled)]
        return answer(group, key, members)

    def _check_source(self, owner: str, slicer_id: str, url: str) -> None:
        """A playlist URL is fetched about once a second by the leader: refuse what it may never fetch, and
        more than `max_sources` URLs per user (counted as announced to this process)."""
        why = literal_refusal(url, self.allow_private)
        if why is not None:
            raise bad_request(f"Field 'hls_url': {why}.")
        mine = self._sources.setdefault(owner, set())
        if slicer_id not in mine and len(mine) >= self.max_sources:
            raise conflict(f"Field 'hls_url': you have {len(mine)} slicers with a playlist URL, the most one user "
                           f"may have ({self.max_sources}, FEEDGATE_MAX_SOURCES_PER_USER).")
        mine.add(slicer_id)

    def _admit(self, owner: str, slicer_id: str, key: str | None, member: Any, group_id: str | None,
               hostname: str, hls_url: str | None) -> tuple[str, Any] | None:
        """A first beat, a join or a new playlist: checked against the registry, applied to it, queued."""
        group = None
        if group_id is not None:
            group = self.registry.current.groups.get(group_id)
            if group is None or not group.visible_to(owner):
                return None  # a group this process has not heard of (yet), or a 404 to word: the database's
            if member is not None:
                raise in_another_group(slicer_id, member.group_id)
        new = key is None
        key = key or new_id()
        self.registry.register(key, owner, slicer_id, hls_url)
        if group is not None:
            member = self.registry.join(key, owner, slicer_id, group)
        with self._lock:  # an admission not yet written keeps what it had (a first beat stays new)
            earlier = self._admitted.get(key)
            joined = member if group is not None else None
            self._admitted[key] = Admission(
                key, owner, slicer_id, new or (earlier is not None and earlier.new),
                group if group is not None else (earlier.group if earlier else None),
                joined.name if joined else (earlier.name if earlier else ""),
                joined.order if joined else (earlier.order if earlier else 1), hostname,
                hls_url if hls_url is not None else (earlier.hls_url if earlier else None))
        return key, member

    def recorded(self, key: str, group: GroupConfig | None, hostname: str, thumb_url: str,
                 signals: dict[str, float]) -> None:
        """The checked path committed a heartbeat: mirror it in the health table, tell the engine, and
        queue it like any beat, so the next batch announces it to the other instances (NOTIFY)."""
        if group is None:
            return
        breach = breached_signal(signals, group.policy.thresholds)
        self.health.beat(key, clock_ms(), breach, group.policy.heartbeat_timeout_ms)
        with self._lock:
            self._recorded.add(key)
        self._queue(key, Beat(hostname, thumb_url, signals, now_ms(), breach))
        self.wake(group.id)

    @property
    def admitting(self) -> bool:
        """Registrations or joins applied here and not yet written, or being written now."""
        return bool(self._admitted) or bool(self._writing)

    def settle(self) -> None:
        """Return once every registration and join applied so far is written (the API reads the database). The
        batch is the fleet's, not the asking request's: it is not in that request's audit trail."""
        if self.admitting:
            with unattributed():
                self.flush()

    def _queue(self, key: str, beat: Beat) -> None:
        with self._lock:
            self._pending[key] = beat
            self._unsent[key] = beat.breach
            HEARTBEATS_PENDING.set(len(self._pending))

    # Batches ------------------------------------------------------------------------------------

    def flush(self) -> int:
        """Write every queued admission and beat in one transaction; return how many beats. A failed batch is
        queued again (a newer beat of the same slicer wins)."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, {}
                admitted, self._admitted = self._admitted, {}
                recorded, self._recorded = self._recorded, set()
                self._writing = joined = set(admitted) | recorded
            if not batch and not admitted:
                return 0
            started = time.perf_counter()
            missed: set[str] = set(batch)
            stale: tuple[set[str], set[str]] = (set(), set())
            try:
                with self.db.sessions() as session, session.begin():
                    if admitted:
                        stale = self._admit_all(session, list(admitted.values()))
                    missed = self._write(session, batch) if batch else set()
                    if joined and self.db.is_postgres:  # delivered with the commit
                        for payload in self._joined(batch, joined):
                            session.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": payload})
            except Exception:
                with self._lock:
                    for key, admission in admitted.items():
                        self._admitted.setdefault(key, admission)
                    self._recorded |= recorded
                    self._writing = set()
                raise
            finally:
                if missed:
                    with self._lock:
                        for key in missed:
                            self._pending.setdefault(key, batch[key])
            if stale[0] or stale[1]:  # what lost a race: the registry reads it again
                self.registry.apply(*stale)
                self._rekey(batch, admitted, stale[1])
            self._written(admitted, stale[1])
            if joined and self.peers is not None:
                self.peers.send([p.encode() for p in self._joined(batch, joined)])
            self._writing = set()
            HEARTBEATS_FLUSHED.inc(len(batch) - len(missed))
            HEARTBEAT_FLUSH.observe(time.perf_counter() - started)
            with self._lock:
                HEARTBEATS_PENDING.set(len(self._pending))
            return len(batch) - len(missed)

    def _rekey(self, batch: dict[str, Beat], admitted: dict[str, Admission], stale: set[str]) -> None:
        """A first beat here that another instance registered first (a fleet starting at once, its beats
        spread over the instances): it was queued under a key of this instance's. Announce it under the
        slicer's real key, so the leader counts it."""
        fleet = self.registry.current
        with self._lock:
            for key in stale & batch.keys():
                a = admitted.get(key)
                real = fleet.slicers.get((a.owner, a.slicer_id)) if a is not None else None
                if real is not None and real != key:
                    self._unsent[real] = batch[key].breach

    def _written(self, admitted: dict[str, Admission], stale: set[str]) -> None:
        """The joins are in the database: the engine judges those members from now on (with the beats they
        sent meanwhile)."""
        fleet = self.registry.current
        for key, a in admitted.items():
            member = fleet.members.get(key)
            if a.group is not None and key not in stale and member is not None:
                member.written = True
                self.wake(a.group.id)

    def _admit_all(self, session: Session, admitted: list[Admission]) -> tuple[set[str], set[str]]:
        """Registrations, joins and playlist URLs, in the batch's transaction; the fleet's delta logged.

        The registry holds them already. A registration or join that lost a race (another instance created
        the slicer first; the slicer is in another group, or its group is gone, by an operator's change) is
        left out: returns the (groups, slicers) the registry must read again after the commit.
        """
        stale: tuple[set[str], set[str]] = (set(), set())
        new = [a for a in admitted if a.new]
        created = insert_rows(session, Slicer, [
            {"id": a.key, "owner": a.owner, "slicer_id": a.slicer_id, "hostname": a.hostname,
             "hls_url": a.hls_url or "", "signals": {}, "state": OFFLINE} for a in new
        ], skip_conflicts_on=("owner", "slicer_id"))
        stale[1].update(a.key for a in new if a.key not in created)
        urls = [{"k": a.key, "u": a.hls_url} for a in admitted if a.hls_url is not None and not a.new]
        if urls:
            v = rows_table(session, {"k": Slicer.id, "u": Slicer.hls_url}, urls)
            session.execute(update(Slicer).where(Slicer.id == v.c.k).values(hls_url=v.c.u)
                            .execution_options(synchronize_session=False))
        joins = [a for a in admitted if a.group is not None]
        joined = self._joins(session, joins)
        for a in joins:
            if a.key not in joined and a.group is not None:
                stale[0].add(a.group.id)
                stale[1].add(a.key)
        fleet_changed(session, {a.group.id for a in joins if a.group is not None}, {a.key for a in admitted},
                      mirrored=True)
        return stale

    @staticmethod
    def _joins(session: Session, joins: list[Admission]) -> set[str]:
        """The conditional joins; returns the keys that joined."""
        if not joins:
            return set()
        # The group rows first, as every change does (one lock order on PostgreSQL): no deadlock with them.
        groups = sorted({a.group.id for a in joins if a.group is not None})
        alive = set(session.execute(select(FailoverGroup.id).where(FailoverGroup.id.in_(groups))
                                    .order_by(FailoverGroup.id).with_for_update()).scalars())
        # By (owner, slicerID): another instance may have created the row first, under its own key.
        wanted = {(a.owner, a.slicer_id): a for a in joins if a.group is not None and a.group.id in alive}
        if not wanted:
            return set()
        rows = session.execute(select(Slicer.id, Slicer.owner, Slicer.slicer_id, Slicer.failover_group_id)
                               .where(Slicer.slicer_id.in_({s for _, s in wanted}))).all()
        by_id = {r.id: wanted[(r.owner, r.slicer_id)] for r in rows if (r.owner, r.slicer_id) in wanted}
        # A slicer already in the group (its join admitted twice: the registry re-read the group before this
        # batch) stays as it is, without a second `joined`.
        there = {r.id for r in rows if r.id in by_id and r.failover_group_id == by_id[r.id].group_id}
        todo = [{"k": key, "g": a.group_id, "o": a.order} for key, a in by_id.items() if key not in there]
        joined: set[str] = set()
        if todo:
            v = rows_table(session, {"k": Slicer.id, "g": Slicer.failover_group_id, "o": Slicer.order}, todo)
            joined = set(session.execute(
                # Not `IS NULL`: SQLite would then walk the group index and scan the rows for each (O(n²)).
                update(Slicer).where(Slicer.id == v.c.k, func.coalesce(Slicer.failover_group_id, "") == "")
                .values(failover_group_id=v.c.g, order=v.c.o, enabled=True, state=OFFLINE, blacklist_until=0)
                .returning(Slicer.id).execution_options(synchronize_session=False)).scalars())
        write_events(session, [(a.group.ref, Happened("joined", f"joined by heartbeat from {a.hostname}",
                                                       to_slicer_id=a.name))
                               for key, a in by_id.items() if key in joined and a.group is not None], now_ms())
        return {a.key for key, a in by_id.items() if key in joined | there}

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

    def _payloads(self, beats: dict[str, str | None], fleet_moved: bool = False) -> list[str]:
        """Beats (key -> breach) in NOTIFY-sized JSON chunks: {"i": instance, "l": its loop lag in ms,
        "b": [[key, breach]], "f": 1 when the fleet changed (the receivers catch up on it first)}."""
        chunks: list[list[Any]] = []
        current: list[Any] = []
        size = 0
        for key, breach in beats.items():
            item_size = len(key) + 8 + (len(breach) if breach else 0)
            if current and size + item_size > NOTIFY_BYTES:
                chunks.append(current)
                current, size = [], 0
            current.append([key, breach])
            size += item_size
        if current or fleet_moved:
            chunks.append(current)
        head = {"i": self.instance, "l": self.loop_lag(), **({"f": 1} if fleet_moved else {})}
        return [json.dumps({**head, "b": chunk}, separators=(",", ":")) for chunk in chunks]

    def _joined(self, batch: dict[str, Beat], keys: set[str]) -> list[str]:
        """Committed joins (by this batch or the checked path): the others catch up on the fleet, then count
        these slicers' beats."""
        return self._payloads({key: batch[key].breach for key in keys if key in batch}, fleet_moved=True)

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_s):
            try:
                self.flush()
            except Exception as exc:
                log.warning("heartbeat batch write failed (%s); retrying", exc.__class__.__name__)

    # The change feed (several instances or workers) --------------------------------------------------

    def _feed_loop(self) -> None:
        """Announce this instance's beats to the others every flush interval, apart from the database batch:
        a slow write (a burst of joins, a busy database) must not look like silence to the leader. With
        nothing to announce, say the feed flows at least every FEED_ALIVE_S."""
        next_alive = 0.0
        while not self._stop.wait(self.flush_s):
            with self._lock:  # a slicer whose join is not committed yet is announced after it (`_joined`)
                waiting = self._admitted.keys() | self._recorded | self._writing
                beats = {k: b for k, b in self._unsent.items() if k not in waiting}
                self._unsent = {k: b for k, b in self._unsent.items() if k in waiting}
            if not beats and time.monotonic() < next_alive:
                continue
            next_alive = time.monotonic() + FEED_ALIVE_S
            self._send(self._payloads(beats) or [self._alive()])

    def _send(self, payloads: list[str]) -> None:
        if self.peers is not None:
            self.peers.send([p.encode() for p in payloads])
            return
        try:
            if self._notify is None or self._notify.closed:
                url = make_url(self.db.url).set(drivername="postgresql").render_as_string(hide_password=False)
                self._notify = psycopg.connect(url, autocommit=True, connect_timeout=5)
            for payload in payloads:
                self._notify.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
        except psycopg.Error as exc:  # the database is away: these beats reach the others with the next ones
            log.warning("heartbeat feed could not send (%s); reconnecting", exc.__class__.__name__)
            with contextlib.suppress(psycopg.Error):
                if self._notify is not None:
                    self._notify.close()
            self._notify = None

    def _listen_loop(self) -> None:
        url = make_url(self.db.url).set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=FEED_ALIVE_S):
                            self._heard(note.payload)
            except psycopg.Error as exc:
                log.warning("heartbeat feed connection failed (%s); reconnecting", exc.__class__.__name__)
                self._stop.wait(1.0)

    def _alive(self) -> str:
        return json.dumps({"i": self.instance, "l": self.loop_lag(), "b": []}, separators=(",", ":"))

    def _heard(self, payload: str) -> None:
        """Beats another instance announced: they count here as heard now (on this process's clock).

        This thread only counts: it never waits for the registry's lock (the engine holds it through its
        commits) or the database, or the beats behind it would look like silence. A beat of a slicer this
        process does not know yet (a join committed elsewhere: "f") waits for the catch-up thread."""
        try:
            data = json.loads(payload)
        except ValueError:
            return
        if data.get("i") == self.instance:
            return
        now = clock_ms()
        lag = data.get("l")
        self.feed.heard(str(data.get("i")), now, lag if isinstance(lag, int) else 0)
        unknown = self._count(data.get("b", ()), now)
        if unknown and len(self._early) < EARLY_MAX:
            with self._lock:
                self._early.update((key, (now, breach)) for key, breach in unknown)
        if data.get("f"):
            self._catch_up.set()

    def _count(self, beats: Any, heard: int) -> list[tuple[str, str | None]]:
        """Count these (key, breach) beats as heard at `heard`; return those of slicers not known here."""
        fleet = self.registry.current
        unknown = []
        for key, breach in beats:
            member = fleet.members.get(key)
            group = fleet.groups.get(member.group_id) if member is not None else None
            if member is None or group is None:
                unknown.append((key, breach))
                continue
            if self.health.beat(key, heard, breach, group.policy.heartbeat_timeout_ms) or member.state != HEALTHY:
                self.wake(group.id)
        return unknown

    def _catch_up_loop(self) -> None:
        """Joins another instance committed: the registry learns them, then their beats count (as heard when
        they arrived)."""
        while not self._stop.is_set():
            if not self._catch_up.wait(FEED_ALIVE_S):
                continue
            self._catch_up.clear()
            try:
                self.registry.catch_up(self.registry.stored_version())
            except Exception as exc:
                log.warning("fleet catch-up failed (%s); the watcher will", exc.__class__.__name__)
            with self._lock:
                early, self._early = self._early, {}
            recent = clock_ms() - EARLY_KEEP_MS
            for key, (at, breach) in early.items():  # each as heard when it arrived
                if at >= recent:
                    self._count([(key, breach)], at)

    def start(self) -> None:
        if self.peers is not None:
            self.peers.start()
        targets = [self._flush_loop, self._feed_loop, self._catch_up_loop,
                   *([self._listen_loop] if self.db.is_postgres else [])]
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
        if self._notify is not None:
            with contextlib.suppress(psycopg.Error):
                self._notify.close()
        if self.peers is not None:
            self.peers.stop()


FEED_ALIVE_S = 0.25  # every instance speaks on the feed at least this often
EARLY_MAX = 100_000  # beats of unknown slicers kept for the catch-up
EARLY_KEEP_MS = 5000  # and for so long: older ones are stale by then
FEED_DEAD_MS = 3000  # an instance silent on the feed this long is gone: its lag no longer counts
EXPECTED_MS = int(FEED_ALIVE_S * 1000) + 100  # the longest a flowing feed is quiet


class FeedClock:
    """When each other instance (or worker) last spoke on the feed: how far behind the feed runs.

    Beats another instance received reach this process only through the feed. While one of them is late (an
    instance stalled, a batch not written yet), its slicers look silent here although they are not: the
    engine extends its deadlines by `lag_ms`. An instance silent for FEED_DEAD_MS is taken for gone (its
    slicers then fail over as their beats stop arriving), so the extension is bounded.
    """

    def __init__(self) -> None:
        self._last: dict[str, tuple[int, int]] = {}  # instance -> (when heard, the loop lag it reported)
        self.stalls = Stalls()  # when some instance's feed ran late (for a beat counted after it)

    def heard(self, instance: str, now: int, reported_lag_ms: int = 0) -> None:
        reported = max(0, min(reported_lag_ms, FEED_DEAD_MS))
        before = self._last.get(instance)
        if before is not None and now - before[0] > EXPECTED_MS:
            self.stalls.add(before[0] + EXPECTED_MS, min(now, before[0] + FEED_DEAD_MS))
        self.stalls.add(now - reported, now)
        self._last[instance] = (now, reported)

    def lag_ms(self, now: int) -> int:
        lags = [max(now - at - EXPECTED_MS, reported) for at, reported in list(self._last.values())
                if now - at < FEED_DEAD_MS]
        return max([0, *lags])
