"""Webhooks: where an operator's alerts go. Tenant-scoped like every resource; the secret is shown on
creation and on rotation only."""

import secrets

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from feedgate.failover.service import get_group
from feedgate.kit.errors import FeedgateError, bad_request, not_found
from feedgate.kit.models import within_limit
from feedgate.kit.outbound import check_address
from feedgate.kit.pagination import Listed, PageQuery, paginate
from feedgate.kit.time import iso_ms, now_ms, utcnow
from feedgate.webhooks import schemas
from feedgate.webhooks.models import Webhook, WebhookDelivery
from feedgate.webhooks.outbox import deliveries
from feedgate.webhooks.schemas import WebhookCreate, WebhookUpdate

API = "/api/v4/webhooks"
def serialize_webhook(hook: Webhook) -> schemas.Webhook:
    return schemas.Webhook(at_id=f"{API}/{hook.id}", id=hook.id, owner=hook.owner, url=hook.url,
                           description=hook.description, events=hook.events, failover_group_ids=hook.failover_group_ids,
                           enabled=hook.enabled, format=hook.format, routing_key_set=bool(hook.routing_key),
                           created=iso_ms(hook.created), updated=iso_ms(hook.updated))


def with_secret(hook: Webhook) -> schemas.WebhookWithSecret:
    return schemas.WebhookWithSecret(**dict(serialize_webhook(hook)), secret=hook.secret)


def serialize_delivery(d: WebhookDelivery) -> schemas.WebhookDelivery:
    return schemas.WebhookDelivery(
        at_id=f"{API}/{d.webhook_id}/deliveries/{d.id}", id=d.id, webhook_id=d.webhook_id, event=d.event,
        state=d.state, attempts=d.attempts, created=d.created_ms,
        next_attempt=d.next_attempt_ms if d.state == "pending" else None, last_status=d.last_status,
        last_error=d.last_error, delivered=d.delivered_ms)


def list_webhooks(session: Session, owner: str, page: PageQuery) -> schemas.Webhooks:
    listed = Listed(API, {"created": Webhook.created, "url": Webhook.url}, updated_column=Webhook.updated)
    return paginate(session, select(Webhook).where(Webhook.owner == owner), page, listed,
                    lambda rows: [serialize_webhook(h) for h in rows], schemas.Webhooks)


def list_deliveries(session: Session, owner: str, webhook_id: str, page: PageQuery) -> schemas.WebhookDeliveries:
    hook = get_webhook(session, owner, webhook_id)
    listed = Listed(f"{API}/{webhook_id}/deliveries", {"created": WebhookDelivery.created_ms},
                    default_order="-created")
    return paginate(session, select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id), page, listed,
                    lambda rows: [serialize_delivery(d) for d in rows], schemas.WebhookDeliveries)


def recent_deliveries(session: Session, webhook_id: str, most: int = 5) -> list[schemas.WebhookDelivery]:
    return [serialize_delivery(d) for d in session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.created_ms.desc()).limit(most))]


def get_webhook(session: Session, owner: str, webhook_id: str) -> Webhook:
    hook = session.scalars(select(Webhook).where(Webhook.id == webhook_id, Webhook.owner == owner)).first()
    if hook is None:
        raise not_found("Webhook", webhook_id)
    return hook


def _check_groups(session: Session, owner: str, group_ids: list[str]) -> list[str]:
    for index, group_id in enumerate(group_ids):
        try:
            get_group(session, owner, group_id)
        except FeedgateError:
            raise bad_request(f"Field 'failover_group_ids[{index}]': failover group '{group_id}' does not "
                              "exist.") from None
    return list(dict.fromkeys(group_ids))


def _check_format(format: str, routing_key: str) -> None:
    if format == "pagerduty" and not routing_key:
        raise bad_request("'routing_key' is required when 'format' is pagerduty (the Events v2 integration key).")


def create_webhook(session: Session, owner: str, data: WebhookCreate, allow_private: bool, most: int) -> Webhook:
    within_limit(session, Webhook.owner, owner, most, "webhooks", "FEEDGATE_MAX_WEBHOOKS_PER_USER")
    check_address(data.url, allow_private)
    _check_format(data.format, data.routing_key or "")
    hook = Webhook(id=secrets.token_hex(16), owner=owner, url=data.url, description=data.description,
                   events=list(dict.fromkeys(data.events)),
                   failover_group_ids=_check_groups(session, owner, data.failover_group_ids),
                   enabled=data.enabled, secret="whsec_" + secrets.token_urlsafe(32), format=data.format,
                   routing_key=data.routing_key or "")
    session.add(hook)
    session.commit()
    return hook


def update_webhook(session: Session, owner: str, webhook_id: str, data: WebhookUpdate,
                   allow_private: bool) -> Webhook:
    hook = get_webhook(session, owner, webhook_id)
    before = serialize_webhook(hook)
    if data.url is not None:
        check_address(data.url, allow_private)
        hook.url = data.url
    if data.description is not None:
        hook.description = data.description
    if data.events is not None:
        hook.events = list(dict.fromkeys(data.events))
    if data.failover_group_ids is not None:
        hook.failover_group_ids = _check_groups(session, owner, data.failover_group_ids)
    if data.enabled is not None:
        hook.enabled = data.enabled
    if data.format is not None:
        hook.format = data.format
    key_moved = data.routing_key is not None and data.routing_key != hook.routing_key
    if data.routing_key is not None:
        hook.routing_key = data.routing_key
    _check_format(hook.format, hook.routing_key)
    if serialize_webhook(hook) != before or key_moved:  # `updated` moves only when something changed
        hook.updated = utcnow()
    session.commit()
    return hook


def delete_webhook(session: Session, owner: str, webhook_id: str) -> None:
    session.delete(get_webhook(session, owner, webhook_id))
    session.commit()


def rotate_secret(session: Session, owner: str, webhook_id: str) -> Webhook:
    hook = get_webhook(session, owner, webhook_id)
    hook.secret = "whsec_" + secrets.token_urlsafe(32)
    hook.updated = utcnow()
    session.commit()
    return hook


def send_ping(session: Session, owner: str, webhook_id: str) -> WebhookDelivery:
    """A `ping` for this webhook only, through the same outbox as every event."""
    hook = get_webhook(session, owner, webhook_id)
    rows = deliveries(hook, "ping", {"webhook_id": hook.id, "message": "feedgate webhook test"}, now_ms())
    session.execute(insert(WebhookDelivery), rows)
    session.commit()
    return session.get(WebhookDelivery, rows[0]["id"])  # type: ignore[return-value]
