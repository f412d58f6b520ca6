from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from feedgate.kit.schemas import NO_NUL, IdRef, PatchBody, RequestBody

EventName = Literal["*", "failover", "failback", "no_candidate", "unhealthy", "healthy", "activated", "no_slicer_on",
                    "no_slicer_off", "program_changed", "config", "joined", "left"]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2000), NO_NUL]
Description = Annotated[str, StringConstraints(max_length=500), NO_NUL]


class WebhookCreate(RequestBody):
    url: Url
    description: Description = ""
    events: Annotated[list[EventName], Field(min_length=1, max_length=20)]
    failover_group_ids: Annotated[list[IdRef], Field(max_length=1000)] = []
    enabled: bool = True


class WebhookUpdate(PatchBody):
    CLEARABLE = {"description": "", "failover_group_ids": []}

    url: Url | None = None
    description: Description | None = None
    events: Annotated[list[EventName], Field(min_length=1, max_length=20)] | None = None
    failover_group_ids: Annotated[list[IdRef], Field(max_length=1000)] | None = None
    enabled: bool | None = None
