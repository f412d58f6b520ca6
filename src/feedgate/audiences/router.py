"""Audiences over HTTP."""

from fastapi import APIRouter, Request

from feedgate.audiences import schemas, service
from feedgate.audiences.schemas import AudienceCreate, AudienceUpdate
from feedgate.auth.dependencies import Owner
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, deleted
from feedgate.kit.schemas import Deleted

router = APIRouter(prefix="/audiences", tags=["audiences"], route_class=PlainRoute)


@router.post("", status_code=201, summary="Add an audience or superaudience")
def create_audience(data: AudienceCreate, owner: Owner, session: SessionDep) -> schemas.Audience:
    return service.serialize_audience(session, service.create_audience(session, owner, data))


@router.get("", summary="Get multiple audiences")
def list_audiences(owner: Owner, session: SessionDep, page: PageDep) -> schemas.Audiences:
    return service.list_audiences(session, owner, page)


@router.get("/{audience_id}", summary="Get an audience")
def get_audience(audience_id: str, owner: Owner, session: SessionDep) -> schemas.Audience:
    return service.serialize_audience(session, service.get_audience(session, owner, audience_id))


@router.patch("/{audience_id}", summary="Update an audience")
def update_audience(audience_id: str, data: AudienceUpdate, owner: Owner, session: SessionDep) -> schemas.Audience:
    return service.serialize_audience(session, service.update_audience(session, owner, audience_id, data))


@router.delete("/{audience_id}", summary="Delete an audience")
def delete_audience(audience_id: str, owner: Owner, session: SessionDep, request: Request) -> Deleted:
    service.delete_audience(session, owner, audience_id)
    return deleted(request, "Audience")
