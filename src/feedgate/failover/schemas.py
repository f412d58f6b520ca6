from typing import Annotated, Literal

from pydantic import Field

from feedgate.kit.schemas import NUMBER, IdRef, Name, PatchBody, RequestBody

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


class GroupUpdate(HealthPolicyFields, PatchBody):  # nothing here is clearable: null is a 400
    name: Name | None = None
    mode: Mode | None = None
    auto_failback: bool | None = None
    hot_warm: Annotated[int, Field(ge=0, le=100)] | None = None


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
