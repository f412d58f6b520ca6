"""The failover engine runner: loads groups, asks the policy, commits what it says.

Every `feedgate serve` runs one; only the leader acts. On PostgreSQL the leader holds a
session-level advisory lock on a dedicated connection; on SQLite the single process leads.
"""

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import insert, select, update
from sqlalchemy.engine import make_url

from feedgate.failover.models import FailoverEvent, FailoverGroup
from feedgate.failover.policy import HEALTHY, Decision, GroupView, HealthPolicy, MemberView, evaluate
from feedgate.kit.db import Database
from feedgate.kit.ids import new_id
from feedgate.kit.metrics import ENGINE_LEADER, ENGINE_PASS, FAILOVERS
from feedgate.kit.models import bump_config_version
from feedgate.kit.time import now_ms
from feedgate.slicers.models import Slicer

log = logging.getLogger("feedgate.engine")
LEADER_LOCK = 0x66676C6561646572  # "fglead"
RETRY_S = 1.0


def member_name(slicer_owner: str, slicer_id: str, group_owner: str) -> str:
    return slicer_id if slicer_owner == group_owner else f"{slicer_owner}:{slicer_id}"


def health_policy(group: Any) -> HealthPolicy:
    return HealthPolicy(
        heartbeat_timeout_ms=group.heartbeat_timeout_ms,
        clear_after_ms=group.clear_after_ms,
        blacklist_ms=group.blacklist_ms,
        thresholds={
            "input_loss_ms": group.input_loss_ms, "video_black_ms": group.video_black_ms,
            "audio_silence_ms": group.audio_silence_ms, "dropped_frames_pct": group.dropped_frames_pct,
            "upload_queue_s": group.upload_queue_s,
        },
    )


def member_view(slicer: Any, group_owner: str) -> MemberView:
    return MemberView(
        key=slicer.id, name=member_name(slicer.owner, slicer.slicer_id, group_owner), order=slicer.order,
        enabled=slicer.enabled, state=slicer.state, last_heartbeat_ms=slicer.last_heartbeat_ms,
        last_bad_ms=slicer.last_bad_ms, last_bad_reason=slicer.last_bad_reason,
        healthy_since_ms=slicer.healthy_since_ms, blacklist_until=slicer.blacklist_until,
    )


def group_view(group: Any, slicers: list[Any]) -> GroupView:
    return GroupView(
        members=[member_view(s, group.owner) for s in slicers], policy=health_policy(group), mode=group.mode,
        auto_failback=group.auto_failback, active=group.active_slicer, no_candidate=group.no_candidate,
    )


class Leadership:
    """Who may act. PostgreSQL: a session advisory lock held on its own connection."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: psycopg.Connection[Any] | None = None
        self._next_try = 0.0
        self._next_check = 0.0
        self.is_leader = not db.is_postgres

    def _conninfo(self) -> str:
        url = make_url(self.db.url).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def ensure(self) -> bool:
        if not self.db.is_postgres:
            ENGINE_LEADER.set(1)
            return True
        now = time.monotonic()
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
            self._conn = conn
            self.is_leader = True
            ENGINE_LEADER.set(1)
            log.info("engine leadership acquired")
            return True
        conn.close()
        return False

    def _drop(self) -> None:
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


class FailoverEngine:
    def __init__(self, db: Database, tick_ms: int = 100, on_switch: Callable[[], None] | None = None) -> None:
        self.db = db
        self.tick_s = tick_ms / 1000
        self.leadership = Leadership(db)
        self.on_switch = on_switch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="failover-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.leadership.release()

    def notify(self) -> None:
        """A heartbeat or a change arrived: evaluate now rather than at the next tick."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.leadership.ensure():
                    self.run_pass()
            except Exception:
                log.exception("engine pass failed; retrying")
            self._wake.wait(self.tick_s)
            self._wake.clear()

    def run_pass(self, now: int | None = None) -> int:
        """Evaluate every group once; return how many groups changed."""
        started = time.perf_counter()
        now = now_ms() if now is None else now
        # Plain rows (not ORM objects): cheaper, and they outlive the read transaction.
        with self.db.reading() as conn:
            groups = conn.execute(select(FailoverGroup.__table__)).all()
            slicers = conn.execute(
                select(Slicer.__table__).where(Slicer.failover_group_id.is_not(None))
            ).all()
        members: dict[str, list[Any]] = {}
        for slicer in slicers:
            members.setdefault(slicer.failover_group_id or "", []).append(slicer)
        changed = 0
        for group in groups:
            decision = evaluate(group_view(group, members.get(group.id, [])), now)
            if decision.changes_anything and self._apply(group, members.get(group.id, []), decision, now):
                changed += 1
        ENGINE_PASS.observe(time.perf_counter() - started)
        return changed

    def _apply(self, group: Any, slicers: list[Any], decision: Decision, now: int) -> bool:
        names = {s.id: member_name(s.owner, s.slicer_id, group.owner) for s in slicers}
        events: list[dict[str, Any]] = []
        with self.db.sessions() as session, session.begin():
            for change in decision.states:
                session.execute(update(Slicer).where(Slicer.id == change.key)
                                .values(state=change.state, healthy_since_ms=change.healthy_since_ms))
                kind = "healthy" if change.state == HEALTHY else "unhealthy"
                events.append({"kind": kind, "from_slicer_id": names[change.key], "to_slicer_id": None,
                               "reason": change.reason})
            for key, until in decision.blacklist.items():
                session.execute(update(Slicer).where(Slicer.id == key).values(blacklist_until=until))
            if decision.switch is not None:
                result = session.execute(
                    update(FailoverGroup)
                    .where(FailoverGroup.id == group.id,
                           FailoverGroup.active_slicer.is_not_distinct_from(group.active_slicer))
                    .values(active_slicer=decision.switch.to_key, failover_time=now, no_candidate=False)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    # An operator switched it meanwhile: drop this decision, look again next pass.
                    session.rollback()
                    return False
                events.append({"kind": decision.switch.kind,
                               "from_slicer_id": names.get(group.active_slicer or ""),
                               "to_slicer_id": names[decision.switch.to_key], "reason": decision.switch.reason})
                bump_config_version(session)
            elif decision.no_candidate:
                session.execute(update(FailoverGroup).where(FailoverGroup.id == group.id).values(no_candidate=True))
                events.append({"kind": "no_candidate", "from_slicer_id": names.get(group.active_slicer or ""),
                               "to_slicer_id": None, "reason": decision.no_candidate})
            elif decision.clear_no_candidate:
                session.execute(update(FailoverGroup).where(FailoverGroup.id == group.id).values(no_candidate=False))
            if events:
                session.execute(insert(FailoverEvent), [
                    {"id": new_id(), "failover_group_id": group.id, "time": now, **event} for event in events
                ])
        if decision.switch is not None:
            FAILOVERS.labels(decision.switch.kind).inc()
            log.info("group %s: %s to %s (%s)", group.id, decision.switch.kind,
                     names[decision.switch.to_key], decision.switch.reason)
            if self.on_switch is not None:
                self.on_switch()
        return True
