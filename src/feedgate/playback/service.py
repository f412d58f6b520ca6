"""The per-viewer decision as the API answers it: validate the viewer, locate, decide, count.

Shared by the FastAPI route and the hot route, so both answer alike; reads compiled state only.
"""

from dataclasses import dataclass

from feedgate.geo.validators import is_country, is_dma, is_zip, parse_ip
from feedgate.kit.errors import bad_request, not_found
from feedgate.kit.time import instant_ms, now_ms
from feedgate.playback.matcher import Address, Viewer
from feedgate.playback.schemas import Content, PlaybackDecision, ViewerShown
from feedgate.playback.state import ChannelPlan, DecisionState, Snapshot, decide


@dataclass(frozen=True)
class ViewerQuery:
    ip: str | None = None
    at: str | None = None
    cbip: str | None = None
    cbcc: str | None = None
    cbzip: str | None = None
    cbdma: str | None = None
    cbdevice: str | None = None


# Query parameter -> (ViewerQuery field, longest accepted value): the one home of these limits, read by the
# route's declaration, the hot route and the playback token.
PARAMS = {"ip": ("ip", 200), "at": ("at", 200), "repl.cbip": ("cbip", 64), "repl.cbcc": ("cbcc", 8),
          "repl.cbzip": ("cbzip", 16), "repl.cbdma": ("cbdma", 16), "repl.cbdevice": ("cbdevice", 100)}


def token_viewer(params: dict[str, str]) -> ViewerQuery:
    """The viewer a playback token describes: its `repl.cb*` fields, as the query parameters would be."""
    return ViewerQuery(**{field: params[name] for name, (field, _) in PARAMS.items()
                          if name.startswith("repl.") and params.get(name)})


def _viewer(state: DecisionState, zip_dma: dict[str, str], address: Address | None, cc: str | None,
            zip_code: str | None, dma: str | None, device: str | None) -> Viewer:
    ip = str(address) if address is not None else None
    location = state.geo.locate(ip) if ip else None
    country = cc.upper() if cc else (location.country if location else None)
    zip_value = zip_code or (location.zip if location else None)
    dma_value = dma or (location.dma if location else None) or (zip_dma.get(zip_value) if zip_value else None)
    return Viewer(ip=ip, country=country, zip=zip_value, dma=dma_value, device=device or None, address=address)


def viewer_for(state: DecisionState, channel_id: str, owner: str, q: ViewerQuery,
               client_host: str | None) -> tuple[Snapshot, ChannelPlan, Viewer]:
    """The channel's compiled plan and the viewer located; 404 for another owner's channel, 400 naming
    the parameter at fault. Shared by the decision and the viewer's stream."""
    snapshot = state.snapshot()
    plan = snapshot.channels.get(channel_id)
    if plan is None or plan.owner != owner:
        raise not_found("Channel", channel_id)
    raw_ip = q.cbip or q.ip or client_host
    address = parse_ip(raw_ip) if raw_ip else None  # parsed once: the matcher reads it too
    if raw_ip and address is None:
        raise bad_request(f"Query parameter '{'repl.cbip' if q.cbip else 'ip'}' is invalid: '{raw_ip}' is not "
                          "an IP address.")
    if q.cbcc and not is_country(q.cbcc):
        raise bad_request(f"Query parameter 'repl.cbcc' is invalid: '{q.cbcc}' is not an ISO 3166-1 alpha-2 code.")
    if q.cbzip and not is_zip(q.cbzip):
        raise bad_request(f"Query parameter 'repl.cbzip' is invalid: '{q.cbzip}' is not a 5-digit zip code.")
    if q.cbdma and not is_dma(q.cbdma):
        raise bad_request(f"Query parameter 'repl.cbdma' is invalid: '{q.cbdma}' is not a numeric DMA code.")
    return snapshot, plan, _viewer(state, snapshot.zip_dma, address, q.cbcc, q.cbzip, q.cbdma, q.cbdevice)


def playback_decision(state: DecisionState, channel_id: str, owner: str, q: ViewerQuery,
                      client_host: str | None) -> PlaybackDecision:
    _, plan, viewer = viewer_for(state, channel_id, owner, q, client_host)
    when = now_ms() if q.at is None else instant_ms(q.at, "at")
    decision = decide(plan, viewer, viewer.located, when, state.allow_unlocated)
    rule = decision.rule
    if rule is None:
        content = Content(type="channel", id=channel_id, loop=False)
    else:
        content = Content(type=rule.content_type, id=rule.content_id, loop=rule.loop)
    state.count("blacked_out" if rule else ("allowed" if viewer.located or decision.blackout_id is None
                                            else "unlocated"))
    return PlaybackDecision(
        channel=channel_id, blackout_id=decision.blackout_id, blacked_out=rule is not None, content=content,
        source=plan.source, viewer=ViewerShown(ip=viewer.ip, country=viewer.country, zip=viewer.zip, dma=viewer.dma,
                                               device=viewer.device, located=viewer.located),
        rule=rule.id if rule else None, audience=rule.audience_id if rule else None)
