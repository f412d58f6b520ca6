"""The severity rules as plain functions over plain data: each colour and its words, and the facts apart."""

from feedgate.failover.health import Health
from feedgate.failover.policy import HEALTHY, OFFLINE, UNHEALTHY, HealthPolicy
from feedgate.failover.registry import Fleet, GroupConfig, MemberConfig
from feedgate.failover.severity import AT_RISK, FINE, OFF_AIR, assess, assess_all, summary

NOW = 1_000_000


def fleet(*states: int, active: str | None = "g:0", no_slicer: bool = False, hls: tuple[int, ...] = (),
          blacklist: int = 0) -> Fleet:
    f = Fleet()
    keys = [f"g:{i}" for i in range(len(states))]
    f.groups["g"] = GroupConfig("g", "owner", "News", "prioritized", False, 0, no_slicer, HealthPolicy(),
                                members=keys, active=active, no_candidate=active is None)
    for i, (key, state) in enumerate(zip(keys, states, strict=True)):
        f.members[key] = MemberConfig(key, "owner", f"s{i}", f"s{i}", "g", i + 1, True, state, None,
                                      blacklist if i == 1 else 0)
        if i in hls:
            f.hls_urls[key] = f"https://origin.example/s{i}.m3u8"
    return f


def heard(ages_ms: dict[str, int], reason: str = "") -> object:
    return lambda key: Health(seen_ms=NOW - ages_ms[key] if key in ages_ms else None, last_bad_reason=reason)


def test_colours_and_their_words() -> None:
    ok = assess(fleet(HEALTHY, HEALTHY), fleet(HEALTHY, HEALTHY).groups["g"], heard({"g:0": 100, "g:1": 100}),
                set(), NOW, NOW)
    assert (ok.severity, ok.problems, ok.on_air) == (FINE, [], "s0")
    f = fleet(HEALTHY, OFFLINE)
    lonely = assess(f, f.groups["g"], heard({"g:0": 100}), set(), NOW, NOW)
    assert lonely.severity == AT_RISK and lonely.problems == ["no healthy standby: a failure now has nowhere to go"]
    f = fleet(HEALTHY)
    assert assess(f, f.groups["g"], heard({"g:0": 100}), set(), NOW, NOW).severity == FINE  # none to lose
    f = fleet(OFFLINE, OFFLINE, active=None)
    dead = assess(f, f.groups["g"], heard({}), set(), NOW, NOW)
    assert dead.severity == OFF_AIR and dead.viewers_slate_because == "no slicer can go on air (no healthy candidate)"
    f = fleet(HEALTHY, HEALTHY, no_slicer=True)
    slate = assess(f, f.groups["g"], heard({}), set(), NOW, NOW)
    assert slate.viewers_slate_because.startswith("the group is on slate")
    f = fleet(HEALTHY, HEALTHY, hls=(1,))
    no_url = assess(f, f.groups["g"], heard({}), set(), NOW, NOW)
    assert no_url.severity == OFF_AIR and no_url.viewers_slate_because == "s0 announces no HLS URL"
    f = fleet(HEALTHY, HEALTHY)  # nobody announces a playlist: not played through feedgate, no slate reason
    assert assess(f, f.groups["g"], heard({}), set(), NOW, NOW).viewers_slate_because == ""
    f = fleet(HEALTHY, HEALTHY, hls=(0, 1))
    frozen = assess(f, f.groups["g"], heard({}), {"g:0"}, NOW, NOW)
    assert frozen.severity == AT_RISK and "frozen picture" in frozen.problems[0]
    held = assess(f, f.groups["g"], heard({}), set(), NOW, NOW, held={"g"})
    assert held.severity == AT_RISK and held.held and "disruption" in held.problems[0]


def test_facts_apart_and_ages_only_past_half_the_timeout() -> None:
    f = fleet(HEALTHY, UNHEALTHY, blacklist=NOW + 60_000)
    a = assess(f, f.groups["g"], heard({"g:0": 1000, "g:1": 2000}, "video_black_ms 12000 > 10000"), set(),
               NOW, NOW)
    first, second = a.slicers
    assert (first.stale, first.unhealthy_because, first.blacklisted_until_ms) == (False, "", 0)  # 1 s of 3 s
    assert second.stale and second.age_s == 2.0 and second.blacklisted_until_ms == NOW + 60_000
    assert second.unhealthy_because == "video_black_ms 12000 > 10000" and second.state == "unhealthy"


def test_worst_first_and_the_summary() -> None:
    f = fleet(HEALTHY, HEALTHY)
    f.groups["a"] = GroupConfig("a", "owner", "Alpha", "prioritized", False, 0, True, HealthPolicy(), members=[])
    ranked = assess_all(f, ["g", "a", "missing"], heard({"g:0": 1, "g:1": 1}), set(), NOW, NOW)
    assert [r.group_id for r in ranked] == ["a", "g"]  # Alpha is on slate: first, though "News" is later
    counts = summary(ranked)
    assert (counts["groups"], counts["bad"], counts["ok"], counts["slate"], counts["on_air"]) == (2, 1, 1, 1, 1)
