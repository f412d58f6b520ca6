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
from feedgate.webhooks import formats
from feedgate.webhooks.models import Webhook, WebhookDelivery


def deliveries(hook: Webhook, event: str, data: dict[str, Any], now: int) -> list[dict[str, Any]]:
    """The outbox rows for one event and one webhook, in its format; a body is what the receiver gets, byte for
    byte. Usually one row; none for an event that is no problem to PagerDuty, two for a PagerDuty ping (a
    trigger and its resolve: the key is proven and no incident is left open)."""
    created = iso_ms(ms_to_datetime(now))
    row_id = new_id()
    if hook.format == "slack":
        bodies = [formats.slack(row_id, event, data)]
    elif hook.format == "pagerduty":
        actions = formats.pagerduty_actions(event, data) if event != "ping" else [
            ("trigger", f"feedgate/ping/{row_id}", "info"), ("resolve", f"feedgate/ping/{row_id}", "info")]
        bodies = [formats.pagerduty(hook.routing_key, action, key, severity, event, data, created)
                  for action, key, severity in actions]
    else:
        bodies = [{"id": row_id, "type": event, "created": created, "owner": hook.owner, "data": data}]
    rows = []
    for i, body in enumerate(bodies):
        # Rows of one event are sent in order: the later one is due a moment later (a ping's resolve after its
        # trigger).
        rows.append({"id": row_id if i == 0 else new_id(), "webhook_id": hook.id, "owner": hook.owner,
                     "event": event, "body": json.dumps(body, separators=(",", ":")), "created_ms": now,
                     "state": "pending", "attempts": 0, "next_attempt_ms": now + 1000 * i, "last_error": ""})
    return rows


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
    rows = [row for event in events for hook in hooks[event.owner] if wants(hook, event)
            for row in deliveries(hook, event.type, event.data, now)]
    if rows:
        insert_rows(session, WebhookDelivery, rows)
