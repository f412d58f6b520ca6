"""Failover groups over HTTP: thin routes over `service`, each declaring the shape it answers."""

from fastapi import APIRouter, Request, Response

from feedgate.auth.dependencies import Owner
from feedgate.failover import schemas, service
from feedgate.failover.schemas import (
    ActivateSlicer,
    ChannelsChange,
    GroupCreate,
    GroupUpdate,
    NoSlicer,
    OwnersChange,
    SlicersChange,
)
from feedgate.kit.deps import FORBIDDEN, PageDep, PageOrAllDep, PlainRoute, SessionDep, deleted
from feedgate.kit.schemas import Deleted

router = APIRouter(prefix="/failover-groups", tags=["failover groups"], route_class=PlainRoute)
NO_CONTENT = Response(status_code=204)


@router.get("", summary="Get all failover groups", response_model=schemas.FailoverGroups,
            description="Every group you own or may use. Without `page` or `page_size` the whole collection "
                        "(the document gives no paging here); with either, one page as elsewhere.")
def list_groups(owner: Owner, session: SessionDep, page: PageOrAllDep) -> schemas.FailoverGroups | bytes:
    return service.list_groups(session, owner, page)


@router.post("", status_code=201, summary="Create a failover group")
def create_group(data: GroupCreate, owner: Owner, session: SessionDep) -> schemas.FailoverGroup:
    return service.serialize_group(session, service.create_group(session, owner, data))


@router.get("/{group_id}", summary="Get a failover group")
def get_group(group_id: str, owner: Owner, session: SessionDep) -> schemas.FailoverGroup:
    return service.serialize_group(session, service.get_group(session, owner, group_id))


@router.patch("/{group_id}", status_code=204, summary="Update failover group configuration", responses=FORBIDDEN)
def update_group(group_id: str, data: GroupUpdate, owner: Owner, session: SessionDep) -> Response:
    service.update_group(session, owner, group_id, data)
    return NO_CONTENT


@router.delete("/{group_id}", summary="Delete a failover group", responses=FORBIDDEN)
def delete_group(group_id: str, owner: Owner, session: SessionDep, request: Request) -> Deleted:
    service.delete_group(session, owner, group_id)
    return deleted(request, "FailoverGroup")


@router.put("/{group_id}/activate_slicer", status_code=204, summary="Set the active Live Slicer",
            responses=FORBIDDEN)
def activate_slicer(group_id: str, data: ActivateSlicer, owner: Owner, session: SessionDep) -> Response:
    service.activate_slicer(session, owner, group_id, data)
    return NO_CONTENT


@router.put("/{group_id}/channels", status_code=204, summary="Add and remove live channels")
def change_channels(group_id: str, data: ChannelsChange, owner: Owner, session: SessionDep) -> Response:
    service.change_channels(session, owner, group_id, data)
    return NO_CONTENT


@router.get("/{group_id}/allowed-owners", summary="Get the users allowed to use a failover group")
def list_allowed_owners(group_id: str, owner: Owner, session: SessionDep) -> schemas.AllowedOwners:
    return service.list_allowed_owners(session, owner, group_id)


@router.put("/{group_id}/allowed-owners", status_code=204, summary="Grant or deny authorization",
            responses=FORBIDDEN)
def change_allowed_owners(group_id: str, data: OwnersChange, owner: Owner, session: SessionDep) -> Response:
    service.change_allowed_owners(session, owner, group_id, data)
    return NO_CONTENT


@router.put("/{group_id}/set_no_slicer", status_code=204, summary="Toggle between a Live Slicer and slate",
            responses=FORBIDDEN)
def set_no_slicer(group_id: str, data: NoSlicer, owner: Owner, session: SessionDep) -> Response:
    service.set_no_slicer(session, owner, group_id, data.no_slicer)
    return NO_CONTENT


@router.put("/{group_id}/slicers", status_code=204, summary="Update Live Slicer failover eligibility",
            responses=FORBIDDEN)
def change_slicers(group_id: str, data: SlicersChange, owner: Owner, session: SessionDep) -> Response:
    service.change_slicers(session, owner, group_id, data)
    return NO_CONTENT


@router.delete("/{group_id}/slicers/{slicer_id}", status_code=204, summary="Remove a slicer from the group",
               responses=FORBIDDEN)
def remove_member(group_id: str, slicer_id: str, owner: Owner, session: SessionDep) -> Response:
    service.remove_member(session, owner, group_id, slicer_id)
    return NO_CONTENT


@router.get("/{group_id}/events", summary="Failover events, newest first")
def list_events(group_id: str, owner: Owner, session: SessionDep, page: PageDep) -> schemas.FailoverEvents:
    return service.list_events(session, owner, group_id, page)
