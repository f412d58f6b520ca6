"""Program tags, SCTE-35 cues and schedule windows: request bodies and response shapes."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from feedgate.kit.schemas import NO_NUL, Collection, RequestBody, Shape

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


class Program(Shape):
    """The program tag in force: what a slicer's content_start, a SCTE-35 cue or this API set. With no
    program on record, only `@type`, `channel` and empty values are answered (no `@id`, no `id`)."""

    at_id: str | None = Field(None, alias="@id", exclude_if=lambda v: v is None)
    at_type: Literal["Program"] = Field("Program", alias="@type")
    id: str | None = Field(None, exclude_if=lambda v: v is None)
    channel: str
    blackout_id: str | None
    title: str
    start: str | None = Field(description="ISO 8601 with milliseconds, UTC.")
    source: str | None = Field(description="Who set it: api, scte35, or scte224 (a cue matched an imported point).")


class ScheduleWindow(Shape):
    at_id: str = Field(alias="@id")
    at_type: Literal["ScheduleWindow"] = Field("ScheduleWindow", alias="@type")
    id: str
    channel: str
    blackout_id: str
    start: str
    end: str
    created: str
    updated: str


class ScheduleWindows(Collection[ScheduleWindow]):
    pass
