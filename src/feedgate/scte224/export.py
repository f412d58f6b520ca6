"""A channel's blackouts, rules, audiences, windows and cue matches written as one SCTE 224 document (2018
namespace) that the importer reads back to the same state. Each entry's id is the object's external_id,
else its system ID (blackouts: their blackout ID), which the importer matches too."""

from datetime import UTC, datetime

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from feedgate.audiences.models import Audience, SubAudience
from feedgate.blackouts.models import Blackout, BlackoutRule
from feedgate.channels.service import get_channel
from feedgate.programs.models import CueMatch, ScheduleWindow
from feedgate.rules.models import Rule
from feedgate.scte224.document import ACTION_NS, AUDIENCE_NS, BLACKOUT, FEEDGATE_NS, NS, XLINK

NSMAP = {None: NS, "audience": AUDIENCE_NS, "action": ACTION_NS, "xlink": "http://www.w3.org/1999/xlink",
         "fg": FEEDGATE_NS}
PROPERTIES = (("country_codes", AUDIENCE_NS, "ISO3166"), ("zip_codes", AUDIENCE_NS, "Zip"),
              ("dma_codes", AUDIENCE_NS, "DMA"), ("devices", AUDIENCE_NS, "Device"),
              ("ip_networks", FEEDGATE_NS, "IPNetwork"))


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _el(parent: etree._Element, local: str, ns: str = NS, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{ns}}}{local}", {k: v for k, v in attrs.items() if v})


def _ref(parent: etree._Element, local: str, target: str) -> None:
    etree.SubElement(parent, f"{{{NS}}}{local}", {XLINK: target})


def _name(row: Audience | Rule) -> str:
    return row.external_id or row.id


def _content(rule: Rule) -> str:
    if rule.alternate_content_type == "slate":
        return BLACKOUT
    if rule.alternate_content_type == "asset" and ":" in rule.alternate_content_id:
        return rule.alternate_content_id
    return f"urn:feedgate:{rule.alternate_content_type}:{rule.alternate_content_id}"


def _audiences(session: Session, root: etree._Element, ids: set[str]) -> dict[str, str]:
    links = session.execute(select(SubAudience.super_id, SubAudience.sub_id).where(SubAudience.super_id.in_(ids))
                            .order_by(SubAudience.position)).all()
    rows = {a.id: a for a in session.scalars(select(Audience).where(
        Audience.id.in_(ids | {link.sub_id for link in links})))}
    names = {ident: _name(row) for ident, row in rows.items()}
    for row in sorted(rows.values(), key=lambda a: a.type == "Multiple"):
        aud = _el(root, "Audience", id=names[row.id], description=row.desc, match=row.match_type)
        for field, ns, local in PROPERTIES:
            for value in getattr(row, field) or []:
                _el(aud, local, ns).text = value
        for link in links:
            if link.super_id == row.id:
                _ref(aud, "Audience", names[link.sub_id])
    return names


def export_channel(session: Session, owner: str, channel_ref: str) -> bytes:
    channel = get_channel(session, owner, channel_ref)
    blackouts = session.scalars(select(Blackout).where(Blackout.channel_id == channel.id)
                                .order_by(Blackout.blackout_id)).all()
    links = session.execute(select(BlackoutRule.blackout_pk, BlackoutRule.rule_id).where(
        BlackoutRule.blackout_pk.in_([b.id for b in blackouts])).order_by(BlackoutRule.position)).all()
    rules = {r.id: r for r in session.scalars(select(Rule).where(Rule.id.in_({link.rule_id for link in links})))}
    root = etree.Element(f"{{{NS}}}Results", nsmap=NSMAP)  # type: ignore[arg-type]
    root.set("version", "20180501")
    names = _audiences(session, root, {r.audience_id for r in rules.values() if r.audience_id})
    for rule in sorted(rules.values(), key=_name):
        vp = _el(root, "ViewingPolicy", id=_name(rule), description=rule.desc)
        if rule.all_viewers:
            _el(_el(vp, "Audience", id=f"{_name(rule)}#all"), "All", AUDIENCE_NS)
        elif rule.audience_id:
            _ref(vp, "Audience", names[rule.audience_id])
        _el(vp, "Content", ACTION_NS).text = _content(rule)
    for blackout in blackouts:
        policy = _el(root, "Policy", id=blackout.blackout_id, description=blackout.desc)
        for link in links:
            if link.blackout_pk == blackout.id:
                _ref(policy, "ViewingPolicy", _name(rules[link.rule_id]))
    _media(session, root, channel.id, channel.external_id or channel.id, channel.desc,
           [b.blackout_id for b in blackouts])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _media(session: Session, root: etree._Element, channel_id: str, name: str, desc: str,
           blackout_ids: list[str]) -> None:
    media = _el(root, "Media", id=name, description=desc, source=name)
    pointed: set[str] = set()
    for window in session.scalars(select(ScheduleWindow).where(ScheduleWindow.channel_id == channel_id)
                                  .order_by(ScheduleWindow.start_ms)):
        point = _el(media, "MediaPoint", id=window.external_id or window.id, matchTime=_iso(window.start_ms))
        apply = _el(point, "Apply", duration=f"PT{(window.end_ms - window.start_ms) / 1000:g}S")
        _ref(apply, "Policy", window.blackout_id)
        pointed.add(window.blackout_id)
    for match in session.scalars(select(CueMatch).where(CueMatch.channel_id == channel_id).order_by(CueMatch.id)):
        point = _el(media, "MediaPoint", id=match.external_id,
                    effective=_iso(match.effective_ms) if match.effective_ms is not None else "",
                    expires=_iso(match.expires_ms) if match.expires_ms is not None else "")
        _ref(_el(point, "Apply" if match.applies else "Remove"), "Policy", match.blackout_id)
        pointed.add(match.blackout_id)
        signal = _el(point, "MatchSignal", match=match.match)
        for condition in match.conditions or []:
            tests = ([f"@segmentationTypeId={condition['type']}"] if condition.get("type") is not None else [])
            upid = f"/SegmentationUpid[text()='{condition['upid']}']" if condition.get("upid") is not None else ""
            kind = f"[{tests[0]}]" if tests else ""
            _el(signal, "Assert").text = f"/SpliceInfoSection/SegmentationDescriptor{kind}{upid}"
    for blackout_id in blackout_ids:  # started by program tags only: feedgate's own element keeps it on the channel
        if blackout_id not in pointed:
            etree.SubElement(media, f"{{{FEEDGATE_NS}}}Policy", {XLINK: blackout_id})
