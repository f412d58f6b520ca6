"""Live Slicers over HTTP: the heartbeat (a hot route for the steady case), and reading and deleting slicers."""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from feedgate.auth.dependencies import VERIFIED_OWNER, Owner, SignatureCheck
from feedgate.failover.registry import GroupConfig
from feedgate.kit.db import Database
from feedgate.kit.deps import DatabaseDep, PageDep, PlainRoute, SessionDep, deleted, write_turn
from feedgate.kit.hotpath import RECEIVED, HotRequest, HotRoute, Pass, is_json
from feedgate.kit.schemas import Deleted
from feedgate.slicers import schemas, service
from feedgate.slicers.ingest import Ingest
from feedgate.slicers.schemas import SLICER_ID_PATTERN, Heartbeat, HeartbeatAnswer

router = APIRouter(prefix="/slicers", tags=["slicers"], route_class=PlainRoute)
SlicerId = Annotated[str, Path(pattern=SLICER_ID_PATTERN, description="The slicer's slicerID setting.")]
HEARTBEAT_PATH = "/api/v4/slicers/{slicer_id}/status"


async def ingest_of(request: Request) -> Ingest:
    return request.app.state.runtime.ingest


IngestDep = Annotated[Ingest, Depends(ingest_of)]


def _checked_heartbeat(db: Database, owner: str, slicer_id: str,
                       data: Heartbeat) -> tuple[HeartbeatAnswer, str, GroupConfig | None]:
    with db.sessions() as session:
        return service.heartbeat(session, owner, slicer_id, data)


async def beat(ingest: Ingest, db: Database, owner: str, slicer_id: str, data: Heartbeat,
               received_ms: int | None) -> HeartbeatAnswer:
    """One heartbeat, whichever route took it: from memory whenever the registry can answer (registrations
    and joins too, written by the next batch), else the checked, transactional path."""
    signals = data.signals.model_dump(exclude_none=True)
    fast = ingest.beat(owner, slicer_id, data.hostname, data.thumb_url, signals, data.failover_group_id,
                       data.hls_url, received_ms)
    if fast is not None:
        return fast
    async with write_turn(db):
        answer, key, group = await run_in_threadpool(_checked_heartbeat, db, owner, slicer_id, data)
    ingest.recorded(key, group, data.hostname, data.thumb_url, signals)
    return answer


@router.put("/{slicer_id}/status", summary="Slicer heartbeat: register, join a group, report health")
async def heartbeat(slicer_id: SlicerId, data: Heartbeat, owner: Owner, ingest: IngestDep,
                    db: DatabaseDep, request: Request) -> HeartbeatAnswer:
    return await beat(ingest, db, owner, slicer_id, data, request.scope.get(RECEIVED))


@router.get("", summary="Get your slicers")
def list_slicers(owner: Owner, session: SessionDep, page: PageDep) -> schemas.Slicers:
    return service.list_slicers(session, owner, page)


@router.get("/{slicer_id}", summary="Get a slicer")
def get_slicer(slicer_id: SlicerId, owner: Owner, session: SessionDep) -> schemas.Slicer:
    return service.serialize_slicer(service.get_slicer(session, owner, slicer_id))


@router.delete("/{slicer_id}", summary="Delete a slicer (it leaves its group)")
def delete_slicer(slicer_id: SlicerId, owner: Owner, session: SessionDep, request: Request) -> Deleted:
    service.delete_slicer(session, owner, slicer_id)
    return deleted(request, "Slicer")


def hot_heartbeat(ingest: Ingest, signatures: SignatureCheck, db: Database) -> HotRoute:
    """The heartbeat without FastAPI's machinery (the same `beat`); a body that does not validate goes to
    `heartbeat` above, which words the error."""
    slicer_id_re = re.compile(SLICER_ID_PATTERN)

    async def handle(request: HotRequest) -> HeartbeatAnswer | None:
        slicer_id = request.path_params["slicer_id"]
        if not slicer_id_re.match(slicer_id) or not is_json(request.scope):
            raise Pass
        owner = await signatures.owner(request.query.get("msg"), request.query.get("sig"), "PUT",
                                       request.scope["path"], request.read_body)
        request.scope[VERIFIED_OWNER] = owner  # if this passes, the FastAPI route must not claim the nonce again
        try:
            data = Heartbeat.model_validate_json(request.body)
        except ValidationError:
            raise Pass from None  # the FastAPI route words the error
        return await beat(ingest, db, owner, slicer_id, data, request.scope.get(RECEIVED))

    return HotRoute("PUT", HEARTBEAT_PATH, handle)
