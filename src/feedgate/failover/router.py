from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from feedgate.auth.dependencies import Owner
from feedgate.failover import service
from feedgate.failover.models import FailoverEvent, FailoverGroup
from feedgate.failover.schemas import (
    ActivateSlicer,
    ChannelsChange,
    GroupCreate,
    GroupUpdate,
    NoSlicer,
    OwnersChange,
    SlicersChange,
)
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, deleted
from feedgate.kit.pagination import paginate

router = APIRouter(prefix="/failover-groups", tags=["failover groups"], route_class=PlainRoute)
NO_CONTENT = Response(status_code=204)



@router.get("", summary="Get all failover groups")
def list_groups(owner: Owner, session: SessionDep, page: PageDep) -> dict[str, Any]:
    return paginate(session, service.visible_groups(owner), query=page, path=service.API,
                    serialize=lambda g: service.serialize_group(session, g),
                    order_fields={"created": FailoverGroup.created, "name": FailoverGroup.name},
                    updated_column=FailoverGroup.updated, tombstone=("failover_group", owner, ""),
                    tombstone_type="FailoverGroup")


@router.post("", status_code=201, summary="Create a failover group")
def create_group(data: GroupCreate, owner: Owner, session: SessionDep) -> dict[str, Any]:
    group = service.create_group(session, owner, data)
    return service.serialize_group(session, group)


@router.get("/{group_id}", summary="Get a failover group")
def get_group(group_id: str, owner: Owner, session: SessionDep) -> dict[str, Any]:
    return service.serialize_group(session, service.get_group(session, owner, group_id))


@router.patch("/{group_id}", status_code=204, summary="Update failover group configuration")
def update_group(group_id: str, data: GroupUpdate, owner: Owner, session: SessionDep) -> Response:
    service.update_group(session, owner, group_id, data)
    return NO_CONTENT


@router.delete("/{group_id}", summary="Delete a failover group")
def delete_group(group_id: str, owner: Owner, session: SessionDep, request: Request) -> dict[str, Any]:
    service.delete_group(session, owner, group_id)
    return deleted(request, "FailoverGroup")


@router.put("/{group_id}/activate_slicer", status_code=204, summary="Set the active Live Slicer")
def activate_slicer(group_id: str, data: ActivateSlicer, owner: Owner, session: SessionDep) -> Response:
    service.activate_slicer(session, owner, group_id, data)
    return NO_CONTENT


@router.put("/{group_id}/channels", status_code=204, summary="Add and remove live channels")
def change_channels(group_id: str, data: ChannelsChange, owner: Owner, session: SessionDep) -> Response:
    service.change_channels(session, owner, group_id, data)
    return NO_CONTENT


@router.get("/{group_id}/allowed-owners", summary="Get the users allowed to use a failover group")
def list_allowed_owners(group_id: str, owner: Owner, session: SessionDep) -> dict[str, Any]:
    rows = service.list_allowed_owners(session, owner, group_id)
    return {"@id": f"{service.API}/{group_id}/allowed-owners", "@type": "Collection",
            "items": [{"id": r.id, "owner": r.owner, "failover_group_id": r.failover_group_id} for r in rows],
            "total_items": len(rows)}


@router.put("/{group_id}/allowed-owners", status_code=204, summary="Grant or deny authorization")
def change_allowed_owners(group_id: str, data: OwnersChange, owner: Owner, session: SessionDep) -> Response:
    service.change_allowed_owners(session, owner, group_id, data)
    return NO_CONTENT


@router.put("/{group_id}/set_no_slicer", status_code=204, summary="Toggle between a Live Slicer and slate")
def set_no_slicer(group_id: str, data: NoSlicer, owner: Owner, session: SessionDep) -> Response:
    service.set_no_slicer(session, owner, group_id, data.no_slicer)
    return NO_CONTENT


@router.put("/{group_id}/slicers", status_code=204, summary="Update Live Slicer failover eligibility")
def change_slicers(group_id: str, data: SlicersChange, owner: Owner, session: SessionDep) -> Response:
    service.change_slicers(session, owner, group_id, data)
    return NO_CONTENT


@router.delete("/{group_id}/slicers/{slicer_id}", status_code=204, summary="Remove a slicer from the group")
def remove_member(group_id: str, slicer_id: str, owner: Owner, session: SessionDep) -> Response:
    service.remove_member(session, owner, group_id, slicer_id)
    return NO_CONTENT


@router.get("/{group_id}/events", summary="Failover events, newest first")
def list_events(group_id: str, owner: Owner, session: SessionDep, page: PageDep) -> dict[str, Any]:
    group = service.get_group(session, owner, group_id)
    stmt = select(FailoverEvent).where(FailoverEvent.failover_group_id == group.id)
    result = paginate(session, stmt, query=page, path=f"{service.API}/{group_id}/events",
                      serialize=service.serialize_event, order_fields={"time": FailoverEvent.time},
                      updated_column=None, default_order="-time")
    return result

