"""Live channels over HTTP."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from feedgate.auth.dependencies import Owner
from feedgate.channels import schemas, service
from feedgate.channels.schemas import ChannelCreate, ChannelUpdate
from feedgate.channels.service import SourcesOf
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, deleted
from feedgate.kit.schemas import Deleted

router = APIRouter(prefix="/channels", tags=["channels"], route_class=PlainRoute)


async def sources_of(request: Request) -> SourcesOf:
    """How channels learn their source: handed in by the runtime (the failover domain's lookup)."""
    return request.app.state.runtime.channel_sources


Sources = Annotated[SourcesOf, Depends(sources_of)]


@router.post("", status_code=201, summary="Create a live channel")
def create_channel(data: ChannelCreate, owner: Owner, session: SessionDep, sources: Sources) -> schemas.Channel:
    return service.serialize_channel(session, service.create_channel(session, owner, data), sources)


@router.get("", summary="Get live channels")
def list_channels(owner: Owner, session: SessionDep, page: PageDep, sources: Sources) -> schemas.Channels:
    return service.list_channels(session, owner, page, sources)


@router.get("/{channel_id}", summary="Get a live channel")
def get_channel(channel_id: str, owner: Owner, session: SessionDep, sources: Sources) -> schemas.Channel:
    return service.serialize_channel(session, service.get_channel(session, owner, channel_id), sources)


@router.patch("/{channel_id}", summary="Update a live channel")
def update_channel(channel_id: str, data: ChannelUpdate, owner: Owner, session: SessionDep,
                   sources: Sources) -> schemas.Channel:
    return service.serialize_channel(session, service.update_channel(session, owner, channel_id, data), sources)


@router.delete("/{channel_id}", summary="Delete a live channel, its blackouts and program tags")
def delete_channel(channel_id: str, owner: Owner, session: SessionDep, request: Request) -> Deleted:
    service.delete_channel(session, owner, channel_id)
    return deleted(request, "Channel")
