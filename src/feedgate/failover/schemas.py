"""Failover groups: request bodies and response shapes."""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from feedgate.kit.schemas import NUMBER, Collection, IdRef, Listing, Name, PatchBody, RequestBody, Shape

Mode = Literal["prioritized", "flat"]
Ms = Annotated[int, Field(ge=0, le=86_400_000)]


class HealthPolicyFields(RequestBody):
    heartbeat_timeout_ms: Annotated[int, Field(ge=100, le=3_600_000)] | None = None
    clear_after_ms: Ms | None = None
    blacklist_ms: Ms | None = None
    input_loss_ms: Ms | None = None
    video_black_ms: Ms | None = None
    audio_silence_ms: Ms | None = None
    dropped_frames_pct: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False), NUMBER] | None = None
    upload_queue_s: Annotated[float, Field(ge=0, le=86_400, allow_inf_nan=False), NUMBER] | None = None
    playlist_stale_ms: Ms | None = None


class GroupCreate(HealthPolicyFields):
    name: Name
    mode: Mode = "prioritized"
    auto_failback: bool = False
    hot_warm: Annotated[int, Field(ge=0, le=100)] = 0
    notify: bool = Field(True, description="Send this group's events to webhooks (a rehearsal's groups do not).")


class GroupUpdate(HealthPolicyFields, PatchBody):  # nothing here is clearable: null is a 400
    name: Name | None = None
    mode: Mode | None = None
    auto_failback: bool | None = None
    hot_warm: Annotated[int, Field(ge=0, le=100)] | None = None
    notify: bool | None = None


class ActivateSlicer(RequestBody):
    slicer_id: IdRef


class ChannelsChange(RequestBody):
    channels_ids_to_add: Annotated[list[IdRef], Field(max_length=1000)] = []
    channels_ids_to_remove: Annotated[list[IdRef], Field(max_length=1000)] = []


class OwnersChange(RequestBody):
    owners_to_add: Annotated[list[IdRef], Field(max_length=1000)] = []
    owners_to_remove: Annotated[list[IdRef], Field(max_length=1000)] = []


class NoSlicer(RequestBody):
    no_slicer: bool


class SlicerEligibility(RequestBody):
    slicer_id: IdRef
    order: Annotated[int, Field(ge=1, le=10_000)] | None = None
    enabled: bool | None = None


class SlicersChange(RequestBody):
    slicers: Annotated[list[SlicerEligibility], Field(max_length=1000)]


# -- Response shapes (the seed's tables; examples from its samples) --------------------------------------
class SlicerStatus(Shape):
    state: int = Field(description="0 healthy, 1 unhealthy, -1 offline (or never seen).")
    thumb_url: str


class GroupSlicer(Shape):
    id: str = Field(description="Its slicerID, or OWNER_ID:slicerID for another owner's member.")
    blacklist_until: int = Field(description="Unix ms until which it may not become active.")
    order: int = Field(description="From 1; always 1 in flat mode.")
    status: SlicerStatus
    hostname: str
    enabled: bool


class GroupChannel(Shape):
    id: str
    desc: str


class FailoverGroup(Shape):
    at_id: str = Field(alias="@id")
    at_type: Literal["FailoverGroup"] = Field("FailoverGroup", alias="@type")
    id: str
    owner: str
    name: str
    hot_warm: int
    mode: Mode
    auto_failback: bool
    failover_time: int = Field(description="Unix ms of the last switch; 0 before the first.")
    active: None = Field(None, description="Always null, as in the documents' samples.")
    active_slicer_id: str = Field(description='The slicer on air, "no_slicer" on slate, "" before any.')
    no_slicer: bool
    channels: list[GroupChannel]
    slicers: list[GroupSlicer]
    heartbeat_timeout_ms: int
    clear_after_ms: int
    blacklist_ms: int
    input_loss_ms: int
    video_black_ms: int
    audio_silence_ms: int
    dropped_frames_pct: float
    upload_queue_s: float
    playlist_stale_ms: int
    notify: bool = Field(True, description="Its events go to webhooks.")

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "@id": "/api/v4/failover-groups/9852b8646dea4cd0a48f5e0ffaa4f8b3", "@type": "FailoverGroup",
        "owner": "ab533864a92b46a1a286cdd49b0a9bd3", "id": "9852b8646dea4cd0a48f5e0ffaa4f8b3",
        "name": "My Failover Group", "hot_warm": 0, "mode": "prioritized", "auto_failback": True,
        "failover_time": 1576107800205, "active": None, "active_slicer_id": "news01", "no_slicer": False,
        "channels": [{"id": "478f6d24e1a643049cdba0c544830752", "desc": "Broadcast01"}],
        "slicers": [{"id": "news01", "blacklist_until": 0, "order": 1,
                     "status": {"state": 0, "thumb_url": "https://example.com/news01.jpg"},
                     "hostname": "101-174-253-64.slicer.example.net", "enabled": True}],
        "heartbeat_timeout_ms": 3000, "clear_after_ms": 10000, "blacklist_ms": 60000, "input_loss_ms": 2000,
        "video_black_ms": 10000, "audio_silence_ms": 30000, "dropped_frames_pct": 20.0, "upload_queue_s": 30.0,
        "playlist_stale_ms": 0, "notify": True}]})


class FailoverGroups(Collection[FailoverGroup]):
    pass


class AllowedOwner(Shape):
    id: str = Field(description="Reserved for future use (the documents' words).")
    owner: str
    failover_group_id: str

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "52487b0f83c94c2d96c64672a4a8da37", "failover_group_id": "e8d6b5cb940c40cc9ec6ad081a38f3f0",
        "owner": "t345643dn409198f523flniu1234n34i"}]})


class AllowedOwners(Listing[AllowedOwner]):
    pass


class FailoverEvent(Shape):
    at_type: Literal["FailoverEvent"] = Field("FailoverEvent", alias="@type")
    id: str
    time: int = Field(description="Unix ms.")
    kind: str
    from_slicer_id: str | None
    to_slicer_id: str | None
    reason: str


class FailoverEvents(Collection[FailoverEvent]):
    pass
