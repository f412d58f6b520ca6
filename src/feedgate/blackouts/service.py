"""Blackout configurations: a channel's blackout ID mapped to ordered rules."""

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from feedgate.blackouts import schemas
from feedgate.blackouts.models import Blackout, BlackoutRule
from feedgate.blackouts.schemas import BlackoutCreate, BlackoutFields
from feedgate.channels.models import Channel
from feedgate.channels.service import get_channel
from feedgate.kit.errors import FeedgateError, bad_request
from feedgate.kit.ids import new_id
from feedgate.kit.lookup import find_by_ref
from feedgate.kit.models import add_tombstone, commit_change, flush_change
from feedgate.kit.pagination import Listed, PageQuery, paginate
from feedgate.kit.time import iso_ms, utcnow
from feedgate.kit.versions import decisions_changed
from feedgate.rules.models import Rule
from feedgate.rules.service import serialize_rule


def path(channel_id: str) -> str:
    return f"/api/v4/channels/{channel_id}/blackouts"


def get_blackout(session: Session, owner: str, channel: Channel, ref: str, *, for_update: bool = False) -> Blackout:
    return find_by_ref(session, Blackout, ref, "Blackout", Blackout.owner == owner,
                       Blackout.channel_id == channel.id, for_update=for_update)


def render_blackouts(session: Session, blackouts: Sequence[Blackout]) -> list[schemas.Blackout]:
    order: dict[str, list[str]] = {b.id: [] for b in blackouts}
    if order:
        for link in session.execute(select(BlackoutRule.blackout_pk, BlackoutRule.rule_id)
                                    .where(BlackoutRule.blackout_pk.in_(list(order))).order_by(BlackoutRule.position)):
            order[link.blackout_pk].append(link.rule_id)
    return [schemas.Blackout(
        at_id=f"{path(b.channel_id)}/{b.id}", id=b.id, owner=b.owner, channel=b.channel_id,
        blackout_id=b.blackout_id, desc=b.desc, external_id=b.external_id or "", rules=order[b.id],
        created=iso_ms(b.created), updated=iso_ms(b.updated)) for b in blackouts]


def serialize_blackout(session: Session, blackout: Blackout) -> schemas.Blackout:
    return render_blackouts(session, [blackout])[0]


def with_rules(session: Session, blackout: Blackout) -> schemas.BlackoutWithRules:
    body = serialize_blackout(session, blackout)
    by_id = {r.id: r for r in session.scalars(select(Rule).where(Rule.id.in_(body.rules)))}
    return schemas.BlackoutWithRules(**dict(body), included=[serialize_rule(by_id[r]) for r in body.rules
                                                            if r in by_id])


def list_blackouts(session: Session, owner: str, channel_ref: str, page: PageQuery) -> schemas.Blackouts:
    channel = get_channel(session, owner, channel_ref)
    stmt = select(Blackout).where(Blackout.owner == owner, Blackout.channel_id == channel.id)
    listed = Listed(path(channel.id), {"created": Blackout.created, "blackout_id": Blackout.blackout_id,
                                       "desc": Blackout.desc, "external_id": Blackout.external_id},
                    updated_column=Blackout.updated, tombstone=("blackout", owner, channel.id),
                    tombstone_type="Blackout")
    return paginate(session, stmt, page, listed, lambda rows: render_blackouts(session, rows), schemas.Blackouts)


def _set_rules(session: Session, owner: str, blackout: Blackout, refs: list[str]) -> None:
    ids: list[str] = []
    for index, ref in enumerate(refs):
        try:
            with session.no_autoflush:
                rule = find_by_ref(session, Rule, ref, "Rule", Rule.owner == owner)
        except FeedgateError:
            raise bad_request(f"Field 'rules[{index}]': rule '{ref}' does not exist.") from None
        if rule.id in ids:
            raise bad_request(f"Field 'rules[{index}]': rule '{ref}' is listed twice.")
        ids.append(rule.id)
    with session.no_autoflush:  # uniqueness clashes surface at commit, as one 409
        session.execute(delete(BlackoutRule).where(BlackoutRule.blackout_pk == blackout.id))
    session.add_all(BlackoutRule(blackout_pk=blackout.id, rule_id=r, position=i) for i, r in enumerate(ids))


def _taken(blackout: Blackout) -> dict[str, object]:
    return {"blackout_id": blackout.blackout_id, "external_id": blackout.external_id}


def _commit(session: Session, blackout: Blackout) -> None:
    commit_change(session, values=_taken(blackout))  # names the clash: blackout_id (per channel) or external_id


def create_blackout(session: Session, owner: str, channel_ref: str, data: BlackoutCreate) -> Blackout:
    channel = get_channel(session, owner, channel_ref)
    blackout = Blackout(id=new_id(), owner=owner, channel_id=channel.id, blackout_id=data.blackout_id,
                        desc=data.desc or "", external_id=data.external_id or None)
    session.add(blackout)
    _set_rules(session, owner, blackout, data.rules or [])
    _commit(session, blackout)
    return blackout


def update_blackout(session: Session, owner: str, channel_ref: str, ref: str, data: BlackoutFields) -> Blackout:
    channel = get_channel(session, owner, channel_ref)
    blackout = get_blackout(session, owner, channel, ref, for_update=True)
    before = serialize_blackout(session, blackout)
    if data.blackout_id is not None:
        blackout.blackout_id = data.blackout_id
    if data.desc is not None:
        blackout.desc = data.desc
    if data.external_id is not None:
        blackout.external_id = data.external_id or None
    if data.rules is not None:
        _set_rules(session, owner, blackout, data.rules)
    flush_change(session, _taken(blackout))
    if serialize_blackout(session, blackout) != before:  # `updated` moves only when something changed
        blackout.updated = utcnow()
    _commit(session, blackout)
    return blackout


def delete_blackout(session: Session, owner: str, channel_ref: str, ref: str) -> tuple[str, str]:
    channel = get_channel(session, owner, channel_ref)
    blackout = get_blackout(session, owner, channel, ref, for_update=True)
    blackout_pk = blackout.id
    session.delete(blackout)
    add_tombstone(session, "blackout", owner, blackout_pk, scope=channel.id)
    decisions_changed(session)
    session.commit()
    return channel.id, blackout_pk
