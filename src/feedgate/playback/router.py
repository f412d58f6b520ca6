"""GET /channels/{id}/playback: the per-viewer decision, from compiled in-memory state only."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from feedgate.auth.dependencies import VERIFIED_OWNER, SignatureCheck, ViewerOwner, token_owner
from feedgate.auth.tokens import is_token
from feedgate.kit.deps import PlainRoute
from feedgate.kit.hotpath import HotRequest, HotRoute, Pass
from feedgate.playback.schemas import PlaybackDecision
from feedgate.playback.service import PARAMS, ViewerQuery, playback_decision
from feedgate.playback.state import DecisionState

router = APIRouter(tags=["playback"], route_class=PlainRoute)
PLAYBACK_PATH = "/api/v4/channels/{channel_id}/playback"


def _param(name: str) -> object:
    return Query(alias=name, max_length=PARAMS[name][1])


async def decisions_of(request: Request) -> DecisionState:
    return request.app.state.runtime.decisions


Decisions = Annotated[DecisionState, Depends(decisions_of)]


@router.get("/channels/{channel_id}/playback", summary="What this viewer may watch on this channel now")
async def playback(
    channel_id: str, owner: ViewerOwner, request: Request, decisions: Decisions,
    ip: Annotated[str | None, _param("ip")] = None,
    at: Annotated[str | None, _param("at")] = None,
    cbip: Annotated[str | None, _param("repl.cbip")] = None,
    cbcc: Annotated[str | None, _param("repl.cbcc")] = None,
    cbzip: Annotated[str | None, _param("repl.cbzip")] = None,
    cbdma: Annotated[str | None, _param("repl.cbdma")] = None,
    cbdevice: Annotated[str | None, _param("repl.cbdevice")] = None,
) -> PlaybackDecision:
    query = ViewerQuery(ip=ip, at=at, cbip=cbip, cbcc=cbcc, cbzip=cbzip, cbdma=cbdma, cbdevice=cbdevice)
    await decisions.fresh(channel_id)
    return playback_decision(decisions, channel_id, owner, query, request.client.host if request.client else None)


def hot_playback(decisions: DecisionState, signatures: SignatureCheck) -> HotRoute:
    """The signed decision (msg/sig or a playback token) without FastAPI's machinery; anything unusual goes
    to `playback` above."""

    async def handle(request: HotRequest) -> PlaybackDecision | None:
        raw = request.scope.get("query_string", b"")
        channel_id = request.path_params["channel_id"]
        owner = None
        if b"msg=" not in raw and is_token(raw):
            owner, query = await token_owner(signatures, raw, channel_id)  # its parameters, read once
            listed = len(query) + 1  # and its sig
        else:
            query = request.query
            if "msg" not in query:
                raise Pass
            listed = len(query)
        if raw.count(b"&") + 1 != listed:
            raise Pass  # a repeated or blank parameter: the FastAPI route reads those its own way
        fields: dict[str, str] = {}
        for name, value in query.items():
            if name in PARAMS:
                field, longest = PARAMS[name]
                if not value or len(value) > longest:
                    raise Pass  # the FastAPI route words the error
                fields[field] = value
        if owner is None:
            owner = await signatures.owner(query.get("msg"), query.get("sig"), "GET", request.scope["path"],
                                           request.read_body)
        request.scope[VERIFIED_OWNER] = owner
        await decisions.fresh(channel_id)
        return playback_decision(decisions, channel_id, owner, ViewerQuery(**fields), request.client_host)

    return HotRoute("GET", PLAYBACK_PATH, handle)
