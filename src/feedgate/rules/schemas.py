"""Blackout rules: request bodies and the response shape."""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from feedgate.kit.schemas import NO_NUL, Collection, Desc, ExternalId, PatchBody, RequestBody, Shape

ContentType = Literal["asset", "channel", "slate", "slicer"]
ContentId = Annotated[str, StringConstraints(max_length=200), NO_NUL]
AudienceRef = Annotated[str, StringConstraints(max_length=200), NO_NUL]


class RuleFields(RequestBody):
    desc: Desc | None = None
    external_id: ExternalId | None = None
    all_viewers: bool | None = None
    alternate_content_type: ContentType | None = None
    alternate_content_id: ContentId | None = None
    alternate_content_loop: bool | None = None
    audience: AudienceRef | None = None


class RuleCreate(RuleFields):
    desc: Desc


class RuleUpdate(RuleFields, PatchBody):
    CLEARABLE = {"external_id": "", "alternate_content_id": "", "audience": ""}


class Rule(Shape):
    at_id: str = Field(alias="@id")
    at_type: Literal["Rule"] = Field("Rule", alias="@type")
    id: str
    owner: str
    created: str
    updated: str
    desc: str
    external_id: str
    audience: str = Field(description='The audience system ID, or "" for none.')
    alternate_content_type: ContentType
    alternate_content_id: str
    alternate_content_loop: bool
    all_viewers: bool

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "@id": "/api/v4/rules/6d8e1f0a2b3c4d5e6f7a8b9c0d1e2f3a", "@type": "Rule",
        "id": "6d8e1f0a2b3c4d5e6f7a8b9c0d1e2f3a", "owner": "ab533864a92b46a1a286cdd49b0a9bd3",
        "created": "2024-01-08T20:31:11.510Z", "updated": "2024-01-08T20:31:11.510Z", "desc": "My New Rule",
        "external_id": "", "audience": "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6", "alternate_content_type": "slate",
        "alternate_content_id": "", "alternate_content_loop": True, "all_viewers": False}]})


class Rules(Collection[Rule]):
    pass
