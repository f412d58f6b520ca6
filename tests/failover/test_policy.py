"""The pure failover policy, exhaustively: properties over generated groups, plus the named cases."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from feedgate.failover.policy import (
    HEALTHY,
    OFFLINE,
    UNHEALTHY,
    GroupView,
    HealthPolicy,
    MemberView,
    breached_signal,
    evaluate,
    next_check_ms,
    role_for,
    slicer_state,
)

NOW = 1_000_000
POLICY = HealthPolicy(heartbeat_timeout_ms=3000, clear_after_ms=10000, blacklist_ms=60000,
                      thresholds={"input_loss_ms": 2000})


@st.composite
def members(draw: st.DrawFn) -> list[MemberView]:
    count = draw(st.integers(1, 6))
    out = []
    for i in range(count):
        seen = draw(st.one_of(st.none(), st.integers(NOW - 20_000, NOW)))
        bad = draw(st.one_of(st.none(), st.integers(NOW - 30_000, NOW)))
        out.append(MemberView(
            key=f"k{i}", name=f"s{i}", order=draw(st.integers(1, 5)), enabled=draw(st.booleans()),
            state=draw(st.sampled_from([HEALTHY, UNHEALTHY, OFFLINE])), last_heartbeat_ms=seen, last_bad_ms=bad,
            healthy_since_ms=draw(st.one_of(st.none(), st.integers(NOW - 30_000, NOW))),
            blacklist_until=draw(st.sampled_from([0, NOW - 1, NOW + 5000])),
        ))
    return out


@st.composite
def groups(draw: st.DrawFn) -> GroupView:
    ms = draw(members())
    return GroupView(members=ms, policy=POLICY, mode=draw(st.sampled_from(["prioritized", "flat"])),
                     auto_failback=draw(st.booleans()),
                     active=draw(st.one_of(st.none(), st.sampled_from([m.key for m in ms]), st.just("gone"))),
                     no_candidate=draw(st.booleans()))


def eligible(group: GroupView, key: str) -> bool:
    m = next(m for m in group.members if m.key == key)
    return m.enabled and slicer_state(m, POLICY, NOW)[0] == HEALTHY and m.blacklist_until <= NOW


class TestPolicyProperties:
    @settings(max_examples=500)
    @given(groups())
    def test_never_picks_ineligible_or_non_member(self, group: GroupView) -> None:
        decision = evaluate(group, NOW, random.Random(1).choice)
        if decision.switch:
            assert decision.switch.to_key in {m.key for m in group.members}
            assert eligible(group, decision.switch.to_key)
            assert decision.switch.to_key != group.active

    @settings(max_examples=500)
    @given(groups())
    def test_prioritized_failover_picks_lowest_eligible_order(self, group: GroupView) -> None:
        decision = evaluate(group, NOW)
        if decision.switch and decision.switch.kind == "failover" and group.mode == "prioritized":
            orders = [m.order for m in group.members if m.key != group.active and eligible(group, m.key)]
            chosen = next(m for m in group.members if m.key == decision.switch.to_key)
            assert chosen.order == min(orders)

    @settings(max_examples=500)
    @given(groups())
    def test_healthy_active_is_kept_except_failback(self, group: GroupView) -> None:
        active = next((m for m in group.members if m.key == group.active), None)
        decision = evaluate(group, NOW)
        if active is not None and slicer_state(active, POLICY, NOW)[0] == HEALTHY:
            assert decision.switch is None or decision.switch.kind == "failback"
            assert not decision.blacklist

    @settings(max_examples=500)
    @given(groups())
    def test_failback_only_prioritized_with_auto_failback_after_clear_window(self, group: GroupView) -> None:
        decision = evaluate(group, NOW)
        if decision.switch and decision.switch.kind == "failback":
            assert group.mode == "prioritized" and group.auto_failback
            target = next(m for m in group.members if m.key == decision.switch.to_key)
            active = next(m for m in group.members if m.key == group.active)
            assert target.order < active.order
            assert target.state == HEALTHY and target.healthy_since_ms is not None
            assert NOW - target.healthy_since_ms >= POLICY.clear_after_ms

    @settings(max_examples=300)
    @given(groups())
    def test_no_candidate_recorded_once(self, group: GroupView) -> None:
        decision = evaluate(group, NOW)
        if group.no_candidate:
            assert decision.no_candidate is None

    @settings(max_examples=300)
    @given(st.integers(0, 20_000))
    def test_no_flapping_inside_clear_after(self, since_bad: int) -> None:
        member = MemberView("k", "s", last_heartbeat_ms=NOW, last_bad_ms=NOW - since_bad, state=UNHEALTHY)
        state, _ = slicer_state(member, POLICY, NOW)
        assert (state == HEALTHY) == (since_bad >= POLICY.clear_after_ms)


class TestPolicyCases:
    def member(self, key: str, order: int, **kw: object) -> MemberView:
        defaults = {"last_heartbeat_ms": NOW, "state": HEALTHY, "healthy_since_ms": NOW - 60_000}
        return MemberView(key=key, name=key, order=order, **{**defaults, **kw})  # type: ignore[arg-type]

    def test_heartbeat_loss_fails_over_and_blacklists(self) -> None:
        group = GroupView([self.member("a", 1, last_heartbeat_ms=NOW - 3001), self.member("b", 2)], POLICY,
                          active="a")
        decision = evaluate(group, NOW)
        assert decision.switch and decision.switch.to_key == "b" and decision.switch.kind == "failover"
        assert "no heartbeat for 3001 ms" in decision.switch.reason
        assert decision.blacklist == {"a": NOW + 60000}

    def test_flat_mode_picks_uniformly(self) -> None:
        group = GroupView([self.member("a", 1, last_heartbeat_ms=0), *(self.member(k, 1) for k in "bcd")],
                          POLICY, mode="flat", active="a")
        rng = random.Random(7)
        picks = [evaluate(group, NOW, rng.choice).switch.to_key for _ in range(3000)]  # type: ignore[union-attr]
        for key in "bcd":
            assert 850 < picks.count(key) < 1150

    def test_all_down_keeps_current_and_reports_no_candidate(self) -> None:
        group = GroupView([self.member("a", 1, last_heartbeat_ms=0), self.member("b", 2, enabled=False)], POLICY,
                          active="a")
        decision = evaluate(group, NOW)
        assert decision.switch is None and decision.no_candidate
        again = evaluate(GroupView(group.members, POLICY, active="a", no_candidate=True), NOW)
        assert again.no_candidate is None

    def test_roles_follow_hot_warm(self) -> None:
        group = GroupView([self.member("a", 1), self.member("b", 2), self.member("c", 3),
                           self.member("d", 4, enabled=False)], POLICY, active="a")
        assert [role_for(k, group, 0, False) for k in "abcd"] == ["active", "hot", "hot", "disabled"]
        assert [role_for(k, group, 1, False) for k in "abc"] == ["active", "warm", "warm"]
        assert [role_for(k, group, 2, False) for k in "abc"] == ["active", "hot", "warm"]
        assert role_for("a", group, 0, True) == "hot"

    def test_signal_breach_names_signal(self) -> None:
        assert breached_signal({"input_loss_ms": 2500}, {"input_loss_ms": 2000}) == \
            "input_loss_ms 2500 over threshold 2000"
        assert breached_signal({"input_loss_ms": 2000}, {"input_loss_ms": 2000}) is None


class TestNextCheck:
    """The engine sleeps on a settled group until `next_check_ms`: nothing may be due before it."""

    @settings(max_examples=800)
    @given(groups(), st.integers(0, 10**6), st.integers(0, 2**32))
    def test_a_settled_group_stays_settled_until_its_next_check(self, group: GroupView, offset: int,
                                                                  seed: int) -> None:
        if evaluate(group, NOW, random.Random(seed).choice).changes_anything:
            return  # not settled: the engine applies it first and looks again
        due = next_check_ms(group, NOW)
        later = NOW + offset if due is None else NOW + offset % (due - NOW)
        assert not evaluate(group, later, random.Random(seed).choice).changes_anything

    @given(groups())
    def test_next_check_is_in_the_future(self, group: GroupView) -> None:
        due = next_check_ms(group, NOW)
        assert due is None or due > NOW

    def test_the_timeout_is_the_next_check_of_a_quiet_group(self) -> None:
        quiet = GroupView(members=[MemberView("k", "s", state=HEALTHY, last_heartbeat_ms=NOW - 500,
                                              healthy_since_ms=NOW - 60_000)], policy=POLICY, active="k")
        assert next_check_ms(quiet, NOW) == NOW - 500 + 3000 + 1
        assert evaluate(quiet, NOW + 2500).changes_anything is False
        assert evaluate(quiet, NOW + 2501).states[0].state == OFFLINE
