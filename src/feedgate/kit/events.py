"""Domain events: what a service records on its session, handed to listeners before the commit.

A service says what happened (`record(session, event)`) and nothing else: it does not know who cares.
Listeners registered on the `Database` (the webhook outbox, for one) run inside the same transaction,
just before it commits, so whatever they write commits with the change or not at all. A higher package
listens to a lower one this way without the lower one importing it.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

EVENTS = "feedgate_events"  # Session.info key: the events recorded in this transaction, in order


@dataclass(frozen=True)
class DomainEvent:
    """`type` is `<subject>.<kind>` (failover_group.failover, channel.program_changed); `data` is the
    event as the API shows it, ready to send."""

    type: str
    owner: str
    data: dict[str, Any] = field(default_factory=dict)
    failover_group_id: str | None = None
    quiet: bool = False  # recorded, but not for webhooks (a rehearsal's group)

    @property
    def kind(self) -> str:
        return self.type.rpartition(".")[2]


def record(session: Session, *events: DomainEvent) -> None:
    session.info.setdefault(EVENTS, []).extend(events)


def take(session: Session) -> list[DomainEvent]:
    """The events recorded so far in this transaction, which are then forgotten (handed over once)."""
    return list(session.info.pop(EVENTS, ()))
