from typing import Annotated

from pydantic import Field, StringConstraints

from feedgate.kit.schemas import NO_NUL, ExternalId, IdRef, PatchBody, RequestBody

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
