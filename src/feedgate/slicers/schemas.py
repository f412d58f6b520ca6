from typing import Annotated

from pydantic import Field, StringConstraints

from feedgate.kit.schemas import NO_NUL, NUMBER, RequestBody

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
