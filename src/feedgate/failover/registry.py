"""The fleet as configured: groups, their members and every registered slicer, held in memory.

Loaded whole once at start; after that it follows the fleet domain by deltas (`kit.versions`): a change
names the groups and slicers it touched, and only those are read again, however large the fleet. A change
made in this process is applied after its commit; one made by another process is found in the fleet's
change log (`catch_up`), when its version is seen (the watcher's poll, or the heartbeat feed at once). A
heartbeat's join is applied here first, in memory, and written by the next heartbeat batch (`Ingest`).

So a steady-state heartbeat finds its slicer, group, thresholds and role here without a query, and the
engine evaluates groups without scanning the slicer table. The engine updates the fields it owns (state,
active slicer, blacklist) in place after each commit.
"""

import logging
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, or_, select

from feedgate.failover.events import SWITCH_KINDS, GroupRef
from feedgate.failover.models import AllowedOwner, FailoverEvent, FailoverGroup, Slicer
from feedgate.failover.policy import OFFLINE, HealthPolicy
from feedgate.kit.db import Database
from feedgate.kit.versions import FLEET, ConfigVersion, FleetChange

log = logging.getLogger("feedgate.registry")
DEFAULT_INTERVAL_MS = 1000


def member_name(slicer_owner: str, slicer_id: str, group_owner: str) -> str:
    """How a member is shown: its slicerID, or OWNER_ID:slicerID when another owner's."""
    return slicer_id if slicer_owner == group_owner else f"{slicer_owner}:{slicer_id}"


def health_policy(group: Any) -> HealthPolicy:
    return HealthPolicy(
        heartbeat_timeout_ms=group.heartbeat_timeout_ms,
        clear_after_ms=group.clear_after_ms,
        blacklist_ms=group.blacklist_ms,
        thresholds={
            "input_loss_ms": group.input_loss_ms, "video_black_ms": group.video_black_ms,
            "audio_silence_ms": group.audio_silence_ms, "dropped_frames_pct": group.dropped_frames_pct,
            "upload_queue_s": group.upload_queue_s, "playlist_stale_ms": group.playlist_stale_ms,
        },
    )


def heartbeat_interval_ms(timeout_ms: int) -> int:
    return max(50, min(DEFAULT_INTERVAL_MS, timeout_ms // 3))


@dataclass
class MemberConfig:
    key: str
    owner: str
    slicer_id: str
    name: str
    group_id: str
    order: int
    enabled: bool
    # Engine-owned, as of its last commit.
    state: int
    healthy_since_ms: int | None
    blacklist_until: int
    # False from a heartbeat's join until the batch that writes it commits: the engine leaves out a member
    # the database does not hold yet (it would write to a row not there, or have its state reset).
    written: bool = True


@dataclass
class GroupConfig:
    id: str
    owner: str
    name: str
    mode: str
    auto_failback: bool
    hot_warm: int
    no_slicer: bool
    policy: HealthPolicy
    allowed: frozenset[str] = frozenset()  # other owners who may put their slicers in it
    members: list[str] = field(default_factory=list)  # keys, by order then name
    # Engine-owned, as of its last commit.
    active: str | None = None
    no_candidate: bool = False
    failover_time: int = 0
    switched_ms: int = 0  # when its source last changed (a switch or slate on/off), when known
    notify: bool = True  # its events go to webhooks

    @property
    def interval_ms(self) -> int:
        return heartbeat_interval_ms(self.policy.heartbeat_timeout_ms)

    @property
    def ref(self) -> GroupRef:
        return GroupRef(self.id, self.owner, self.name, self.notify)

    def visible_to(self, owner: str) -> bool:
        return owner == self.owner or owner in self.allowed


@dataclass
class Fleet:
    version: int = -1  # the fleet version this copy reflects
    groups: dict[str, GroupConfig] = field(default_factory=dict)
    members: dict[str, MemberConfig] = field(default_factory=dict)  # slicers in a group, by key
    slicers: dict[tuple[str, str], str] = field(default_factory=dict)  # (owner, slicerID) -> key, all of them
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (owner, slicerID)
    last_heartbeat: dict[str, int | None] = field(default_factory=dict)  # key -> as stored, at load
    hls_urls: dict[str, str] = field(default_factory=dict)  # key -> announced HLS playlist, when any

    def source(self, group: GroupConfig) -> str | None:
        """The group's source as decisions show it: its active member's name, "no_slicer", or None."""
        if group.no_slicer:
            return "no_slicer"
        member = self.members.get(group.active or "")
        return member.name if member is not None and member.group_id == group.id else None

    def hls_url(self, owner: str, slicer_id: str) -> str | None:
        """The playlist a slicer announced, by its owner and slicerID."""
        key = self.slicers.get((owner, slicer_id))
        return self.hls_urls.get(key) if key is not None else None

    def sort_members(self, group: GroupConfig) -> None:
        group.members = sorted((k for k in group.members if k in self.members),
                               key=lambda k: (self.members[k].order, self.members[k].name))


def group_config(g: Any, allowed: Iterable[str] = ()) -> GroupConfig:
    """A group row (ORM object or plain row) as the registry holds it."""
    return GroupConfig(id=g.id, owner=g.owner, name=g.name, mode=g.mode, auto_failback=g.auto_failback,
                       hot_warm=g.hot_warm, no_slicer=g.no_slicer, policy=health_policy(g),
                       allowed=frozenset(allowed), active=g.active_slicer, no_candidate=g.no_candidate,
                       failover_time=g.failover_time, notify=g.notify)


SLICER_COLUMNS = (Slicer.id, Slicer.owner, Slicer.slicer_id, Slicer.failover_group_id, Slicer.order, Slicer.enabled,
                  Slicer.state, Slicer.healthy_since_ms, Slicer.blacklist_until, Slicer.last_heartbeat_ms,
                  Slicer.hls_url)


def _read(conn: Connection, group_ids: Collection[str] | None, keys: Collection[str] = ()) -> tuple[Any, Any, Any]:
    """Group rows, their allowed owners and slicer rows: all of them (None), or those groups' and those keys'."""
    groups = select(FailoverGroup.__table__)
    allowed = select(AllowedOwner.failover_group_id, AllowedOwner.owner)
    slicers = select(*SLICER_COLUMNS)
    if group_ids is not None:
        groups = groups.where(FailoverGroup.id.in_(list(group_ids)))
        allowed = allowed.where(AllowedOwner.failover_group_id.in_(list(group_ids)))
        slicers = slicers.where(or_(Slicer.failover_group_id.in_(list(group_ids)), Slicer.id.in_(list(keys))))
    return conn.execute(groups).all(), conn.execute(allowed).all(), conn.execute(slicers).all()


def _add_slicer(fleet: Fleet, s: Any) -> None:
    fleet.slicers[(s.owner, s.slicer_id)] = s.id
    fleet.names[s.id] = (s.owner, s.slicer_id)
    fleet.last_heartbeat[s.id] = s.last_heartbeat_ms
    if s.hls_url:
        fleet.hls_urls[s.id] = s.hls_url
    else:
        fleet.hls_urls.pop(s.id, None)
    group = fleet.groups.get(s.failover_group_id or "")
    if group is None:
        fleet.members.pop(s.id, None)
        return
    fleet.members[s.id] = MemberConfig(
        key=s.id, owner=s.owner, slicer_id=s.slicer_id, name=member_name(s.owner, s.slicer_id, group.owner),
        group_id=group.id, order=s.order, enabled=s.enabled, state=s.state, healthy_since_ms=s.healthy_since_ms,
        blacklist_until=s.blacklist_until)
    if s.id not in group.members:
        group.members.append(s.id)


def load_fleet(db: Database) -> Fleet:
    with db.reading() as conn:
        version = conn.execute(select(ConfigVersion.version).where(ConfigVersion.id == FLEET)).scalar() or 0
        groups, allowed, slicers = _read(conn, None)
    owners: dict[str, list[str]] = {}
    for a in allowed:
        owners.setdefault(a.failover_group_id, []).append(a.owner)
    fleet = Fleet(version=version)
    for g in groups:
        fleet.groups[g.id] = group_config(g, owners.get(g.id, ()))
    for s in slicers:
        _add_slicer(fleet, s)
    for group in fleet.groups.values():
        fleet.sort_members(group)
    return fleet


Listener = Callable[[set[str] | None], None]  # the groups that changed, or None: all of them


class Registry:
    """The current `Fleet`, kept by deltas. `lock` orders every change of it with the engine's commits.

    Generations, as in the decision state: after a change committed here, `fresh` is false until a load
    that began after it.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.current = Fleet()
        self.lock = threading.Lock()
        self._ahead: set[int] = set()  # fleet versions applied here before the ones below them
        self._versions = threading.Lock()
        self.listeners: list[Listener] = []  # called after each change of the fleet, outside the lock

    def reload(self) -> Fleet:
        """Everything, from the database (at start, or when a process fell too far behind the change log)."""
        with self.lock:
            fleet = load_fleet(self.db)
            self.current = fleet
        self.notify(None)
        return fleet

    def apply(self, group_ids: Iterable[str] = (), keys: Iterable[str] = (), version: int | None = None) -> None:
        """Read these groups and slicers again: a delta, O(their size), however large the fleet."""
        groups, wanted = set(group_ids), set(keys)
        with self.lock:
            fleet = self.current
            for key in wanted:  # a slicer's old group changes too (it left, or moved)
                member = fleet.members.get(key)
                if member is not None:
                    groups.add(member.group_id)
            with self.db.reading() as conn:
                if wanted:  # and so does its new one
                    groups.update(g for g in conn.execute(select(Slicer.failover_group_id)
                                                          .where(Slicer.id.in_(list(wanted)))).scalars() if g)
                group_rows, allowed, slicer_rows = _read(conn, groups, wanted)
                switched = dict(conn.execute(
                    select(FailoverEvent.failover_group_id, func.max(FailoverEvent.time))
                    .where(FailoverEvent.failover_group_id.in_(list(groups)), FailoverEvent.kind.in_(SWITCH_KINDS))
                    .group_by(FailoverEvent.failover_group_id)).tuples().all()) if groups else {}
            self._replace(fleet, groups, wanted, group_rows, allowed, slicer_rows)
            for group_id, at in switched.items():
                if group_id in fleet.groups:
                    fleet.groups[group_id].switched_ms = at
            self._advance(version)
        self.notify(groups)

    def applied(self, version: int | None) -> None:
        """A fleet version this process already holds in memory (the engine's own switch, mirrored). Called
        after the engine's commit, in its thread, which holds `lock`: the versions have their own."""
        self._advance(version)

    def _advance(self, version: int | None) -> None:
        """Count `version` as held; the copy's version moves over every run of held versions, so the watcher
        does not read again what this process applied itself (commits' callbacks may come out of order)."""
        with self._versions:
            fleet = self.current
            if version is None or version <= fleet.version:
                return
            self._ahead.add(version)
            while fleet.version + 1 in self._ahead:
                fleet.version += 1
            self._ahead = {v for v in self._ahead if v > fleet.version}

    @staticmethod
    def _replace(fleet: Fleet, groups: set[str], keys: set[str], group_rows: Any, allowed: Any,
                 slicer_rows: Any) -> None:
        owners: dict[str, list[str]] = {}
        for a in allowed:
            owners.setdefault(a.failover_group_id, []).append(a.owner)
        # A join made here whose batch has not committed yet is not in the rows: it is kept, or a delta from
        # another instance would drop it until the next change of its group (the engine would never see it).
        # A key read again on purpose (a join that lost a race) follows the rows.
        unwritten: list[MemberConfig] = []
        for group_id in groups:  # members leave with their group's old copy; the rows below bring them back
            old = fleet.groups.pop(group_id, None)
            for key in old.members if old is not None else ():
                member = fleet.members.pop(key, None)
                if member is not None and not member.written and key not in keys:
                    unwritten.append(member)
        for g in group_rows:
            fleet.groups[g.id] = group_config(g, owners.get(g.id, ()))
        found = {s.id for s in slicer_rows}
        for key in keys - found:  # deleted
            owner_id = fleet.names.pop(key, None)
            if owner_id is not None:
                fleet.slicers.pop(owner_id, None)
            fleet.members.pop(key, None)
            fleet.hls_urls.pop(key, None)
        for s in slicer_rows:
            _add_slicer(fleet, s)
        for member in unwritten:
            group = fleet.groups.get(member.group_id)
            if group is not None and member.key not in fleet.members:
                fleet.members[member.key] = member
                group.members = [*group.members, member.key]
        for group_id in groups:
            group = fleet.groups.get(group_id)
            if group is not None:
                fleet.sort_members(group)

    def stored_version(self) -> int:
        with self.db.reading() as conn:
            return int(conn.execute(select(ConfigVersion.version).where(ConfigVersion.id == FLEET)).scalar() or 0)

    def catch_up(self, version: int) -> None:
        """Apply what other processes changed up to fleet `version`, from the change log."""
        seen = self.current.version
        if version <= seen:
            return
        with self.db.reading() as conn:
            rows = conn.execute(select(FleetChange.version, FleetChange.group_id, FleetChange.slicer_key)
                                .where(FleetChange.version > seen, FleetChange.version <= version)).all()
        if {r.version for r in rows} != set(range(seen + 1, version + 1)) \
                or any(r.group_id is None and r.slicer_key is None for r in rows):
            log.info("fleet changes %d..%d not all in the log: reloading the registry", seen + 1, version)
            self.reload()
            return
        self.apply({r.group_id for r in rows if r.group_id}, {r.slicer_key for r in rows if r.slicer_key})
        with self.lock, self._versions:
            self.current.version = max(self.current.version, version)

    # Heartbeats' joins and registrations, applied before the batch that writes them ---------------------
    def join(self, key: str, owner: str, slicer_id: str, group: GroupConfig) -> MemberConfig:
        """A slicer joining `group` by heartbeat: appended (enabled, next order), offline until judged.

        No lock: this runs on the event loop, and the engine may hold the lock through a commit. The member
        is in `members` before it is in its group's list, so a reader never meets an unknown key; the
        heartbeat batch that writes the join reads the group again afterwards (`apply`), which settles any
        race with a change from elsewhere.
        """
        fleet = self.current
        there = fleet.members.get(key)
        if there is not None and there.group_id == group.id:
            # A delta re-read the group between the beat's look and now: the member is back, as the database
            # holds it. Replacing it would mark it unwritten, and the engine would judge its group without it
            # (a group's active slicer "left the group": a failover away from a beating slicer).
            return there
        fleet.slicers[(owner, slicer_id)] = key
        fleet.names[key] = (owner, slicer_id)
        order = max((fleet.members[k].order for k in group.members if k in fleet.members), default=0) + 1
        member = MemberConfig(key=key, owner=owner, slicer_id=slicer_id,
                              name=member_name(owner, slicer_id, group.owner), group_id=group.id, order=order,
                              enabled=True, state=OFFLINE, healthy_since_ms=None, blacklist_until=0,
                              written=False)
        fleet.members[key] = member
        group.members = [*group.members, key]
        return member

    def register(self, key: str, owner: str, slicer_id: str, hls_url: str | None) -> None:
        """A slicer known by its first heartbeat (no group, or not yet); its playlist, when announced."""
        fleet = self.current
        fleet.slicers[(owner, slicer_id)] = key
        fleet.names[key] = (owner, slicer_id)
        if hls_url:
            fleet.hls_urls[key] = hls_url
        elif hls_url is not None:
            fleet.hls_urls.pop(key, None)

    def notify(self, groups: set[str] | None) -> None:
        """Tell the listeners these groups changed (None: any): a delta applied, or the engine's own switch."""
        for listener in self.listeners:
            listener(groups)
