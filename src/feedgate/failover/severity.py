"""How bad each group is, in an operator's words: one home for the console's colours, its summary bar, the
wall's order and the metrics that alert on the same facts. Plain functions over the registry's fleet and
plain data (what the health table heard, which playlists froze): no HTTP, no session.

- **Red (off air):** on slate, `no_candidate`, nothing on air, or viewers get slate because the slicer on
  air announces no HLS URL while others of its group do (a group none of whose slicers announce one is not
  played through feedgate's own stream, so that says nothing about its viewers).
- **Amber (at risk):** on air, but no healthy standby to fail over to (in a group of more than one slicer,
  as the FeedgateGroupWithoutHealthyBackup alert), the source on air froze, or a fleet-wide disruption
  holds the group.
- **Green:** on air with a healthy standby.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from feedgate.failover.health import Health
from feedgate.failover.policy import STATE_NAMES, UNHEALTHY
from feedgate.failover.registry import Fleet, GroupConfig

OFF_AIR, AT_RISK, FINE = 2, 1, 0
SEVERITY_NAMES = {OFF_AIR: "bad", AT_RISK: "warn", FINE: "ok"}


@dataclass(frozen=True)
class SlicerFacts:
    """Offline, blacklisted-until and unhealthy-because are separate facts, each shown as such."""

    key: str
    name: str
    state: str  # healthy, unhealthy, offline (STATE_NAMES)
    enabled: bool
    on_air: bool
    age_s: float | None  # since this process last heard it; None: never
    stale: bool  # past half its group's heartbeat timeout: the age is worth showing
    blacklisted_until_ms: int  # 0: not blacklisted
    unhealthy_because: str
    frozen: bool
    has_hls: bool


@dataclass(frozen=True)
class Assessment:
    group_id: str
    name: str
    owner: str
    severity: int
    problems: list[str]  # plain words, worst first; empty when green
    on_air: str  # the slicer on air as the API names it; "" when none
    slate: bool
    viewers_slate_because: str  # why viewers get slate, or ""
    no_candidate: bool
    healthy_standbys: int
    slicers: list[SlicerFacts] = field(default_factory=list)
    held: bool = False  # in a fleet-wide disruption

    @property
    def colour(self) -> str:
        return SEVERITY_NAMES[self.severity]


def _facts(fleet: Fleet, group: GroupConfig, health: Callable[[str], Health], frozen: set[str],
           clock_now: int, wall_now: int) -> list[SlicerFacts]:
    out = []
    half = group.policy.heartbeat_timeout_ms / 2
    for key in group.members:
        member = fleet.members.get(key)
        if member is None:
            continue
        heard = health(key)
        seen = heard.seen_ms
        age = None if seen is None else max(0, clock_now - seen) / 1000
        because = heard.last_bad_reason if member.state == UNHEALTHY else ""
        out.append(SlicerFacts(
            key=key, name=member.name, state=STATE_NAMES.get(member.state, "offline"), enabled=member.enabled,
            on_air=key == group.active and not group.no_slicer, age_s=age,
            stale=age is None or age * 1000 >= half,
            blacklisted_until_ms=member.blacklist_until if member.blacklist_until > wall_now else 0,
            unhealthy_because=because, frozen=key in frozen, has_hls=key in fleet.hls_urls))
    return out


def viewers_slate_because(fleet: Fleet, group: GroupConfig) -> str:
    """Why viewers of the group's channels get slate, in words, or "": for the console and the metric alike."""
    if group.no_slicer:
        return "the group is on slate (an operator's choice)"
    active = fleet.members.get(group.active) if group.active else None
    if group.no_candidate or active is None:
        return "no slicer can go on air (no healthy candidate)"
    if group.active not in fleet.hls_urls and any(k in fleet.hls_urls for k in group.members if k in fleet.members):
        return f"{active.name} announces no HLS URL"
    return ""


def assess(fleet: Fleet, group: GroupConfig, health: Callable[[str], Health], frozen: set[str], clock_now: int,
           wall_now: int, held: frozenset[str] | set[str] = frozenset()) -> Assessment:
    """`held`: the groups a fleet-wide disruption holds (their silence is not judged until it ends)."""
    slicers = _facts(fleet, group, health, frozen, clock_now, wall_now)
    active = next((s for s in slicers if s.on_air), None)
    standbys = sum(1 for s in slicers if s.state == "healthy" and s.enabled and not s.on_air)
    problems: list[str] = []
    slate_because = viewers_slate_because(fleet, group)
    if slate_because:
        problems.append(f"viewers get slate: {slate_because}")
    if active is not None and active.frozen:
        problems.append(f"{active.name}'s playlist stopped moving: viewers see a frozen picture")
    if active is not None and active.state != "healthy":
        problems.append(f"{active.name} is on air but {active.state}")
    if group.id in held:
        problems.append("held in a fleet-wide disruption: failovers paused until its slicers are heard again")
    if not slate_because and standbys == 0 and len(slicers) > 1:  # as the alert: one slicer has none to lose
        problems.append("no healthy standby: a failure now has nowhere to go")
    severity = OFF_AIR if slate_because else AT_RISK if problems else FINE
    return Assessment(group.id, group.name, group.owner, severity, problems, active.name if active else "",
                      group.no_slicer, slate_because, group.no_candidate, standbys, slicers, group.id in held)


def assess_all(fleet: Fleet, group_ids: Iterable[str], health: Callable[[str], Health], frozen: set[str],
               clock_now: int, wall_now: int, held: frozenset[str] | set[str] = frozenset()) -> list[Assessment]:
    """Worst first, then by name: the order of the wall and of the overview."""
    found = [assess(fleet, fleet.groups[g], health, frozen, clock_now, wall_now, held)
             for g in group_ids if g in fleet.groups]
    return sorted(found, key=lambda a: (-a.severity, a.name.lower(), a.group_id))


def summary(assessments: Iterable[Assessment]) -> dict[str, int]:
    """The summary bar: groups, on air, on slate, no candidate, without a healthy standby, frozen, held in a
    disruption, by colour."""
    out = dict.fromkeys(("groups", "on_air", "slate", "no_candidate", "no_standby", "frozen", "viewers_slate",
                         "held", "bad", "warn", "ok"), 0)
    for a in assessments:
        out["groups"] += 1
        out["on_air"] += bool(a.on_air)
        out["slate"] += a.slate
        out["no_candidate"] += a.no_candidate
        out["no_standby"] += bool(a.on_air) and a.healthy_standbys == 0 and len(a.slicers) > 1
        out["frozen"] += any(s.frozen and s.on_air for s in a.slicers)
        out["viewers_slate"] += bool(a.viewers_slate_because)
        out["held"] += a.held
        out[a.colour] += 1
    return out

