"""GET /channels/{id}/playback: the per-viewer decision, from compiled in-memory state only."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from feedgate.auth.dependencies import VERIFIED_OWNER, SignatureCheck, ViewerOwner
from feedgate.kit.deps import PlainRoute
from feedgate.kit.hotpath import HotRequest, HotRoute, Pass
from feedgate.playback.service import PARAMS, ViewerQuery, playback_decision

router = APIRouter(tags=["playback"], route_class=PlainRoute)
Param = Annotated[str | None, Query(max_length=200)]


@router.get("/channels/{channel_id}/playback", summary="What this viewer may watch on this channel now")
async def playback(
    channel_id: str, owner: ViewerOwner, request: Request,
    ip: Param = None, at: Param = None,
    cbip: Annotated[str | None, Query(alias="repl.cbip", max_length=64)] = None,
    cbcc: Annotated[str | None, Query(alias="repl.cbcc", max_length=8)] = None,
    cbzip: Annotated[str | None, Query(alias="repl.cbzip", max_length=16)] = None,
    cbdma: Annotated[str | None, Query(alias="repl.cbdma", max_length=16)] = None,
    cbdevice: Annotated[str | None, Query(alias="repl.cbdevice", max_length=100)] = None,
) -> dict[str, Any]:
    query = ViewerQuery(ip=ip, at=at, cbip=cbip, cbcc=cbcc, cbzip=cbzip, cbdma=cbdma, cbdevice=cbdevice)
    return playback_decision(request.app.state.decisions, channel_id, owner, query,
                             request.client.host if request.client else None)


def hot_playback(state: Any) -> HotRoute:
    """The signed decision without FastAPI's machinery; tokens and anything unusual go to `playback` above."""
    signatures: SignatureCheck = state.signatures

    async def handle(request: HotRequest) -> dict[str, Any] | None:
        raw = request.scope.get("query_string", b"")
        query = request.query
        if "msg" not in query or raw.count(b"&") + 1 != len(query):  # a token, or a repeated parameter
            raise Pass
        fields: dict[str, str] = {}
        for name, value in query.items():
            if name in PARAMS:
                field, longest = PARAMS[name]
                if len(value) > longest:
                    raise Pass  # the FastAPI route words the error
                fields[field] = value
        owner = await signatures.owner(query.get("msg"), query.get("sig"), "GET", request.scope["path"],
                                       request.read_body)
        request.scope[VERIFIED_OWNER] = owner
        return playback_decision(state.decisions, request.path_params["channel_id"], owner, ViewerQuery(**fields),
                                 request.client_host)

    return HotRoute("GET", "/api/v4/channels/{channel_id}/playback", handle)
