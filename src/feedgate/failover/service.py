"""Failover groups: the seed's nine endpoints, the extra ones of DESIGN.md, sharing between owners."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from feedgate.auth.models import User
from feedgate.channels.models import Channel
from feedgate.failover import schemas
from feedgate.failover.events import GroupRef, Happened, write_events
from feedgate.failover.models import AllowedOwner, FailoverEvent, FailoverGroup, Slicer
from feedgate.failover.registry import member_name
from feedgate.failover.schemas import (
    ActivateSlicer,
    ChannelsChange,
    GroupCreate,
    GroupUpdate,
    HealthPolicyFields,
    OwnersChange,
    SlicersChange,
)
from feedgate.kit.actor import by_whom
from feedgate.kit.errors import FeedgateError, bad_request, conflict, forbidden, not_found
from feedgate.kit.ids import new_id
from feedgate.kit.models import add_tombstone
from feedgate.kit.pagination import Listed, PageQuery, paginate, paginate_or_all
from feedgate.kit.time import now_ms, utcnow
from feedgate.kit.versions import decisions_changed, fleet_changed

API = "/api/v4/failover-groups"
POLICY_FIELDS = tuple(HealthPolicyFields.model_fields)


def group_ref(group: FailoverGroup) -> GroupRef:
    return GroupRef(group.id, group.owner, group.name, group.notify)


def record_event(session: Session, group: FailoverGroup, kind: str, reason: str,
                 from_slicer: str | None = None, to_slicer: str | None = None) -> None:
    """An event of a change someone asked for: its reason names them (kit.actor)."""
    write_events(session, [(group_ref(group), Happened(kind, reason + by_whom(), from_slicer, to_slicer))],
                 now_ms())


def visible_groups(owner: str) -> Any:
    shared = exists().where(AllowedOwner.failover_group_id == FailoverGroup.id, AllowedOwner.owner == owner)
    return select(FailoverGroup).where(or_(FailoverGroup.owner == owner, shared))


def get_group(session: Session, owner: str, group_id: str, *, for_update: bool = False) -> FailoverGroup:
    """The group if `owner` owns it or is among its allowed owners; 404 otherwise."""
    stmt = visible_groups(owner).where(FailoverGroup.id == group_id)
    if for_update:
        stmt = stmt.with_for_update()
    group = session.scalars(stmt).first()
    if group is None:
        raise not_found("Failover group", group_id)
    return group


def owned_group(session: Session, owner: str, group_id: str) -> FailoverGroup:
    group = get_group(session, owner, group_id, for_update=True)
    if group.owner != owner:
        raise forbidden(f"Only the owner of failover group '{group_id}' may change this; "
                        "allowed owners may only add or remove their own channels and slicers.")
    return group


def source_name(no_slicer: bool, active: tuple[str, str] | None, group_owner: str) -> str:
    """A group's current source in the documented form: the active member's name (its slicerID, or
    OWNER:slicerID for another owner's), "no_slicer" on slate, "" when no slicer is on air."""
    if no_slicer:
        return "no_slicer"
    return "" if active is None else member_name(active[0], active[1], group_owner)


def group_sources(session: Session, group_ids: Sequence[str]) -> dict[str, str]:
    """`source_name` of each group, in one query."""
    if not group_ids:
        return {}
    rows = session.execute(
        select(FailoverGroup.id, FailoverGroup.owner, FailoverGroup.no_slicer, Slicer.owner.label("s_owner"),
               Slicer.slicer_id).outerjoin(Slicer, Slicer.id == FailoverGroup.active_slicer)
        .where(FailoverGroup.id.in_(list(group_ids))))
    return {r.id: source_name(r.no_slicer, (r.s_owner, r.slicer_id) if r.slicer_id else None, r.owner)
            for r in rows}


def render_groups(session: Session, groups: Sequence[FailoverGroup]) -> list[schemas.FailoverGroup]:
    """Groups as the API shows them: their channels, members and sources read in three queries a batch."""
    ids = [g.id for g in groups]
    channels: dict[str, list[schemas.GroupChannel]] = {i: [] for i in ids}
    members: dict[str, list[Slicer]] = {i: [] for i in ids}
    if ids:
        for c in session.execute(select(Channel.id, Channel.desc, Channel.failover_group_id)
                                 .where(Channel.failover_group_id.in_(ids)).order_by(Channel.created, Channel.id)):
            channels[c.failover_group_id].append(schemas.GroupChannel(id=c.id, desc=c.desc))
        for s in session.scalars(select(Slicer).where(Slicer.failover_group_id.in_(ids))
                                 .order_by(Slicer.order, Slicer.slicer_id)):
            members[s.failover_group_id or ""].append(s)
    # The active slicer is one of the members read above; only a group whose active slicer is not (it left
    # a moment ago) costs a query of its own.
    by_key = {s.id: s for listed in members.values() for s in listed}
    sources = group_sources(session, [g.id for g in groups if g.active_slicer is not None and not g.no_slicer
                                      and g.active_slicer not in by_key])
    for g in groups:
        if g.id not in sources:
            active = by_key.get(g.active_slicer or "")
            sources[g.id] = source_name(g.no_slicer, (active.owner, active.slicer_id) if active else None, g.owner)
    return [_group_shape(g, channels[g.id], members[g.id], sources[g.id]) for g in groups]


def _group_shape(group: FailoverGroup, channels: list[schemas.GroupChannel], members: list[Slicer],
                 source: str) -> schemas.FailoverGroup:
    flat = group.mode == "flat"
    slicers = [schemas.GroupSlicer(
        id=member_name(s.owner, s.slicer_id, group.owner), blacklist_until=s.blacklist_until,
        order=1 if flat else s.order, status=schemas.SlicerStatus(state=s.state, thumb_url=s.thumb_url),
        hostname=s.hostname, enabled=s.enabled) for s in members]
    return schemas.FailoverGroup(
        at_id=f"{API}/{group.id}", id=group.id, owner=group.owner, name=group.name, hot_warm=group.hot_warm,
        mode=group.mode, auto_failback=group.auto_failback, failover_time=group.failover_time,
        active_slicer_id=source, no_slicer=group.no_slicer, channels=channels, slicers=slicers,
        notify=group.notify, **{name: getattr(group, name) for name in POLICY_FIELDS})


def serialize_group(session: Session, group: FailoverGroup) -> schemas.FailoverGroup:
    return render_groups(session, [group])[0]


def list_groups(session: Session, owner: str, page: PageQuery) -> schemas.FailoverGroups | bytes:
    listed = Listed(API, {"created": FailoverGroup.created, "name": FailoverGroup.name},
                    updated_column=FailoverGroup.updated, tombstone=("failover_group", owner, ""),
                    tombstone_type="FailoverGroup")
    return paginate_or_all(session, visible_groups(owner), page, listed,
                           lambda rows: render_groups(session, rows), schemas.FailoverGroups)


def event_shape(event: FailoverEvent) -> schemas.FailoverEvent:
    return schemas.FailoverEvent(id=event.id, time=event.time, kind=event.kind, from_slicer_id=event.from_slicer_id,
                                 to_slicer_id=event.to_slicer_id, reason=event.reason)


def list_events(session: Session, owner: str, group_id: str, page: PageQuery) -> schemas.FailoverEvents:
    group = get_group(session, owner, group_id)
    stmt = select(FailoverEvent).where(FailoverEvent.failover_group_id == group.id)
    listed = Listed(f"{API}/{group_id}/events", {"time": FailoverEvent.time}, default_order="-time")
    return paginate(session, stmt, page, listed, lambda rows: [event_shape(e) for e in rows],
                    schemas.FailoverEvents)


def _shown(value: object) -> str:
    """A setting as people read it in an event: on/off, numbers as written."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _listed(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "none"


def create_group(session: Session, owner: str, data: GroupCreate) -> FailoverGroup:
    values = {k: v for k, v in data.model_dump().items() if v is not None}
    group = FailoverGroup(id=new_id(), owner=owner, **values)
    session.add(group)
    session.flush()
    record_event(session, group, "config", f"group created ({group.mode})")
    fleet_changed(session, [group.id])  # the registry learns it (joins are checked against it); no decision changes
    session.commit()
    return group


def delete_group(session: Session, owner: str, group_id: str) -> None:
    group = owned_group(session, owner, group_id)
    # Channels and slicers are released, not deleted.
    session.execute(update(Channel).where(Channel.failover_group_id == group.id)
                    .values(failover_group_id=None, updated=utcnow()))
    session.execute(update(Slicer).where(Slicer.failover_group_id == group.id).values(failover_group_id=None))
    session.delete(group)
    add_tombstone(session, "failover_group", owner, group_id)
    decisions_changed(session)  # its channels lost their source
    fleet_changed(session, [group.id])
    session.commit()


def update_group(session: Session, owner: str, group_id: str, data: GroupUpdate) -> None:
    group = owned_group(session, owner, group_id)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if getattr(group, k) != v}
    if not changes:  # `updated` moves only when something changed
        return
    for key, value in changes.items():
        setattr(group, key, value)
    group.updated = utcnow()
    record_event(session, group, "config", ", ".join(f"{k} {_shown(v)}" for k, v in sorted(changes.items())))
    fleet_changed(session, [group.id])
    session.commit()


def resolve_member(session: Session, group: FailoverGroup, ref: str, field: str) -> Slicer:
    """A member slicer from `slicerID` (the group owner's) or `OWNER_ID:slicerID`; 400 when not a member."""
    slicer_owner, _, name = ref.rpartition(":")
    slicer = session.scalars(select(Slicer).where(
        Slicer.owner == (slicer_owner or group.owner), Slicer.slicer_id == name,
        Slicer.failover_group_id == group.id,
    )).first()
    if slicer is None:
        raise bad_request(f"Field '{field}': slicer '{ref}' is not a member of failover group '{group.id}'.")
    return slicer


def owns_slicer(session: Session, owner: str, slicer_id: str) -> bool:
    """Has this owner registered a slicer by this ID (a rule's alternate content names it so)?"""
    return session.scalar(select(Slicer.id).where(Slicer.owner == owner, Slicer.slicer_id == slicer_id)) is not None


def activate_slicer(session: Session, owner: str, group_id: str, data: ActivateSlicer) -> None:
    group = owned_group(session, owner, group_id)
    if group.auto_failback:  # the document: 400 on a group with auto failback enabled, whatever its mode
        raise bad_request(f"Failover group '{group_id}' has auto_failback on; "
                          "turn it off before activating a slicer by hand.")
    slicer = resolve_member(session, group, data.slicer_id, "slicer_id")
    previous = (group_sources(session, [group.id]).get(group.id) or None) if not group.no_slicer else None
    group.active_slicer = slicer.id
    group.failover_time = now_ms()
    group.no_candidate = False
    group.updated = utcnow()
    record_event(session, group, "activated", "activated by hand", previous, data.slicer_id)
    fleet_changed(session, [group.id])  # decisions learn the new source from the registry's delta
    session.commit()


def change_channels(session: Session, owner: str, group_id: str, data: ChannelsChange) -> None:
    group = get_group(session, owner, group_id, for_update=True)
    now = utcnow()
    for index, channel_id in enumerate(data.channels_ids_to_add):
        # Conditional update: of concurrent requests adding one channel, exactly one can win.
        result = session.execute(
            update(Channel)
            .where(Channel.id == channel_id, Channel.owner == owner, Channel.failover_group_id.is_(None))
            .values(failover_group_id=group.id, updated=now)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            continue
        current = session.execute(
            select(Channel.failover_group_id).where(Channel.id == channel_id, Channel.owner == owner)
        ).first()
        # Raising leaves the transaction uncommitted: nothing of the request is applied.
        if current is None:
            raise not_found("Channel", channel_id)
        if current.failover_group_id != group.id:
            raise conflict(f"Field 'channels_ids_to_add[{index}]': channel '{channel_id}' belongs to failover "
                           f"group '{current.failover_group_id}'; remove it from there first.")
    for channel_id in data.channels_ids_to_remove:
        channel = session.scalars(select(Channel).where(
            Channel.id == channel_id, or_(Channel.owner == owner, Channel.failover_group_id == group.id)
        )).first()
        if channel is None or (channel.owner != owner and group.owner != owner):
            raise not_found("Channel", channel_id)
        if channel.failover_group_id == group.id:
            channel.failover_group_id = None
            channel.updated = now
    if data.channels_ids_to_add or data.channels_ids_to_remove:
        record_event(session, group, "config", f"channels added: {_listed(data.channels_ids_to_add)}; "
                                               f"removed: {_listed(data.channels_ids_to_remove)}")
        decisions_changed(session)  # channels' sources follow their group
    session.commit()


def list_allowed_owners(session: Session, owner: str, group_id: str) -> schemas.AllowedOwners:
    group = get_group(session, owner, group_id)
    rows = session.scalars(select(AllowedOwner).where(AllowedOwner.failover_group_id == group.id)
                           .order_by(AllowedOwner.owner)).all()
    return schemas.AllowedOwners(
        at_id=f"{API}/{group_id}/allowed-owners", total_items=len(rows),
        items=[schemas.AllowedOwner(id=r.id, owner=r.owner, failover_group_id=r.failover_group_id) for r in rows])


def change_allowed_owners(session: Session, owner: str, group_id: str, data: OwnersChange) -> None:
    group = owned_group(session, owner, group_id)
    for index, user_id in enumerate(data.owners_to_add):
        if session.get(User, user_id) is None:
            raise bad_request(f"Field 'owners_to_add[{index}]': user '{user_id}' does not exist.")
        if user_id == group.owner:
            continue
        present = session.scalar(select(func.count()).where(
            AllowedOwner.failover_group_id == group.id, AllowedOwner.owner == user_id))
        if not present:
            session.add(AllowedOwner(id=new_id(), failover_group_id=group.id, owner=user_id))
    for user_id in data.owners_to_remove:
        session.execute(delete(AllowedOwner).where(AllowedOwner.failover_group_id == group.id,
                                                   AllowedOwner.owner == user_id))
        # Revoking access releases what that owner had put in the group.
        session.execute(update(Channel).where(Channel.failover_group_id == group.id, Channel.owner == user_id)
                        .values(failover_group_id=None, updated=utcnow()))
        session.execute(update(Slicer).where(Slicer.failover_group_id == group.id, Slicer.owner == user_id)
                        .values(failover_group_id=None))
    if data.owners_to_add or data.owners_to_remove:
        record_event(session, group, "config", f"allowed owners added: {_listed(data.owners_to_add)}; "
                                               f"removed: {_listed(data.owners_to_remove)}")
        decisions_changed(session)  # a revoked owner's channels left the group
        fleet_changed(session, [group.id])
    session.commit()


def set_no_slicer(session: Session, owner: str, group_id: str, no_slicer: bool) -> None:
    group = owned_group(session, owner, group_id)
    if group.no_slicer != no_slicer:
        group.no_slicer = no_slicer
        group.updated = utcnow()
        record_event(session, group, "no_slicer_on" if no_slicer else "no_slicer_off",
                     "slate on air by hand" if no_slicer else "back to the active slicer")
        fleet_changed(session, [group.id])
    session.commit()


def change_slicers(session: Session, owner: str, group_id: str, data: SlicersChange) -> None:
    group = owned_group(session, owner, group_id)
    changed = []
    for item in data.slicers:
        try:
            slicer = resolve_member(session, group, item.slicer_id, "slicer_id")
        except FeedgateError:
            continue  # the seed: "All other Live Slicers are ignored."
        if item.order is not None:
            slicer.order = item.order
        if item.enabled is not None:
            slicer.enabled = item.enabled
        changed.append(f"{item.slicer_id} (order {slicer.order}, {'enabled' if slicer.enabled else 'disabled'})")
    if changed:
        record_event(session, group, "config", "slicers " + ", ".join(changed))
        fleet_changed(session, [group.id])
    session.commit()


def remove_member(session: Session, owner: str, group_id: str, slicer_ref: str) -> None:
    group = get_group(session, owner, group_id, for_update=True)
    slicer = resolve_member(session, group, slicer_ref if group.owner == owner or ":" in slicer_ref
                            else f"{owner}:{slicer_ref}", "slicer_id")
    if group.owner != owner and slicer.owner != owner:
        raise forbidden(f"Slicer '{slicer_ref}' belongs to another owner; only the group's owner may remove it.")
    slicer.failover_group_id = None
    record_event(session, group, "left", "removed from the group", member_name(slicer.owner, slicer.slicer_id,
                                                                                  group.owner))
    fleet_changed(session, [group.id], [slicer.id])
    session.commit()

