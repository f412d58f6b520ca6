"""Reading an SCTE 224 document into plain data, safely: no DTD, no entities, no network, a size cap.

What is read (the mapping is in docs/design.md "SCTE 224 import"): `Audience`, `ViewingPolicy`, `Policy`,
`Media` and `MediaPoint` of the 2015 namespace (`.../224/2015`) or the bare one (2018 and 2020 documents,
told apart by their `version` attribute), as a `Results` list or a single entry. References are
`xlink:href` to an entry's `id`; inline entries without an `id` get one from their parent and position.
What feedgate cannot honour is a `Refusal` naming the element and its line, never dropped in silence.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree

NS_2015 = "http://www.scte.org/schemas/224/2015"
NS = "http://www.scte.org/schemas/224"
AUDIENCE_NS = "urn:scte:224:audience"
ACTION_NS = "urn:scte:224:action"
FEEDGATE_NS = "urn:feedgate:224"  # feedgate's own audience property: IPNetwork (an Audience admits ##other)
XLINK = "{http://www.w3.org/1999/xlink}href"
BLACKOUT = "urn:scte:224:action:blackout"
ENTRIES = ("Audience", "ViewingPolicy", "Policy", "Media")
DESCRIPTIVE = ("AltID", "Metadata")  # identifiers and free metadata: no behaviour to honour
AUDIENCE_VALUES = {"Zip": "zip_codes", "ISO3166": "country_codes", "DMA": "dma_codes", "Device": "devices"}
VALUE_TAGS = {f"{{{AUDIENCE_NS}}}{local}": name for local, name in AUDIENCE_VALUES.items()} | \
    {f"{{{FEEDGATE_NS}}}IPNetwork": "ip_networks"}
WHY_NOT = {
    "LatLongRadius": "feedgate locates viewers by country, zip, DMA and IP network, not by coordinates",
    "LatLongBox": "feedgate locates viewers by country, zip, DMA and IP network, not by coordinates",
    "LatLongPolygon": "feedgate locates viewers by country, zip, DMA and IP network, not by coordinates",
    "State": "feedgate's geolocation has no US state (list the state's zips or DMAs instead)",
    "FIPS": "feedgate's geolocation has no county",
    "PostalCode": "feedgate matches US zip codes only",
    "HomeZip": "feedgate knows where a viewer is, not where they live",
    "HomePostalCode": "feedgate knows where a viewer is, not where they live",
}
DURATION_RE = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
TYPE_RE = re.compile(r"segmentationTypeId\s*=\s*['\"]?(0x[0-9a-fA-F]+|\d+)")
UPID_RE = re.compile(r"text\(\)\s*=\s*(?:'([^']*)'|\"([^\"]*)\"|([^\s\]]+))")
MAX_ID = 200


class DocumentError(ValueError):
    """The document cannot be read at all: the 400's description, naming the line and element."""


@dataclass(frozen=True)
class Refusal:
    element: str
    id: str
    line: int
    reason: str

    def text(self) -> str:
        return f"line {self.line}: <{self.element}> in '{self.id}': {self.reason}"


@dataclass
class AudienceDef:
    id: str
    desc: str
    line: int
    match: str = "ALL"
    values: dict[str, list[str]] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)
    everyone: bool = False


@dataclass
class ViewingPolicyDef:
    id: str
    desc: str
    line: int
    audience: str | None = None
    content: str = ""


@dataclass
class PolicyDef:
    id: str
    desc: str
    line: int
    viewing_policies: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Condition:
    type_id: int | None
    upid: str | None


@dataclass
class PointDef:
    id: str
    line: int
    match_ms: int | None = None
    effective_ms: int | None = None
    expires_ms: int | None = None
    applies: list[tuple[str, int | None]] = field(default_factory=list)  # (policy, duration ms)
    removes: list[str] = field(default_factory=list)
    signal_match: str = "ANY"
    signal: list[Condition] | None = None


@dataclass
class MediaDef:
    id: str
    desc: str
    source: str
    line: int
    points: list[PointDef] = field(default_factory=list)
    standing: list[str] = field(default_factory=list)  # fg:Policy: a blackout on the channel with no window


@dataclass
class Document:
    generation: str
    audiences: dict[str, AudienceDef] = field(default_factory=dict)
    viewing_policies: dict[str, ViewingPolicyDef] = field(default_factory=dict)
    policies: dict[str, PolicyDef] = field(default_factory=dict)
    media: dict[str, MediaDef] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)


def parse_instant(text: str) -> int:
    """xs:dateTime to Unix ms; a time without a zone is read as UTC."""
    value = datetime.fromisoformat(text.strip())
    return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp() * 1000)


def parse_duration(text: str) -> int:
    """xs:duration to ms: days, hours, minutes, seconds (years and months have no fixed length)."""
    found = DURATION_RE.match(text.strip())
    if not found or text.strip() in ("P", "PT"):
        raise ValueError(f"'{text}' is not a duration of days, hours, minutes and seconds (such as PT2H30M)")
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in found.groups())
    return int(timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds).total_seconds() * 1000)


def _name(el: etree._Element) -> str:
    qname = etree.QName(el)
    prefix = {NS: "", NS_2015: "", AUDIENCE_NS: "audience:", ACTION_NS: "action:", FEEDGATE_NS: "fg:"}
    return prefix.get(qname.namespace or "", f"{{{qname.namespace}}}") + qname.localname


def _line(el: etree._Element) -> int:
    line: Any = el.sourceline
    return line if isinstance(line, int) else 0


def _text(el: etree._Element) -> str:
    return (el.text or "").strip()


def parse_xml(data: bytes) -> etree._Element:
    """The root element, or DocumentError: DTDs (entity bombs, external entities) are refused before parsing."""
    head = data[:4096].lstrip()
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError("The document carries a DTD or entity declarations (or is UTF-16); "
                            "SCTE 224 needs none and they are refused.")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=True, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else exc.lineno
        raise DocumentError(f"The document is not well-formed XML: line {line}: {exc.msg}.") from None
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype:
        raise DocumentError("The document carries a DTD; SCTE 224 needs none and it is refused.")
    return root


class Reader:
    """Walks the tree once, collecting entries by id and refusing what cannot be honoured."""

    def __init__(self, ns: str, generation: str) -> None:
        self.ns = ns
        self.doc = Document(generation)

    def q(self, local: str) -> str:
        return f"{{{self.ns}}}{local}"

    def refuse(self, el: etree._Element, owner_id: str, reason: str) -> None:
        self.doc.refusals.append(Refusal(_name(el), owner_id, _line(el), reason))

    def entry_id(self, el: etree._Element, fallback: str) -> str:
        entry_id = (el.get("id") or "").strip() or fallback
        if len(entry_id) > MAX_ID:
            raise DocumentError(f"line {el.sourceline}: <{_name(el)}> id is longer than {MAX_ID} characters.")
        return entry_id

    def reference(self, el: etree._Element, fallback: str, read: Callable[[etree._Element, str], None]) -> str:
        """An entry given inline (read it) or by `xlink:href` (resolved once all entries are read)."""
        href = (el.get(XLINK) or "").strip()
        if href and len(el) == 0:
            return href
        entry_id = self.entry_id(el, fallback)
        read(el, entry_id)
        return entry_id

    def entry(self, el: etree._Element) -> None:
        local = etree.QName(el).localname
        if etree.QName(el).namespace != self.ns or local not in ENTRIES:
            self.refuse(el, "(document)", f"feedgate imports {', '.join(ENTRIES)} entries only")
            return
        fallback = f"{local.lower()}-{el.sourceline}"
        {"Audience": self.audience, "ViewingPolicy": self.viewing_policy, "Policy": self.policy,
         "Media": self.media}[local](el, self.entry_id(el, fallback))

    def audience(self, el: etree._Element, entry_id: str) -> None:
        aud = AudienceDef(entry_id, el.get("description") or entry_id, _line(el),
                          (el.get("match") or "ALL").strip().upper())
        if aud.match not in ("ALL", "ANY", "NONE"):
            self.refuse(el, entry_id, f"match '{aud.match}' is not ALL, ANY or NONE")
        for index, child in enumerate(el):
            value_field = VALUE_TAGS.get(child.tag)
            if value_field is not None:  # the common case by far (tens of thousands of zips): no QName
                aud.values.setdefault(value_field, []).append((child.text or "").strip())
                continue
            qname = etree.QName(child)
            if qname.namespace == self.ns and qname.localname == "Audience":
                aud.members.append(self.reference(child, f"{entry_id}#{index}", self.audience))
            elif qname.namespace == self.ns and qname.localname in DESCRIPTIVE:
                continue
            elif qname.namespace == AUDIENCE_NS and qname.localname in AUDIENCE_VALUES:
                aud.values.setdefault(AUDIENCE_VALUES[qname.localname], []).append(_text(child))
            elif qname.namespace == AUDIENCE_NS and qname.localname == "All":
                aud.everyone = True
            elif qname.namespace == FEEDGATE_NS and qname.localname == "IPNetwork":
                aud.values.setdefault("ip_networks", []).append(_text(child))
            else:
                self.refuse(child, entry_id, WHY_NOT.get(qname.localname, "an audience property feedgate "
                                                         "cannot match viewers on"))
        self.doc.audiences[entry_id] = aud

    def viewing_policy(self, el: etree._Element, entry_id: str) -> None:
        vp = ViewingPolicyDef(entry_id, el.get("description") or entry_id, _line(el))
        for index, child in enumerate(el):
            qname = etree.QName(child)
            if qname.namespace == self.ns and qname.localname == "Audience":
                vp.audience = self.reference(child, f"{entry_id}#audience{index}", self.audience)
            elif qname.namespace == self.ns and qname.localname in DESCRIPTIVE:
                continue
            elif qname.namespace == ACTION_NS and qname.localname == "Content":
                vp.content = _text(child)
            else:
                self.refuse(child, entry_id, "an action feedgate cannot take (it switches viewers to alternate "
                                             "content or slate, nothing else)")
        if not vp.content:
            self.refuse(el, entry_id, "no action:Content: nothing says what its audience gets instead")
        self.doc.viewing_policies[entry_id] = vp

    def policy(self, el: etree._Element, entry_id: str) -> None:
        policy = PolicyDef(entry_id, el.get("description") or "", _line(el))
        for index, child in enumerate(el):
            qname = etree.QName(child)
            if qname.namespace == self.ns and qname.localname == "ViewingPolicy":
                policy.viewing_policies.append(self.reference(child, f"{entry_id}#{index}", self.viewing_policy))
            elif not (qname.namespace == self.ns and qname.localname in DESCRIPTIVE):
                self.refuse(child, entry_id, "a Policy holds ViewingPolicy elements only")
        self.doc.policies[entry_id] = policy

    def media(self, el: etree._Element, entry_id: str) -> None:
        media = MediaDef(entry_id, el.get("description") or "", (el.get("source") or "").strip(),
                         _line(el))
        bounds = self.eligible(el, entry_id)
        for index, child in enumerate(el):
            qname = etree.QName(child)
            if qname.namespace == self.ns and qname.localname == "MediaPoint":
                media.points.append(self.point(child, self.entry_id(child, f"{entry_id}#point{index}"), bounds))
            elif qname.namespace == FEEDGATE_NS and qname.localname == "Policy":
                # feedgate's own: the Policy is a blackout on this channel that program tags (API, SCTE-35,
                # console) start, with no time or signal point of its own; what the export writes for one.
                media.standing.append(self.reference(child, f"{entry_id}#policy{index}", self.policy))
            elif not (qname.namespace == self.ns and qname.localname in DESCRIPTIVE):
                self.refuse(child, entry_id, "a Media holds MediaPoint elements only")
        self.doc.media[entry_id] = media

    def eligible(self, el: etree._Element, entry_id: str) -> tuple[int | None, int | None]:
        out: list[int | None] = []
        for name in ("effective", "expires"):
            try:
                value = el.get(name)
                out.append(parse_instant(value) if value else None)
            except ValueError:
                self.refuse(el, entry_id, f"attribute {name}='{el.get(name)}' is not an xs:dateTime")
                out.append(None)
        return out[0], out[1]

    def point(self, el: etree._Element, entry_id: str, bounds: tuple[int | None, int | None]) -> PointDef:
        point = PointDef(entry_id, _line(el))
        effective, expires = self.eligible(el, entry_id)
        point.effective_ms = effective if effective is not None else bounds[0]
        point.expires_ms = expires if expires is not None else bounds[1]
        try:
            if el.get("matchTime"):
                point.match_ms = parse_instant(el.get("matchTime", "")) + \
                    (parse_duration(el.get("matchOffset", "")) if el.get("matchOffset") else 0)
        except ValueError as exc:
            self.refuse(el, entry_id, f"matchTime/matchOffset cannot be read: {exc}")
        for index, child in enumerate(el):
            qname = etree.QName(child)
            if qname.namespace != self.ns:
                self.refuse(child, entry_id, "an element feedgate does not implement")
            elif qname.localname in ("Apply", "Remove"):
                self.apply_or_remove(point, child, f"{entry_id}#{index}")
            elif qname.localname == "MatchSignal":
                self.signal(point, child)
            elif qname.localname not in DESCRIPTIVE:
                self.refuse(child, entry_id, "an element feedgate does not implement")
        if point.match_ms is None and point.signal is None:
            self.refuse(el, entry_id, "neither matchTime nor MatchSignal: nothing says when it applies")
        return point

    def apply_or_remove(self, point: PointDef, el: etree._Element, fallback: str) -> None:
        policies = [c for c in el if etree.QName(c) == etree.QName(self.q("Policy"))]
        if len(policies) != 1 or len(el) != 1:
            self.refuse(el, point.id, "must hold exactly one Policy")
            return
        policy_id = self.reference(policies[0], fallback, self.policy)
        if etree.QName(el).localname == "Remove":
            point.removes.append(policy_id)
            return
        duration = None
        if el.get("duration"):
            try:
                duration = parse_duration(el.get("duration", ""))
            except ValueError as exc:
                self.refuse(el, point.id, f"duration: {exc}")
        point.applies.append((policy_id, duration))

    def signal(self, point: PointDef, el: etree._Element) -> None:
        point.signal_match = (el.get("match") or "ALL").strip().upper()
        if point.signal_match not in ("ALL", "ANY"):
            self.refuse(el, point.id, f"match '{point.signal_match}' is not ALL or ANY")
        point.signal = []
        for child in el:
            text = _text(child)
            type_found, upid_found = TYPE_RE.search(text), UPID_RE.search(text)
            if etree.QName(child).localname != "Assert" or not (type_found or upid_found):
                self.refuse(child, point.id, "feedgate matches asserts on a segmentation descriptor's "
                                             "segmentationTypeId and its UPID's text() only")
                continue
            type_id = int(type_found.group(1), 0) if type_found else None
            upid = next((g for g in upid_found.groups() if g is not None), None) if upid_found else None
            point.signal.append(Condition(type_id, upid))


def read_document(data: bytes) -> Document:
    root = parse_xml(data)
    namespace = etree.QName(root).namespace or ""
    if namespace not in (NS, NS_2015):
        raise DocumentError(f"line {root.sourceline}: <{etree.QName(root).localname}> is in namespace "
                            f"'{namespace}', not SCTE 224's ('{NS}' or '{NS_2015}').")
    # The bare namespace is 2018 and 2020 alike: its `version` (a date, 2020xxxx) tells them apart; a later
    # version reads as 2020 (what this reader knows best), none as 2018.
    version = root.get("version") or ""
    generation = "2015" if namespace == NS_2015 else "2018" if not version or version < "2020" else "2020"
    reader = Reader(namespace, generation)
    if etree.QName(root).localname == "Results":
        for child in root:
            reader.entry(child)
    else:
        reader.entry(root)
    return reader.doc

