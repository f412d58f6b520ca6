"""Webhooks: where an operator's alerts go. Tenant-scoped like every resource; the secret is shown on
creation and on rotation only."""

import ipaddress
import secrets
import socket
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from feedgate.failover.service import get_group
from feedgate.kit.errors import FeedgateError, bad_request, not_found
from feedgate.kit.pagination import Listed, PageQuery, paginate
from feedgate.kit.time import iso_ms, now_ms, utcnow
from feedgate.webhooks import schemas
from feedgate.webhooks.models import Webhook, WebhookDelivery
from feedgate.webhooks.outbox import delivery
from feedgate.webhooks.schemas import WebhookCreate, WebhookUpdate

API = "/api/v4/webhooks"
_RESOLVER = ThreadPoolExecutor(4, thread_name_prefix="webhook-dns")
METADATA = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"),
            ipaddress.ip_network("fd00:ec2::254/128"))


def check_url(url: str, allow_private: bool) -> None:
    """http(s) only; never a link-local or cloud-metadata address, nor loopback or private ranges unless
    FEEDGATE_WEBHOOK_ALLOW_PRIVATE=1 (a receiver on the operator's own network)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request(f"Field 'url' must be an http:// or https:// URL with a host, not '{url[:200]}'.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        # Bounded: a resolver that does not answer must not hold a worker thread for long.
        infos = _RESOLVER.submit(socket.getaddrinfo, parts.hostname, port, proto=socket.IPPROTO_TCP).result(2.0)
    except (OSError, ValueError, TimeoutError) as exc:
        raise bad_request(f"Field 'url': host '{parts.hostname}' cannot be resolved "
                          f"({exc or 'no answer in 2 s'}).") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if allow_private:
            continue
        if any(address in network for network in METADATA):
            raise bad_request(f"Field 'url' resolves to {address}, a link-local or cloud-metadata address.")
        if address.is_loopback or address.is_private or address.is_unspecified or address.is_reserved \
                or address.is_multicast:
            raise bad_request(f"Field 'url' resolves to {address}, a loopback or private address; set "
                              "FEEDGATE_WEBHOOK_ALLOW_PRIVATE=1 to allow receivers on your own network.")


def serialize_webhook(hook: Webhook) -> schemas.Webhook:
    return schemas.Webhook(at_id=f"{API}/{hook.id}", id=hook.id, owner=hook.owner, url=hook.url,
                           description=hook.description, events=hook.events, failover_group_ids=hook.failover_group_ids,
                           enabled=hook.enabled, created=iso_ms(hook.created), updated=iso_ms(hook.updated))


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


def create_webhook(session: Session, owner: str, data: WebhookCreate, allow_private: bool) -> Webhook:
    check_url(data.url, allow_private)
    hook = Webhook(id=secrets.token_hex(16), owner=owner, url=data.url, description=data.description,
                   events=list(dict.fromkeys(data.events)),
                   failover_group_ids=_check_groups(session, owner, data.failover_group_ids),
                   enabled=data.enabled, secret="whsec_" + secrets.token_urlsafe(32))
    session.add(hook)
    session.commit()
    return hook


def update_webhook(session: Session, owner: str, webhook_id: str, data: WebhookUpdate,
                   allow_private: bool) -> Webhook:
    hook = get_webhook(session, owner, webhook_id)
    before = serialize_webhook(hook)
    if data.url is not None:
        check_url(data.url, allow_private)
        hook.url = data.url
    if data.description is not None:
        hook.description = data.description
    if data.events is not None:
        hook.events = list(dict.fromkeys(data.events))
    if data.failover_group_ids is not None:
        hook.failover_group_ids = _check_groups(session, owner, data.failover_group_ids)
    if data.enabled is not None:
        hook.enabled = data.enabled
    if serialize_webhook(hook) != before:  # `updated` moves only when something changed
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
    row = delivery(hook.id, owner, "ping", {"webhook_id": hook.id, "message": "feedgate webhook test"}, now_ms())
    session.execute(insert(WebhookDelivery), [row])
    session.commit()
    return session.get(WebhookDelivery, row["id"])  # type: ignore[return-value]
