"""How failover events are written, by the API's changes and the engine's switches alike.

One insert for the rows of the events endpoint, and the same events recorded on the session as domain
events (`failover_group.<kind>`), so whoever listens (the webhook outbox) sees exactly what was stored.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from feedgate.failover.models import FailoverEvent
from feedgate.kit.bulk import insert_rows
from feedgate.kit.events import DomainEvent, record
from feedgate.kit.ids import new_id

KINDS = ("failover", "failback", "activated", "no_slicer_on", "no_slicer_off", "unhealthy", "healthy",
         "no_candidate", "joined", "left", "config", "disruption")
SWITCH_KINDS = ("failover", "failback", "activated", "no_slicer_on", "no_slicer_off")  # the source changes


@dataclass(frozen=True)
class GroupRef:
    """The group an event belongs to, as the events and their webhooks name it."""

    id: str
    owner: str
    name: str
    notify: bool = True  # its events go to webhooks


@dataclass(frozen=True)
class Happened:
    kind: str
    reason: str
    from_slicer_id: str | None = None
    to_slicer_id: str | None = None


def write_events(session: Session, happened: Iterable[tuple[GroupRef, Happened]], now: int) -> None:
    """Store what happened to each group as its events at `now` (Unix ms), in one statement, and record them
    for the listeners."""
    rows = [({"id": new_id(), "failover_group_id": group.id, "time": now, "kind": h.kind,
              "from_slicer_id": h.from_slicer_id, "to_slicer_id": h.to_slicer_id, "reason": h.reason}, group)
            for group, h in happened]
    if not rows:
        return
    insert_rows(session, FailoverEvent, [row for row, _ in rows])
    record(session, *(DomainEvent(
        f"failover_group.{row['kind']}", group.owner,
        {"@type": "FailoverEvent", **{k: v for k, v in row.items() if k != "failover_group_id"},
         "failover_group_id": group.id, "failover_group_name": group.name},
        failover_group_id=group.id, quiet=not group.notify) for row, group in rows))
