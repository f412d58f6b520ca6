"""SCTE 224 imports and rights feeds: request bodies and response shapes."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from feedgate.kit.schemas import NO_NUL, Collection, RequestBody, Shape

Kind = Literal["audience", "rule", "blackout", "window", "cue_match"]
Action = Literal["created", "updated", "removed", "refused"]


class Change(Shape):
    """One object the import creates, updates or removes, or one element it refuses (with the reason)."""

    kind: Kind | Literal["element"]
    action: Action
    external_id: str = Field(description="The SCTE 224 id (or, refused, the id of the entry holding it).")
    id: str = Field("", description="The feedgate object's system ID (empty when refused or not yet made).")
    channel: str = ""
    fields: list[str] = Field(default_factory=list, description="What an update changes.")
    element: str = ""
    line: int | None = None
    reason: str = ""


class Summary(Shape):
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    refused: int = 0


class MediaMapping(Shape):
    media: str
    channel: str


class Import(Shape):
    at_id: str = Field(alias="@id")
    at_type: Literal["Scte224Import"] = Field("Scte224Import", alias="@type")
    id: str = Field(description='The import record\'s ID; "" for a dry run (nothing is recorded).')
    owner: str
    created: str
    by: str = Field(description="Who imported: the API key's user, or the rights feed.")
    source: str = Field(description='Where the document came from: "api", or the feed\'s URL.')
    digest: str = Field(description="SHA-256 of the document's bytes.")
    generation: str = Field(description="The schema generation read: 2015, 2018 or 2020.")
    dry_run: bool
    changed: bool
    media: list[MediaMapping]
    summary: Summary
    diff: list[Change]


class Imports(Collection[Import]):
    pass


FeedUrl = Annotated[str, StringConstraints(min_length=1, max_length=2000), NO_NUL]
MediaRef = Annotated[str, StringConstraints(min_length=1, max_length=200), NO_NUL]


class FeedCreate(RequestBody):
    url: FeedUrl = Field(description="Where the SCTE 224 document is published (http or https); checked by the "
                         "same address guard as webhooks, when saved and on every fetch.")
    description: Annotated[str, StringConstraints(max_length=500), NO_NUL] = ""
    interval_s: int = Field(300, ge=30, le=86400, description="Seconds between checks (conditional GETs).")
    channel_map: Annotated[dict[MediaRef, MediaRef], Field(max_length=1000)] = Field(
        default_factory=dict, description="Media id -> channel (ID or external_id), as `channel_map` on an import.")
    enabled: bool = True


FeedState = Literal["pending", "imported", "unchanged", "failed"]


class Feed(Shape):
    at_id: str = Field(alias="@id")
    at_type: Literal["Scte224Feed"] = Field("Scte224Feed", alias="@type")
    id: str
    owner: str
    url: str
    description: str
    interval_s: int
    channel_map: dict[str, str]
    enabled: bool
    state: FeedState = Field(description="The last check: pending (none yet), imported (a changed document "
                             "was imported), unchanged (304, or the same bytes), failed.")
    failures: int = Field(description="Failed checks in a row (retried with backoff).")
    last_status: int | None = Field(description="The HTTP status of the last answer (None: no answer).")
    last_error: str
    last_import_id: str = Field(description="The import record of the last document imported from this feed.")
    checked: str | None = Field(description="When the feed was last checked.")
    next_check: str | None = Field(description="When it is checked next (None while disabled).")
    created: str
    updated: str


class Feeds(Collection[Feed]):
    pass
