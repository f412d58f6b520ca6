"""The compiled matcher against an independent, literal reading of ALL/ANY/NONE and superaudiences."""

import ipaddress
import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from feedgate.playback.matcher import AudienceSpec, CompiledBlackout, RuleSpec, Viewer

COUNTRIES, ZIPS, DMAS, DEVICES = ["US", "CA", "MX"], ["90503", "10001", "60601"], ["501", "803"], ["roku", "ios"]
NETS = ["10.0.0.0/8", "10.1.0.0/16", "192.0.2.7", "2001:db8::/32"]
IPS = ["10.1.2.3", "10.200.0.1", "192.0.2.7", "203.0.113.9", "2001:db8::5", "2001:dead::1"]


def reference_single(a: AudienceSpec, v: Viewer) -> bool:
    """DESIGN.md, read literally."""
    def criterion_hit(name: str) -> bool:
        values = getattr(a, name)
        if name == "country_codes":
            return v.country in values
        if name == "zip_codes":
            return v.zip in values
        if name == "dma_codes":
            return v.dma in values
        if name == "devices":
            return v.device is not None and v.device.lower() in [d.lower() for d in values]
        return v.ip is not None and any(ipaddress.ip_address(v.ip) in ipaddress.ip_network(n) for n in values)

    criteria = [c for c in ("country_codes", "zip_codes", "dma_codes", "ip_networks", "devices") if getattr(a, c)]
    hits = [criterion_hit(c) for c in criteria]
    if a.match_type == "ANY":
        return any(hits)
    if a.match_type == "ALL":
        return all(hits)
    return not any(hits)


def reference(rules: list[RuleSpec], audiences: dict[str, AudienceSpec], v: Viewer) -> RuleSpec | None:
    for rule in rules:
        if rule.all_viewers:
            return rule
        a = audiences.get(rule.audience_id or "")
        if a is None:
            continue
        if a.type == "Single":
            matched = reference_single(a, v)
        else:
            subs = [reference_single(audiences[s], v) for s in a.sub_audiences]
            matched = any(subs) if a.match_type == "ANY" else all(subs) if a.match_type == "ALL" else not any(subs)
        if matched:
            return rule
    return None


def subset(values: list[str]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(values), unique=True, max_size=2).map(tuple)


singles = st.builds(AudienceSpec, id=st.just(""), match_type=st.sampled_from(["ANY", "ALL", "NONE"]),
                    country_codes=subset(COUNTRIES), zip_codes=subset(ZIPS), dma_codes=subset(DMAS),
                    ip_networks=subset(NETS), devices=subset(DEVICES))
viewers = st.builds(Viewer, ip=st.one_of(st.none(), st.sampled_from(IPS)),
                    country=st.one_of(st.none(), st.sampled_from(COUNTRIES)),
                    zip=st.one_of(st.none(), st.sampled_from(ZIPS)), dma=st.one_of(st.none(), st.sampled_from(DMAS)),
                    device=st.one_of(st.none(), st.sampled_from(["ROKU", "ios", "tv"])))


@st.composite
def configurations(draw: st.DrawFn) -> tuple[list[RuleSpec], dict[str, AudienceSpec]]:
    audiences: dict[str, AudienceSpec] = {}
    for i, spec in enumerate(draw(st.lists(singles, min_size=1, max_size=5))):
        audiences[f"s{i}"] = replace(spec, id=f"s{i}")
    single_ids = list(audiences)
    for i in range(draw(st.integers(0, 2))):
        subs = tuple(draw(st.lists(st.sampled_from(single_ids), unique=True, max_size=3)))
        audiences[f"m{i}"] = AudienceSpec(id=f"m{i}", type="Multiple", sub_audiences=subs,
                                          match_type=draw(st.sampled_from(["ANY", "ALL", "NONE"])))
    rules = [RuleSpec(id=f"r{i}", all_viewers=draw(st.booleans()) and draw(st.booleans()),
                      audience_id=draw(st.one_of(st.none(), st.sampled_from(list(audiences)))))
             for i in range(draw(st.integers(1, 6)))]
    return rules, audiences


class TestCompiledMatcher:
    @settings(max_examples=1500)
    @given(configurations(), viewers)
    def test_agrees_with_reference(self, config: tuple, viewer: Viewer) -> None:
        rules, audiences = config
        expected = reference(rules, audiences, viewer)
        assert CompiledBlackout(rules, audiences).decide(viewer) == expected

    def test_rule_order_decides(self) -> None:
        audiences = {"us": AudienceSpec("us", country_codes=("US",)), "zip": AudienceSpec("zip", zip_codes=("90503",))}
        rules = [RuleSpec("first", audience_id="zip", content_type="asset", content_id="a"),
                 RuleSpec("second", audience_id="us")]
        compiled = CompiledBlackout(rules, audiences)
        assert compiled.decide(Viewer(country="US", zip="90503")).id == "first"  # type: ignore[union-attr]
        assert compiled.decide(Viewer(country="US", zip="10001")).id == "second"  # type: ignore[union-attr]
        assert compiled.decide(Viewer(country="CA")) is None

    def test_longest_and_shortest_prefix_both_hit(self) -> None:
        audiences = {"net": AudienceSpec("net", match_type="ALL", ip_networks=("10.0.0.0/8", "10.1.0.0/16"),
                                         country_codes=("US",))}
        compiled = CompiledBlackout([RuleSpec("r", audience_id="net")], audiences)
        assert compiled.decide(Viewer(ip="10.1.9.9", country="US")) is not None
        assert compiled.decide(Viewer(ip="11.1.9.9", country="US")) is None


def large_blackout(rng: random.Random) -> tuple[list[RuleSpec], dict[str, AudienceSpec]]:
    """One blackout of the large configuration (benchmarks/decisions_large.py): 200 rules over 20 audiences of
    a whole state's zips (40,000 each), DMA regions of 200 DMAs, small ALL audiences (US, 20 zips, devices),
    NONE and network audiences, and superaudiences of each match type over three of them."""
    audiences: dict[str, AudienceSpec] = {}
    state = [f"{i:05d}" for i in range(10000, 50000)]
    for i in range(20):
        audiences[f"state{i}"] = AudienceSpec(f"state{i}", zip_codes=tuple(state[i * 500:] + state[:i * 500]))
    for i in range(40):
        audiences[f"region{i}"] = AudienceSpec(f"region{i}", dma_codes=tuple(str(500 + (i + k) % 300)
                                                                             for k in range(200)))
    for i in range(120):
        match = ("ALL", "ALL", "NONE", "ANY")[i % 4]
        audiences[f"small{i}"] = AudienceSpec(
            f"small{i}", match_type=match, country_codes=("US",) if i % 3 else ("US", "CA"),
            zip_codes=tuple(f"{rng.randrange(100000):05d}" for _ in range(20)), devices=("roku", "ios"),
            ip_networks=(f"10.{i}.0.0/16",) if i % 5 == 0 else ())
    singles = list(audiences)
    for i in range(30):
        audiences[f"super{i}"] = AudienceSpec(f"super{i}", type="Multiple", match_type=("ANY", "ALL", "NONE")[i % 3],
                                              sub_audiences=tuple(rng.sample(singles[20:], 3)))
    pool = sorted(audiences, key=lambda name: audiences[name].match_type == "NONE")  # most viewers match a NONE
    rules = [RuleSpec(f"r{i}", audience_id=pool[i % len(pool)], content_type="asset", content_id=f"alt{i}")
             for i in range(200)]
    return rules, audiences


LARGE_RULES, LARGE_AUDIENCES = large_blackout(random.Random(28))
LARGE = CompiledBlackout(LARGE_RULES, LARGE_AUDIENCES)
LARGE_ZIPS = sorted({z for name, a in LARGE_AUDIENCES.items() if name.startswith("small") for z in a.zip_codes})
large_viewers = st.builds(
    Viewer,
    ip=st.one_of(st.none(), st.builds("10.{}.{}.{}".format, st.integers(0, 130), st.integers(0, 255),
                                      st.integers(1, 254)), st.just("2001:db8::1")),
    country=st.one_of(st.none(), st.sampled_from(["US", "CA", "MX"])),
    zip=st.one_of(st.none(), st.sampled_from(LARGE_ZIPS), st.integers(0, 99999).map("{:05d}".format)),
    dma=st.one_of(st.none(), st.integers(450, 850).map(str)),
    device=st.one_of(st.none(), st.sampled_from(["roku", "IOS", "tv"])))


@settings(max_examples=400, deadline=None)
@given(large_viewers)
def test_agrees_with_reference_on_the_large_configuration(viewer: Viewer) -> None:
    assert LARGE.decide(viewer) == reference(LARGE_RULES, LARGE_AUDIENCES, viewer)
