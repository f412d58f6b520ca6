"""Audiences and superaudiences: validation, referential safety, serialization."""

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from feedgate.audiences import schemas
from feedgate.audiences.models import Audience, SubAudience
from feedgate.audiences.schemas import AudienceCreate, AudienceFields, AudienceUpdate
from feedgate.kit.errors import FeedgateError, bad_request
from feedgate.kit.ids import new_id
from feedgate.kit.lookup import find_by_ref
from feedgate.kit.models import add_tombstone, commit_change, delete_unless_used, flush_change
from feedgate.kit.pagination import Listed, PageQuery, paginate
from feedgate.kit.time import iso_ms, utcnow
from feedgate.kit.versions import decisions_changed

API = "/api/v4/audiences"
VALUE_FIELDS = ("country_codes", "zip_codes", "dma_codes", "ip_networks", "devices")


def get_audience(session: Session, owner: str, ref: str, *, for_update: bool = False) -> Audience:
    return find_by_ref(session, Audience, ref, "Audience", Audience.owner == owner, for_update=for_update)


def render_audiences(session: Session, audiences: Sequence[Audience]) -> list[schemas.Audience]:
    supers = [a.id for a in audiences if a.type == "Multiple"]
    subs: dict[str, list[str]] = {a: [] for a in supers}
    if supers:
        for link in session.execute(select(SubAudience.super_id, SubAudience.sub_id)
                                    .where(SubAudience.super_id.in_(supers)).order_by(SubAudience.position)):
            subs[link.super_id].append(link.sub_id)
    return [schemas.Audience(
        at_id=f"{API}/{a.id}", id=a.id, owner=a.owner, created=iso_ms(a.created), updated=iso_ms(a.updated),
        desc=a.desc, external_id=a.external_id or "", match_type=a.match_type, type=a.type,
        **{name: list(getattr(a, name) or []) for name in VALUE_FIELDS}, sub_audiences=subs.get(a.id, []))
        for a in audiences]


def serialize_audience(session: Session, audience: Audience) -> schemas.Audience:
    return render_audiences(session, [audience])[0]


def list_audiences(session: Session, owner: str, page: PageQuery) -> schemas.Audiences:
    listed = Listed(API, {"created": Audience.created, "desc": Audience.desc, "external_id": Audience.external_id},
                    updated_column=Audience.updated, tombstone=("audience", owner, ""), tombstone_type="Audience")
    return paginate(session, select(Audience).where(Audience.owner == owner), page, listed,
                    lambda rows: render_audiences(session, rows), schemas.Audiences)


def _check_shape(kind: str, data: AudienceFields) -> None:
    if kind == "Multiple":
        for name in VALUE_FIELDS:
            if getattr(data, name):
                raise bad_request(f"Field '{name}' is for audiences of type Single; a superaudience "
                                  "(type Multiple) only takes sub_audiences.")
    elif data.sub_audiences:
        raise bad_request("Field 'sub_audiences' is for superaudiences (type Multiple); "
                          "this audience is of type Single.")


def _set_subs(session: Session, owner: str, audience: Audience, refs: list[str]) -> None:
    ids: list[str] = []
    for index, ref in enumerate(refs):
        try:
            with session.no_autoflush:
                sub = find_by_ref(session, Audience, ref, "Audience", Audience.owner == owner)
        except FeedgateError:
            raise bad_request(f"Field 'sub_audiences[{index}]': audience '{ref}' does not exist.") from None
        if sub.type != "Single":
            raise bad_request(f"Field 'sub_audiences[{index}]': audience '{ref}' is a superaudience; "
                              "only Single audiences can be sub-audiences.")
        if sub.id not in ids:
            ids.append(sub.id)
    with session.no_autoflush:  # uniqueness clashes surface at commit, as one 409
        session.execute(delete(SubAudience).where(SubAudience.super_id == audience.id))
    session.add_all(SubAudience(super_id=audience.id, sub_id=sub_id, position=i) for i, sub_id in enumerate(ids))


def _commit(session: Session, external_id: str | None, *, in_use: bool = True) -> None:
    commit_change(session, f"Field 'external_id': another audience already uses '{external_id}'.", in_use=in_use)


def create_audience(session: Session, owner: str, data: AudienceCreate) -> Audience:
    _check_shape(data.type, data)
    audience = Audience(
        id=new_id(), owner=owner, desc=data.desc, external_id=data.external_id or None, type=data.type,
        match_type=data.match_type or "ANY", **{name: getattr(data, name) or [] for name in VALUE_FIELDS},
    )
    session.add(audience)
    if data.type == "Multiple":
        _set_subs(session, owner, audience, data.sub_audiences or [])
    _commit(session, data.external_id, in_use=False)  # nothing refers to a new audience yet
    return audience


def update_audience(session: Session, owner: str, ref: str, data: AudienceUpdate) -> Audience:
    audience = get_audience(session, owner, ref, for_update=True)
    if data.type is not None and data.type != audience.type:
        raise bad_request(f"Field 'type' cannot change: audience '{ref}' is of type {audience.type}.")
    _check_shape(audience.type, data)
    before = serialize_audience(session, audience)
    if data.desc is not None:
        audience.desc = data.desc
    if data.external_id is not None:
        audience.external_id = data.external_id or None
    if data.match_type is not None:
        audience.match_type = data.match_type
    for name in VALUE_FIELDS:
        if getattr(data, name) is not None:
            setattr(audience, name, getattr(data, name))
    if data.sub_audiences is not None and audience.type == "Multiple":
        _set_subs(session, owner, audience, data.sub_audiences)
    flush_change(session, {"external_id": audience.external_id})
    if serialize_audience(session, audience) != before:  # `updated` moves only when something changed
        audience.updated = utcnow()
    _commit(session, data.external_id)
    return audience


def delete_audience(session: Session, owner: str, ref: str) -> str:
    audience = get_audience(session, owner, ref, for_update=True)
    audience_id = audience.id
    delete_unless_used(session, audience, "Audience", ref)  # a rule or a superaudience may still use it
    add_tombstone(session, "audience", owner, audience_id)
    decisions_changed(session)
    session.commit()
    return audience_id
