"""Events into the webhook outbox, inside the transaction that records them (at least once: a crash
between the switch and the send loses nothing, because both commit or neither does)."""

import json
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from feedgate.failover.models import FailoverGroup
from feedgate.kit.ids import new_id
from feedgate.kit.time import iso_ms, ms_to_datetime, now_ms
from feedgate.webhooks.models import Webhook, WebhookDelivery

EVENTS = ("failover", "failback", "no_candidate", "unhealthy", "healthy", "activated", "no_slicer_on",
          "no_slicer_off", "program_changed", "config", "joined", "left")


def delivery(webhook_id: str, owner: str, event: str, data: dict[str, Any], now: int) -> dict[str, Any]:
    """One outbox row; its body is what the receiver gets, byte for byte."""
    delivery_id = new_id()
    created = iso_ms(ms_to_datetime(now))
    body = json.dumps({"id": delivery_id, "type": event, "created": created, "owner": owner, "data": data},
                      separators=(",", ":"))
    return {"id": delivery_id, "webhook_id": webhook_id, "owner": owner, "event": event, "body": body,
            "created_ms": now, "state": "pending", "attempts": 0, "next_attempt_ms": now, "last_error": ""}


def _rows(hooks: list[Webhook], owner: str, kind: str, event: str, data: dict[str, Any],
          group_id: str | None, now: int) -> list[dict[str, Any]]:
    return [delivery(hook.id, owner, event, data, now) for hook in hooks
            if ("*" in hook.events or kind in hook.events)
            and (not hook.failover_group_ids or group_id in hook.failover_group_ids)]


def enqueue(session: Session, owner: str, kind: str, event: str, data: dict[str, Any],
            group_id: str | None) -> int:
    """Outbox rows for every enabled webhook of `owner` that wants `kind` (for this group); how many."""
    hooks = list(session.scalars(select(Webhook).where(Webhook.owner == owner, Webhook.enabled)))
    rows = _rows(hooks, owner, kind, event, data, group_id, now_ms())
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    return len(rows)


def enqueue_group_events(session: Session, group_id: str, events: list[dict[str, Any]]) -> None:
    """Failover events as the events endpoint shows them, plus the group's ID and name: one query for
    the owner's webhooks whatever the number of events (the engine calls this on every decision)."""
    found = session.execute(select(Webhook, FailoverGroup.owner, FailoverGroup.name)
                            .join(FailoverGroup, FailoverGroup.owner == Webhook.owner)
                            .where(FailoverGroup.id == group_id, Webhook.enabled)).all()
    if not found:
        return
    owner, name = found[0].owner, found[0].name
    hooks = [row.Webhook for row in found]
    now = now_ms()
    rows = []
    for e in events:
        data = {**e, "failover_group_id": group_id, "failover_group_name": name}
        rows += _rows(hooks, owner, e["kind"], f"failover_group.{e['kind']}", data, group_id, now)
    if rows:
        session.execute(insert(WebhookDelivery), rows)
