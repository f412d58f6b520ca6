"""Slicer registration and heartbeat ingest (a hot path: one short transaction per heartbeat)."""

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedgate.failover.engine import health_policy, member_name, member_view
from feedgate.failover.models import FailoverGroup
from feedgate.failover.policy import GroupView, MemberView, breached_signal, role_for
from feedgate.failover.service import get_group, record_event
from feedgate.kit.errors import conflict, not_found
from feedgate.kit.ids import new_id
from feedgate.kit.metrics import HEARTBEATS
from feedgate.kit.models import add_tombstone, bump_config_version
from feedgate.kit.time import iso_ms, now_ms
from feedgate.slicers.models import Slicer
from feedgate.slicers.schemas import Heartbeat

API = "/api/v4/slicers"
DEFAULT_INTERVAL_MS = 1000


def get_slicer(session: Session, owner: str, slicer_id: str) -> Slicer:
    slicer = session.scalars(select(Slicer).where(Slicer.owner == owner, Slicer.slicer_id == slicer_id)).first()
    if slicer is None:
        raise not_found("Slicer", slicer_id)
    return slicer


def serialize_slicer(slicer: Slicer) -> dict[str, Any]:
    return {
        "@id": f"{API}/{slicer.slicer_id}", "@type": "Slicer", "id": slicer.slicer_id, "owner": slicer.owner,
        "hostname": slicer.hostname, "failover_group_id": slicer.failover_group_id, "order": slicer.order,
        "enabled": slicer.enabled, "status": {"state": slicer.state, "thumb_url": slicer.thumb_url},
        "blacklist_until": slicer.blacklist_until, "last_heartbeat": slicer.last_heartbeat_ms,
        "signals": slicer.signals or {}, "created": iso_ms(slicer.created), "updated": iso_ms(slicer.updated),
    }


def _load_or_create(session: Session, owner: str, slicer_id: str) -> Slicer:
    stmt = select(Slicer).where(Slicer.owner == owner, Slicer.slicer_id == slicer_id)
    slicer = session.scalars(stmt).first()
    if slicer is not None:
        return slicer
    slicer = Slicer(id=new_id(), owner=owner, slicer_id=slicer_id, signals={})
    try:
        with session.begin_nested():
            session.add(slicer)
    except IntegrityError:  # a concurrent first heartbeat registered it
        slicer = session.scalars(stmt).one()
    return slicer


def _join(session: Session, owner: str, slicer: Slicer, group_id: str) -> FailoverGroup:
    if slicer.failover_group_id is not None:
        raise conflict(f"Field 'failover_group_id': slicer '{slicer.slicer_id}' is a member of failover group "
                       f"'{slicer.failover_group_id}'; remove it from there first.")
    group = get_group(session, owner, group_id, for_update=True)
    last = session.scalar(select(func.max(Slicer.order)).where(Slicer.failover_group_id == group.id))
    slicer.failover_group_id = group.id
    slicer.order = (last or 0) + 1
    slicer.enabled = True
    slicer.state = -1
    slicer.blacklist_until = 0
    record_event(session, group.id, "joined", f"joined by heartbeat from {slicer.hostname}",
                 to_slicer=member_name(owner, slicer.slicer_id, group.owner))
    return group


def heartbeat(session: Session, owner: str, slicer_id: str, data: Heartbeat) -> tuple[dict[str, Any], bool]:
    """Record a heartbeat; return the answer for the slicer and whether the engine should look now.

    The steady state (a known member, no breach, no gap) is one SELECT of slicer and group and one
    UPDATE; joining, registering and breaches take the slower, fully checked path.
    """
    now = now_ms()
    signals = data.signals.model_dump(exclude_none=True)
    row = session.execute(
        select(Slicer.id.label("slicer_key"), Slicer.failover_group_id, Slicer.last_heartbeat_ms,
               Slicer.state.label("slicer_state"), Slicer.enabled.label("slicer_enabled"), FailoverGroup.__table__)
        .outerjoin(FailoverGroup, FailoverGroup.id == Slicer.failover_group_id)
        .where(Slicer.owner == owner, Slicer.slicer_id == slicer_id)
    ).first()
    steady = (row is not None and row.failover_group_id is not None
              and data.failover_group_id in (None, row.failover_group_id)
              and row.last_heartbeat_ms is not None and now - row.last_heartbeat_ms <= row.heartbeat_timeout_ms
              and breached_signal(signals, health_policy(row).thresholds) is None)
    if steady:
        assert row is not None
        session.execute(update(Slicer).where(Slicer.id == row.slicer_key).values(
            hostname=data.hostname, thumb_url=data.thumb_url, signals=signals, last_heartbeat_ms=now))
        answer = _answer(session, row.slicer_key, row.slicer_enabled, row)
        session.commit()
        HEARTBEATS.inc()
        # An offline or unhealthy slicer turning healthy is the engine's to notice at once.
        return answer, row.slicer_state != 0
    return _heartbeat_checked(session, owner, slicer_id, data, signals, now), True


def _answer(session: Session, slicer_key: str, enabled: bool, group: Any) -> dict[str, Any]:
    if group.hot_warm > 0:  # ranking standbys as hot or warm needs the whole group
        rows = session.execute(select(Slicer.__table__).where(Slicer.failover_group_id == group.id)).all()
        members = [member_view(m, group.owner) for m in rows]
    else:  # every standby is hot: only this slicer's own flags matter, so skip reading the members
        members = [MemberView(key=slicer_key, name="", enabled=enabled)]
    role = role_for(slicer_key, GroupView(members=members, active=group.active_slicer), group.hot_warm,
                    group.no_slicer)
    return {"role": role, "active": role == "active", "failover_group_id": group.id,
            "heartbeat_interval_ms": max(50, min(DEFAULT_INTERVAL_MS, group.heartbeat_timeout_ms // 3))}


def _heartbeat_checked(session: Session, owner: str, slicer_id: str, data: Heartbeat, signals: dict[str, Any],
                       now: int) -> dict[str, Any]:
    slicer = _load_or_create(session, owner, slicer_id)
    slicer.hostname = data.hostname
    slicer.thumb_url = data.thumb_url
    group = None
    if data.failover_group_id and slicer.failover_group_id != data.failover_group_id:
        group = _join(session, owner, slicer, data.failover_group_id)
    elif slicer.failover_group_id is not None:
        group = session.get(FailoverGroup, slicer.failover_group_id)
    slicer.signals = signals
    if group is not None:
        policy = health_policy(group)
        breach = breached_signal(signals, policy.thresholds)
        previous = slicer.last_heartbeat_ms
        if breach is not None:
            slicer.last_bad_ms, slicer.last_bad_reason = now, breach
        elif previous is not None and now - previous > policy.heartbeat_timeout_ms:
            # Back from offline: it must stay clean for clear_after_ms before it counts as healthy.
            slicer.last_bad_ms, slicer.last_bad_reason = now, f"back after {now - previous} ms without heartbeat"
    slicer.last_heartbeat_ms = now
    session.flush()
    answer = {"role": "hot", "active": False, "failover_group_id": slicer.failover_group_id,
              "heartbeat_interval_ms": DEFAULT_INTERVAL_MS}
    if group is not None:
        answer = _answer(session, slicer.id, slicer.enabled, group)
    session.commit()
    HEARTBEATS.inc()
    return answer


def delete_slicer(session: Session, owner: str, slicer_id: str) -> None:
    slicer = get_slicer(session, owner, slicer_id)
    if slicer.failover_group_id is not None:
        group = session.get(FailoverGroup, slicer.failover_group_id)
        if group is not None:
            record_event(session, group.id, "left", "slicer deleted",
                         from_slicer=member_name(owner, slicer_id, group.owner))
            bump_config_version(session)
    session.delete(slicer)
    add_tombstone(session, "slicer", owner, slicer_id)
    session.commit()
