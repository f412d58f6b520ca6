"""What changed, by domain: one version per domain, and the fleet's change log.

Two domains, so that a change in one never rebuilds the other:
- DECISIONS: what viewer decisions compile (channels and their groups, audiences, rules, blackouts,
  programs, the zip-to-DMA table). A change moves its version; every process rebuilds its decision state.
- FLEET: what the registry holds (groups, members, eligibility, registrations, slicers' playlists, which
  slicer is on air). A change moves its version and writes one `fleet_changes` row per group or slicer it
  touched, so every process applies it as a delta (those groups, those slicers), never a whole reload.

Services mark what they changed on the session (`decisions_changed`, `fleet_changed`); the version rows
move just before the commit (in one order, so two transactions never deadlock on them), and after the
commit `Database` hands this process's listeners the `Changes`, versions included.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import BigInteger, Integer, String, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from feedgate.kit.base import Base
from feedgate.kit.bulk import insert_rows
from feedgate.kit.time import now_ms

DECISIONS, FLEET = 1, 2  # config_version rows
CHANGES = "feedgate_changes"  # Session.info key


class ConfigVersion(Base):
    """One row per domain whose counter moves on every change of that domain."""

    __tablename__ = "config_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class FleetChange(Base):
    """What one fleet version changed: a group (its configuration, members or source), a slicer (its
    registration or playlist), or, with neither, everything. Kept ten minutes; a process further behind
    reloads the whole registry."""

    __tablename__ = "fleet_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, index=True)
    group_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    slicer_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    changed_ms: Mapped[int] = mapped_column(BigInteger, index=True)


@dataclass
class Changes:
    """What one transaction changed, and (once committed) the versions it moved."""

    decisions: bool = False
    decisions_in_use: bool = False  # the change can alter a decision answered now (see decisions_changed)
    fleet: bool = False
    groups: set[str] = field(default_factory=set)
    slicers: set[str] = field(default_factory=set)
    everything: bool = False  # a fleet change not tied to groups or slicers: reload the registry
    mirrored: bool = False  # the engine's own switch: already applied to this process's registry
    decisions_version: int = 0
    fleet_version: int = 0


def _changes(session: Session) -> Changes:
    changes = session.info.get(CHANGES)
    if changes is None:
        changes = session.info[CHANGES] = Changes()
    return changes


def decisions_changed(session: Session, *, in_use: bool = True) -> None:
    """This transaction changes what decisions compile. `in_use=False`: nothing refers to what it changed yet
    (a new audience or rule), so no decision answered now can differ and nobody need wait for the rebuild."""
    changes = _changes(session)
    changes.decisions = True
    changes.decisions_in_use |= in_use


def fleet_changed(session: Session, groups: Iterable[str] = (), slicers: Iterable[str] = (), *,
                  everything: bool = False, mirrored: bool = False) -> None:
    """This transaction changes the fleet: these groups, these slicers (by key), or everything."""
    changes = _changes(session)
    changes.fleet = True
    changes.groups.update(groups)
    changes.slicers.update(slicers)
    changes.everything |= everything or not (changes.groups or changes.slicers)
    changes.mirrored = mirrored


def record_versions(session: Session) -> Changes | None:
    """Before the commit: move the versions marked on this session and log the fleet's delta."""
    changes: Changes | None = session.info.get(CHANGES)
    if changes is None:
        return None
    if changes.decisions:
        changes.decisions_version = _bump(session, DECISIONS)
    if changes.fleet:
        changes.fleet_version = version = _bump(session, FLEET)
        now = now_ms()
        rows = [{"version": version, "group_id": g, "slicer_key": None, "changed_ms": now} for g in changes.groups]
        rows += [{"version": version, "group_id": None, "slicer_key": k, "changed_ms": now} for k in changes.slicers]
        if changes.everything or not rows:
            rows.append({"version": version, "group_id": None, "slicer_key": None, "changed_ms": now})
        insert_rows(session, FleetChange, rows)
    return changes


def _bump(session: Session, domain: int) -> int:
    moved = update(ConfigVersion).where(ConfigVersion.id == domain).values(version=ConfigVersion.version + 1)
    return int(session.execute(moved.returning(ConfigVersion.version)).scalar_one())
