"""What the client returns: the server's own response shapes, declared once in each domain's `schemas`.

Only pydantic models are imported here (no FastAPI, no SQLAlchemy): a client install does not pay for the
server. Unknown fields are ignored, so a newer server does not break an older client.
"""

from feedgate.audiences.schemas import Audience, Audiences
from feedgate.blackouts.schemas import Blackout, Blackouts, BlackoutWithRules
from feedgate.channels.schemas import Channel, Channels
from feedgate.failover.schemas import (
    AllowedOwner,
    AllowedOwners,
    FailoverEvent,
    FailoverEvents,
    FailoverGroup,
    FailoverGroups,
    GroupChannel,
    GroupSlicer,
    SlicerStatus,
)
from feedgate.kit.schemas import Collection, Deleted, Tombstone
from feedgate.playback.schemas import Content, PlaybackDecision, ViewerShown
from feedgate.programs.schemas import Program, ScheduleWindow, ScheduleWindows
from feedgate.rules.schemas import Rule, Rules
from feedgate.scte224.schemas import Feed as Scte224Feed
from feedgate.scte224.schemas import Feeds as Scte224Feeds
from feedgate.scte224.schemas import Import as Scte224Import
from feedgate.scte224.schemas import Imports as Scte224Imports
from feedgate.slicers.schemas import HeartbeatAnswer, Slicer, Slicers
from feedgate.webhooks.schemas import Webhook, WebhookDeliveries, WebhookDelivery, Webhooks, WebhookWithSecret

__all__ = [
    "AllowedOwner", "AllowedOwners", "Audience", "Audiences", "Blackout", "BlackoutWithRules", "Blackouts", "Channel",
    "Channels", "Collection", "Content", "Deleted", "FailoverEvent", "FailoverEvents", "FailoverGroup",
    "FailoverGroups", "GroupChannel", "GroupSlicer", "HeartbeatAnswer", "PlaybackDecision", "Program", "Rule",
    "Rules", "ScheduleWindow", "ScheduleWindows", "Scte224Feed", "Scte224Feeds", "Scte224Import", "Scte224Imports",
    "Slicer", "SlicerStatus", "Slicers", "Tombstone", "ViewerShown",
    "Webhook", "WebhookDeliveries", "WebhookDelivery", "WebhookWithSecret", "Webhooks",
]
