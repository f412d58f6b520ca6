"""What a read document asks for, as plain data: the audiences, rules, blackouts, windows and cue matches it
makes, each under its SCTE 224 id, or the refusals that stop it. No session, no HTTP: the service hands in
which channel each Media maps to and whether named alternate content exists."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from feedgate.audiences.schemas import AudienceFields
from feedgate.scte224.document import BLACKOUT, AudienceDef, Document, MediaDef, PointDef, Refusal

KINDS = ("audience", "rule", "blackout", "window", "cue_match")  # the order they are made in
VALUE_FIELDS = ("country_codes", "zip_codes", "dma_codes", "ip_networks", "devices")
CONTENT_PREFIX = "urn:feedgate:"  # urn:feedgate:channel:<id>, urn:feedgate:slicer:<id>, urn:feedgate:asset:<id>
OWN = "#own"  # the member holding a superaudience's own properties


@dataclass
class Wanted:
    kind: str
    key: str  # the SCTE 224 id: the object's external_id
    fields: dict[str, Any]
    channel: str = ""  # blackouts, windows and cue matches live on a channel
    media: set[str] = field(default_factory=set)  # the Media that reach it ("" for none: never removed)


@dataclass
class Plan:
    wanted: dict[tuple[str, str, str], Wanted] = field(default_factory=dict)  # (kind, channel, key)
    refusals: list[Refusal] = field(default_factory=list)

    def want(self, item: Wanted, media: str) -> None:
        found = self.wanted.setdefault((item.kind, item.channel, item.key), item)
        found.media.add(media)


ContentCheck = Callable[[str, str], bool]  # (alternate_content_type, id) -> the owner has it


def content(uri: str) -> tuple[str, str] | None:
    """An action:Content URI as (alternate_content_type, alternate_content_id), by the documented convention."""
    if uri == BLACKOUT:
        return "slate", ""
    if uri.startswith(CONTENT_PREFIX):
        kind, _, ident = uri.removeprefix(CONTENT_PREFIX).partition(":")
        return (kind, ident) if kind in ("channel", "slicer", "asset") and ident else None
    return ("asset", uri) if ":" in uri and len(uri) <= 200 else None


def _values(aud: AudienceDef) -> dict[str, list[str]] | str:
    try:
        checked = AudienceFields.model_validate({name: aud.values.get(name, []) for name in VALUE_FIELDS})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}"
    return {name: getattr(checked, name) or [] for name in VALUE_FIELDS}


def _single(plan: Plan, doc: Document, aud: AudienceDef, key: str, media: str) -> bool:
    found = plan.wanted.get(("audience", "", key))
    if found is not None:  # wanted already by another reference: its values are checked once (40,000 zips)
        found.media.add(media)
        return True
    values = _values(aud)
    if isinstance(values, str):
        plan.refusals.append(Refusal("Audience", aud.id, aud.line, values))
        return False
    desc = aud.desc if key == aud.id else f"{aud.desc} (own properties)"
    plan.want(Wanted("audience", key, {"desc": desc[:500], "type": "Single", "match_type": aud.match,
                                       **values, "members": []}), media)
    return True


def audience(plan: Plan, doc: Document, ref: str, media: str, line: int, holder: str) -> str | None:
    """Want the audience `ref` (and its members); its key, or None when refused."""
    aud = doc.audiences.get(ref)
    if aud is None:
        plan.refusals.append(Refusal("Audience", holder, line, f"refers to audience '{ref}', which the "
                                     "document does not define"))
        return None
    if aud.everyone and (aud.values or aud.members):
        plan.refusals.append(Refusal("Audience", aud.id, aud.line, "audience:All with other properties"))
        return None
    if not aud.members:
        return aud.id if _single(plan, doc, aud, aud.id, media) else None
    members: list[str] = []
    if aud.values:
        own = AudienceDef(aud.id + OWN, aud.desc, aud.line, aud.match, aud.values)
        if not _single(plan, doc, own, own.id, media):
            return None
        members.append(own.id)
    for member_ref in aud.members:
        member = doc.audiences.get(member_ref)
        if member is None or member.members or member.everyone:
            why = "is not defined" if member is None else "nests audiences itself or is audience:All"
            plan.refusals.append(Refusal("Audience", aud.id, aud.line, f"member '{member_ref}' {why}; feedgate's "
                                         "superaudiences are one level deep over plain audiences"))
            return None
        if not _single(plan, doc, member, member.id, media):
            return None
        members.append(member.id)
    plan.want(Wanted("audience", aud.id, {"desc": aud.desc[:500], "type": "Multiple", "match_type": aud.match,
                                          **{name: [] for name in VALUE_FIELDS}, "members": members}), media)
    return aud.id


def rule(plan: Plan, doc: Document, ref: str, media: str, line: int, holder: str, check: ContentCheck) -> bool:
    vp = doc.viewing_policies.get(ref)
    if vp is None:
        plan.refusals.append(Refusal("ViewingPolicy", holder, line, f"refers to viewing policy '{ref}', which "
                                     "the document does not define"))
        return False
    alternate = content(vp.content)
    if alternate is None:
        plan.refusals.append(Refusal("action:Content", vp.id, vp.line, f"'{vp.content}' is neither "
                                     f"{BLACKOUT} nor a URI feedgate can play (see the URI convention)"))
        return False
    if alternate[0] in ("channel", "slicer") and not check(*alternate):
        plan.refusals.append(Refusal("action:Content", vp.id, vp.line, f"{alternate[0]} '{alternate[1]}' "
                                     "does not exist in your account"))
        return False
    everyone = vp.audience is not None and vp.audience in doc.audiences and doc.audiences[vp.audience].everyone
    audience_key = None
    if vp.audience is not None and not everyone:
        audience_key = audience(plan, doc, vp.audience, media, vp.line, vp.id)
        if audience_key is None:
            return False
    plan.want(Wanted("rule", vp.id, {"desc": vp.desc[:500], "all_viewers": everyone, "audience": audience_key,
                                     "alternate_content_type": alternate[0],
                                     "alternate_content_id": alternate[1]}), media)
    return True


def blackout(plan: Plan, doc: Document, ref: str, media: MediaDef, channel: str, line: int,
             check: ContentCheck) -> bool:
    policy = doc.policies.get(ref)
    if policy is None:
        plan.refusals.append(Refusal("Policy", media.id, line, f"refers to policy '{ref}', which the document "
                                     "does not define"))
        return False
    for vp in policy.viewing_policies:
        if not rule(plan, doc, vp, media.id, policy.line, policy.id, check):
            return False
    plan.want(Wanted("blackout", policy.id, {"blackout_id": policy.id, "desc": policy.desc[:500],
                                             "rules": list(policy.viewing_policies)}, channel), media.id)
    return True


def _end(points: list[PointDef], point: PointDef, policy: str, duration: int | None) -> int | None:
    assert point.match_ms is not None
    if duration is not None:
        return point.match_ms + duration
    later = [p.match_ms for p in points if p.signal is None and p.match_ms is not None
             and p.match_ms > point.match_ms and policy in p.removes]
    return min(later) if later else point.expires_ms


def windows(plan: Plan, media: MediaDef, channel: str) -> None:
    timed = sorted((p for p in media.points if p.signal is None and p.match_ms is not None),
                   key=lambda p: p.match_ms or 0)
    spans: list[tuple[int, int, str]] = []
    for point in timed:
        for index, (policy, duration) in enumerate(point.applies):
            end = _end(timed, point, policy, duration)
            key = point.id if len(point.applies) == 1 else f"{point.id}#{index}"
            start = point.match_ms or 0
            if end is None or end <= start:
                plan.refusals.append(Refusal("Apply", point.id, point.line, "no end: give a duration, a later "
                                             "MediaPoint that removes the policy, or expires after matchTime"))
                continue
            clash = next((s for s in spans if s[0] < end and s[1] > start), None)
            if clash is not None:
                plan.refusals.append(Refusal("MediaPoint", point.id, point.line, f"its window overlaps "
                                             f"'{clash[2]}'; a channel has one blackout window at a time"))
                continue
            spans.append((start, end, key))
            plan.want(Wanted("window", key, {"blackout_id": policy, "start_ms": start, "end_ms": end}, channel),
                      media.id)


def cue_matches(plan: Plan, media: MediaDef, channel: str) -> None:
    for point in media.points:
        if point.signal is None:
            continue
        actions = [(p, True) for p, _ in point.applies] + [(p, False) for p in point.removes]
        for index, (policy, applies) in enumerate(actions):
            key = point.id if len(actions) == 1 else f"{point.id}#{index}"
            conditions = [{"type": c.type_id, "upid": c.upid} for c in point.signal]
            plan.want(Wanted("cue_match", key, {
                "match": point.signal_match, "conditions": conditions, "applies": applies, "blackout_id": policy,
                "effective_ms": point.effective_ms, "expires_ms": point.expires_ms}, channel), media.id)


def make_plan(doc: Document, channels: dict[str, str], check: ContentCheck) -> Plan:
    """`channels`: the channel each Media maps to (a Media missing from it is refused by the caller)."""
    plan = Plan(refusals=list(doc.refusals))
    for media in doc.media.values():
        channel = channels.get(media.id)
        if channel is None:
            continue
        for point in media.points:
            for policy in dict.fromkeys([p for p, _ in point.applies] + point.removes):
                blackout(plan, doc, policy, media, channel, point.line, check)
        for policy in media.standing:
            blackout(plan, doc, policy, media, channel, media.line, check)
        windows(plan, media, channel)
        cue_matches(plan, media, channel)
    reached = {key for _, _, key in plan.wanted}
    members = {m for a in doc.audiences.values() for m in a.members}
    listed = {vp for p in doc.policies.values() for vp in p.viewing_policies}
    for aud in doc.audiences.values():  # entries no Media reaches are kept too (never removed by a Media)
        if aud.id not in reached and not aud.everyone and aud.id not in members:
            audience(plan, doc, aud.id, "", aud.line, aud.id)
    for vp in doc.viewing_policies.values():
        if vp.id not in reached and vp.id not in listed:
            rule(plan, doc, vp.id, "", vp.line, vp.id, check)
    for entry in doc.policies.values():
        if not any(key == entry.id for kind, _, key in plan.wanted if kind == "blackout"):
            plan.refusals.append(Refusal("Policy", entry.id, entry.line, "no MediaPoint of a mapped Media "
                                         "applies it, so there is no channel to put its blackout on"))
    plan.refusals = list(dict.fromkeys(plan.refusals))  # a policy reached from many points is refused once
    return plan
