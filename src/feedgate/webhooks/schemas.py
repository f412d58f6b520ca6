"""Webhooks: request bodies and response shapes."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from feedgate.kit.schemas import NO_NUL, Collection, IdRef, PatchBody, RequestBody, Shape
from feedgate.webhooks.formats import Format

EventName = Literal["*", "failover", "failback", "no_candidate", "unhealthy", "healthy", "activated", "no_slicer_on",
                    "no_slicer_off", "program_changed", "config", "joined", "left", "disruption", "imported",
                    "import_failed"]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2000), NO_NUL]
Description = Annotated[str, StringConstraints(max_length=500), NO_NUL]
# A PagerDuty Events v2 integration key (32 characters as PagerDuty issues them); never shown again.
RoutingKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{20,64}$")]


class WebhookCreate(RequestBody):
    url: Url
    description: Description = ""
    events: Annotated[list[EventName], Field(min_length=1, max_length=20)]
    failover_group_ids: Annotated[list[IdRef], Field(max_length=1000)] = []
    enabled: bool = True
    format: Format = "feedgate"
    routing_key: RoutingKey | None = None


class WebhookUpdate(PatchBody):
    CLEARABLE = {"description": "", "failover_group_ids": []}

    url: Url | None = None
    description: Description | None = None
    events: Annotated[list[EventName], Field(min_length=1, max_length=20)] | None = None
    failover_group_ids: Annotated[list[IdRef], Field(max_length=1000)] | None = None
    enabled: bool | None = None
    format: Format | None = None
    routing_key: RoutingKey | None = None


class Webhook(Shape):
    at_id: str = Field(alias="@id")
    at_type: Literal["Webhook"] = Field("Webhook", alias="@type")
    id: str
    owner: str
    url: str
    description: str
    events: list[str]
    failover_group_ids: list[str]
    enabled: bool
    format: Format
    routing_key_set: bool  # the key itself is never shown
    created: str
    updated: str


class WebhookWithSecret(Webhook):
    """The answer to create and rotate-secret: the only times the secret is shown."""

    secret: str


class Webhooks(Collection[Webhook]):
    pass


class WebhookDelivery(Shape):
    at_id: str = Field(alias="@id")
    at_type: Literal["WebhookDelivery"] = Field("WebhookDelivery", alias="@type")
    id: str
    webhook_id: str
    event: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    created: int = Field(description="Unix ms.")
    next_attempt: int | None = Field(description="Unix ms, while pending.")
    last_status: int | None
    last_error: str
    delivered: int | None = Field(description="Unix ms.")


class WebhookDeliveries(Collection[WebhookDelivery]):
    pass
