from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from feedgate.auth.dependencies import Owner
from feedgate.channels import service
from feedgate.channels.models import Channel
from feedgate.channels.schemas import ChannelCreate, ChannelUpdate
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, deleted
from feedgate.kit.pagination import paginate

router = APIRouter(prefix="/channels", tags=["channels"], route_class=PlainRoute)


@router.post("", status_code=201, summary="Create a live channel")
def create_channel(data: ChannelCreate, owner: Owner, session: SessionDep) -> dict[str, Any]:
    channel = service.create_channel(session, owner, data)
    return service.serialize_channel(session, channel)


@router.get("", summary="Get live channels")
def list_channels(owner: Owner, session: SessionDep, page: PageDep) -> dict[str, Any]:
    return paginate(session, select(Channel).where(Channel.owner == owner), query=page, path=service.API,
                    serialize=lambda c: service.serialize_channel(session, c),
                    order_fields={"created": Channel.created, "desc": Channel.desc,
                                  "external_id": Channel.external_id},
                    updated_column=Channel.updated, tombstone=("channel", owner, ""), tombstone_type="Channel")


@router.get("/{channel_id}", summary="Get a live channel")
def get_channel(channel_id: str, owner: Owner, session: SessionDep) -> dict[str, Any]:
    return service.serialize_channel(session, service.get_channel(session, owner, channel_id))


@router.patch("/{channel_id}", summary="Update a live channel")
def update_channel(channel_id: str, data: ChannelUpdate, owner: Owner, session: SessionDep) -> dict[str, Any]:
    return service.serialize_channel(session, service.update_channel(session, owner, channel_id, data))


@router.delete("/{channel_id}", summary="Delete a live channel, its blackouts and program tags")
def delete_channel(channel_id: str, owner: Owner, session: SessionDep, request: Request) -> dict[str, Any]:
    service.delete_channel(session, owner, channel_id)
    return deleted(request, "Channel")
