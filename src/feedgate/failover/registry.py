"""The fleet as configured: groups, their members and every registered slicer, held in memory.

Loaded from the database when the configuration version moves (every config change, join and
switch moves it), so a steady-state heartbeat finds its slicer, group, thresholds and role here
without a query, and the engine evaluates groups without scanning the slicer table. The engine
updates the fields it owns (state, active slicer, blacklist) in place after each commit.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from feedgate.failover.models import FailoverGroup, Slicer
from feedgate.failover.policy import HealthPolicy
from feedgate.kit.db import Database
from feedgate.kit.models import ConfigVersion

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
    members: list[str] = field(default_factory=list)  # keys, by order then name
    # Engine-owned, as of its last commit.
    active: str | None = None
    no_candidate: bool = False

    @property
    def interval_ms(self) -> int:
        return heartbeat_interval_ms(self.policy.heartbeat_timeout_ms)


@dataclass
class Fleet:
    version: int = -1
    groups: dict[str, GroupConfig] = field(default_factory=dict)
    members: dict[str, MemberConfig] = field(default_factory=dict)  # slicers in a group, by key
    slicers: dict[tuple[str, str], str] = field(default_factory=dict)  # (owner, slicerID) -> key, all of them
    last_heartbeat: dict[str, int | None] = field(default_factory=dict)  # key -> as stored, at load
    hls_urls: dict[str, str] = field(default_factory=dict)  # key -> announced HLS playlist, when any


def group_config(g: Any) -> GroupConfig:
    """A group row (ORM object or plain row) as the registry holds it."""
    return GroupConfig(id=g.id, owner=g.owner, name=g.name, mode=g.mode, auto_failback=g.auto_failback,
                       hot_warm=g.hot_warm, no_slicer=g.no_slicer, policy=health_policy(g), active=g.active_slicer,
                       no_candidate=g.no_candidate)


def load_fleet(db: Database) -> Fleet:
    with db.reading() as conn:
        version = conn.execute(select(ConfigVersion.version).where(ConfigVersion.id == 1)).scalar() or 0
        groups = conn.execute(select(FailoverGroup.__table__)).all()
        slicers = conn.execute(select(
            Slicer.id, Slicer.owner, Slicer.slicer_id, Slicer.failover_group_id, Slicer.order, Slicer.enabled,
            Slicer.state, Slicer.healthy_since_ms, Slicer.blacklist_until, Slicer.last_heartbeat_ms, Slicer.hls_url,
        )).all()
    fleet = Fleet(version=version)
    for g in groups:
        fleet.groups[g.id] = group_config(g)
    for s in slicers:
        fleet.slicers[(s.owner, s.slicer_id)] = s.id
        fleet.last_heartbeat[s.id] = s.last_heartbeat_ms
        if s.hls_url:
            fleet.hls_urls[s.id] = s.hls_url
        group = fleet.groups.get(s.failover_group_id or "")
        if group is None:
            continue
        fleet.members[s.id] = MemberConfig(
            key=s.id, owner=s.owner, slicer_id=s.slicer_id, name=member_name(s.owner, s.slicer_id, group.owner),
            group_id=group.id, order=s.order, enabled=s.enabled, state=s.state,
            healthy_since_ms=s.healthy_since_ms, blacklist_until=s.blacklist_until)
    for member in sorted(fleet.members.values(), key=lambda m: (m.order, m.name)):
        fleet.groups[member.group_id].members.append(member.key)
    return fleet


class Registry:
    """The current `Fleet`, swapped whole on reload. `lock` orders reloads with the engine's commits.

    Generations, as in the decision state: after a change committed here, `fresh` is false until a
    reload that began after it (the watcher reloads it then, even if the version it polls looks known).
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.current = Fleet()
        self.lock = threading.Lock()
        self.listeners: list[Callable[[Fleet], None]] = []  # called with each new fleet, outside the lock
        self._wanted = 1
        self._built = 0

    @property
    def fresh(self) -> bool:
        return self._built >= self._wanted

    def invalidate(self) -> None:
        self._wanted += 1

    def reload(self, _version: int | None = None) -> Fleet:
        with self.lock:
            target = self._wanted
            fleet = load_fleet(self.db)
            self.current = fleet
            self._built = max(self._built, target)
        for listener in self.listeners:
            listener(fleet)
        return fleet
