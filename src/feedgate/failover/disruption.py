"""A fleet-wide silence: the control plane's own trouble, recorded once, and held.

When most of the fleet goes quiet at once in groups where nothing beats (`policy.fleet_silence`), the
control plane has lost the slicers, not the slicers their pictures: a network partition, a load balancer, a
routing change. Failing every group over to a standby that is just as silent would only put slate or
`no_candidate` on every channel. So the engine holds: no failover, no `no_candidate`, no state change for
silence; what is on air stays on air. One record opens (`fleet_disruptions`), each held group gets a
`disruption` event, each owner a `fleet.disruption` webhook event; when the beats return the record closes,
every silent member gets a fresh timeout clock (so a slicer that comes back a little later is not failed
over), and judging resumes where it was. docs/design.md, "A fleet-wide silence", has the rule.
"""

import logging
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from feedgate.failover.events import Happened, write_events
from feedgate.failover.models import FleetDisruption
from feedgate.failover.registry import Fleet, GroupConfig
from feedgate.kit.db import Database
from feedgate.kit.events import DomainEvent, record
from feedgate.kit.ids import new_id
from feedgate.kit.metrics import FLEET_DISRUPTION
from feedgate.kit.time import iso_ms, ms_to_datetime

log = logging.getLogger("feedgate.engine")


@dataclass
class Disruption:
    id: str
    started_ms: int  # Unix ms, for the record
    opened: int  # clock_ms, for its duration
    silent: int
    considered: int
    held: set[str]  # the groups held (nothing beat in them when it opened) and not released yet
    announced: list[str]  # every group it held, for the events when it ends

    @property
    def reason(self) -> str:
        return (f"{self.silent} of {self.considered} slicers went silent at once in groups where nothing beats: "
                "the control plane lost them; holding those groups as they were")


def _by_owner(fleet: Fleet, groups: list[str]) -> dict[str, list[GroupConfig]]:
    found: dict[str, list[GroupConfig]] = defaultdict(list)
    for group_id in groups:
        group = fleet.groups.get(group_id)
        if group is not None:
            found[group.owner].append(group)
    return found


def _active_name(fleet: Fleet, group: GroupConfig) -> str | None:
    active = fleet.members.get(group.active or "")
    return active.name if active else None


def _announce(session: Session, fleet: Fleet, d: Disruption, state: str, now: int, reason: str,
              told: Collection[str] = ()) -> None:
    """A `disruption` event on each held group, and one `fleet.disruption` per owner not `told` already
    (their groups only)."""
    for owner, groups in _by_owner(fleet, d.announced).items():
        write_events(session, [(group.ref, Happened("disruption", reason, _active_name(fleet, group)))
                               for group in groups], now)
        if owner in told:
            continue
        record(session, DomainEvent("fleet.disruption", owner, {
            "state": state, "disruption_id": d.id, "started": iso_ms(ms_to_datetime(d.started_ms)),
            "ended": iso_ms(ms_to_datetime(now)) if state == "ended" else None,
            "held_groups": [g.id for g in groups], "reason": reason}, quiet=not any(g.notify for g in groups)))


def record_opening(db: Database, fleet: Fleet, d: Disruption, now: int) -> None:
    with db.sessions() as session, session.begin():
        session.add(FleetDisruption(id=d.id, started_ms=d.started_ms, silent=d.silent, considered=d.considered,
                                    held_groups=len(d.held), reason=d.reason[:500]))
        _announce(session, fleet, d, "started", now, f"fleet-wide disruption: {d.reason}")
    FLEET_DISRUPTION.set(1)
    log.warning("fleet-wide disruption %s: %s", d.id, d.reason)


def record_holding(db: Database, fleet: Fleet, d: Disruption, groups: list[str], now: int) -> None:
    """Groups held after the disruption opened (they went quiet a moment later): their events, the count."""
    told = set(_by_owner(fleet, [g for g in d.announced if g not in groups]))  # owners told at the opening
    silent = sum(len(fleet.groups[g].members) for g in groups if g in fleet.groups)  # a held group is all silent
    d.silent += silent
    with db.sessions() as session, session.begin():
        session.execute(update(FleetDisruption).where(FleetDisruption.id == d.id)
                        .values(held_groups=FleetDisruption.held_groups + len(groups),
                                silent=FleetDisruption.silent + silent))
        late = Disruption(d.id, d.started_ms, d.opened, d.silent, d.considered, set(groups), groups)
        _announce(session, fleet, late, "started", now, f"fleet-wide disruption: {d.reason}", told)


def record_closing(db: Database, fleet: Fleet, d: Disruption, now: int) -> None:
    lasted = (now - d.started_ms) / 1000
    with db.sessions() as session, session.begin():
        session.execute(update(FleetDisruption).where(FleetDisruption.id == d.id).values(ended_ms=now))
        _announce(session, fleet, d, "ended", now, f"fleet-wide disruption ended after {lasted:.1f} s: beats "
                                                   "returned; every group resumes with the slicer it had")
    FLEET_DISRUPTION.set(0)
    log.warning("fleet-wide disruption %s ended after %.1f s", d.id, lasted)


def start(started_ms: int, opened: int, silent: int, considered: int, held: list[str]) -> Disruption:
    return Disruption(new_id(), started_ms, opened, silent, considered, set(held), list(held))


def close_left_open(db: Database, now: int) -> None:
    """A disruption a previous leader opened and did not close (it died holding): this leader starts afresh
    (every member's timeout clock restarts when leadership begins), so the old record is closed."""
    with db.sessions() as session, session.begin():
        session.execute(update(FleetDisruption).where(FleetDisruption.ended_ms.is_(None)).values(ended_ms=now))


def open_disruption(db: Database) -> dict[str, object] | None:
    """The disruption being held now, as /healthz shows it (any process can say: it is in the database)."""
    with db.reading() as conn:
        row = conn.execute(select(FleetDisruption).where(FleetDisruption.ended_ms.is_(None))
                           .order_by(FleetDisruption.started_ms.desc()).limit(1)).first()
    if row is None:
        return None
    return {"id": row.id, "since": iso_ms(ms_to_datetime(row.started_ms)), "held_groups": row.held_groups,
            "reason": row.reason}
