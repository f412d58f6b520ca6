from typing import Annotated

from pydantic import StringConstraints

from feedgate.kit.schemas import RequestBody

BlackoutId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Instant = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ProgramStart(RequestBody):
    blackout_id: BlackoutId | None
    title: Annotated[str, StringConstraints(max_length=500)] = ""
    start: Instant | None = None


class Scte35Cue(RequestBody):
    cue: Annotated[str, StringConstraints(min_length=1, max_length=8192)]
    time: Instant | None = None


class WindowCreate(RequestBody):
    blackout_id: BlackoutId
    start: Instant
    end: Instant
