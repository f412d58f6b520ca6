"""Live Slicers: the heartbeat body and answer, and the slicer as the API shows it."""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from feedgate.failover.schemas import SlicerStatus
from feedgate.kit.schemas import NO_NUL, NUMBER, Collection, RequestBody, Shape

Level = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False), NUMBER]
SLICER_ID_PATTERN = r"^[A-Za-z0-9._-]{1,100}$"
HLS_URL_PATTERN = r"^(https?://[^\s]+)?$"


class Signals(RequestBody):
    input_loss_ms: Level | None = None
    video_black_ms: Level | None = None
    audio_silence_ms: Level | None = None
    dropped_frames_pct: Level | None = None
    upload_queue_s: Level | None = None


class Heartbeat(RequestBody):
    hostname: Annotated[str, StringConstraints(min_length=1, max_length=255), NO_NUL]
    failover_group_id: Annotated[str, StringConstraints(min_length=1, max_length=64), NO_NUL] | None = None
    thumb_url: Annotated[str, StringConstraints(max_length=2000), NO_NUL] = ""
    signals: Signals = Signals()
    # The slicer's HLS multivariant playlist, which feedgate serves viewers from. Omitted: keep the one
    # announced before (older agents do not send it); "": the slicer has none.
    hls_url: Annotated[str, StringConstraints(max_length=2000, pattern=HLS_URL_PATTERN), NO_NUL] | None = None


class HeartbeatAnswer(Shape):
    """What the slicer should do now, and how often to beat."""

    role: Literal["active", "hot", "warm", "disabled"]
    active: bool
    failover_group_id: str | None
    heartbeat_interval_ms: int

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"role": "active", "active": True, "failover_group_id": "9852b8646dea4cd0a48f5e0ffaa4f8b3",
         "heartbeat_interval_ms": 1000}]})


class Slicer(Shape):
    at_id: str = Field(alias="@id")
    at_type: Literal["Slicer"] = Field("Slicer", alias="@type")
    id: str = Field(description="Its slicerID.")
    owner: str
    hostname: str
    hls_url: str
    failover_group_id: str | None
    order: int
    enabled: bool
    status: SlicerStatus
    blacklist_until: int
    last_heartbeat: int | None = Field(description="Unix ms of the last heartbeat written.")
    signals: dict[str, float]
    created: str
    updated: str


class Slicers(Collection[Slicer]):
    pass
