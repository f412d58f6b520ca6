"""The per-viewer decision as the API answers it."""

from typing import Literal

from pydantic import ConfigDict, Field

from feedgate.kit.schemas import Shape


class Content(Shape):
    type: Literal["channel", "asset", "slicer", "slate"]
    id: str
    loop: bool


class ViewerShown(Shape):
    ip: str | None
    country: str | None
    zip: str | None
    dma: str | None
    device: str | None
    located: bool


class PlaybackDecision(Shape):
    channel: str
    blackout_id: str | None = Field(description="The blackout ID of the program in force, if any.")
    blacked_out: bool
    content: Content = Field(description="What this viewer gets: the channel itself, or the rule's alternate.")
    source: str | None = Field(description='The slicer feeding the channel, "no_slicer", or null.')
    viewer: ViewerShown
    rule: str | None
    audience: str | None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "channel": "478f6d24e1a643049cdba0c544830752", "blackout_id": "Game123", "blacked_out": True,
        "content": {"type": "slate", "id": "", "loop": True}, "source": "news01",
        "viewer": {"ip": "198.51.100.7", "country": "US", "zip": "90503", "dma": "803", "device": None,
                   "located": True},
        "rule": "6d8e1f0a2b3c4d5e6f7a8b9c0d1e2f3a", "audience": "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6"}]})
