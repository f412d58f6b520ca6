"""What the console shows, read through the same services (and tenancy) as the API."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedgate.blackouts.models import Blackout
from feedgate.blackouts.service import with_rules
from feedgate.channels.models import Channel
from feedgate.channels.service import get_channel, render_channels
from feedgate.failover.models import FailoverEvent, FailoverGroup, Slicer
from feedgate.failover.policy import SIGNALS, STATE_NAMES
from feedgate.failover.service import event_shape, get_group, group_sources, serialize_group
from feedgate.failover.severity import Assessment, SlicerFacts
from feedgate.kit.time import now_ms
from feedgate.programs.models import ScheduleWindow
from feedgate.programs.service import program_at, serialize_tag
from feedgate.scte224.service import rights_source
from feedgate.webhooks.models import Webhook
from feedgate.webhooks.service import recent_deliveries


def badge(slicer: dict[str, Any], active: str, facts: SlicerFacts | None) -> dict[str, Any]:
    """A slicer's badge: its state, and beside it what else is true (blacklisted until, unhealthy because,
    frozen, the age of its last beat once that is worth showing), each a fact of its own."""
    label = "disabled" if not slicer["enabled"] else STATE_NAMES.get(slicer["status"]["state"], "offline")
    return {**slicer, "label": label, "state": slicer["status"]["state"], "active": slicer["id"] == active,
            "facts": facts}


def group_view(session: Session, group: FailoverGroup, assessment: Assessment | None,
               events: int = 1) -> dict[str, Any]:
    body = serialize_group(session, group).model_dump(by_alias=True)
    rows = {(r.slicer_id if r.owner == group.owner else f"{r.owner}:{r.slicer_id}"): r
            for r in session.scalars(select(Slicer).where(Slicer.failover_group_id == group.id))}
    facts = {f.name: f for f in assessment.slicers} if assessment is not None else {}
    body["badges"] = [{**badge(s, body["active_slicer_id"], facts.get(s["id"])),
                       "signals": (rows[s["id"]].signals or {}) if s["id"] in rows else {}} for s in body["slicers"]]
    body["events"] = [event_shape(e).model_dump() for e in session.scalars(
        select(FailoverEvent).where(FailoverEvent.failover_group_id == group.id)
        .order_by(FailoverEvent.time.desc(), FailoverEvent.id).limit(events))]
    body["thresholds"] = {name: getattr(group, name) for name in SIGNALS}
    body["heartbeat_timeout_ms"] = group.heartbeat_timeout_ms
    body["no_slicer"] = group.no_slicer
    body["mine"] = True
    body["assessment"] = assessment
    return body


PAGE = 50


def overview(session: Session, owner: str, ranked: list[Assessment], page: int = 1) -> list[dict[str, Any]]:
    """One page of the groups the user owns or is allowed into, worst first (`ranked`, from memory)."""
    chosen = ranked[(page - 1) * PAGE:page * PAGE]
    rows = {g.id: g for g in session.scalars(select(FailoverGroup).where(
        FailoverGroup.id.in_([a.group_id for a in chosen])))}
    return [{**group_view(session, rows[a.group_id], a), "mine": rows[a.group_id].owner == owner}
            for a in chosen if a.group_id in rows]


def group_page(session: Session, owner: str, group_id: str, page: int,
               assessment: Assessment | None) -> dict[str, Any]:
    group = get_group(session, owner, group_id)
    view = group_view(session, group, assessment, events=0)
    size = 20
    stmt = (select(FailoverEvent).where(FailoverEvent.failover_group_id == group.id)
            .order_by(FailoverEvent.time.desc(), FailoverEvent.id))
    view["events"] = [event_shape(e).model_dump() for e in session.scalars(stmt.offset((page - 1) * size)
                                                                          .limit(size + 1))]
    view["more"] = len(view["events"]) > size
    view["events"] = view["events"][:size]
    view["page"] = page
    view["mine"] = group.owner == owner
    view["channels_desc"] = [c["desc"] for c in view["channels"]]
    return view


def consequence(group: dict[str, Any], action: str, slicer: str) -> str:
    """What viewers will see after the action, said before it is confirmed."""
    channels = ", ".join(c["desc"] for c in group["channels"])
    viewers = f"Viewers of {channels}" if channels else "No channel uses this group, so no viewer"
    badges = {b["id"]: b for b in group["badges"]}
    if action in ("activate", "failback_off_activate"):
        target = badges.get(slicer)
        state = target["label"] if target else "not in this group"
        note = "" if state == "healthy" else f" It is {state}: they may see a frozen, black or missing picture."
        if group["no_slicer"]:
            return f"The group is on slate: {viewers.lower()} keep seeing slate until you take it off."
        lead = "Automatic failback goes off (the engine stops switching back by itself), then " \
            if action == "failback_off_activate" else ""
        return f"{lead}{viewers} will see {slicer}.{note}"
    if action == "slate_on":
        return f"{viewers} will see slate until you take it off."
    if action == "slate_off":
        best = next((b["id"] for b in group["badges"] if b["label"] == "healthy"), None)
        return (f"{viewers} will see the slicer the engine puts on air ({best} is the first healthy one)." if best
                else f"No slicer is healthy: {viewers.lower()} keep seeing slate until one is.")
    if action == "failback_on":
        first = group["badges"][0]["id"] if group["badges"] else "the preferred slicer"
        return f"The engine may switch {viewers.lower()} back to {first} on its own once it is healthy again."
    return "Nothing changes on air now; the engine stops switching back to the preferred slicer by itself."


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
