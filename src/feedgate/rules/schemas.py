from typing import Annotated, Literal

from pydantic import StringConstraints

from feedgate.kit.schemas import NO_NUL, Desc, ExternalId, PatchBody, RequestBody

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
