"""Compiled, in-memory decision state: what every playback decision reads (never the database).

A full snapshot is rebuilt when the decisions version moves (the `ConfigWatcher` polls it every
`config_poll_ms`, so changes made through any process show within a second) or at once when this process
made the change (`invalidate`, after the commit). The fleet never rebuilds it: a group's source (a switch,
slate on or off) reaches the channels of that group as a delta from the registry (`on_fleet`).
"""

import asyncio
import bisect
import contextlib
import gc
import ipaddress
import logging
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import anyio.to_thread
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feedgate.audiences.models import Audience, SubAudience
from feedgate.audiences.schemas import STORED_VALUES
from feedgate.blackouts.models import Blackout, BlackoutRule
from feedgate.channels.models import Channel
from feedgate.failover.events import SWITCH_KINDS
from feedgate.failover.models import FailoverEvent, FailoverGroup, Slicer
from feedgate.failover.registry import Registry
from feedgate.failover.service import source_name
from feedgate.geo.models import ZipDma
from feedgate.geo.service import GeoReader
from feedgate.kit import versions
from feedgate.kit.db import Database
from feedgate.kit.metrics import DAMAGED_ROWS, DECISIONS, MATCHER_REBUILD_SECONDS, MATCHER_REBUILDS, REBUILD_FAILURES
from feedgate.kit.time import now_ms
from feedgate.playback.matcher import CRITERIA, AudienceSpec, CompiledBlackout, RuleSpec, Viewer
from feedgate.programs.models import ProgramTag, ScheduleWindow
from feedgate.rules.models import Rule
from feedgate.settings import Settings

log = logging.getLogger("feedgate.decisions")


BlackoutKey = tuple[tuple[RuleSpec, ...], tuple[AudienceSpec, ...]]  # a blackout's rules and their audiences
HISTORY = 64  # switches kept per group: the viewer's stream needs the last day's at most


@dataclass
class ChannelPlan:
    owner: str
    source: str | None = None  # the active member's name, "no_slicer", or None
    group_owner: str = ""
    # The group's recent switches, oldest first: (time ms, the source from then on), `source` at the end.
    history: list[tuple[int, str | None]] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)  # sorted: every instant this channel's picture may change
    tag_starts: list[int] = field(default_factory=list)
    tag_ids: list[str | None] = field(default_factory=list)
    windows: list[tuple[int, int, str]] = field(default_factory=list)  # sorted, non-overlapping
    blackouts: dict[str, CompiledBlackout] = field(default_factory=dict)

    def blackout_at(self, at: int) -> str | None:
        """The blackout ID in force at `at`: the latest program tag or schedule window that started."""
        tag_start, tag_id = -1, None
        i = bisect.bisect_right(self.tag_starts, at)
        if i:
            tag_start, tag_id = self.tag_starts[i - 1], self.tag_ids[i - 1]
        j = bisect.bisect_right(self.windows, (at, float("inf"), "")) - 1
        if j >= 0:
            start, end, window_id = self.windows[j]
            if start <= at < end and start >= tag_start:
                return window_id
        return tag_id

    def source_at(self, at: int) -> str | None:
        """The group's source at `at`, from its recent switches (the oldest known before them)."""
        if not self.history or at >= self.history[-1][0]:
            return self.source
        i = bisect.bisect_right(self.history, at, key=lambda switch: switch[0])
        return self.history[max(i, 1) - 1][1]


@dataclass
class Snapshot:
    version: int = -1  # the decisions version it was built from
    channels: dict[str, ChannelPlan] = field(default_factory=dict)
    zip_dma: dict[str, str] = field(default_factory=dict)
    group_channels: dict[str, list[str]] = field(default_factory=dict)  # group -> its channels
    shown_by: dict[str, set[str]] = field(default_factory=dict)  # channel -> channels whose blackouts show it
    compiled: dict[BlackoutKey, CompiledBlackout] = field(default_factory=dict)  # by their inputs (reuse)
    # Every audience row as last read, by ID: (its `updated`, its spec, None when damaged). The next build
    # reads only the rows whose `updated` moved.
    audience_rows: dict[str, tuple[datetime, AudienceSpec | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    blackout_id: str | None
    rule: RuleSpec | None

    @property
    def blacked_out(self) -> bool:
        return self.rule is not None


def decide(plan: ChannelPlan, viewer: Viewer, located: bool, at: int, allow_unlocated: bool) -> Decision:
    """Plain decision over compiled data: which rule (if any) applies to this viewer at `at`."""
    blackout_id = plan.blackout_at(at)
    compiled = plan.blackouts.get(blackout_id) if blackout_id is not None else None
    if compiled is None:
        return Decision(blackout_id, None)
    if not located:
        # Fail closed: rights we cannot check are treated as not granted (unless the operator opts out).
        return Decision(blackout_id, None if allow_unlocated else compiled.first_rule)
    return Decision(blackout_id, compiled.decide(viewer))


def compiled_for(rules: list[RuleSpec], audiences: dict[str, AudienceSpec],
                 cache: dict[BlackoutKey, CompiledBlackout], used: dict[BlackoutKey, CompiledBlackout]
                 ) -> CompiledBlackout:
    """A blackout's compiled matcher, reused from the previous build when its rules and their audiences are
    the same values: a change to one audience recompiles the blackouts that use it, not every channel's."""
    involved: dict[str, AudienceSpec] = {}
    for rule in rules:
        spec = audiences.get(rule.audience_id or "")
        if spec is not None:
            involved[spec.id] = spec
            for sub in spec.sub_audiences:
                if sub in audiences:
                    involved[sub] = audiences[sub]
    key = (tuple(rules), tuple(involved.values()))
    compiled = used.get(key) or cache.get(key)
    if compiled is None:
        compiled = CompiledBlackout(rules, audiences)
    used[key] = compiled
    return compiled


def load_snapshot(db: Database, previous: Snapshot | None = None) -> Snapshot:
    """The whole state from the database. From `previous` (the state built last) it reuses every audience row
    that did not change and every blackout's compiled matcher whose rules and audiences are the same, so
    a change to one audience or one channel costs that much, not the whole configuration."""
    with db.reading() as conn, Session(bind=conn) as session:
        version = session.scalar(select(versions.ConfigVersion.version)
                                 .where(versions.ConfigVersion.id == versions.DECISIONS)) or 0
        groups = {g.id: g for g in session.scalars(select(FailoverGroup))}
        actives = [g.active_slicer for g in groups.values() if g.active_slicer]
        slicers = {s.id: s for s in session.execute(
            select(Slicer.id, Slicer.owner, Slicer.slicer_id).where(Slicer.id.in_(actives)))} if actives else {}
        snapshot = Snapshot(version=version)
        for channel in session.execute(select(Channel.id, Channel.owner, Channel.failover_group_id)):
            plan = ChannelPlan(owner=channel.owner)
            group = groups.get(channel.failover_group_id or "")
            if group is not None:
                snapshot.group_channels.setdefault(group.id, []).append(channel.id)
                active = slicers.get(group.active_slicer or "")
                plan.source = source_name(group.no_slicer, (active.owner, active.slicer_id) if active else None,
                                          group.owner) or None
            snapshot.channels[channel.id] = plan
        _load_programs(session, snapshot)
        audiences = _load_audiences(session, snapshot, previous.audience_rows if previous else {})
        rules = {r.id: RuleSpec(id=r.id, all_viewers=r.all_viewers, audience_id=r.audience_id,
                                content_type=r.alternate_content_type, content_id=r.alternate_content_id,
                                loop=r.alternate_content_loop) for r in session.scalars(select(Rule))}
        order: dict[str, list[str]] = {}
        for link in session.execute(select(BlackoutRule.blackout_pk, BlackoutRule.rule_id)
                                    .order_by(BlackoutRule.position)):
            order.setdefault(link.blackout_pk, []).append(link.rule_id)
        cache = previous.compiled if previous else {}
        for blackout in session.execute(select(Blackout.id, Blackout.channel_id, Blackout.blackout_id)):
            specs = [rules[r] for r in order.get(blackout.id, []) if r in rules]
            snapshot.channels[blackout.channel_id].blackouts[blackout.blackout_id] = compiled_for(
                specs, audiences, cache, snapshot.compiled)
        snapshot.zip_dma = dict(session.execute(select(ZipDma.zip, ZipDma.dma)).tuples().all())
        _load_history(session, snapshot, groups)
    return snapshot


def _load_programs(session: Session, snapshot: Snapshot) -> None:
    for tag in session.execute(select(ProgramTag.channel_id, ProgramTag.start_ms, ProgramTag.blackout_id)
                               .order_by(ProgramTag.start_ms, ProgramTag.created)):
        plan = snapshot.channels[tag.channel_id]
        plan.tag_starts.append(tag.start_ms)
        plan.tag_ids.append(tag.blackout_id)
    for window in session.execute(select(ScheduleWindow.channel_id, ScheduleWindow.start_ms,
                                         ScheduleWindow.end_ms, ScheduleWindow.blackout_id)
                                  .order_by(ScheduleWindow.start_ms)):
        snapshot.channels[window.channel_id].windows.append((window.start_ms, window.end_ms, window.blackout_id))


def _load_audiences(session: Session, snapshot: Snapshot, known: dict[str, tuple[datetime, AudienceSpec | None]]
                    ) -> dict[str, AudienceSpec]:
    """Every usable audience by ID. Only rows whose `updated` moved since `known` are read and parsed (a
    state's 40,000 zips cost their JSON once, not at every change); memberships are read whole (small)."""
    members: dict[str, list[str]] = {}
    for member in session.execute(select(SubAudience.super_id, SubAudience.sub_id).order_by(SubAudience.position)):
        members.setdefault(member.super_id, []).append(member.sub_id)
    subs = {super_id: tuple(ids) for super_id, ids in members.items()}
    stamps = dict(session.execute(select(Audience.id, Audience.updated)).tuples().all())
    changed = [audience_id for audience_id, updated in stamps.items()
               if audience_id not in known or known[audience_id][0] != updated]
    rows = dict(known)
    for start in range(0, len(changed), 500):
        for a in session.scalars(select(Audience).where(Audience.id.in_(changed[start:start + 500]))):
            rows[a.id] = (a.updated, _audience_spec(a, ()))
    audiences: dict[str, AudienceSpec] = {}
    for audience_id in stamps:
        updated, spec = rows[audience_id]
        if spec is not None and spec.sub_audiences != subs.get(audience_id, ()):
            spec = replace(spec, sub_audiences=subs.get(audience_id, ()))
            rows[audience_id] = (updated, spec)
        snapshot.audience_rows[audience_id] = rows[audience_id]
        if spec is not None:
            audiences[audience_id] = spec
    return audiences


def _audience_spec(a: Audience, subs: Sequence[str]) -> AudienceSpec | None:
    """The row as the matcher reads it; a damaged row (written by hand, or by an older bug) is left out and
    named in the log, so one bad row cannot stop every decision of every channel."""
    try:
        lists = {name: tuple(STORED_VALUES.validate_python(getattr(a, name)) or ()) for name in CRITERIA}
        for network in lists["ip_networks"]:
            ipaddress.ip_network(network, strict=False)
        return AudienceSpec(id=a.id, type=a.type, match_type=a.match_type, sub_audiences=tuple(subs), **lists)
    except (TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        log.error("audience %s is damaged and left out of decisions: %s", a.id, str(exc).replace("\n", " ")[:300])
        DAMAGED_ROWS.inc()
        return None


def _load_history(session: Session, snapshot: Snapshot, groups: dict[str, FailoverGroup]) -> None:
    """Each group's recent switches, and every channel's cut instants (its own, and those of the channels
    its blackouts show instead), for the viewer's stream (stream/timeline.py)."""
    ranked = select(FailoverEvent.failover_group_id, FailoverEvent.time, FailoverEvent.kind,
                    FailoverEvent.from_slicer_id, FailoverEvent.to_slicer_id,
                    func.row_number().over(partition_by=FailoverEvent.failover_group_id,
                                           order_by=FailoverEvent.time.desc()).label("n")
                    ).where(FailoverEvent.kind.in_(SWITCH_KINDS)).subquery()
    histories: dict[str, list[tuple[int, str | None]]] = {}
    for row in session.execute(select(ranked).where(ranked.c.n <= HISTORY).order_by(ranked.c.time)):
        history = histories.setdefault(row.failover_group_id, [])
        if not history:  # what was on before the oldest switch we keep
            history.append((-1, row.from_slicer_id if row.kind != "no_slicer_off" else "no_slicer"))
        last_slicer = next((src for _, src in reversed(history) if src not in (None, "no_slicer")), None)
        source = {"no_slicer_on": "no_slicer", "no_slicer_off": last_slicer}.get(row.kind, row.to_slicer_id)
        history.append((row.time, source))
    for channel in session.execute(select(Channel.id, Channel.failover_group_id)):
        plan = snapshot.channels[channel.id]
        group = groups.get(channel.failover_group_id or "")
        if group is not None:
            plan.group_owner = group.owner
            plan.history = histories.get(group.id, [])
    for channel_id, plan in snapshot.channels.items():
        cuts = set(plan.tag_starts)
        for start, end, _ in plan.windows:
            cuts.update((start, end))
        for other in [channel_id, *_shows(plan, snapshot)]:
            snapshot.shown_by.setdefault(other, set()).add(channel_id)
            cuts.update(t for t, _ in snapshot.channels[other].history if t >= 0)
        plan.cuts = sorted(cuts)


def _shows(plan: ChannelPlan, snapshot: Snapshot) -> list[str]:
    """The channels this channel's blackouts show instead (their switches cut this channel's picture too)."""
    return [rule.content_id for blackout in plan.blackouts.values() for rule in blackout.rules
            if rule.content_type == "channel" and rule.content_id in snapshot.channels]


class DecisionState:
    def __init__(self, db: Database, settings: Settings, registry: Registry) -> None:
        self.db = db
        self.registry = registry
        self.allow_unlocated = settings.unlocated == "allow"
        self.geo = GeoReader(settings.geoip_db)
        self._snapshot = Snapshot()
        # Generations, not a flag: a reader must not take a snapshot whose load began before the change
        # it is asking about, even while another thread is rebuilding.
        self._wanted = 1
        self._built = 0
        self._lock = threading.Lock()
        self._builds = 0
        self._quiet_until = 0.0
        self.outcomes = {name: DECISIONS.labels(name) for name in ("blacked_out", "allowed", "unlocated")}

    def close(self) -> None:
        self.geo.close()

    def invalidate(self) -> None:
        self._wanted += 1

    @property
    def stale(self) -> bool:
        return self._built < self._wanted

    async def fresh(self, channel_id: str) -> None:
        """For readers on the event loop: the first state is built in a worker thread. After that readers
        never wait: a change that can alter their answer was settled before its writer was answered, and
        any other is swapped in by the thread that builds it. One exception: a channel the state does not
        hold while a newer one is being built (made a moment ago through another process) waits for that
        build rather than answering 404 for a channel that exists."""
        if self._built == 0 or (self.stale and channel_id not in self._snapshot.channels):
            await anyio.to_thread.run_sync(self.rebuild)

    def settle(self) -> bool:
        """For the writer's thread after its commit: build the change in before the writer is answered
        (read-your-writes in this process). False on the event loop, which never builds: the watcher will."""
        return not _on_event_loop() and self.rebuild()

    def snapshot(self) -> Snapshot:
        """The state with every change made so far. On the event loop it is never built here (a build of a
        large configuration takes long): loop readers `await fresh()` first, and otherwise get the state
        swapped in last. Threads build a stale state before they read it."""
        if self._built == 0 or (self.stale and not _on_event_loop()):
            self.rebuild()
        return self._snapshot

    def rebuild(self) -> bool:
        """Build the state for every change invalidated so far; on failure keep serving the previous one."""
        with self._lock:
            target = self._wanted  # everything invalidated up to now is covered by the load below
            if self._built >= target:
                return True
            started = time.perf_counter()
            try:
                with _yielding_to_the_loop(), _out_of_the_collectors_way(self._builds):
                    snapshot = load_snapshot(self.db, self._snapshot)
            except Exception as exc:
                REBUILD_FAILURES.inc()
                if time.monotonic() >= self._quiet_until:  # retried at every poll: logged once a minute
                    self._quiet_until = time.monotonic() + 60
                    log.exception("decision state rebuild failed (%s); decisions keep the previous state",
                                  exc.__class__.__name__)
                return False
            self._snapshot = snapshot
            self._built = target
            self.on_fleet(None)  # a switch committed while it loaded
            self._builds += 1
            MATCHER_REBUILDS.inc()
            MATCHER_REBUILD_SECONDS.observe(time.perf_counter() - started)
            return True

    def on_version(self, version: int) -> None:
        """The watcher saw the configuration version (ours or another process's change)."""
        if version != self._snapshot.version:
            self.invalidate()
            self.rebuild()

    def on_fleet(self, groups: set[str] | None) -> None:
        """The registry changed these groups (None: any): their channels' sources follow, as a delta.

        Plans are replaced, never changed, so a reader holding one sees one consistent plan.
        """
        snapshot, fleet = self._snapshot, self.registry.current
        for group_id in snapshot.group_channels if groups is None else groups:
            group = fleet.groups.get(group_id)
            if group is None:
                continue  # deleted: the decisions version moved with it, and the rebuild drops it
            source = fleet.source(group)
            at = group.switched_ms or now_ms()
            for channel_id in snapshot.group_channels.get(group_id, ()):
                plan = snapshot.channels.get(channel_id)
                if plan is not None and plan.source != source:
                    _switched(snapshot, channel_id, plan, source, at)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome].inc()


@contextlib.contextmanager
def _yielding_to_the_loop() -> Iterator[None]:
    """While a build runs in its thread, the event loop gets the GIL back every 0.5 ms instead of every 5 ms:
    a request that needs it a few times would otherwise wait 5 ms each time behind the build."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, 0.0005))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@contextlib.contextmanager
def _out_of_the_collectors_way(builds: int) -> Iterator[None]:
    """A build, and the state it makes (alive until the next build), kept out of the cyclic collector's sight.

    A full collection walks every entry of every compiled set: 76 ms at the large configuration, holding
    the GIL, a stall for every viewer, and during a build it walks the half-built state as well (a build
    took three times as long with the collector on). So the collector is off while a build runs, and what
    is alive after it is frozen (`gc.freeze`): still freed by reference counts when the next build replaces
    it. The price is the cyclic garbage made during the build (about 150 objects), kept until every
    1,000th build unfreezes everything for the collector's next full pass."""
    if builds % 1000 == 999:
        gc.unfreeze()
    gc.collect(1)  # the young garbage of before the build, cheaply, so it is not frozen
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _switched(snapshot: Snapshot, channel_id: str, plan: ChannelPlan, source: str | None, at: int) -> None:
    history = plan.history[-(HISTORY - 1):] or [(-1, plan.source)]
    snapshot.channels[channel_id] = replace(plan, source=source, history=[*history, (at, source)],
                                            cuts=sorted({*plan.cuts, at}))
    for other in snapshot.shown_by.get(channel_id, ()):  # channels showing this one cut at its switches too
        shown = snapshot.channels.get(other)
        if shown is not None and other != channel_id:
            snapshot.channels[other] = replace(shown, cuts=sorted({*shown.cuts, at}))


