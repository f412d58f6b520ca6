"""The fleet's state as Prometheus series, read from memory at scrape time (nothing is counted per beat).

Only the engine leader exports them (its health table is the one that judges), so a scrape of every
instance yields each series once. Cardinality is the fleet's size, documented in docs/operations.md: per
group eight series (five, and one per health state), per slicer three (FEEDGATE_METRICS_PER_SLICER=false
drops those for very large fleets).

Written as exposition text directly, not through prometheus_client's collectors: with 5,000 slicers its
per-sample label validation and escaping took 70 % of a 660 ms scrape (profiled; docs/performance.md). Each
group's label set is escaped once and shared by its lines.
"""

from collections.abc import Callable

from feedgate.failover.health import HealthTable
from feedgate.failover.policy import HEALTHY, STATE_NAMES
from feedgate.failover.registry import Registry
from feedgate.failover.severity import viewers_slate_because
from feedgate.kit.time import clock_ms

FAMILIES = {  # name: help; all gauges
    "feedgate_group_on_air_info": "The slicer on air in each group (1); slicer is empty when none is",
    "feedgate_group_slate": "1 while the group shows slate (no_slicer)",
    "feedgate_group_no_candidate": "1 while the group has no healthy slicer to put on air (no_candidate open)",
    "feedgate_group_healthy_standbys": "Enabled healthy slicers in the group besides the one on air",
    "feedgate_group_viewers_slate": "1 while viewers of the group's channels get slate, with the reason "
                                    "(failover/severity.py); 0 with an empty reason otherwise",
    "feedgate_group_slicers": "Slicers in the group by health state",
    "feedgate_slicer_healthy": "1 if the slicer is healthy, as the engine judged it last",
    "feedgate_slicer_heartbeat_age_seconds": "Seconds since this process last heard the slicer (or since it "
                                             "started, for one not heard yet)",
    "feedgate_slicer_playlist_stale_seconds": "Seconds since the slicer's HLS playlist last moved (slicers with "
                                              "an hls_url)",
}
PER_SLICER = ("feedgate_slicer_healthy", "feedgate_slicer_heartbeat_age_seconds",
              "feedgate_slicer_playlist_stale_seconds")


def label(value: str) -> str:
    """A label value as the text format wants it: backslash, newline and double quote escaped."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class FleetMetrics:
    def __init__(self, registry: Registry, health: HealthTable, leads: Callable[[], bool],
                 stale_s: Callable[[], dict[str, float]], per_slicer: bool = True) -> None:
        self.registry = registry
        self.health = health
        self.leads = leads
        self.stale_s = stale_s
        self.per_slicer = per_slicer

    def render(self) -> str:
        if not self.leads():
            return ""
        fleet, now, stale = self.registry.current, clock_ms(), self.stale_s()
        lines: dict[str, list[str]] = {name: [] for name in FAMILIES}
        for group in list(fleet.groups.values()):
            g = f'group_id="{group.id}",group="{label(group.name)}"'
            active = fleet.members.get(group.active or "")
            on_air = label(active.name) if active is not None and not group.no_slicer else ""
            lines["feedgate_group_on_air_info"].append(f'{{{g},slicer="{on_air}"}} 1')
            lines["feedgate_group_slate"].append(f"{{{g}}} {int(group.no_slicer)}")
            lines["feedgate_group_no_candidate"].append(f"{{{g}}} {int(group.no_candidate)}")
            counts = dict.fromkeys(STATE_NAMES.values(), 0)
            spare = 0
            for key in list(group.members):
                member = fleet.members.get(key)
                if member is None:
                    continue
                counts[STATE_NAMES[member.state]] += 1
                spare += member.state == HEALTHY and member.enabled and key != group.active
                if self.per_slicer:
                    s = f'{{{g},slicer="{label(member.name)}"}}'
                    lines["feedgate_slicer_healthy"].append(f"{s} {int(member.state == HEALTHY)}")
                    seen = self.health.get(key).seen_ms
                    if seen is not None:
                        lines["feedgate_slicer_heartbeat_age_seconds"].append(f"{s} {max(0, now - seen) / 1000}")
                    if key in stale:
                        lines["feedgate_slicer_playlist_stale_seconds"].append(f"{s} {stale[key]}")
            lines["feedgate_group_healthy_standbys"].append(f"{{{g}}} {spare}")
            why = viewers_slate_because(fleet, group)
            lines["feedgate_group_viewers_slate"].append(f'{{{g},reason="{label(why)}"}} {int(bool(why))}')
            lines["feedgate_group_slicers"] += [f'{{{g},state="{state}"}} {n}' for state, n in counts.items()]
        out = []
        for name, help_text in FAMILIES.items():
            if name in PER_SLICER and not self.per_slicer:
                continue
            out.append(f"# HELP {name} {help_text}\n# TYPE {name} gauge\n")
            out.extend(f"{name}{line}\n" for line in lines[name])
        return "".join(out)


class _Current:
    """One per process; the app built last supplies the fleet (tests build several apps)."""

    def __init__(self) -> None:
        self.metrics: FleetMetrics | None = None

    def use(self, metrics: FleetMetrics) -> None:
        self.metrics = metrics

    def render(self) -> str:
        return self.metrics.render() if self.metrics is not None else ""


FLEET_METRICS = _Current()
