"""Importing an SCTE 224 document: the plan applied in one transaction, one configuration version.

Every object keeps its 224 id as `external_id`, so a re-import updates it in place and an identical
document changes nothing (`updated` moves only on a real change; no version, no event). Each `Media` is
authoritative for what it made before: what it no longer has is removed, unless something outside the
feed still uses it (409 naming it). A dry run is the same import rolled back, so its diff is exact.
"""

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from feedgate.audiences.models import Audience, SubAudience
from feedgate.auth.models import User
from feedgate.blackouts.models import Blackout, BlackoutRule
from feedgate.channels.models import Channel
from feedgate.kit.errors import FeedgateError, bad_request, conflict
from feedgate.kit.events import DomainEvent, record
from feedgate.kit.ids import new_id
from feedgate.kit.models import commit_change, delete_unless_used
from feedgate.kit.pagination import Listed, PageQuery, paginate
from feedgate.kit.time import iso_ms, utcnow
from feedgate.programs.models import CueMatch, ScheduleWindow
from feedgate.rules import service as rules_service
from feedgate.rules.models import Rule
from feedgate.scte224 import schemas
from feedgate.scte224.document import Document, DocumentError, Refusal, read_document
from feedgate.scte224.models import Scte224Feed, Scte224Import, Scte224Object
from feedgate.scte224.plan import KINDS, VALUE_FIELDS, ContentCheck, Plan, Wanted, make_plan

API = "/api/v4/scte224"
MODELS: dict[str, Any] = {"audience": Audience, "rule": Rule, "blackout": Blackout, "window": ScheduleWindow,
                          "cue_match": CueMatch}
CHUNK = 500
SHOWN_REFUSALS = 5


@dataclass
class Applied:
    """What the import did, object by object, and the system ID behind every 224 id it touched."""

    changes: list[schemas.Change] = field(default_factory=list)
    ids: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (kind, channel, key) -> id
    unchanged: int = 0

    def note(self, item: Wanted, row: Any, action: str | None, fields: Iterable[str] = ()) -> None:
        self.ids[(item.kind, item.channel, item.key)] = row.id
        if action is None:
            self.unchanged += 1
        else:
            self.changes.append(schemas.Change(kind=item.kind, action=action, external_id=item.key,
                                               id=row.id, channel=item.channel, fields=list(fields)))


def _channels(session: Session, owner: str, doc: Document,
              channel_map: dict[str, str]) -> tuple[dict[str, str], list[Refusal]]:
    """The channel each Media maps to: the explicit map, else external_id = source, else = id, else system ID."""
    found: dict[str, str] = {}
    refusals = [Refusal("Media", name, 0, "channel_map names this Media; the document has none by that id")
                for name in channel_map if name not in doc.media]
    for media in doc.media.values():
        refs = [channel_map[media.id]] if media.id in channel_map else [r for r in (media.source, media.id) if r]
        rows = session.scalars(select(Channel).where(Channel.owner == owner, or_(
            Channel.external_id.in_(refs), Channel.id.in_(refs)))).all()
        ranked = sorted(rows, key=lambda c: min([refs.index(c.external_id) if c.external_id in refs else 9,
                                                 (refs.index(c.id) + 2) if c.id in refs else 9]))
        if ranked:
            found[media.id] = ranked[0].id
        else:
            refusals.append(Refusal("Media", media.id, media.line, f"no channel of yours has external_id or ID "
                                    f"{' or '.join(repr(r) for r in refs)}; map it with channel_map"))
    return found, refusals


def _existing(session: Session, kind: str, owner: str, channels: Sequence[str],
              keys: Sequence[str]) -> dict[tuple[str, str], Any]:
    """Rows a 224 id names, by (channel, key): their external_id first, else their system ID (or blackout_id)."""
    model = MODELS[kind]
    alt = model.blackout_id if kind == "blackout" else model.id
    scope = model.owner == owner if kind in ("audience", "rule") else model.channel_id.in_(channels)
    out: dict[tuple[str, str], Any] = {}
    for start in range(0, len(keys), CHUNK):
        part = list(keys[start:start + CHUNK])
        rows = session.scalars(select(model).where(scope, or_(model.external_id.in_(part), alt.in_(part)))).all()
        for row in sorted(rows, key=lambda r: r.external_id in part):  # external_id wins: written last
            channel = getattr(row, "channel_id", "") if kind not in ("audience", "rule") else ""
            for key in {row.external_id, getattr(row, "blackout_id", None) if kind == "blackout" else row.id}:
                if key in part:
                    out[(channel, key)] = row
    return out


def _set(row: Any, values: dict[str, Any]) -> list[str]:
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    return changed


SUB_LINKS = (SubAudience, "super_id", "sub_id")  # (link table, the holder's column, the member's column)
RULE_LINKS = (BlackoutRule, "blackout_pk", "rule_id")


def _relink(session: Session, links: tuple[Any, str, str], row: Any, members: list[str], fresh: bool = False) -> bool:
    """Set `row`'s ordered links to `members` where they differ (then `updated` moves); whether they did."""
    model, holder, member = links
    if not fresh:
        current = list(session.scalars(select(getattr(model, member)).where(getattr(model, holder) == row.id)
                                       .order_by(model.position)))
        if current == members:
            return False
        session.execute(delete(model).where(getattr(model, holder) == row.id))
        row.updated = utcnow()
    session.add_all(model(**{holder: row.id, member: m, "position": i}) for i, m in enumerate(members))
    return True


def _audiences(session: Session, owner: str, plan: Plan, applied: Applied) -> None:
    items = [w for w in plan.wanted.values() if w.kind == "audience"]
    rows = _existing(session, "audience", owner, [], [w.key for w in items])
    for item in sorted(items, key=lambda w: w.fields["type"] == "Multiple"):  # members first
        data = item.fields
        row = rows.get(("", item.key))
        if row is not None and row.type != data["type"]:
            raise conflict(f"Audience '{item.key}' is of type {row.type}; the document makes it "
                           f"{data['type']} (a type cannot change: delete it or give the entry another id).")
        values = {"desc": data["desc"], "match_type": data["match_type"], **{n: data[n] for n in VALUE_FIELDS}}
        members = [applied.ids[("audience", "", m)] for m in data["members"]]
        if row is None:
            row = Audience(id=new_id(), owner=owner, external_id=item.key, type=data["type"], **values)
            session.add(row)
            session.flush()  # the rows are tied by foreign keys only: the audience before its member links
            _relink(session, SUB_LINKS, row, members, fresh=True)
            applied.note(item, row, "created")
            continue
        changed = _set(row, values)
        if data["type"] == "Multiple" and _relink(session, SUB_LINKS, row, members):
            changed.append("sub_audiences")
        applied.note(item, row, "updated" if changed else None, changed)


def _rules(session: Session, owner: str, plan: Plan, applied: Applied) -> None:
    items = [w for w in plan.wanted.values() if w.kind == "rule"]
    rows = _existing(session, "rule", owner, [], [w.key for w in items])
    for item in items:
        data = dict(item.fields)
        audience = data.pop("audience")
        data["audience_id"] = applied.ids[("audience", "", audience)] if audience else None
        row = rows.get(("", item.key))
        if row is None:
            row = Rule(id=new_id(), owner=owner, external_id=item.key, alternate_content_loop=True, **data)
            session.add(row)
            applied.note(item, row, "created")
        else:
            changed = _set(row, data)
            applied.note(item, row, "updated" if changed else None, changed)


def _blackouts(session: Session, owner: str, plan: Plan, applied: Applied, channels: Sequence[str]) -> None:
    items = [w for w in plan.wanted.values() if w.kind == "blackout"]
    rows = _existing(session, "blackout", owner, channels, [w.key for w in items])
    for item in items:
        rules = [applied.ids[("rule", "", r)] for r in item.fields["rules"]]
        values = {"blackout_id": item.fields["blackout_id"], "desc": item.fields["desc"]}
        row = rows.get((item.channel, item.key))
        if row is None:
            row = Blackout(id=new_id(), owner=owner, channel_id=item.channel, external_id=item.key, **values)
            session.add(row)
            session.flush()  # the blackout before its rule links
            _relink(session, RULE_LINKS, row, rules, fresh=True)
            applied.note(item, row, "created")
            continue
        changed = _set(row, values)
        if _relink(session, RULE_LINKS, row, rules):
            changed.append("rules")
        applied.note(item, row, "updated" if changed else None, changed)


def _on_channels(session: Session, kind: str, plan: Plan, applied: Applied, channels: Sequence[str]) -> None:
    """Schedule windows and cue matches: plain rows on a channel."""
    model = MODELS[kind]
    items = [w for w in plan.wanted.values() if w.kind == kind]
    rows = _existing(session, kind, "", channels, [w.key for w in items])
    for item in items:
        row = rows.get((item.channel, item.key))
        if row is None:
            row = model(id=new_id(), channel_id=item.channel, external_id=item.key, **item.fields)
            session.add(row)
            applied.note(item, row, "created")
        else:
            changed = _set(row, item.fields)
            applied.note(item, row, "updated" if changed else None, changed)


def _remove(session: Session, owner: str, media: Sequence[str], plan: Plan, applied: Applied) -> None:
    """What these Media made before and no longer have goes, unless another Media (or anything else) uses it."""
    kept = {(kind, ident) for (kind, _, _), ident in applied.ids.items()}
    claimed = session.execute(select(Scte224Object.media, Scte224Object.kind, Scte224Object.object_id)
                              .where(Scte224Object.owner == owner)).all()
    elsewhere = {(c.kind, c.object_id) for c in claimed if c.media not in media}
    gone = [(c.kind, c.object_id) for c in claimed if c.media in media
            and (c.kind, c.object_id) not in kept and (c.kind, c.object_id) not in elsewhere]
    order = {kind: i for i, kind in enumerate(reversed(KINDS))}
    rows = [(kind, session.get(MODELS[kind], ident)) for kind, ident in set(gone)]
    # Superaudiences before their members, rules before their audiences: RESTRICT keys allow no other order.
    for kind, row in sorted(((k, r) for k, r in rows if r is not None),
                            key=lambda g: (order[g[0]], getattr(g[1], "type", "") != "Multiple")):
        external = row.external_id or row.id
        if kind in ("audience", "rule"):
            delete_unless_used(session, row, kind.capitalize(), external)
        else:
            session.delete(row)
        applied.changes.append(schemas.Change(kind=kind, action="removed", external_id=external,
                                              id=row.id, channel=getattr(row, "channel_id", "")))


def _claim(session: Session, owner: str, media: Sequence[str], plan: Plan, applied: Applied) -> None:
    session.execute(delete(Scte224Object).where(Scte224Object.owner == owner, Scte224Object.media.in_(media)))
    rows = {(m, item.kind, applied.ids[(item.kind, item.channel, item.key)])
            for item in plan.wanted.values() for m in item.media if m}
    session.add_all(Scte224Object(owner=owner, media=m, kind=k, object_id=i) for m, k, i in rows)


def _check_windows(session: Session, channels: Iterable[str]) -> None:
    for channel in channels:
        rows = session.scalars(select(ScheduleWindow).where(ScheduleWindow.channel_id == channel)
                               .order_by(ScheduleWindow.start_ms)).all()
        for before, after in itertools.pairwise(rows):
            if after.start_ms < before.end_ms:
                names = sorted(w.external_id or w.id for w in (before, after))
                raise conflict(f"Schedule windows '{names[0]}' and '{names[1]}' on channel '{channel}' overlap; "
                               "a channel has one blackout window at a time (remove or move one).")


def _refused(refusals: list[Refusal]) -> list[schemas.Change]:
    return [schemas.Change(kind="element", action="refused", external_id=r.id, element=r.element,
                           line=r.line or None, reason=r.reason) for r in refusals]


def _refuse(refusals: list[Refusal]) -> FeedgateError:
    shown = "; ".join(r.text() for r in refusals[:SHOWN_REFUSALS])
    more = f" (and {len(refusals) - SHOWN_REFUSALS} more)" if len(refusals) > SHOWN_REFUSALS else ""
    return bad_request(f"The document has {len(refusals)} element(s) feedgate cannot honour; nothing was "
                       f"applied: {shown}{more}. Ask with dry_run=1 for the whole diff.")


def _content_check(session: Session, owner: str) -> ContentCheck:
    def check(kind: str, ident: str) -> bool:
        found = rules_service.CONTENT_CHECKS.get(kind)
        return found is None or found(session, owner, ident)
    return check


def _apply(session: Session, owner: str, plan: Plan, channels: dict[str, str]) -> Applied:
    applied = Applied()
    on = sorted(set(channels.values()))
    with session.no_autoflush:
        _audiences(session, owner, plan, applied)
        session.flush()
        _rules(session, owner, plan, applied)
        session.flush()
        _blackouts(session, owner, plan, applied, on)
        _on_channels(session, "window", plan, applied, on)
        _on_channels(session, "cue_match", plan, applied, on)
    session.flush()
    mapped = sorted(channels)
    _remove(session, owner, mapped, plan, applied)
    _claim(session, owner, mapped, plan, applied)
    session.flush()
    _check_windows(session, on)
    return applied


def import_document(session: Session, owner: str, data: bytes, *, channel_map: dict[str, str] | None = None,
                    dry_run: bool = False, by: str = "", source: str = "api", feed_id: str = "") -> schemas.Import:
    try:
        doc = read_document(data)
    except DocumentError as exc:
        raise bad_request(str(exc)) from None
    session.execute(select(User.id).where(User.id == owner).with_for_update())  # one import per user at a time
    channels, refusals = _channels(session, owner, doc, channel_map or {})
    plan = make_plan(doc, channels, _content_check(session, owner))
    refusals += plan.refusals
    if refusals and not dry_run:
        raise _refuse(refusals)
    applied = _apply(session, owner, plan, channels)
    changed = bool(applied.changes)
    result = _result(owner, doc, data, channels, applied, refusals, by or owner, source, dry_run)
    if dry_run:
        session.rollback()
        return result
    row = Scte224Import(id=new_id(), owner=owner, by=result.by, source=source, digest=result.digest,
                        generation=doc.generation, changed=changed, channels=sorted(set(channels.values())),
                        media=[m.model_dump() for m in result.media], summary=result.summary.model_dump(),
                        diff=[c.model_dump() for c in result.diff])
    session.add(row)
    if changed:
        record(session, DomainEvent("scte224.imported", owner, {
            "import_id": row.id, "source": source, "digest": result.digest, "summary": result.summary.model_dump(),
            "channels": row.channels, **({"feed_id": feed_id} if feed_id else {})}))
        commit_change(session)  # one configuration version for the whole document
    else:
        session.commit()
    result.id, result.at_id, result.created = row.id, f"{API}/imports/{row.id}", iso_ms(row.created)
    return result


def _result(owner: str, doc: Document, data: bytes, channels: dict[str, str], applied: Applied,
            refusals: list[Refusal], by: str, source: str, dry_run: bool) -> schemas.Import:
    diff = applied.changes + _refused(refusals)
    counts = {action: sum(1 for c in diff if c.action == action) for action in ("created", "updated", "removed",
                                                                                  "refused")}
    return schemas.Import(
        at_id=f"{API}/imports", id="", owner=owner, created=iso_ms(utcnow()), by=by, source=source,
        digest=hashlib.sha256(data).hexdigest(), generation=doc.generation, dry_run=dry_run,
        changed=bool(applied.changes), media=[schemas.MediaMapping(media=m, channel=c) for m, c in channels.items()],
        summary=schemas.Summary(unchanged=applied.unchanged, **counts), diff=diff)


def serialize_import(row: Scte224Import) -> schemas.Import:
    return schemas.Import(
        at_id=f"{API}/imports/{row.id}", id=row.id, owner=row.owner, created=iso_ms(row.created), by=row.by,
        source=row.source, digest=row.digest, generation=row.generation, dry_run=False, changed=row.changed,
        media=[schemas.MediaMapping(**m) for m in row.media], summary=schemas.Summary(**row.summary),
        diff=[schemas.Change(**c) for c in row.diff])


def list_imports(session: Session, owner: str, page: PageQuery) -> schemas.Imports:
    listed = Listed(f"{API}/imports", {"created": Scte224Import.created}, default_order="-created")
    return paginate(session, select(Scte224Import).where(Scte224Import.owner == owner), page, listed,
                    lambda rows: [serialize_import(r) for r in rows], schemas.Imports)



@dataclass
class RightsSource:
    """Where a channel's rights came from: the latest import that mapped a Media to it, the latest one that
    changed something (its diff, this channel's part), and the feed behind them with its last check."""

    latest: schemas.Import
    last_change: schemas.Import | None
    changes: list[schemas.Change]
    feed: Scte224Feed | None


def rights_source(session: Session, owner: str, channel_id: str, scanned: int = 200) -> RightsSource | None:
    """None when no import of the last `scanned` mapped a Media to this channel."""
    rows = [r for r in session.scalars(select(Scte224Import).where(Scte224Import.owner == owner)
                                       .order_by(Scte224Import.created.desc()).limit(scanned))
            if channel_id in r.channels]
    if not rows:
        return None
    changed = next((r for r in rows if r.changed), None)
    last_change = serialize_import(changed) if changed is not None else None
    changes = [c for c in last_change.diff if c.channel in ("", channel_id)] if last_change else []
    feed_id = rows[0].by.removeprefix("feed ") if rows[0].by.startswith("feed ") else ""
    feed = session.get(Scte224Feed, feed_id) if feed_id else None
    return RightsSource(serialize_import(rows[0]), last_change, changes, feed)
