"""Blackout configurations of a channel: request bodies and response shapes."""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from feedgate.kit.schemas import NO_NUL, Collection, ExternalId, IdRef, PatchBody, RequestBody, Shape
from feedgate.rules.schemas import Rule

BlackoutId = Annotated[str, StringConstraints(min_length=1, max_length=200), NO_NUL]
BlackoutDesc = Annotated[str, StringConstraints(max_length=500), NO_NUL]


class BlackoutFields(RequestBody):
    blackout_id: BlackoutId | None = None
    desc: BlackoutDesc | None = None
    external_id: ExternalId | None = None
    rules: Annotated[list[IdRef], Field(max_length=1000)] | None = None


class BlackoutCreate(BlackoutFields):
    blackout_id: BlackoutId


class BlackoutUpdate(BlackoutFields, PatchBody):
    CLEARABLE = {"desc": "", "external_id": "", "rules": []}


class Blackout(Shape):
    at_id: str = Field(alias="@id")
    at_type: Literal["Blackout"] = Field("Blackout", alias="@type")
    id: str
    owner: str
    channel: str
    blackout_id: str
    desc: str
    external_id: str
    rules: list[str] = Field(description="Rule system IDs, in the order they apply.")
    created: str
    updated: str

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "@id": "/api/v4/channels/478f6d24e1a643049cdba0c544830752/blackouts/0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5",
        "@type": "Blackout", "id": "0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5", "owner": "ab533864a92b46a1a286cdd49b0a9bd3",
        "channel": "478f6d24e1a643049cdba0c544830752", "blackout_id": "Game123", "desc": "Regional game",
        "external_id": "", "rules": ["6d8e1f0a2b3c4d5e6f7a8b9c0d1e2f3a"], "created": "2024-01-08T20:31:11.510Z",
        "updated": "2024-01-08T20:31:11.510Z"}]})


class BlackoutWithRules(Blackout):
    """A blackout read alone: its rules follow in full, in order."""

    included: list[Rule] = Field(alias="@included")


class Blackouts(Collection[Blackout]):
    pass
