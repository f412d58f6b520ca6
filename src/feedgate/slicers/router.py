import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from feedgate.auth.dependencies import VERIFIED_OWNER, Owner, SignatureCheck
from feedgate.failover.registry import GroupConfig
from feedgate.kit.db import Database
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, deleted, write_turn
from feedgate.kit.hotpath import HotRequest, HotRoute, Pass, is_json
from feedgate.kit.pagination import paginate
from feedgate.slicers import service
from feedgate.slicers.ingest import Ingest
from feedgate.slicers.models import Slicer
from feedgate.slicers.schemas import SLICER_ID_PATTERN, Heartbeat

router = APIRouter(prefix="/slicers", tags=["slicers"], route_class=PlainRoute)
SlicerId = Annotated[str, Path(pattern=SLICER_ID_PATTERN, description="The slicer's slicerID setting.")]


def _checked_heartbeat(db: Database, owner: str, slicer_id: str,
                       data: Heartbeat) -> tuple[dict[str, Any], str, GroupConfig | None]:
    with db.sessions() as session:
        return service.heartbeat(session, owner, slicer_id, data)


@router.put("/{slicer_id}/status", summary="Slicer heartbeat: register, join a group, report health")
async def heartbeat(slicer_id: SlicerId, data: Heartbeat, owner: Owner, request: Request) -> dict[str, Any]:
    ingest: Ingest = request.app.state.ingest
    signals = data.signals.model_dump(exclude_none=True)
    fast = ingest.beat(owner, slicer_id, data.hostname, data.thumb_url, signals, data.failover_group_id,
                       data.hls_url)
    if fast is not None:
        return fast
    db: Database = request.app.state.db
    async with write_turn(db):
        answer, key, group = await run_in_threadpool(_checked_heartbeat, db, owner, slicer_id, data)
    ingest.recorded(key, group, data.hostname, data.thumb_url, signals)
    return answer


@router.get("", summary="Get your slicers")
def list_slicers(owner: Owner, session: SessionDep, page: PageDep) -> dict[str, Any]:
    return paginate(session, select(Slicer).where(Slicer.owner == owner), query=page, path=service.API,
                    serialize=service.serialize_slicer,
                    order_fields={"created": Slicer.created, "id": Slicer.slicer_id, "hostname": Slicer.hostname},
                    updated_column=Slicer.updated, tombstone=("slicer", owner, ""), tombstone_type="Slicer")


@router.get("/{slicer_id}", summary="Get a slicer")
def get_slicer(slicer_id: SlicerId, owner: Owner, session: SessionDep) -> dict[str, Any]:
    return service.serialize_slicer(service.get_slicer(session, owner, slicer_id))


@router.delete("/{slicer_id}", summary="Delete a slicer (it leaves its group)")
def delete_slicer(slicer_id: SlicerId, owner: Owner, session: SessionDep, request: Request) -> dict[str, Any]:
    service.delete_slicer(session, owner, slicer_id)
    return deleted(request, "Slicer")


def hot_heartbeat(state: Any) -> HotRoute:
    """The steady-state heartbeat without FastAPI's machinery; anything else goes to `heartbeat` above."""
    ingest: Ingest = state.ingest
    signatures: SignatureCheck = state.signatures
    slicer_id_re = re.compile(SLICER_ID_PATTERN)

    async def handle(request: HotRequest) -> dict[str, Any] | None:
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
        signals = data.signals.model_dump(exclude_none=True)
        return ingest.beat(owner, slicer_id, data.hostname, data.thumb_url, signals, data.failover_group_id,
                           data.hls_url)

    return HotRoute("PUT", "/api/v4/slicers/{slicer_id}/status", handle)
