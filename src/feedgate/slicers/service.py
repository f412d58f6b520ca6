"""Slicer registration and the checked heartbeat path (joins, first beats); steady beats are `ingest`'s."""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedgate.failover.models import FailoverGroup, Slicer
from feedgate.failover.policy import OFFLINE, MemberView
from feedgate.failover.registry import GroupConfig, group_config, member_name
from feedgate.failover.schemas import SlicerStatus
from feedgate.failover.service import get_group, record_event
from feedgate.kit.errors import conflict, not_found
from feedgate.kit.ids import new_id
from feedgate.kit.metrics import HEARTBEATS
from feedgate.kit.models import add_tombstone
from feedgate.kit.pagination import Listed, PageQuery, paginate
from feedgate.kit.time import iso_ms, now_ms
from feedgate.kit.versions import fleet_changed
from feedgate.slicers import schemas
from feedgate.slicers.ingest import answer
from feedgate.slicers.schemas import Heartbeat, HeartbeatAnswer

API = "/api/v4/slicers"


def get_slicer(session: Session, owner: str, slicer_id: str) -> Slicer:
    slicer = session.scalars(select(Slicer).where(Slicer.owner == owner, Slicer.slicer_id == slicer_id)).first()
    if slicer is None:
        raise not_found("Slicer", slicer_id)
    return slicer


def serialize_slicer(slicer: Slicer) -> schemas.Slicer:
    return schemas.Slicer(
        at_id=f"{API}/{slicer.slicer_id}", id=slicer.slicer_id, owner=slicer.owner, hostname=slicer.hostname,
        hls_url=slicer.hls_url, failover_group_id=slicer.failover_group_id, order=slicer.order,
        enabled=slicer.enabled, status=SlicerStatus(state=slicer.state, thumb_url=slicer.thumb_url),
        blacklist_until=slicer.blacklist_until, last_heartbeat=slicer.last_heartbeat_ms,
        signals={**(slicer.signals or {}), **(slicer.observed or {})}, created=iso_ms(slicer.created),
        updated=iso_ms(slicer.updated))


def list_slicers(session: Session, owner: str, page: PageQuery) -> schemas.Slicers:
    listed = Listed(API, {"created": Slicer.created, "id": Slicer.slicer_id, "hostname": Slicer.hostname},
                    updated_column=Slicer.updated, tombstone=("slicer", owner, ""), tombstone_type="Slicer")
    return paginate(session, select(Slicer).where(Slicer.owner == owner), page, listed,
                    lambda rows: [serialize_slicer(s) for s in rows], schemas.Slicers)


def _load_or_create(session: Session, owner: str, slicer_id: str) -> tuple[Slicer, bool]:
    stmt = select(Slicer).where(Slicer.owner == owner, Slicer.slicer_id == slicer_id)
    slicer = session.scalars(stmt).first()
    if slicer is not None:
        return slicer, False
    slicer = Slicer(id=new_id(), owner=owner, slicer_id=slicer_id, signals={})
    try:
        with session.begin_nested():
            session.add(slicer)
    except IntegrityError:  # a concurrent first heartbeat registered it
        return session.scalars(stmt).one(), False
    return slicer, True


def _join(session: Session, owner: str, slicer: Slicer, group_id: str) -> FailoverGroup:
    if slicer.failover_group_id is not None:
        raise conflict(f"Field 'failover_group_id': slicer '{slicer.slicer_id}' is a member of failover group "
                       f"'{slicer.failover_group_id}'; remove it from there first.")
    with session.no_autoflush:
        group = get_group(session, owner, group_id, for_update=True)
    last = session.scalar(select(func.max(Slicer.order)).where(Slicer.failover_group_id == group.id))
    slicer.failover_group_id = group.id
    slicer.order = (last or 0) + 1
    slicer.enabled = True
    slicer.state = OFFLINE
    slicer.blacklist_until = 0
    record_event(session, group, "joined", f"joined by heartbeat from {slicer.hostname}",
                 to_slicer=member_name(owner, slicer.slicer_id, group.owner))
    return group


def heartbeat(session: Session, owner: str, slicer_id: str,
              data: Heartbeat) -> tuple[HeartbeatAnswer, str, GroupConfig | None]:
    """The checked path: register, join, or any beat the registry cannot answer yet.

    Returns the answer, the slicer's key and its group as the registry would hold it.
    """
    slicer, created = _load_or_create(session, owner, slicer_id)
    group = None
    slicer.hostname = data.hostname  # first: the join event names the host
    joined = bool(data.failover_group_id) and slicer.failover_group_id != data.failover_group_id
    if joined:  # locks the group row before this slicer's row is written: the lock order of every change
        group = _join(session, owner, slicer, data.failover_group_id or "")
    elif slicer.failover_group_id is not None:
        group = session.get(FailoverGroup, slicer.failover_group_id)
    slicer.thumb_url = data.thumb_url
    new_url = data.hls_url is not None and data.hls_url != slicer.hls_url
    if new_url:
        slicer.hls_url = data.hls_url or ""
    slicer.signals = data.signals.model_dump(exclude_none=True)
    slicer.last_heartbeat_ms = now_ms()
    if created or joined or new_url:  # the registries learn this slicer (and its group), nothing else
        fleet_changed(session, [group.id] if joined and group is not None else [], [slicer.id])
    config = group_config(group) if group is not None else None
    members = None
    if group is not None:
        session.flush()
        rows = session.execute(select(Slicer.id, Slicer.owner, Slicer.slicer_id, Slicer.order, Slicer.enabled)
                               .where(Slicer.failover_group_id == group.id)).all()
        members = [MemberView(key=r.id, name=member_name(r.owner, r.slicer_id, group.owner), order=r.order,
                              enabled=r.enabled) for r in rows]
    key = slicer.id
    session.commit()
    HEARTBEATS.inc()
    return answer(config, key, members), key, config


def delete_slicer(session: Session, owner: str, slicer_id: str) -> None:
    slicer = get_slicer(session, owner, slicer_id)
    if slicer.failover_group_id is not None:
        group = session.get(FailoverGroup, slicer.failover_group_id)
        if group is not None:
            record_event(session, group, "left", "slicer deleted",
                         from_slicer=member_name(owner, slicer_id, group.owner))
    group_id = slicer.failover_group_id
    session.delete(slicer)
    add_tombstone(session, "slicer", owner, slicer_id)
    fleet_changed(session, [group_id] if group_id else [], [slicer.id])
    session.commit()
