"""The failover policy: plain functions over plain data, no I/O, no clock of its own.

Given a group's members (health inputs, order, enabled, blacklist), its settings and the time,
`evaluate` says what to do. The engine applies the answer; tests and benchmarks call it directly.
"""

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

HEALTHY, UNHEALTHY, OFFLINE = 0, 1, -1  # status.state as the documents define it
STATE_NAMES = {HEALTHY: "healthy", UNHEALTHY: "unhealthy", OFFLINE: "offline"}
# What a slicer reports in its heartbeat, then what feedgate observes itself (its HLS playlist frozen).
SIGNALS = ("input_loss_ms", "video_black_ms", "audio_silence_ms", "dropped_frames_pct", "upload_queue_s",
           "playlist_stale_ms")


@dataclass(frozen=True)
class HealthPolicy:
    heartbeat_timeout_ms: int = 3000
    clear_after_ms: int = 10000
    blacklist_ms: int = 60000
    thresholds: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class MemberView:
    key: str  # system ID
    name: str  # how the API shows it: slicerID, or OWNER:slicerID for another owner's slicer
    order: int = 1
    enabled: bool = True
    state: int = OFFLINE  # as of the previous evaluation
    last_heartbeat_ms: int | None = None
    last_bad_ms: int | None = None
    last_bad_reason: str = ""
    healthy_since_ms: int | None = None
    blacklist_until: int = 0


@dataclass(frozen=True)
class GroupView:
    members: Sequence[MemberView]
    policy: HealthPolicy = HealthPolicy()
    mode: str = "prioritized"
    auto_failback: bool = False
    active: str | None = None
    no_candidate: bool = False  # a no_candidate event is already on record for this outage
    # How far behind the control plane itself runs (its event loop, the feed from other instances): silence
    # is measured net of it, so a slicer is never blamed for the server's own delay.
    lag_ms: int = 0
    # A fleet-wide silence is open (`disruption`): silence proves nothing, so it changes no state, blacklists
    # nobody and switches nothing; a silent member is no candidate either. Breaches still count.
    hold_silence: bool = False


@dataclass(frozen=True)
class StateChange:
    key: str
    state: int
    reason: str
    healthy_since_ms: int | None


@dataclass(frozen=True)
class Switch:
    to_key: str
    kind: str  # failover | failback
    reason: str
    cause: str = "failback"  # one of CAUSES: the metrics' bounded label (the reason is free text)


# Why the engine switched, in a word: first_pick (nothing was on air), silence (no heartbeat), signal (a
# threshold breached, or still recovering from one), left_group (the active slicer left), failback.
CAUSES = ("first_pick", "silence", "signal", "left_group", "failback")


@dataclass
class Decision:
    states: list[StateChange] = field(default_factory=list)
    blacklist: dict[str, int] = field(default_factory=dict)
    switch: Switch | None = None
    no_candidate: str | None = None  # record a no_candidate event with this reason
    clear_no_candidate: bool = False

    @property
    def changes_anything(self) -> bool:
        return bool(self.states or self.blacklist or self.switch or self.no_candidate or self.clear_no_candidate)


def breached_signal(signals: Mapping[str, object], thresholds: Mapping[str, float]) -> str | None:
    """The first signal over its threshold, described for the event log, or None."""
    for name in SIGNALS:
        value = signals.get(name)
        limit = thresholds.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and limit is not None and value > limit:
            return f"{name} {value:g} over threshold {limit:g}"
    return None


def silence_ms(member: MemberView, now: int, lag_ms: int = 0) -> int | None:
    """How long the slicer has been silent, net of the control plane's own lag; None: never heard."""
    if member.last_heartbeat_ms is None:
        return None
    return now - lag_ms - member.last_heartbeat_ms


def slicer_state(member: MemberView, policy: HealthPolicy, now: int, lag_ms: int = 0,
                 hold_silence: bool = False) -> tuple[int, str]:
    silent = silence_ms(member, now, lag_ms)
    if silent is None:
        return OFFLINE, "never sent a heartbeat"
    if silent > policy.heartbeat_timeout_ms:
        if hold_silence:
            return member.state, "silent during a fleet-wide disruption: held"
        return OFFLINE, f"no heartbeat for {silent} ms (timeout {policy.heartbeat_timeout_ms} ms)"
    if member.last_bad_ms is not None and now - member.last_bad_ms < policy.clear_after_ms:
        return UNHEALTHY, member.last_bad_reason or "recovering"
    return HEALTHY, "healthy"


def role_for(key: str, group: GroupView, hot_warm: int, no_slicer: bool) -> str:
    """What a member should do: active (on air), hot (encode and upload), warm (encode only), disabled."""
    by_key = {m.key: m for m in group.members}
    member = by_key.get(key)
    if member is None:
        return "hot"
    if key == group.active and not no_slicer:
        return "active"
    if not member.enabled:
        return "disabled"
    if hot_warm <= 0:
        return "hot"
    standby = sorted((m for m in group.members if m.enabled and m.key != group.active),
                     key=lambda m: (m.order, m.name))
    hot_standbys = hot_warm - 1 if group.active in by_key else hot_warm
    return "hot" if key in {m.key for m in standby[:max(0, hot_standbys)]} else "warm"


def _pick(candidates: list[MemberView], mode: str, choose: Callable[[list[MemberView]], MemberView]) -> MemberView:
    if mode == "flat":
        return choose(sorted(candidates, key=lambda m: m.name))
    return min(candidates, key=lambda m: (m.order, m.name))


def evaluate(group: GroupView, now: int,
             choose: Callable[[list[MemberView]], MemberView] = random.choice) -> Decision:
    policy = group.policy
    decision = Decision()
    states: dict[str, int] = {}
    reasons: dict[str, str] = {}
    since: dict[str, int | None] = {}
    for m in group.members:
        state, reason = slicer_state(m, policy, now, group.lag_ms, group.hold_silence)
        states[m.key], reasons[m.key] = state, reason
        since[m.key] = (m.healthy_since_ms if m.state == HEALTHY else now) if state == HEALTHY else None
        if state != m.state:
            decision.states.append(StateChange(m.key, state, reason, since[m.key]))

    def eligible(m: MemberView) -> bool:
        if group.hold_silence and (silence_ms(m, now, group.lag_ms) or 0) > policy.heartbeat_timeout_ms:
            return False
        return m.enabled and states[m.key] == HEALTHY and m.blacklist_until <= now

    active = next((m for m in group.members if m.key == group.active), None)
    if active is not None and states[active.key] == HEALTHY:
        if group.no_candidate:
            decision.clear_no_candidate = True
        if group.mode == "prioritized" and group.auto_failback:
            better = [m for m in group.members
                      if m.key != active.key and eligible(m) and m.order < active.order
                      and since[m.key] is not None and now - (since[m.key] or now) >= policy.clear_after_ms]
            if better:
                target = _pick(better, "prioritized", choose)
                decision.switch = Switch(target.key, "failback",
                                         f"{target.name} (order {target.order}) healthy for "
                                         f"{now - (since[target.key] or now)} ms, better than "
                                         f"{active.name} (order {active.order})")
        return decision

    if active is not None:
        why = f"{active.name}: {reasons[active.key]}"
        cause = "silence" if states[active.key] == OFFLINE else "signal"
        if active.blacklist_until <= now:
            decision.blacklist[active.key] = now + policy.blacklist_ms
    elif group.active is not None:
        why, cause = "the active slicer left the group", "left_group"
    else:
        why, cause = "the group had no active slicer", "first_pick"
    candidates = [m for m in group.members if eligible(m) and (active is None or m.key != active.key)]
    if candidates:
        target = _pick(candidates, group.mode, choose)
        decision.switch = Switch(target.key, "failover", why, cause)
    elif group.members and not group.no_candidate and not group.hold_silence:
        decision.no_candidate = f"no enabled, healthy, non-blacklisted slicer to replace it ({why})"
    return decision


def next_check_ms(group: GroupView, now: int) -> int | None:
    """The first instant after `now` at which `evaluate` could answer differently with no new heartbeat.

    Silence reaching the timeout, a breach clearing, a standby's failback wait ending, a blacklist
    expiring: the engine sleeps until the earliest of these (or a heartbeat that changes something).
    """
    policy = group.policy
    failback = group.mode == "prioritized" and group.auto_failback
    times = []
    for m in group.members:
        if m.last_heartbeat_ms is not None:
            times.append(m.last_heartbeat_ms + group.lag_ms + policy.heartbeat_timeout_ms + 1)
        if m.last_bad_ms is not None:
            times.append(m.last_bad_ms + policy.clear_after_ms)
        if failback and m.healthy_since_ms is not None:
            times.append(m.healthy_since_ms + policy.clear_after_ms)
        times.append(m.blacklist_until)
    upcoming = [t for t in times if t > now]
    return min(upcoming) if upcoming else None


@dataclass(frozen=True)
class SilenceRule:
    """When a silence is the control plane's own trouble rather than the slicers': at least `fraction` of the
    slicers that were on the fleet, and at least `min_slicers` of them, silent at once in groups where
    nothing beats (a partner that beats proves the control plane can hear that group)."""

    fraction: float = 0.5
    min_slicers: int = 10


def fleet_silence(groups: Iterable[tuple[int, Sequence[MemberView]]], now: int, lag_ms: int = 0) -> tuple[int, int]:
    """(silent, considered) over the fleet's groups, given as (heartbeat_timeout_ms, members).

    Considered: members that were on the fleet (heard, not already offline). Silent: those overdue (quiet for
    more than half their timeout, so a fleet-wide silence is seen before the first deadline) in a group where
    no member beats.
    """
    silent = considered = 0
    for timeout, members in groups:
        live = [m for m in members if m.state != OFFLINE and m.last_heartbeat_ms is not None]
        if not live:
            continue
        considered += len(live)
        overdue = [m for m in live if (silence_ms(m, now, lag_ms) or 0) > timeout // 2]
        beating = any(m.last_heartbeat_ms is not None and (silence_ms(m, now, lag_ms) or 0) <= timeout // 2
                      for m in members)
        if not beating:
            silent += len(overdue)
    return silent, considered


def is_disruption(silent: int, considered: int, rule: SilenceRule) -> bool:
    return silent >= rule.min_slicers and considered > 0 and silent >= rule.fraction * considered
