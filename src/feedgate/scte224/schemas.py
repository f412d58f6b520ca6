"""SCTE 224 imports and rights feeds: request bodies and response shapes."""

from typing import Literal

from pydantic import Field

from feedgate.kit.schemas import Collection, Shape

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
