"""GET /channels/{id}/playback: the per-viewer decision, from compiled in-memory state only."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from feedgate.audiences.schemas import COUNTRIES, DMA_RE, ZIP_RE
from feedgate.auth.dependencies import ViewerOwner
from feedgate.geo.service import valid_ip
from feedgate.kit.deps import PlainRoute
from feedgate.kit.errors import bad_request, not_found
from feedgate.kit.time import instant_ms, now_ms
from feedgate.playback.matcher import Viewer
from feedgate.playback.state import DecisionState, decide

router = APIRouter(tags=["playback"], route_class=PlainRoute)
Param = Annotated[str | None, Query(max_length=200)]


def _viewer(state: DecisionState, zip_dma: dict[str, str], ip: str | None, cc: str | None, zip_code: str | None,
            dma: str | None, device: str | None) -> Viewer:
    location = state.geo.locate(ip) if ip else None
    country = cc.upper() if cc else (location.country if location else None)
    zip_value = zip_code or (location.zip if location else None)
    dma_value = dma or (location.dma if location else None) or (zip_dma.get(zip_value) if zip_value else None)
    return Viewer(ip=ip, country=country, zip=zip_value, dma=dma_value, device=device or None)


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
    state: DecisionState = request.app.state.decisions
    snapshot = state.snapshot()
    plan = snapshot.channels.get(channel_id)
    if plan is None or plan.owner != owner:
        raise not_found("Channel", channel_id)
    raw_ip = cbip or ip or (request.client.host if request.client else None)
    viewer_ip = valid_ip(raw_ip) if raw_ip else None
    if raw_ip and viewer_ip is None:
        raise bad_request(f"Query parameter '{'repl.cbip' if cbip else 'ip'}' is invalid: '{raw_ip}' is not "
                          "an IP address.")
    if cbcc and cbcc.upper() not in COUNTRIES:
        raise bad_request(f"Query parameter 'repl.cbcc' is invalid: '{cbcc}' is not an ISO 3166-1 alpha-2 code.")
    if cbzip and not ZIP_RE.match(cbzip):
        raise bad_request(f"Query parameter 'repl.cbzip' is invalid: '{cbzip}' is not a 5-digit zip code.")
    if cbdma and not DMA_RE.match(cbdma):
        raise bad_request(f"Query parameter 'repl.cbdma' is invalid: '{cbdma}' is not a numeric DMA code.")
    when = now_ms() if at is None else instant_ms(at, "at")
    viewer = _viewer(state, snapshot.zip_dma, viewer_ip, cbcc, cbzip, cbdma, cbdevice)
    decision = decide(plan, viewer, viewer.located, when, state.allow_unlocated)
    rule = decision.rule
    if rule is None:
        content = {"type": "channel", "id": channel_id, "loop": False}
    else:
        content = {"type": rule.content_type, "id": rule.content_id, "loop": rule.loop}
    state.count("blacked_out" if rule else ("allowed" if viewer.located or decision.blackout_id is None
                                            else "unlocated"))
    return {
        "channel": channel_id, "blackout_id": decision.blackout_id, "blacked_out": rule is not None,
        "content": content, "source": plan.source,
        "viewer": {"ip": viewer.ip, "country": viewer.country, "zip": viewer.zip, "dma": viewer.dma,
                   "device": viewer.device, "located": viewer.located},
        "rule": rule.id if rule else None, "audience": rule.audience_id if rule else None,
    }
