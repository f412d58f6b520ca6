"""Blackout rules: an audience (or all viewers) and the alternate content they get."""

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedgate.audiences.models import Audience
from feedgate.channels.models import Channel
from feedgate.kit.errors import FeedgateError, bad_request
from feedgate.kit.ids import new_id
from feedgate.kit.lookup import find_by_ref
from feedgate.kit.models import add_tombstone, commit_change, delete_unless_used
from feedgate.kit.pagination import Listed, PageQuery, paginate
from feedgate.kit.time import iso_ms, utcnow
from feedgate.kit.versions import decisions_changed
from feedgate.rules import schemas
from feedgate.rules.models import Rule
from feedgate.rules.schemas import RuleCreate, RuleFields

API = "/api/v4/rules"


def get_rule(session: Session, owner: str, ref: str, *, for_update: bool = False) -> Rule:
    return find_by_ref(session, Rule, ref, "Rule", Rule.owner == owner, for_update=for_update)


def serialize_rule(rule: Rule) -> schemas.Rule:
    return schemas.Rule(
        at_id=f"{API}/{rule.id}", id=rule.id, owner=rule.owner, created=iso_ms(rule.created),
        updated=iso_ms(rule.updated), desc=rule.desc, external_id=rule.external_id or "",
        audience=rule.audience_id or "", alternate_content_type=rule.alternate_content_type,
        alternate_content_id=rule.alternate_content_id, alternate_content_loop=rule.alternate_content_loop,
        all_viewers=rule.all_viewers)


def list_rules(session: Session, owner: str, page: PageQuery) -> schemas.Rules:
    listed = Listed(API, {"created": Rule.created, "desc": Rule.desc, "external_id": Rule.external_id},
                    updated_column=Rule.updated, tombstone=("rule", owner, ""), tombstone_type="Rule")
    return paginate(session, select(Rule).where(Rule.owner == owner), page, listed,
                    lambda rows: [serialize_rule(r) for r in rows], schemas.Rules)


def _own_channel(session: Session, owner: str, channel_id: str) -> bool:
    # By system ID: playback looks the alternate channel up by it, and only among the owner's channels.
    channel = session.get(Channel, channel_id)
    return channel is not None and channel.owner == owner


# Does this owner have the alternate content a rule names? By alternate_content_type. "slicer" is handed in
# by the app (slicers belong to the failover domain, beside this one); assets live outside feedgate.
ContentCheck = Callable[[Session, str, str], bool]
CONTENT_CHECKS: dict[str, ContentCheck] = {"channel": _own_channel}


def _apply(session: Session, owner: str, rule: Rule, data: RuleFields) -> None:
    if data.desc is not None:
        rule.desc = data.desc
    if data.external_id is not None:
        rule.external_id = data.external_id or None
    if data.all_viewers is not None:
        rule.all_viewers = data.all_viewers
    if data.alternate_content_loop is not None:
        rule.alternate_content_loop = data.alternate_content_loop
    if data.alternate_content_type is not None:
        rule.alternate_content_type = data.alternate_content_type
    if data.alternate_content_id is not None:
        rule.alternate_content_id = data.alternate_content_id
    if data.audience is not None:
        if data.audience == "":
            rule.audience_id = None
        else:
            try:
                rule.audience_id = find_by_ref(session, Audience, data.audience, "Audience",
                                               Audience.owner == owner).id
            except FeedgateError:
                raise bad_request(f"Field 'audience': audience '{data.audience}' does not exist.") from None
    named = data.alternate_content_type is not None or data.alternate_content_id is not None
    check = CONTENT_CHECKS.get(rule.alternate_content_type)
    if named and check is not None and rule.alternate_content_id and \
            not check(session, owner, rule.alternate_content_id):
        raise bad_request(f"Field 'alternate_content_id': {rule.alternate_content_type} "
                          f"'{rule.alternate_content_id}' does not exist in your account.")
    if rule.alternate_content_type == "slate" and rule.alternate_content_id:
        raise bad_request("Field 'alternate_content_id' must be empty when alternate_content_type is slate.")
    if rule.alternate_content_type != "slate" and not rule.alternate_content_id:
        raise bad_request(f"Field 'alternate_content_id' is required when alternate_content_type is "
                          f"{rule.alternate_content_type}.")


def _commit(session: Session, external_id: str | None, *, in_use: bool = True) -> None:
    commit_change(session, f"Field 'external_id': another rule already uses '{external_id}'.", in_use=in_use)


def create_rule(session: Session, owner: str, data: RuleCreate) -> Rule:
    rule = Rule(id=new_id(), owner=owner, desc=data.desc, all_viewers=False, alternate_content_type="slate",
                alternate_content_id="", alternate_content_loop=True)
    _apply(session, owner, rule, data)
    session.add(rule)
    _commit(session, data.external_id, in_use=False)  # no blackout lists a new rule yet
    return rule


def update_rule(session: Session, owner: str, ref: str, data: RuleFields) -> Rule:
    rule = get_rule(session, owner, ref, for_update=True)
    before = serialize_rule(rule)
    _apply(session, owner, rule, data)
    if serialize_rule(rule) != before:  # `updated` moves only when something changed
        rule.updated = utcnow()
    _commit(session, data.external_id)
    return rule


def delete_rule(session: Session, owner: str, ref: str) -> str:
    rule = get_rule(session, owner, ref, for_update=True)
    rule_id = rule.id
    delete_unless_used(session, rule, "Rule", ref)  # a blackout may still list it
    add_tombstone(session, "rule", owner, rule_id)
    decisions_changed(session)
    session.commit()
    return rule_id
