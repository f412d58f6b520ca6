from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from feedgate.audiences import service
from feedgate.audiences.models import Audience
from feedgate.audiences.schemas import AudienceCreate, AudienceUpdate
from feedgate.auth.dependencies import Owner
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, deleted
from feedgate.kit.pagination import paginate

router = APIRouter(prefix="/audiences", tags=["audiences"], route_class=PlainRoute)


@router.post("", status_code=201, summary="Add an audience or superaudience")
def create_audience(data: AudienceCreate, owner: Owner, session: SessionDep) -> dict[str, Any]:
    audience = service.create_audience(session, owner, data)
    return service.serialize_audience(session, audience)


@router.get("", summary="Get multiple audiences")
def list_audiences(owner: Owner, session: SessionDep, page: PageDep) -> dict[str, Any]:
    return paginate(session, select(Audience).where(Audience.owner == owner), query=page, path=service.API,
                    serialize=lambda a: service.serialize_audience(session, a),
                    order_fields={"created": Audience.created, "desc": Audience.desc,
                                  "external_id": Audience.external_id},
                    updated_column=Audience.updated, tombstone=("audience", owner, ""), tombstone_type="Audience")


@router.get("/{audience_id}", summary="Get an audience")
def get_audience(audience_id: str, owner: Owner, session: SessionDep) -> dict[str, Any]:
    return service.serialize_audience(session, service.get_audience(session, owner, audience_id))


@router.patch("/{audience_id}", summary="Update an audience")
def update_audience(audience_id: str, data: AudienceUpdate, owner: Owner, session: SessionDep) -> dict[str, Any]:
    audience = service.update_audience(session, owner, audience_id, data)
    return service.serialize_audience(session, audience)


@router.delete("/{audience_id}", summary="Delete an audience")
def delete_audience(audience_id: str, owner: Owner, session: SessionDep, request: Request) -> dict[str, Any]:
    service.delete_audience(session, owner, audience_id)
    return deleted(request, "Audience")
