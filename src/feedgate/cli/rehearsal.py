"""`feedgate simulate`: a rehearsal of a bad day against a real server, in groups of its own.

It creates `--groups` groups named `sim-<tag>-<n>` (their events stay off your webhooks unless `--webhooks`),
starts their simulated slicers (one after another, or `--at-once`: every first heartbeat in the same second),
and plays what you type or script: kill or revive one slicer, a site failure (a fraction of the slicers on
air silent at once), or the whole fleet silent for N seconds. At the end (and on `status`) it prints what
happened: heartbeats sent and acknowledged, failovers planned and unplanned, `no_candidate`, each planned
switch's delay over the timeout, and how fast the API answered. It deletes its groups and slicers when done
(`--keep` keeps them).
"""

import contextlib
import math
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

from feedgate.cli.fleet import Fleet, SimulatedSlicer
from feedgate.client import FeedgateClient, FeedgateError

COMMANDS = ("kill G S", "revive G S", "site FRACTION", "silence SECONDS", "status", "quit")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)] if ordered else float("nan")


@dataclass
class Kill:
    """A slicer silenced on purpose while on air: its group's next switch is planned."""

    group_id: str
    slicer_id: str
    last_ack_ms: int  # the send time of its last acknowledged heartbeat


@dataclass
class Summary:
    sent: int = 0
    acknowledged: int = 0
    planned: int = 0
    unplanned: int = 0
    no_candidate: int = 0
    delays_ms: list[float] = field(default_factory=list)  # planned switches, over the timeout
    api_ms: list[float] = field(default_factory=list)
    disruptions: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"heartbeats_sent": self.sent, "heartbeats_acknowledged": self.acknowledged,
                "failovers_planned": self.planned, "failovers_unplanned": self.unplanned,
                "no_candidate": self.no_candidate, "disruptions": self.disruptions,
                "switch_over_timeout_ms": {"p50": percentile(self.delays_ms, 50), "p99": percentile(self.delays_ms, 99),
                                           "max": max(self.delays_ms, default=None)} if self.delays_ms else None,
                "api_ms": {"p50": percentile(self.api_ms, 50), "p99": percentile(self.api_ms, 99)}
                if self.api_ms else None}

    def table(self, timeout_ms: int) -> Table:
        t = Table("", "", title="rehearsal summary", show_header=False)
        t.add_row("heartbeats sent / acknowledged", f"{self.sent:,} / {self.acknowledged:,}")
        t.add_row("failovers planned / unplanned", f"{self.planned} / {self.unplanned}")
        t.add_row("no_candidate", str(self.no_candidate))
        t.add_row("fleet-wide disruptions held", str(self.disruptions))
        if self.delays_ms:
            t.add_row(f"planned switch over the timeout ({timeout_ms} ms)",
                      f"p50 {percentile(self.delays_ms, 50):.0f} ms, p99 {percentile(self.delays_ms, 99):.0f} ms, "
                      f"max {max(self.delays_ms):.0f} ms")
        if self.api_ms:
            t.add_row("API answers", f"p50 {percentile(self.api_ms, 50):.0f} ms, "
                                     f"p99 {percentile(self.api_ms, 99):.0f} ms")
        return t


class Rehearsal:
    def __init__(self, client: FeedgateClient, groups: int, per_group: int, interval_ms: int, timeout_ms: int,
                 hls_url: str | None = None, webhooks: bool = False) -> None:
        self.client = client
        self.tag = secrets.token_hex(2)
        self.timeout_ms = timeout_ms
        self.group_ids: list[str] = []
        self.fleet = Fleet(client.base_url, client.user_id, client.api_key, interval_ms)
        self.kills: list[Kill] = []
        self.started_ms = int(time.time() * 1000)
        self.api_ms: list[float] = []
        self._shape = (groups, per_group, hls_url, webhooks)

    def _timed(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            self.api_ms.append((time.perf_counter() - started) * 1000)

    def slicer_id(self, group: int, index: int) -> str:
        return f"sim{self.tag}-g{group}-s{index}"

    def create(self) -> None:
        groups, per_group, hls_url, webhooks = self._shape
        for gi in range(groups):
            group = self._timed(self.client.create_group, f"sim-{self.tag}-{gi}", heartbeat_timeout_ms=self.timeout_ms,
                                notify=webhooks)
            self.group_ids.append(group.id)
            for si in range(per_group):
                slicer_id = self.slicer_id(gi, si)
                url = hls_url.format(slicer=slicer_id, group=gi, index=si) if hls_url else None
                self.fleet.add(slicer_id, group.id, url)

    def start(self, at_once: bool) -> None:
        """Beat in the background: every first heartbeat within the first interval (`at_once`), or one slicer
        after another, each joining before the next starts (a rollout)."""
        if not at_once:
            alive = {s.slicer_id: s for s in self.fleet.slicers.values()}
            for slicer in alive.values():
                slicer.alive = False
            self.fleet.start_background()
            for slicer in alive.values():
                self._timed(self.client.heartbeat, slicer.slicer_id, f"{slicer.slicer_id}.sim", slicer.group_id,
                            hls_url=slicer.hls_url)
                slicer.alive = True
            return
        self.fleet.start_background()

    def find(self, group: int, index: int) -> SimulatedSlicer | None:
        return self.fleet.slicers.get(self.slicer_id(group, index))

    def kill(self, slicer: SimulatedSlicer) -> None:
        if slicer.alive and slicer.role == "active" and slicer.group_id:
            self.kills.append(Kill(slicer.group_id, slicer.slicer_id, slicer.last_ack_ms))
        slicer.alive = False

    def site(self, fraction: float, rng: random.Random) -> list[str]:
        """A site failure: `fraction` of the slicers on air go silent at once; their partners beat on."""
        on_air = [s for s in self.fleet.slicers.values() if s.alive and s.role == "active"]
        victims = rng.sample(on_air, max(1, round(fraction * len(on_air)))) if on_air else []
        for slicer in victims:
            self.kill(slicer)
        return [s.slicer_id for s in victims]

    def silence(self, seconds: float) -> None:
        """The whole fleet silent for `seconds` (a partition the control plane should hold), then back."""
        silenced = [s for s in self.fleet.slicers.values() if s.alive]
        for slicer in silenced:
            slicer.alive = False

        def back() -> None:
            time.sleep(seconds)
            for slicer in silenced:
                slicer.alive = True

        threading.Thread(target=back, daemon=True).start()

    def summary(self) -> Summary:
        """What happened, read back from the groups' events: a switch away from a slicer this rehearsal killed
        while on air is planned (and timed against its last acknowledged heartbeat); any other is not."""
        found = Summary(sent=sum(s.sent for s in self.fleet.slicers.values()),
                        acknowledged=sum(s.acknowledged for s in self.fleet.slicers.values()))
        disruptions: set[int] = set()
        for group_id in self.group_ids:
            kills = [k for k in self.kills if k.group_id == group_id]
            for event in reversed(self._timed(self.client.events, group_id, page_size=40)):
                if event.time < self.started_ms:
                    continue
                if event.kind == "no_candidate":
                    found.no_candidate += 1
                elif event.kind == "disruption" and event.reason.startswith("fleet-wide disruption:"):
                    disruptions.add(event.time)  # one record's events on every held group share its time
                elif event.kind in ("failover", "failback") and event.from_slicer_id:
                    kill = next((k for k in kills if k.slicer_id == event.from_slicer_id
                                 and event.time >= k.last_ack_ms), None)
                    if kill is None:
                        found.unplanned += 1
                        continue
                    kills.remove(kill)
                    found.planned += 1
                    found.delays_ms.append(event.time - kill.last_ack_ms - self.timeout_ms)
        found.disruptions = len(disruptions)
        found.api_ms = list(self.api_ms)
        return found

    def clean_up(self) -> None:
        """Delete the rehearsal's groups and slicers (after its slicers stopped beating)."""
        self.fleet.stop()
        for group_id in self.group_ids:
            with contextlib.suppress(FeedgateError):
                self.client.delete_group(group_id)
        for slicer_id in self.fleet.slicers:
            with contextlib.suppress(FeedgateError):
                self.client.delete_slicer(slicer_id)
