from typing import Annotated

from pydantic import StringConstraints

from feedgate.kit.schemas import NO_NUL, RequestBody

BlackoutId = Annotated[str, StringConstraints(min_length=1, max_length=200), NO_NUL]
Instant = Annotated[str, StringConstraints(min_length=1, max_length=64), NO_NUL]


class ProgramStart(RequestBody):
    blackout_id: BlackoutId | None
    title: Annotated[str, StringConstraints(max_length=500), NO_NUL] = ""
    start: Instant | None = None


class Scte35Cue(RequestBody):
    cue: Annotated[str, StringConstraints(min_length=1, max_length=8192), NO_NUL]
    time: Instant | None = None


class WindowCreate(RequestBody):
    blackout_id: BlackoutId
    start: Instant
    end: Instant
