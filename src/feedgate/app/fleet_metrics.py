"""The fleet's state as Prometheus series, read from memory at scrape time (nothing is counted per beat).

Only the engine leader exports them (its health table is the one that judges), so a scrape of every
instance yields each series once. Cardinality is the fleet's size, and documented in docs/operations.md:
per group five series plus one per health state, per slicer three (FEEDGATE_METRICS_PER_SLICER=false
drops those for very large fleets).
"""

from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

from feedgate.failover.health import HealthTable
from feedgate.failover.policy import HEALTHY, STATE_NAMES
from feedgate.failover.registry import Registry
from feedgate.kit.time import clock_ms


class FleetCollector(Collector):
    def __init__(self, registry: Registry, health: HealthTable, leads: Callable[[], bool],
                 stale_s: Callable[[], dict[str, float]], per_slicer: bool = True) -> None:
        self.registry = registry
        self.health = health
        self.leads = leads
        self.stale_s = stale_s
        self.per_slicer = per_slicer

    def describe(self) -> list[Metric]:
        return []  # series depend on the fleet: collected only at scrape time

    def collect(self) -> Iterator[Metric]:
        if not self.leads():
            return
        fleet, now, stale = self.registry.current, clock_ms(), self.stale_s()
        g = ["group_id", "group"]
        on_air = GaugeMetricFamily("feedgate_group_on_air_info", "The slicer on air in each group (1); slicer is "
                                   "empty when none is", labels=[*g, "slicer"])
        slate = GaugeMetricFamily("feedgate_group_slate", "1 while the group shows slate (no_slicer)", labels=g)
        no_candidate = GaugeMetricFamily("feedgate_group_no_candidate", "1 while the group has no healthy slicer "
                                         "to put on air (a no_candidate event is open)", labels=g)
        standbys = GaugeMetricFamily("feedgate_group_healthy_standbys", "Enabled healthy slicers in the group "
                                     "besides the one on air", labels=g)
        by_state = GaugeMetricFamily("feedgate_group_slicers", "Slicers in the group by health state",
                                     labels=[*g, "state"])
        healthy = GaugeMetricFamily("feedgate_slicer_healthy", "1 if the slicer is healthy, as the engine judged "
                                    "it last", labels=[*g, "slicer"])
        age = GaugeMetricFamily("feedgate_slicer_heartbeat_age_seconds", "Seconds since this process last heard "
                                "the slicer (or since it started, for one not heard yet)", labels=[*g, "slicer"])
        playlist = GaugeMetricFamily("feedgate_slicer_playlist_stale_seconds", "Seconds since the slicer's HLS "
                                     "playlist last moved (slicers with an hls_url)", labels=[*g, "slicer"])
        for group in fleet.groups.values():
            labels = [group.id, group.name]
            active = fleet.members.get(group.active or "")
            on_air.add_metric([*labels, active.name if active is not None and not group.no_slicer else ""], 1)
            slate.add_metric(labels, 1 if group.no_slicer else 0)
            no_candidate.add_metric(labels, 1 if group.no_candidate else 0)
            counts = dict.fromkeys(STATE_NAMES.values(), 0)
            spare = 0
            for key in group.members:
                member = fleet.members.get(key)
                if member is None:
                    continue
                counts[STATE_NAMES[member.state]] += 1
                spare += member.state == HEALTHY and member.enabled and key != group.active
                if self.per_slicer:
                    slicer = [*labels, member.name]
                    healthy.add_metric(slicer, 1 if member.state == HEALTHY else 0)
                    seen = self.health.get(key).seen_ms
                    if seen is not None:
                        age.add_metric(slicer, max(0, now - seen) / 1000)
                    if key in stale:
                        playlist.add_metric(slicer, stale[key])
            standbys.add_metric(labels, spare)
            for state, n in counts.items():
                by_state.add_metric([*labels, state], n)
        yield from (on_air, slate, no_candidate, standbys, by_state)
        if self.per_slicer:
            yield from (healthy, age, playlist)


class _Current(Collector):
    """Registered once per process; the app built last supplies the fleet (tests build several apps)."""

    def __init__(self) -> None:
        self.collector: FleetCollector | None = None

    def use(self, collector: FleetCollector) -> None:
        self.collector = collector

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        if self.collector is not None:
            yield from self.collector.collect()


FLEET_METRICS = _Current()
REGISTRY.register(FLEET_METRICS)
