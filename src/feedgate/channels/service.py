"""Live channels. A channel's source (its group's active slicer) is the failover domain's: whoever
renders a channel hands in `SourcesOf`, so channels never import failover."""

from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedgate.channels import schemas
from feedgate.channels.models import Channel
from feedgate.channels.schemas import ChannelCreate, ChannelUpdate
from feedgate.kit.ids import new_id
from feedgate.kit.lookup import find_by_ref
from feedgate.kit.models import add_tombstone, commit_change
from feedgate.kit.pagination import Listed, PageQuery, paginate
from feedgate.kit.time import iso_ms, utcnow
from feedgate.kit.versions import decisions_changed

API = "/api/v4/channels"
SourcesOf = Callable[[Session, Sequence[str]], dict[str, str]]  # group IDs -> each group's current source


def get_channel(session: Session, owner: str, ref: str, *, for_update: bool = False) -> Channel:
    """A channel of `owner` by system ID or external ID; 404 otherwise."""
    return find_by_ref(session, Channel, ref, "Channel", Channel.owner == owner, for_update=for_update)


def render_channels(session: Session, channels: Sequence[Channel], sources_of: SourcesOf) -> list[schemas.Channel]:
    sources = sources_of(session, sorted({c.failover_group_id for c in channels if c.failover_group_id}))
    return [schemas.Channel(
        at_id=f"{API}/{c.id}", id=c.id, owner=c.owner, desc=c.desc, external_id=c.external_id or "",
        failover_group_id=c.failover_group_id, slicer_id=sources.get(c.failover_group_id or "") or None,
        created=iso_ms(c.created), updated=iso_ms(c.updated)) for c in channels]


def serialize_channel(session: Session, channel: Channel, sources_of: SourcesOf) -> schemas.Channel:
    return render_channels(session, [channel], sources_of)[0]


def list_channels(session: Session, owner: str, page: PageQuery, sources_of: SourcesOf) -> schemas.Channels:
    listed = Listed(API, {"created": Channel.created, "desc": Channel.desc, "external_id": Channel.external_id},
                    updated_column=Channel.updated, tombstone=("channel", owner, ""), tombstone_type="Channel")
    return paginate(session, select(Channel).where(Channel.owner == owner), page, listed,
                    lambda rows: render_channels(session, rows, sources_of), schemas.Channels)


def _commit_unique(session: Session, external_id: str | None) -> None:
    commit_change(session, f"Field 'external_id': another channel already uses '{external_id}'.")


def create_channel(session: Session, owner: str, data: ChannelCreate) -> Channel:
    channel = Channel(id=new_id(), owner=owner, desc=data.desc, external_id=data.external_id or None)
    session.add(channel)
    _commit_unique(session, data.external_id)
    return channel


def update_channel(session: Session, owner: str, ref: str, data: ChannelUpdate) -> Channel:
    channel = get_channel(session, owner, ref)
    changed = False
    if data.desc is not None and data.desc != channel.desc:
        channel.desc, changed = data.desc, True
    if data.external_id is not None and (data.external_id or None) != channel.external_id:
        channel.external_id, changed = data.external_id or None, True
    if changed:  # `updated` moves only when something changed
        channel.updated = utcnow()
    _commit_unique(session, data.external_id)
    return channel


def delete_channel(session: Session, owner: str, ref: str) -> str:
    channel = get_channel(session, owner, ref)
    channel_id = channel.id
    session.delete(channel)  # its blackouts, program tags and schedule go with it (ON DELETE CASCADE)
    add_tombstone(session, "channel", owner, channel_id)
    decisions_changed(session)
    session.commit()
    return channel_id
