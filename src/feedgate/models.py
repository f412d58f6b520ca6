"""Every table, imported in one place for Alembic and for metadata.create_all in tests."""

from feedgate.audiences.models import Audience, SubAudience
from feedgate.auth.models import Nonce, User
from feedgate.blackouts.models import Blackout, BlackoutRule
from feedgate.channels.models import Channel
from feedgate.failover.models import AllowedOwner, FailoverEvent, FailoverGroup, FleetDisruption, Slicer
from feedgate.geo.models import ZipDma
from feedgate.kit.base import Base
from feedgate.kit.models import Tombstone
from feedgate.kit.versions import ConfigVersion, FleetChange
from feedgate.operators.models import AuditEntry, ConsoleSession, Operator
from feedgate.programs.models import CueMatch, ProgramTag, ScheduleWindow
from feedgate.rules.models import Rule
from feedgate.scte224.models import Scte224Feed, Scte224Import, Scte224Object
from feedgate.webhooks.models import Webhook, WebhookDelivery

__all__ = [
    "AllowedOwner",
    "Audience",
    "AuditEntry",
    "Base",
    "Blackout",
    "BlackoutRule",
    "Channel",
    "ConfigVersion",
    "ConsoleSession",
    "CueMatch",
    "FailoverEvent",
    "FailoverGroup",
    "FleetChange",
    "FleetDisruption",
    "Nonce",
    "Operator",
    "ProgramTag",
    "Rule",
    "ScheduleWindow",
    "Scte224Feed",
    "Scte224Import",
    "Scte224Object",
    "Slicer",
    "SubAudience",
    "Tombstone",
    "User",
    "Webhook",
    "WebhookDelivery",
    "ZipDma",
]
