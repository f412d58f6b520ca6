"""Program tags on a channel's timeline: by API, by SCTE-35 cue, and by schedule window."""

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from feedgate.channels.models import Channel
from feedgate.channels.service import get_channel
from feedgate.kit.errors import bad_request, conflict, not_found
from feedgate.kit.events import DomainEvent, record
from feedgate.kit.ids import new_id
from feedgate.kit.models import add_tombstone
from feedgate.kit.pagination import Listed, PageQuery, paginate
from feedgate.kit.time import instant_ms, iso_ms, ms_to_datetime
from feedgate.kit.versions import decisions_changed
from feedgate.programs import schemas
from feedgate.programs.models import CueMatch, ProgramTag, ScheduleWindow
from feedgate.programs.schemas import ProgramStart, Scte35Cue, WindowCreate
from feedgate.programs.scte35 import CueError, Decoded, decode_cue, read_cue


def serialize_tag(tag: ProgramTag) -> schemas.Program:
    return schemas.Program(at_id=f"/api/v4/channels/{tag.channel_id}/program/{tag.id}", id=tag.id,
                           channel=tag.channel_id, blackout_id=tag.blackout_id, title=tag.title,
                           start=iso_ms(ms_to_datetime(tag.start_ms)), source=tag.source)


def no_program(channel_id: str) -> schemas.Program:
    return schemas.Program(channel=channel_id, blackout_id=None, title="", start=None, source=None)


def serialize_window(window: ScheduleWindow) -> schemas.ScheduleWindow:
    return schemas.ScheduleWindow(
        at_id=f"/api/v4/channels/{window.channel_id}/schedule/{window.id}", id=window.id,
        channel=window.channel_id, blackout_id=window.blackout_id, start=iso_ms(ms_to_datetime(window.start_ms)),
        end=iso_ms(ms_to_datetime(window.end_ms)), created=iso_ms(window.created), updated=iso_ms(window.updated))


def list_windows(session: Session, owner: str, channel_ref: str, page: PageQuery) -> schemas.ScheduleWindows:
    channel = get_channel(session, owner, channel_ref)
    listed = Listed(f"/api/v4/channels/{channel.id}/schedule", {"start": ScheduleWindow.start_ms,
                                                                 "created": ScheduleWindow.created},
                    updated_column=ScheduleWindow.updated, tombstone=("schedule_window", owner, channel.id),
                    tombstone_type="ScheduleWindow")
    return paginate(session, select(ScheduleWindow).where(ScheduleWindow.channel_id == channel.id), page, listed,
                    lambda rows: [serialize_window(w) for w in rows], schemas.ScheduleWindows)


def _add_tag(session: Session, channel: Channel, start_ms: int, blackout_id: str | None, title: str,
             source: str) -> ProgramTag:
    tag = ProgramTag(id=new_id(), channel_id=channel.id, start_ms=start_ms, blackout_id=blackout_id,
                     title=title, source=source)
    session.add(tag)
    record(session, DomainEvent(
        "channel.program_changed", channel.owner,
        {"channel_id": channel.id, "channel_desc": channel.desc, "blackout_id": blackout_id, "source": source,
         "start": start_ms, "title": title, "program_id": tag.id}, failover_group_id=channel.failover_group_id))
    decisions_changed(session)
    session.commit()
    return tag


def start_program(session: Session, owner: str, channel_ref: str, data: ProgramStart) -> ProgramTag:
    channel = get_channel(session, owner, channel_ref)
    return _add_tag(session, channel, instant_ms(data.start, "start"), data.blackout_id, data.title, "api")


def _holds(match: CueMatch, decoded: Decoded) -> bool:
    def one(condition: dict[str, Any]) -> bool:
        return any((condition.get("type") is None or condition["type"] == kind)
                   and (condition.get("upid") is None or condition["upid"] == upid)
                   for kind, upid in decoded.descriptors)
    conditions = match.conditions or []
    return bool(conditions) and (all if match.match == "ALL" else any)(one(c) for c in conditions)


def matched_cue(session: Session, channel: Channel, decoded: Decoded, at: int) -> CueMatch | None:
    """The channel's SCTE 224 signal point this cue satisfies (eligible at `at`), if any: it decides first."""
    for match in session.scalars(select(CueMatch).where(CueMatch.channel_id == channel.id).order_by(CueMatch.id)):
        if (match.effective_ms is None or match.effective_ms <= at) and \
                (match.expires_ms is None or at < match.expires_ms) and _holds(match, decoded):
            return match
    return None


def apply_cue(session: Session, owner: str, channel_ref: str, data: Scte35Cue) -> ProgramTag:
    channel = get_channel(session, owner, channel_ref)
    at = instant_ms(data.time, "time")
    try:
        decoded = decode_cue(data.cue)
        match = matched_cue(session, channel, decoded, at)
        if match is not None:
            title = f"SCTE 224 {'apply' if match.applies else 'remove'} {match.blackout_id} ({decoded.command})"
            return _add_tag(session, channel, at, match.blackout_id if match.applies else None, title, "scte224")
        tag = read_cue(decoded)
    except CueError as exc:
        raise bad_request(f"Field 'cue' cannot be used: {exc}.") from None
    return _add_tag(session, channel, at, tag.blackout_id, f"{tag.segmentation_type} ({tag.command})", "scte35")


def program_at(session: Session, owner: str, channel_ref: str, at: int) -> ProgramTag | None:
    channel = get_channel(session, owner, channel_ref)
    return session.scalars(select(ProgramTag).where(ProgramTag.channel_id == channel.id, ProgramTag.start_ms <= at)
                           .order_by(ProgramTag.start_ms.desc(), ProgramTag.created.desc())).first()


def add_window(session: Session, owner: str, channel_ref: str, data: WindowCreate) -> ScheduleWindow:
    # The channel's row lock serializes window additions: two overlapping windows cannot both pass.
    channel = get_channel(session, owner, channel_ref, for_update=True)
    start, end = instant_ms(data.start, "start"), instant_ms(data.end, "end")
    if end <= start:
        raise bad_request("Field 'end' must be after 'start'.")
    overlap = session.scalars(select(ScheduleWindow).where(
        ScheduleWindow.channel_id == channel.id, and_(ScheduleWindow.start_ms < end, ScheduleWindow.end_ms > start)
    )).first()
    if overlap is not None:
        raise conflict(f"Fields 'start'/'end': the window overlaps schedule window '{overlap.id}' "
                       f"({iso_ms(ms_to_datetime(overlap.start_ms))} to {iso_ms(ms_to_datetime(overlap.end_ms))}).")
    window = ScheduleWindow(id=new_id(), channel_id=channel.id, blackout_id=data.blackout_id, start_ms=start,
                            end_ms=end)
    session.add(window)
    decisions_changed(session)
    session.commit()
    return window


def delete_window(session: Session, owner: str, channel_ref: str, window_id: str) -> tuple[str, str]:
    channel = get_channel(session, owner, channel_ref)
    window = session.scalars(select(ScheduleWindow).where(ScheduleWindow.channel_id == channel.id,
                                                          ScheduleWindow.id == window_id)).first()
    if window is None:
        raise not_found("Schedule window", window_id)
    session.delete(window)
    add_tombstone(session, "schedule_window", owner, window_id, scope=channel.id)
    decisions_changed(session)
    session.commit()
    return channel.id, window_id
