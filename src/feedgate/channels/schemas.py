"""Live channels: request bodies and the response shape."""

from typing import Literal

from pydantic import ConfigDict, Field

from feedgate.kit.schemas import Collection, Desc, ExternalId, PatchBody, RequestBody, Shape


class ChannelCreate(RequestBody):
    desc: Desc
    external_id: ExternalId = ""


class ChannelUpdate(PatchBody):
    CLEARABLE = {"external_id": ""}

    desc: Desc | None = None
    external_id: ExternalId | None = None


class Channel(Shape):
    at_id: str = Field(alias="@id")
    at_type: Literal["Channel"] = Field("Channel", alias="@type")
    id: str
    owner: str
    desc: str
    external_id: str
    failover_group_id: str | None
    slicer_id: str | None = Field(description='The current source: a slicer, "no_slicer" (slate), or null.')
    created: str
    updated: str

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "@id": "/api/v4/channels/478f6d24e1a643049cdba0c544830752", "@type": "Channel",
        "id": "478f6d24e1a643049cdba0c544830752", "owner": "ab533864a92b46a1a286cdd49b0a9bd3",
        "desc": "Broadcast01", "external_id": "", "failover_group_id": "9852b8646dea4cd0a48f5e0ffaa4f8b3",
        "slicer_id": "news01", "created": "2024-01-08T20:31:11.510Z", "updated": "2024-01-08T20:31:11.510Z"}]})


class Channels(Collection[Channel]):
    pass
