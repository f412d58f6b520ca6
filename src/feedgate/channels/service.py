from typing import Any

from sqlalchemy.orm import Session

from feedgate.channels.models import Channel
from feedgate.channels.schemas import ChannelCreate, ChannelUpdate
from feedgate.failover.models import FailoverGroup
from feedgate.failover.service import active_slicer_name
from feedgate.kit.ids import new_id
from feedgate.kit.lookup import find_by_ref
from feedgate.kit.models import add_tombstone, bump_config_version, commit_change
from feedgate.kit.time import iso_ms, utcnow

API = "/api/v4/channels"


def get_channel(session: Session, owner: str, ref: str, *, for_update: bool = False) -> Channel:
    """A channel of `owner` by system ID or external ID; 404 otherwise."""
    return find_by_ref(session, Channel, ref, "Channel", Channel.owner == owner, for_update=for_update)


def source_of(session: Session, channel: Channel) -> str | None:
    if channel.failover_group_id is None:
        return None
    group = session.get(FailoverGroup, channel.failover_group_id)
    return None if group is None else active_slicer_name(session, group) or None


def serialize_channel(session: Session, channel: Channel) -> dict[str, Any]:
    return {
        "@id": f"{API}/{channel.id}", "@type": "Channel", "id": channel.id, "owner": channel.owner,
        "desc": channel.desc, "external_id": channel.external_id or "",
        "failover_group_id": channel.failover_group_id, "slicer_id": source_of(session, channel),
        "created": iso_ms(channel.created), "updated": iso_ms(channel.updated),
    }


def _commit_unique(session: Session, external_id: str | None) -> None:
    commit_change(session, f"Field 'external_id': another channel already uses '{external_id}'.")


def create_channel(session: Session, owner: str, data: ChannelCreate) -> Channel:
    channel = Channel(id=new_id(), owner=owner, desc=data.desc, external_id=data.external_id or None)
    session.add(channel)
    _commit_unique(session, data.external_id)
    return channel


def update_channel(session: Session, owner: str, ref: str, data: ChannelUpdate) -> Channel:
    channel = get_channel(session, owner, ref)
    before = serialize_channel(session, channel)
    if data.desc is not None:
        channel.desc = data.desc
    if data.external_id is not None:
        channel.external_id = data.external_id or None
    if serialize_channel(session, channel) != before:  # `updated` moves only when something changed
        channel.updated = utcnow()
    _commit_unique(session, data.external_id)
    return channel


def delete_channel(session: Session, owner: str, ref: str) -> str:
    channel = get_channel(session, owner, ref)
    channel_id = channel.id
    session.delete(channel)  # its blackouts, program tags and schedule go with it (ON DELETE CASCADE)
    add_tombstone(session, "channel", owner, channel_id)
    bump_config_version(session)
    session.commit()
    return channel_id
