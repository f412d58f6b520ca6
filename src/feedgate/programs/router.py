"""Program tags, SCTE-35 cues and schedule windows over HTTP, under their channel."""

from fastapi import APIRouter, Query, Request

from feedgate.auth.dependencies import Owner
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, deleted
from feedgate.kit.schemas import Deleted
from feedgate.kit.time import instant_ms
from feedgate.programs import schemas, service
from feedgate.programs.schemas import ProgramStart, Scte35Cue, WindowCreate

router = APIRouter(prefix="/channels/{channel_id}", tags=["programs"], route_class=PlainRoute)


@router.put("/program", summary="Start a program now or at `start`, tagged with a blackout ID or none")
def start_program(channel_id: str, data: ProgramStart, owner: Owner, session: SessionDep) -> schemas.Program:
    return service.serialize_tag(service.start_program(session, owner, channel_id, data))


@router.get("/program", summary="The program tag in force now or `at` an instant")
def get_program(channel_id: str, owner: Owner, session: SessionDep,
                at: str | None = Query(None, max_length=64)) -> schemas.Program:
    tag = service.program_at(session, owner, channel_id, instant_ms(at, "at"))
    return service.no_program(channel_id) if tag is None else service.serialize_tag(tag)


@router.post("/scte35", status_code=201, summary="Tag programming from a SCTE-35 cue (base64 or hex)")
def apply_cue(channel_id: str, data: Scte35Cue, owner: Owner, session: SessionDep) -> schemas.Program:
    return service.serialize_tag(service.apply_cue(session, owner, channel_id, data))


@router.post("/schedule", status_code=201, summary="Add a blackout schedule window")
def add_window(channel_id: str, data: WindowCreate, owner: Owner, session: SessionDep) -> schemas.ScheduleWindow:
    return service.serialize_window(service.add_window(session, owner, channel_id, data))


@router.get("/schedule", summary="List schedule windows")
def list_windows(channel_id: str, owner: Owner, session: SessionDep, page: PageDep) -> schemas.ScheduleWindows:
    return service.list_windows(session, owner, channel_id, page)


@router.delete("/schedule/{window_id}", summary="Remove a schedule window")
def delete_window(channel_id: str, window_id: str, owner: Owner, session: SessionDep, request: Request) -> Deleted:
    service.delete_window(session, owner, channel_id, window_id)
    return deleted(request, "ScheduleWindow")
