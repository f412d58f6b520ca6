"""The blackout matcher: plain data in, a decision out. No I/O, no session.

A blackout's rules and their audiences compile into value->audience indexes (countries, zips,
DMAs, devices) and per-prefix-length tables for IP networks, so a viewer costs a few dict
lookups plus work proportional to the audiences it hits, not to the number of rules.

An ALL audience is indexed under one criterion only, its most selective (the one with the most values,
its zips rather than its one country), and its other criteria are checked when that one is hit: two
hundred audiences of "US and these 100 zips" do not all light up for every viewer in the US.
"""

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

CRITERIA = ("country_codes", "zip_codes", "dma_codes", "ip_networks", "devices")


@dataclass(frozen=True)
class AudienceSpec:
    id: str
    type: str = "Single"  # Single | Multiple
    match_type: str = "ANY"  # ANY | ALL | NONE
    country_codes: tuple[str, ...] = ()
    zip_codes: tuple[str, ...] = ()
    dma_codes: tuple[str, ...] = ()
    ip_networks: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    sub_audiences: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Hashed once: a rebuild looks up every blackout by its audiences, some of a whole state's 40,000 zips.
        object.__setattr__(self, "_hash", hash((self.id, self.type, self.match_type, self.country_codes,
                                                self.zip_codes, self.dma_codes, self.ip_networks, self.devices,
                                                self.sub_audiences)))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RuleSpec:
    id: str
    all_viewers: bool = False
    audience_id: str | None = None
    content_type: str = "slate"
    content_id: str = ""
    loop: bool = True


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Viewer:
    ip: str | None = None
    country: str | None = None
    zip: str | None = None
    dma: str | None = None
    device: str | None = None
    address: Address | None = field(default=None, compare=False)  # `ip` parsed, when the caller has it

    def parsed_ip(self) -> Address | None:
        if self.address is not None or self.ip is None:
            return self.address
        try:
            return ipaddress.ip_address(self.ip)
        except ValueError:
            return None

    @property
    def located(self) -> bool:
        return self.country is not None or self.zip is not None or self.dma is not None


def viewer_values(viewer: Viewer) -> dict[str, str | None]:
    return {"country_codes": viewer.country, "zip_codes": viewer.zip, "dma_codes": viewer.dma,
            "devices": viewer.device.lower() if viewer.device else None}


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _criterion_set(spec: AudienceSpec, criterion: str) -> frozenset[str] | tuple[Network, ...]:
    if criterion == "ip_networks":
        return tuple(ipaddress.ip_network(text, strict=False) for text in spec.ip_networks)
    values = getattr(spec, criterion)
    return frozenset(v.lower() for v in values) if criterion == "devices" else frozenset(values)


def _has(viewer: Viewer, criterion: str, allowed: frozenset[str] | tuple[Network, ...]) -> bool:
    """Whether the viewer's value for `criterion` is among `allowed` (an ALL audience's other criteria)."""
    if criterion == "ip_networks":
        address = viewer.parsed_ip()
        if address is None:
            return False
        return any(address in network for network in allowed if isinstance(network, ipaddress.IPv4Network |
                                                                                      ipaddress.IPv6Network))
    value = viewer_values(viewer)[criterion]
    return value is not None and value in allowed


@dataclass
class _IpTable:
    """Networks by prefix length: {prefixlen: {network int: [audience index]}}."""

    bits: int
    by_len: dict[int, dict[int, list[int]]] = field(default_factory=dict)
    lengths: tuple[int, ...] = ()

    def add(self, network: ipaddress.IPv4Network | ipaddress.IPv6Network, index: int) -> None:
        shift = self.bits - network.prefixlen
        self.by_len.setdefault(network.prefixlen, {}).setdefault(int(network.network_address) >> shift, []) \
            .append(index)

    def freeze(self) -> None:
        self.lengths = tuple(sorted(self.by_len, reverse=True))

    def hits(self, address: int) -> set[int]:
        found: set[int] = set()
        for length in self.lengths:
            indexes = self.by_len[length].get(address >> (self.bits - length))
            if indexes:
                found.update(indexes)
        return found


class CompiledBlackout:
    """One blackout's ordered rules, compiled for fast per-viewer decisions."""

    def __init__(self, rules: Sequence[RuleSpec], audiences: Mapping[str, AudienceSpec]) -> None:
        self.rules = [r for r in rules if r.all_viewers or (r.audience_id in audiences)]
        self.first_rule = rules[0] if rules else None
        singles: list[AudienceSpec] = []
        self._single_index: dict[str, int] = {}

        def single(audience_id: str) -> int | None:
            spec = audiences.get(audience_id)
            if spec is None or spec.type != "Single":
                return None
            if audience_id not in self._single_index:
                self._single_index[audience_id] = len(singles)
                singles.append(spec)
            return self._single_index[audience_id]

        self._supers: dict[str, tuple[str, tuple[int, ...]]] = {}
        for rule in self.rules:
            if rule.audience_id is None:
                continue
            spec = audiences[rule.audience_id]
            if spec.type == "Single":
                single(spec.id)
            else:
                subs = tuple(i for i in (single(s) for s in spec.sub_audiences) if i is not None)
                self._supers[spec.id] = (spec.match_type, subs)

        self._index(singles)
        self._v4.freeze()
        self._v6.freeze()

        # A rule whose audience can only match when the viewer hits one of its single audiences (ANY, or ALL
        # with criteria; a superaudience ANY or ALL of such) is found from the hits: its position is filed
        # under each of those audiences ("triggers"). The rest ("dense": all_viewers, NONE, an empty ALL,
        # supers over those) are scanned in order. An audience is evaluated for its first rule only.
        self._triggered: dict[int, list[int]] = {}
        self._dense: list[int] = []
        seen: set[str] = set()
        for position, rule in enumerate(self.rules):
            if not rule.all_viewers and rule.audience_id in seen:
                continue  # the same audience answers the same: its first rule wins
            triggers = None if rule.all_viewers else self._triggers(rule.audience_id or "")
            if triggers is None:
                self._dense.append(position)
            else:
                seen.add(rule.audience_id or "")
                for index in triggers:
                    self._triggered.setdefault(index, []).append(position)

    def _hit_only(self, index: int) -> bool:
        """Whether this single audience can match only a viewer who hits one of its values."""
        return self._match_type[index] == "ANY" or (self._match_type[index] == "ALL" and bool(self._needed[index]))

    def _triggers(self, audience_id: str) -> tuple[int, ...] | None:
        """The single audiences one of which a viewer must hit for this audience to match, or None (dense)."""
        index = self._single_index.get(audience_id)
        if index is not None:
            return (index,) if self._hit_only(index) else None
        match_type, subs = self._supers[audience_id]
        if match_type in ("ANY", "ALL") and subs and all(self._hit_only(i) for i in subs):
            return subs
        return None

    def _index(self, singles: list[AudienceSpec]) -> None:
        """Value -> audience indexes, and the checks of ALL audiences (indexed under one criterion)."""
        self._match_type = [s.match_type for s in singles]
        self._needed = [sum(1 for c in CRITERIA if getattr(s, c)) for s in singles]
        self._values: dict[str, dict[str, list[int]]] = {c: {} for c in CRITERIA if c != "ip_networks"}
        self._v4, self._v6 = _IpTable(32), _IpTable(128)
        # ALL audiences: the criteria checked when their key criterion is hit (value sets, parsed networks).
        self._checks: dict[int, list[tuple[str, frozenset[str] | tuple[Network, ...]]]] = {}
        for index, spec in enumerate(singles):
            indexed: tuple[str, ...] = CRITERIA
            if spec.match_type == "ALL" and self._needed[index]:
                present = [c for c in CRITERIA if getattr(spec, c)]
                key = max(present, key=lambda c: (c != "ip_networks", len(getattr(spec, c))))
                indexed = (key,)
                self._checks[index] = [(c, _criterion_set(spec, c)) for c in present if c != key]
            for criterion in indexed:
                if criterion == "ip_networks":
                    for text in spec.ip_networks:
                        network = ipaddress.ip_network(text, strict=False)
                        (self._v4 if network.version == 4 else self._v6).add(network, index)
                    continue
                table = self._values[criterion]
                for value in getattr(spec, criterion):
                    table.setdefault(value.lower() if criterion == "devices" else value, []).append(index)

    def _hits(self, viewer: Viewer) -> dict[int, int]:
        counts: dict[int, int] = {}
        for criterion, value in viewer_values(viewer).items():
            if value is not None:
                for index in self._values[criterion].get(value, ()):
                    counts[index] = counts.get(index, 0) + 1
        address = viewer.parsed_ip()
        if address is not None:
            table = self._v4 if address.version == 4 else self._v6
            for index in table.hits(int(address)):
                counts[index] = counts.get(index, 0) + 1
        return counts

    def _single_matches(self, index: int, counts: Mapping[int, int], viewer: Viewer) -> bool:
        hits = counts.get(index, 0)
        match_type = self._match_type[index]
        if match_type == "ANY":
            return hits > 0
        if match_type == "ALL":
            checks = self._checks.get(index)
            if checks is None:  # an ALL audience with no criteria: all of nothing, never a hit
                return hits == self._needed[index]
            return hits > 0 and all(_has(viewer, criterion, allowed) for criterion, allowed in checks)
        return hits == 0

    def _rule_matches(self, rule: RuleSpec, counts: Mapping[int, int], viewer: Viewer) -> bool:
        if rule.all_viewers:
            return True
        index = self._single_index.get(rule.audience_id or "")
        if index is not None:
            return self._single_matches(index, counts, viewer)
        match_type, subs = self._supers[rule.audience_id or ""]
        matched = (self._single_matches(i, counts, viewer) for i in subs)
        if match_type == "ANY":
            return any(matched)
        if match_type == "ALL":
            return all(matched)
        return not any(matched)

    def decide(self, viewer: Viewer) -> RuleSpec | None:
        """The first rule (in blackout order) that applies to `viewer`, or None."""
        counts = self._hits(viewer)
        best = len(self.rules)
        for index in counts:
            for position in self._triggered.get(index, ()):
                if position >= best:
                    break
                if self._rule_matches(self.rules[position], counts, viewer):
                    best = position
                    break
        for position in self._dense:
            if position >= best:
                break
            if self._rule_matches(self.rules[position], counts, viewer):
                best = position
                break
        return self.rules[best] if best < len(self.rules) else None
