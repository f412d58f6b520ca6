"""Blackout configurations over HTTP, under their channel."""

from fastapi import APIRouter, Request

from feedgate.auth.dependencies import Owner
from feedgate.blackouts import schemas, service
from feedgate.blackouts.schemas import BlackoutCreate, BlackoutUpdate
from feedgate.channels.service import get_channel
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, deleted
from feedgate.kit.schemas import Deleted

router = APIRouter(prefix="/channels/{channel_id}/blackouts", tags=["blackouts"], route_class=PlainRoute)


@router.post("", status_code=201, summary="Add a blackout configuration to a live channel")
def create_blackout(channel_id: str, data: BlackoutCreate, owner: Owner, session: SessionDep) -> schemas.Blackout:
    return service.serialize_blackout(session, service.create_blackout(session, owner, channel_id, data))


@router.get("", summary="Get multiple blackouts")
def list_blackouts(channel_id: str, owner: Owner, session: SessionDep, page: PageDep) -> schemas.Blackouts:
    return service.list_blackouts(session, owner, channel_id, page)


# The seed's sample scripts build "/blackouts" + ID with no slash; the hidden twins keep them working.
@router.get("/{blackout_id}", summary="Get a blackout")
@router.get("{blackout_id}", include_in_schema=False)
def get_blackout(channel_id: str, blackout_id: str, owner: Owner, session: SessionDep) -> schemas.BlackoutWithRules:
    channel = get_channel(session, owner, channel_id)
    return service.with_rules(session, service.get_blackout(session, owner, channel, blackout_id))


@router.patch("/{blackout_id}", summary="Update a blackout")
@router.patch("{blackout_id}", include_in_schema=False)
def update_blackout(channel_id: str, blackout_id: str, data: BlackoutUpdate, owner: Owner,
                    session: SessionDep) -> schemas.Blackout:
    return service.serialize_blackout(session, service.update_blackout(session, owner, channel_id, blackout_id,
                                                                       data))


@router.delete("/{blackout_id}", summary="Delete a blackout")
@router.delete("{blackout_id}", include_in_schema=False)
def delete_blackout(channel_id: str, blackout_id: str, owner: Owner, session: SessionDep,
                    request: Request) -> Deleted:
    service.delete_blackout(session, owner, channel_id, blackout_id)
    return deleted(request, "Blackout")
