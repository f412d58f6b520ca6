"""What the console shows, read through the same services (and tenancy) as the API."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feedgate.blackouts.models import Blackout
from feedgate.blackouts.service import with_rules
from feedgate.channels.models import Channel
from feedgate.channels.service import get_channel, render_channels
from feedgate.failover.models import FailoverEvent, FailoverGroup, Slicer
from feedgate.failover.policy import SIGNALS, STATE_NAMES
from feedgate.failover.service import event_shape, get_group, group_sources, serialize_group, visible_groups
from feedgate.kit.time import now_ms
from feedgate.programs.models import ScheduleWindow
from feedgate.programs.service import program_at, serialize_tag
from feedgate.scte224.service import rights_source
from feedgate.webhooks.models import Webhook
from feedgate.webhooks.service import recent_deliveries


def badge(slicer: dict[str, Any], row: Slicer | None, active: str, now: int) -> dict[str, Any]:
    state = slicer["status"]["state"]
    if not slicer["enabled"]:
        label = "disabled"
    elif slicer["blacklist_until"] > now:
        label = "blacklisted"
    else:
        label = STATE_NAMES.get(state, "offline")
    seen = row.last_heartbeat_ms if row is not None else None
    return {**slicer, "label": label, "state": state, "active": slicer["id"] == active,
            "seen_ms": seen or 0, "age_s": None if not seen else max(0.0, (now - seen) / 1000),
            "signals": (row.signals or {}) if row else {}}


def group_view(session: Session, group: FailoverGroup, events: int = 1) -> dict[str, Any]:
    body = serialize_group(session, group).model_dump(by_alias=True)
    rows = {(r.slicer_id if r.owner == group.owner else f"{r.owner}:{r.slicer_id}"): r
            for r in session.scalars(select(Slicer).where(Slicer.failover_group_id == group.id))}
    now = now_ms()
    body["badges"] = [badge(s, rows.get(s["id"]), body["active_slicer_id"], now) for s in body["slicers"]]
    body["events"] = [event_shape(e).model_dump() for e in session.scalars(
        select(FailoverEvent).where(FailoverEvent.failover_group_id == group.id)
        .order_by(FailoverEvent.time.desc(), FailoverEvent.id).limit(events))]
    body["thresholds"] = {name: getattr(group, name) for name in SIGNALS}
    body["heartbeat_timeout_ms"] = group.heartbeat_timeout_ms
    body["no_slicer"] = group.no_slicer
    body["mine"] = True
    return body


PAGE = 50


def overview(session: Session, owner: str, page: int = 1) -> tuple[list[dict[str, Any]], int]:
    """One page of the groups the user owns or is allowed into, and how many there are."""
    stmt = visible_groups(owner)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    groups = session.scalars(stmt.order_by(FailoverGroup.name, FailoverGroup.id)
                             .offset((page - 1) * PAGE).limit(PAGE)).all()
    return [{**group_view(session, g), "mine": g.owner == owner} for g in groups], int(total)


def group_page(session: Session, owner: str, group_id: str, page: int) -> dict[str, Any]:
    group = get_group(session, owner, group_id)
    view = group_view(session, group, events=0)
    size = 20
    stmt = (select(FailoverEvent).where(FailoverEvent.failover_group_id == group.id)
            .order_by(FailoverEvent.time.desc(), FailoverEvent.id))
    view["events"] = [event_shape(e).model_dump() for e in session.scalars(stmt.offset((page - 1) * size)
                                                                          .limit(size + 1))]
    view["more"] = len(view["events"]) > size
    view["events"] = view["events"][:size]
    view["page"] = page
    view["mine"] = group.owner == owner
    return view


def channel_page(session: Session, owner: str, channel_id: str) -> dict[str, Any]:
    channel = get_channel(session, owner, channel_id)
    now = now_ms()
    tag = program_at(session, owner, channel.id, now)
    blackouts = [with_rules(session, b).model_dump(by_alias=True) for b in session.scalars(
        select(Blackout).where(Blackout.channel_id == channel.id).order_by(Blackout.blackout_id))]
    windows = session.scalars(select(ScheduleWindow).where(ScheduleWindow.channel_id == channel.id,
                                                           ScheduleWindow.end_ms > now)
                              .order_by(ScheduleWindow.start_ms).limit(50)).all()
    return {"channel": render_channels(session, [channel], group_sources)[0].model_dump(by_alias=True),
            "program": serialize_tag(tag).model_dump(by_alias=True) if tag else None,
            "blackouts": blackouts, "windows": [{"blackout_id": w.blackout_id, "start": w.start_ms, "end": w.end_ms}
                                                for w in windows],
            "rights": rights_source(session, owner, channel.id)}


def channels(session: Session, owner: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(Channel).where(Channel.owner == owner).order_by(Channel.desc, Channel.id)
                           .limit(200)).all()
    return [c.model_dump(by_alias=True) for c in render_channels(session, rows, group_sources)]


def webhooks(session: Session, owner: str) -> list[dict[str, Any]]:
    out = []
    for hook in session.scalars(select(Webhook).where(Webhook.owner == owner).order_by(Webhook.created)):
        out.append({"id": hook.id, "url": hook.url, "events": hook.events, "enabled": hook.enabled,
                    "deliveries": [d.model_dump() for d in recent_deliveries(session, hook.id)]})
    return out
