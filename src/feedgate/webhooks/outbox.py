"""The webhook outbox: a listener of domain events (`kit.events`), writing one delivery row per subscribed
webhook inside the transaction that recorded the events. A crash between a switch and its send loses
nothing (both commit or neither does), and the domains that record events never import webhooks."""

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedgate.kit.bulk import insert_rows
from feedgate.kit.events import DomainEvent
from feedgate.kit.ids import new_id
from feedgate.kit.time import iso_ms, ms_to_datetime, now_ms
from feedgate.webhooks.models import Webhook, WebhookDelivery


def delivery(webhook_id: str, owner: str, event: str, data: dict[str, Any], now: int) -> dict[str, Any]:
    """One outbox row; its body is what the receiver gets, byte for byte."""
    delivery_id = new_id()
    created = iso_ms(ms_to_datetime(now))
    body = json.dumps({"id": delivery_id, "type": event, "created": created, "owner": owner, "data": data},
                      separators=(",", ":"))
    return {"id": delivery_id, "webhook_id": webhook_id, "owner": owner, "event": event, "body": body,
            "created_ms": now, "state": "pending", "attempts": 0, "next_attempt_ms": now, "last_error": ""}


def wants(hook: Webhook, event: DomainEvent) -> bool:
    return ("*" in hook.events or event.kind in hook.events) and \
        (not hook.failover_group_ids or event.failover_group_id in hook.failover_group_ids)


def on_events(session: Session, events: list[DomainEvent]) -> None:
    """Queue `events` for every enabled webhook of their owners that wants them: one query per commit."""
    events = [e for e in events if not e.quiet]
    if not events:
        return
    hooks: dict[str, list[Webhook]] = defaultdict(list)
    for hook in session.scalars(select(Webhook).where(Webhook.owner.in_({e.owner for e in events}),
                                                      Webhook.enabled)):
        hooks[hook.owner].append(hook)
    if not hooks:
        return
    now = now_ms()
    rows = [delivery(hook.id, event.owner, event.type, event.data, now)
            for event in events for hook in hooks[event.owner] if wants(hook, event)]
    if rows:
        insert_rows(session, WebhookDelivery, rows)
