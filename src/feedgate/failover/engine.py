"""The failover engine runner: evaluates groups when something is due, commits what the policy says.

Every `feedgate serve` process runs one; only the leader acts. On PostgreSQL the leader holds a
session-level advisory lock on a dedicated connection; on SQLite, an flock beside the processes that share
the file (`kit.peers.EngineLock`), so one of `--workers N` leads.

Cost does not grow with idle slicers: groups wait in a heap keyed by the next instant at which their
answer could change (`policy.next_check_ms`), and a heartbeat that changes something marks its group
for evaluation at once. A pass with nothing due is one look at the top of the heap.

The engine never blames a slicer for the control plane's own trouble: silence is measured net of how far
the server runs behind (`behind`: its event loop, the feed from other instances), and a silence of most of
the fleet at once is held, not failed over (`disruption`).
"""

import contextlib
import heapq
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from feedgate.failover import disruption
from feedgate.failover.disruption import Disruption
from feedgate.failover.events import Happened, write_events
from feedgate.failover.health import HealthTable
from feedgate.failover.models import FailoverGroup, Slicer
from feedgate.failover.policy import (
    CAUSES,
    HEALTHY,
    OFFLINE,
    Decision,
    GroupView,
    MemberView,
    SilenceRule,
    evaluate,
    fleet_silence,
    is_disruption,
    next_check_ms,
    silence_ms,
)
from feedgate.failover.registry import Fleet, GroupConfig, Registry
from feedgate.kit.bulk import rows_table
from feedgate.kit.db import Database
from feedgate.kit.errors import database_trouble
from feedgate.kit.metrics import ENGINE_DUE, ENGINE_LAG, ENGINE_LEADER, ENGINE_PASS, FAILOVERS
from feedgate.kit.peers import EngineLock, runtime_dir
from feedgate.kit.time import clock_ms, now_ms
from feedgate.kit.versions import fleet_changed

log = logging.getLogger("feedgate.engine")
LEADER_LOCK = 0x66676C6561646572  # "fglead"
RETRY_S = 1.0
APPLY_BATCH = 250  # decisions committed together: a fleet's start in a few commits, each short


def member_views(group: GroupConfig, fleet: Fleet, health: HealthTable) -> list[MemberView]:
    members = []
    for key in group.members:
        m = fleet.members.get(key)
        if m is None or not m.written:  # a join not in the database yet is judged once it is
            continue
        h = health.get(key)
        members.append(MemberView(
            key=key, name=m.name, order=m.order, enabled=m.enabled, state=m.state, last_heartbeat_ms=h.seen_ms,
            last_bad_ms=h.last_bad_ms, last_bad_reason=h.last_bad_reason, healthy_since_ms=m.healthy_since_ms,
            blacklist_until=m.blacklist_until))
    return members


def group_view(group: GroupConfig, fleet: Fleet, health: HealthTable, lag_ms: int = 0,
               hold_silence: bool = False) -> GroupView:
    return GroupView(members=member_views(group, fleet, health), policy=group.policy, mode=group.mode,
                     auto_failback=group.auto_failback, active=group.active, no_candidate=group.no_candidate,
                     lag_ms=lag_ms, hold_silence=hold_silence)


class Leadership:
    """Who may act. PostgreSQL: a session advisory lock held on its own connection. SQLite: an flock."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: psycopg.Connection[Any] | None = None
        self._pid = 0  # the lock session's backend: the fencing token
        self._next_try = 0.0
        self._next_check = 0.0
        self._file_lock = None if db.is_postgres else EngineLock(runtime_dir(db.url))
        self.is_leader = False

    def _conninfo(self) -> str:
        url = make_url(self.db.url).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def ensure(self) -> bool:
        now = time.monotonic()
        if self._file_lock is not None:
            if not self.is_leader and now >= self._next_try:
                self._next_try = now + RETRY_S
                if self._file_lock.try_acquire():
                    self._acquired()
            return self.is_leader
        if self._conn is not None:
            if now >= self._next_check:
                self._next_check = now + RETRY_S
                try:
                    self._conn.execute("SELECT 1")
                except psycopg.Error:
                    log.warning("engine leadership lost: lock connection failed")
                    self._drop()
            return self._conn is not None
        if now < self._next_try:
            return False
        self._next_try = now + RETRY_S
        try:
            conn = psycopg.connect(self._conninfo(), autocommit=True, connect_timeout=5)
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,)).fetchone()
        except psycopg.Error as exc:
            log.warning("engine leadership attempt failed: %s", exc)
            return False
        if got and got[0]:
            self._conn, self._pid = conn, conn.info.backend_pid
            self._acquired()
            return True
        conn.close()
        return False

    def _acquired(self) -> None:
        self.is_leader = True
        ENGINE_LEADER.set(1)
        log.info("engine leadership acquired")

    def still_holds(self, session: Session) -> bool:
        """The fence: inside the transaction that commits a switch, is our lock session still the holder?

        A leader whose lock connection was cut (network, `pg_terminate_backend`, a database restart) learns
        it here, before it commits, not at its next liveness check: two engines never both switch. A new
        leader that took the lock meanwhile queues behind this transaction's group-row lock and then finds
        the switch already made (the switch is a compare-and-set on the active slicer).
        """
        if self._file_lock is not None:  # an flock lasts as long as this process
            return self.is_leader
        if self._conn is None:
            return False
        held = session.execute(text(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = :pid"
            " AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1"),
            {"pid": self._pid, "hi": LEADER_LOCK >> 32, "lo": LEADER_LOCK & 0xFFFFFFFF}).first()
        if held is None:
            log.warning("engine leadership lost: the lock session is gone (fenced before commit)")
            self._drop()
            return False
        return True

    def _drop(self) -> None:
        if self._file_lock is not None:
            self._file_lock.release()
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None
        self.is_leader = False
        ENGINE_LEADER.set(0)

    def release(self) -> None:
        if self._conn is not None:
            log.info("engine leadership released")
        self._drop()


for _cause in CAUSES:  # every series exists at 0 from the start, so an alert's increase() sees the first switch
    FAILOVERS.labels("failback" if _cause == "failback" else "failover", _cause)
SILENCE_CHECK_MS = 250  # the fleet-wide silence is measured at most this often (O(fleet))
Behind = Callable[[int], int]  # how many ms the control plane runs behind, at clock_ms()


class FailoverEngine:
    def __init__(self, db: Database, registry: Registry, health: HealthTable, tick_ms: int = 100,
                 rule: SilenceRule = SilenceRule(), behind: Behind = lambda _now: 0,
                 disruption_max_ms: int = 10 * 60 * 1000) -> None:
        self.db = db
        self.registry = registry
        self.health = health
        self.tick_s = tick_ms / 1000
        self.rule = rule
        self.behind = behind
        self.disruption_max_ms = disruption_max_ms
        self.leadership = Leadership(db)
        self.disruption: Disruption | None = None
        self._silence_at = -SILENCE_CHECK_MS
        self._late: list[str] = []  # groups held since the disruption opened, not recorded yet
        self._heap: list[tuple[int, str]] = []  # (due clock_ms, group id); stale entries are skipped
        self._due: dict[str, int] = {}  # group id -> its live heap entry
        self._dirty: set[str] = set()
        self._dirty_lock = threading.Lock()
        self._all_dirty = True
        self._was_leader = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listeners: list[Callable[[str], None]] = []  # called with a group ID after each committed change
        registry.listeners.append(self._on_fleet)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="failover-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop judging (and, on PostgreSQL, hand leadership over) at once: nothing is decided after this."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.leadership.release()

    def halt(self) -> None:
        """From a signal handler: judge nothing from now on, and hand leadership over without blocking."""
        self._stop.set()
        self._wake.set()
        threading.Thread(target=self.stop, name="failover-engine-stop", daemon=True).start()

    def wake(self, group_id: str | None = None) -> None:
        """Something changed for this group (or for all): evaluate now rather than at its due time."""
        with self._dirty_lock:
            if group_id is None:
                self._all_dirty = True
            else:
                self._dirty.add(group_id)
        self._wake.set()

    def _on_fleet(self, groups: set[str] | None) -> None:
        if groups is not None:
            for group_id in groups:
                self.wake(group_id)
            return
        fleet = self.registry.current
        self.health.retain(fleet.members)
        if self.leadership.is_leader:
            self._seed(fleet)
        self.wake()

    def _run(self) -> None:
        while not self._stop.is_set():
            timeout = self.tick_s
            try:
                if self.leadership.ensure():
                    if not self._was_leader:
                        self._was_leader = True
                        self._seed(self.registry.current)
                        disruption.close_left_open(self.db, now_ms())
                    self.run_pass()
                    if self._heap:
                        timeout = max(0.0, min(self.tick_s, (self._heap[0][0] - clock_ms()) / 1000))
                else:
                    self._was_leader = False
            except (OperationalError, psycopg.OperationalError) as exc:  # the database is away: its decisions wait
                log.warning("engine pass could not reach the database (%s); retrying", database_trouble(exc))
                self._retry_all()
            except Exception:
                log.exception("engine pass failed; retrying")
                self._retry_all()
            self._wake.wait(timeout)
            self._wake.clear()

    def _retry_all(self) -> None:
        """A failed pass took its groups off the heap: judge every group again at the next pass."""
        with self._dirty_lock:
            self._all_dirty = True

    def _seed(self, fleet: Fleet) -> None:
        """Members never heard by this process get a fresh timeout clock (start, restart, handoff).

        Alive means on record as not offline, or with a stored heartbeat within the timeout (a slicer that
        just joined through another request). A slicer that was offline stays offline until it beats.
        """
        now, wall = clock_ms(), now_ms()
        for key, member in list(fleet.members.items()):
            group = fleet.groups.get(member.group_id)
            if group is None:
                continue
            stored = fleet.last_heartbeat.get(key)
            recent = stored is not None and wall - stored <= group.policy.heartbeat_timeout_ms
            self.health.seed(key, now, alive=recent or (member.state != OFFLINE and stored is not None))
        self.wake()

    def _take_due(self, now: int) -> set[str]:
        fleet = self.registry.current
        with self._dirty_lock:
            if self._all_dirty:
                todo = set(fleet.groups)
                self._all_dirty = False
                self._dirty.clear()
                self._heap.clear()
                self._due.clear()
            else:
                todo, self._dirty = self._dirty, set()
        while self._heap and self._heap[0][0] <= now:
            due, group_id = heapq.heappop(self._heap)
            if self._due.get(group_id) == due:
                del self._due[group_id]
                todo.add(group_id)
        return todo

    def run_pass(self, now: int | None = None) -> int:
        """Evaluate the groups that are due or marked; return how many changed."""
        now = clock_ms() if now is None else now
        lag = self.behind(now)
        ENGINE_LAG.set(lag / 1000)
        if self.disruption is not None:
            self._maybe_close(now, lag)
        todo = self._take_due(now)
        if not todo:
            return 0
        started = time.perf_counter()
        ENGINE_DUE.observe(len(todo))
        changed: list[str] = []
        with self.registry.lock:
            fleet = self.registry.current
            decided: list[tuple[GroupConfig, Decision]] = []
            for group_id in todo:
                group = fleet.groups.get(group_id)
                if group is None:
                    continue
                if group.active is None and any(not m.written for k in group.members
                                                if (m := fleet.members.get(k)) is not None):
                    continue  # its first pick waits for the join being written (which wakes it): order decides
                view = group_view(group, fleet, self.health, lag, self._held(group_id))
                if not view.hold_silence and self._overdue(view, now) and self._maybe_open(now, lag, group_id):
                    view = group_view(group, fleet, self.health, lag, True)
                decision = evaluate(view, now)
                if decision.changes_anything:
                    decided.append((group, decision))
                else:
                    self._schedule(group_id, next_check_ms(view, now))
            self._record_late()
            for at in range(0, len(decided), APPLY_BATCH):
                changed += self._apply(fleet, decided[at:at + APPLY_BATCH], now)
            for group, _ in decided:
                view = group_view(group, fleet, self.health, lag, self._held(group.id))
                self._schedule(group.id, next_check_ms(view, now))
        for group_id in changed:
            for listener in self.listeners:
                listener(group_id)
        ENGINE_PASS.observe(time.perf_counter() - started)
        return len(changed)

    def _held(self, group_id: str) -> bool:
        return self.disruption is not None and group_id in self.disruption.held

    @staticmethod
    def _overdue(view: GroupView, now: int) -> bool:
        """Some member quiet past half its timeout: the moment to ask whether the whole fleet went quiet."""
        limit = view.policy.heartbeat_timeout_ms // 2
        return any((silence_ms(m, now, view.lag_ms) or 0) > limit for m in view.members if m.state != OFFLINE)

    def _silent_groups(self, now: int, lag: int, groups: list[GroupConfig]) -> tuple[int, int, list[str]]:
        """(silent, considered, the groups where nothing beats) over these groups (`policy.fleet_silence`)."""
        fleet = self.registry.current
        silent = considered = 0
        quiet: list[str] = []
        for group in groups:
            s, c = fleet_silence([(group.policy.heartbeat_timeout_ms, member_views(group, fleet, self.health))],
                                 now, lag)
            silent, considered = silent + s, considered + c
            if s:
                quiet.append(group.id)
        return silent, considered, quiet

    def _maybe_open(self, now: int, lag: int, group_id: str) -> bool:
        """Is this overdue group part of a fleet-wide silence? Measured over the fleet, at most every 250 ms."""
        if self.disruption is not None:
            return self._held(group_id) or self._hold_late(now, lag, group_id)
        if now - self._silence_at < SILENCE_CHECK_MS:
            return False
        self._silence_at = now
        silent, considered, quiet = self._silent_groups(now, lag, list(self.registry.current.groups.values()))
        if not is_disruption(silent, considered, self.rule):
            return False
        opened = disruption.start(now_ms(), now, silent, considered, quiet)
        self.disruption = opened
        fleet = self.registry.current
        self.health.held = {k for g in quiet for k in fleet.groups[g].members}
        try:
            disruption.record_opening(self.db, fleet, opened, now_ms())
        except Exception as exc:  # the database may be part of the trouble: hold anyway, say it in the log
            log.warning("could not record the disruption (%s); holding all the same", exc.__class__.__name__)
        return group_id in opened.held

    def _hold_late(self, now: int, lag: int, group_id: str) -> bool:
        """A group that goes quiet while the disruption is open is held too: beats stop in the fleet's own
        phases, so when the disruption opens some groups still have a member that beat a moment ago."""
        d, group = self.disruption, self.registry.current.groups.get(group_id)
        if d is None or group is None or not self._silent_groups(now, lag, [group])[2]:
            return False
        d.held.add(group_id)
        d.announced.append(group_id)
        self._late.append(group_id)
        self.health.held.update(group.members)
        return True

    def _record_late(self) -> None:
        """The groups held since the disruption opened: their `disruption` events, in one transaction."""
        late, self._late = self._late, []
        if late and self.disruption is not None:
            try:
                disruption.record_holding(self.db, self.registry.current, self.disruption, late, now_ms())
            except Exception as exc:
                log.warning("could not record the groups held (%s); holding all the same", exc.__class__.__name__)

    def _maybe_close(self, now: int, lag: int) -> None:
        """Release each held group as soon as a member of it beats, and end the disruption once what is still
        silent is no longer most of the fleet (or it has lasted `disruption_max_ms`: a real outage, then)."""
        d = self.disruption
        if d is None or now - self._silence_at < SILENCE_CHECK_MS:
            return
        self._silence_at = now
        fleet = self.registry.current
        held = [fleet.groups[g] for g in d.held if g in fleet.groups]
        silent, _, quiet = self._silent_groups(now, lag, held)
        for group_id in d.held - set(quiet):  # heard again: its members get a whole timeout from now
            self._release(fleet, group_id, now)
        d.held = set(quiet)
        expired = now - d.opened >= self.disruption_max_ms
        if is_disruption(silent, d.considered, self.rule) and not expired:
            return
        for group_id in list(d.held):
            if not expired:
                self._release(fleet, group_id, now)
        self.disruption = None
        self.health.held = set()
        try:
            disruption.record_closing(self.db, fleet, d, now_ms())
        except Exception as exc:
            log.warning("could not record the end of the disruption (%s)", exc.__class__.__name__)
        self.wake()

    def _release(self, fleet: Fleet, group_id: str, now: int) -> None:
        """Silence during the disruption does not count: a fresh timeout clock, as after a restart. Beats come
        back in any order, so no group is reshuffled; a member that stays silent then fails over."""
        group = fleet.groups.get(group_id)
        keys = group.members if group is not None else []
        self.health.restart(keys, now)
        self.health.held.difference_update(keys)
        self.wake(group_id)

    def _schedule(self, group_id: str, due: int | None) -> None:
        if due is None:
            self._due.pop(group_id, None)
            return
        if self._due.get(group_id) != due:
            self._due[group_id] = due
            heapq.heappush(self._heap, (due, group_id))

    def _apply(self, fleet: Fleet, decided: list[tuple[GroupConfig, Decision]], now: int) -> list[str]:
        """Commit these decisions (switches, states, blacklists and events) in one transaction, then mirror
        them; return the groups changed. A fleet starting at once is hundreds of first activations in a pass:
        one commit and a handful of statements for them all (`kit.bulk`), not a transaction each."""
        with self.db.sessions() as session, session.begin():
            # The group rows first, in one order, as every API change does: no deadlock with them.
            session.execute(select(FailoverGroup.id).where(FailoverGroup.id.in_(sorted(g.id for g, _ in decided)))
                            .order_by(FailoverGroup.id).with_for_update()).all()
            if self._stop.is_set() or not self.leadership.still_holds(session):  # stopping: decide nothing more
                session.rollback()
                return []
            done = _write(session, fleet, decided, now)
        switched = {g.id for g, d in done if d.switch is not None}
        for group, decision in done:
            self._mirror(fleet, group, decision, now)
        if switched:
            self.registry.notify(switched)  # decisions follow the new sources
        return [g.id for g, _ in done]

    @staticmethod
    def _mirror(fleet: Fleet, group: GroupConfig, decision: Decision, now: int) -> None:
        """Committed: the engine is the only writer of these fields, so it updates the registry in place."""
        for change in decision.states:
            member = fleet.members.get(change.key)
            if member is not None:
                member.state, member.healthy_since_ms = change.state, change.healthy_since_ms
        for key, until in decision.blacklist.items():
            if key in fleet.members:
                fleet.members[key].blacklist_until = until
        if decision.switch is not None:
            group.active, group.no_candidate = decision.switch.to_key, False
            group.failover_time = group.switched_ms = now
            FAILOVERS.labels(decision.switch.kind, decision.switch.cause).inc()
            to = fleet.members.get(decision.switch.to_key)
            log.info("group %s: %s to %s (%s)", group.id, decision.switch.kind, to.name if to else None,
                     decision.switch.reason)
        elif decision.no_candidate:
            group.no_candidate = True
        elif decision.clear_no_candidate:
            group.no_candidate = False


def _write(session: Session, fleet: Fleet, decided: list[tuple[GroupConfig, Decision]],
           now: int) -> list[tuple[GroupConfig, Decision]]:
    """The decisions' writes, switches first: a switch whose group an operator switched meanwhile is dropped
    with the rest of its group's decision (the registry's reload re-evaluates it). Returns what was written."""
    moves = [{"g": g.id, "f": g.active, "t": d.switch.to_key} for g, d in decided if d.switch is not None]
    moved: set[str] = set()
    if moves:
        v = rows_table(session, {"g": FailoverGroup.id, "f": FailoverGroup.active_slicer,
                                 "t": FailoverGroup.active_slicer}, moves)
        moved = set(session.execute(
            update(FailoverGroup)
            .where(FailoverGroup.id == v.c.g, FailoverGroup.active_slicer.is_not_distinct_from(v.c.f))
            .values(active_slicer=v.c.t, failover_time=now, no_candidate=False)
            .returning(FailoverGroup.id).execution_options(synchronize_session=False)).scalars())
    done = [(g, d) for g, d in decided if d.switch is None or g.id in moved]
    states = [{"k": c.key, "s": c.state, "h": c.healthy_since_ms} for _, d in done for c in d.states]
    if states:
        v = rows_table(session, {"k": Slicer.id, "s": Slicer.state, "h": Slicer.healthy_since_ms}, states)
        session.execute(update(Slicer).where(Slicer.id == v.c.k).values(state=v.c.s, healthy_since_ms=v.c.h)
                        .execution_options(synchronize_session=False))
    blacklist = [{"k": k, "u": until} for _, d in done for k, until in d.blacklist.items()]
    if blacklist:
        v = rows_table(session, {"k": Slicer.id, "u": Slicer.blacklist_until}, blacklist)
        session.execute(update(Slicer).where(Slicer.id == v.c.k).values(blacklist_until=v.c.u)
                        .execution_options(synchronize_session=False))
    flags = [{"g": g.id, "n": bool(d.no_candidate)} for g, d in done
             if d.switch is None and (d.no_candidate or d.clear_no_candidate)]
    if flags:
        v = rows_table(session, {"g": FailoverGroup.id, "n": FailoverGroup.no_candidate}, flags)
        session.execute(update(FailoverGroup).where(FailoverGroup.id == v.c.g).values(no_candidate=v.c.n)
                        .execution_options(synchronize_session=False))
    if moved:
        fleet_changed(session, moved, mirrored=True)  # mirrored after the commit; other processes by delta
    # Stored with the switches; their listeners (the webhook outbox) write in this transaction too, so a crash
    # after a switch loses no alert.
    write_events(session, [(g.ref, h) for g, d in done for h in _happened(fleet, g, d)], now)
    return done


def _happened(fleet: Fleet, group: GroupConfig, decision: Decision) -> list[Happened]:
    """A decision as the events it makes, slicers by name."""
    def name(key: str | None) -> str | None:
        member = fleet.members.get(key or "")
        return member.name if member is not None else None

    events = [Happened("healthy" if c.state == HEALTHY else "unhealthy", c.reason, name(c.key))
              for c in decision.states]
    if decision.switch is not None:
        events.append(Happened(decision.switch.kind, decision.switch.reason, name(group.active),
                               name(decision.switch.to_key)))
    elif decision.no_candidate:
        events.append(Happened("no_candidate", decision.no_candidate, name(group.active)))
    return events
