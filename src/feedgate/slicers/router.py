from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy import select

from feedgate.auth.dependencies import Owner
from feedgate.kit.deps import PageDep, SessionDep
from feedgate.kit.pagination import paginate
from feedgate.slicers import service
from feedgate.slicers.models import Slicer
from feedgate.slicers.schemas import SLICER_ID_PATTERN, Heartbeat

router = APIRouter(prefix="/slicers", tags=["slicers"])
SlicerId = Annotated[str, Path(pattern=SLICER_ID_PATTERN, description="The slicer's slicerID setting.")]


@router.put("/{slicer_id}/status", summary="Slicer heartbeat: register, join a group, report health")
def heartbeat(slicer_id: SlicerId, data: Heartbeat, owner: Owner, session: SessionDep,
              request: Request) -> dict[str, Any]:
    answer, wake = service.heartbeat(session, owner, slicer_id, data)
    engine = getattr(request.app.state, "engine", None)
    if wake and engine is not None:
        engine.notify()
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
    engine = getattr(request.app.state, "engine", None)
    if engine is not None:
        engine.notify()
    return {"@id": f"{service.API}/{slicer_id}", "@type": "Slicer", "message": "Deleted"}
