"""What the client returns: typed views of the v4 resources (unknown fields kept, so newer servers work)."""

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Resource(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    at_id: str | None = Field(None, alias="@id")
    at_type: str | None = Field(None, alias="@type")


class SlicerStatus(BaseModel):
    state: int
    thumb_url: str = ""


class GroupSlicer(BaseModel):
    id: str
    blacklist_until: int
    order: int
    status: SlicerStatus
    hostname: str
    enabled: bool


class GroupChannel(BaseModel):
    id: str
    desc: str


class FailoverGroup(Resource):
    id: str
    owner: str
    name: str
    hot_warm: int
    mode: str
    auto_failback: bool
    failover_time: int
    active_slicer_id: str | None
    no_slicer: bool = False
    channels: list[GroupChannel]
    slicers: list[GroupSlicer]
    heartbeat_timeout_ms: int = 3000
    clear_after_ms: int = 10000
    blacklist_ms: int = 60000


class FailoverEvent(Resource):
    id: str
    time: int
    kind: str
    from_slicer_id: str | None
    to_slicer_id: str | None
    reason: str


class AllowedOwner(BaseModel):
    id: str
    owner: str
    failover_group_id: str


class Channel(Resource):
    id: str
    owner: str
    desc: str
    external_id: str
    failover_group_id: str | None
    slicer_id: str | None
    created: str
    updated: str


class Slicer(Resource):
    id: str
    owner: str
    hostname: str
    hls_url: str = ""
    failover_group_id: str | None
    order: int
    enabled: bool
    status: SlicerStatus
    blacklist_until: int
    last_heartbeat: int | None
    signals: dict[str, float]


class HeartbeatAnswer(BaseModel):
    role: str
    active: bool
    failover_group_id: str | None
    heartbeat_interval_ms: int


class Audience(Resource):
    id: str
    owner: str
    desc: str
    external_id: str
    type: str
    match_type: str
    country_codes: list[str]
    zip_codes: list[str]
    dma_codes: list[str]
    ip_networks: list[str]
    devices: list[str]
    sub_audiences: list[str]
    created: str


class Rule(Resource):
    id: str
    owner: str
    desc: str
    external_id: str
    audience: str
    all_viewers: bool
    alternate_content_type: str
    alternate_content_id: str
    alternate_content_loop: bool
    created: str


class Blackout(Resource):
    id: str
    owner: str
    channel: str
    blackout_id: str
    desc: str
    external_id: str
    rules: list[str]
    included: list[Rule] = Field(default_factory=list, alias="@included")


class Webhook(Resource):
    id: str
    owner: str
    url: str
    description: str
    events: list[str]
    failover_group_ids: list[str]
    enabled: bool
    created: str
    secret: str | None = None  # only in the answers to create and rotate-secret


class WebhookDelivery(Resource):
    id: str
    webhook_id: str
    event: str
    state: str
    attempts: int
    created: int
    next_attempt: int | None
    last_status: int | None
    last_error: str
    delivered: int | None


class Program(Resource):
    channel: str
    blackout_id: str | None
    title: str = ""
    start: str | None
    source: str | None


class ScheduleWindow(Resource):
    id: str
    channel: str
    blackout_id: str
    start: str
    end: str


class Content(BaseModel):
    type: str
    id: str
    loop: bool


class ViewerInfo(BaseModel):
    ip: str | None
    country: str | None
    zip: str | None
    dma: str | None
    device: str | None
    located: bool


class PlaybackDecision(BaseModel):
    channel: str
    blackout_id: str | None
    blacked_out: bool
    content: Content
    source: str | None
    viewer: ViewerInfo
    rule: str | None
    audience: str | None


@dataclass
class Page(Generic[T]):
    items: list[T]
    total_items: int
    links: dict[str, str] = field(default_factory=dict)


def parse_page(model: type[T], body: dict[str, Any]) -> Page[T]:
    validate = model.model_validate  # type: ignore[attr-defined]
    items = [validate(item) for item in body["items"] if not item.get("deleted")]
    return Page(items, body["total_items"], body.get("@links", {}))
