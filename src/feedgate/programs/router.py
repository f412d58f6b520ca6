from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from feedgate.auth.dependencies import Owner
from feedgate.channels.service import get_channel
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, deleted
from feedgate.kit.pagination import paginate
from feedgate.kit.time import instant_ms
from feedgate.programs import service
from feedgate.programs.models import ScheduleWindow
from feedgate.programs.schemas import ProgramStart, Scte35Cue, WindowCreate

router = APIRouter(prefix="/channels/{channel_id}", tags=["programs"], route_class=PlainRoute)


@router.put("/program", summary="Start a program now or at `start`, tagged with a blackout ID or none")
def start_program(channel_id: str, data: ProgramStart, owner: Owner, session: SessionDep) -> dict[str, Any]:
    tag = service.start_program(session, owner, channel_id, data)
    return service.serialize_tag(tag)


@router.get("/program", summary="The program tag in force now or `at` an instant")
def get_program(channel_id: str, owner: Owner, session: SessionDep,
                at: str | None = Query(None, max_length=64)) -> dict[str, Any]:
    tag = service.program_at(session, owner, channel_id, instant_ms(at, "at"))
    if tag is None:
        return {"@type": "Program", "channel": channel_id, "blackout_id": None, "title": "", "start": None,
                "source": None}
    return service.serialize_tag(tag)


@router.post("/scte35", status_code=201, summary="Tag programming from a SCTE-35 cue (base64 or hex)")
def apply_cue(channel_id: str, data: Scte35Cue, owner: Owner, session: SessionDep) -> dict[str, Any]:
    tag = service.apply_cue(session, owner, channel_id, data)
    return service.serialize_tag(tag)


@router.post("/schedule", status_code=201, summary="Add a blackout schedule window")
def add_window(channel_id: str, data: WindowCreate, owner: Owner, session: SessionDep) -> dict[str, Any]:
    window = service.add_window(session, owner, channel_id, data)
    return service.serialize_window(window)


@router.get("/schedule", summary="List schedule windows")
def list_windows(channel_id: str, owner: Owner, session: SessionDep, page: PageDep) -> dict[str, Any]:
    channel = get_channel(session, owner, channel_id)
    return paginate(session, select(ScheduleWindow).where(ScheduleWindow.channel_id == channel.id), query=page,
                    path=f"/api/v4/channels/{channel.id}/schedule", serialize=service.serialize_window,
                    order_fields={"start": ScheduleWindow.start_ms, "created": ScheduleWindow.created},
                    updated_column=ScheduleWindow.updated, tombstone=("schedule_window", owner, channel.id),
                    tombstone_type="ScheduleWindow")


@router.delete("/schedule/{window_id}", summary="Remove a schedule window")
def delete_window(channel_id: str, window_id: str, owner: Owner, session: SessionDep,
                  request: Request) -> dict[str, Any]:
    service.delete_window(session, owner, channel_id, window_id)
    return deleted(request, "ScheduleWindow")
