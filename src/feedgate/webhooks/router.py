from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from feedgate.auth.dependencies import Owner
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, deleted
from feedgate.kit.pagination import paginate
from feedgate.webhooks import service
from feedgate.webhooks.models import Webhook, WebhookDelivery
from feedgate.webhooks.schemas import WebhookCreate, WebhookUpdate

router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=PlainRoute)


def _allow_private(request: Request) -> bool:
    return bool(request.app.state.settings.webhook_allow_private)


@router.post("", status_code=201, summary="Add a webhook (its secret is shown in this answer only)")
def create_webhook(data: WebhookCreate, owner: Owner, session: SessionDep, request: Request) -> dict[str, Any]:
    hook = service.create_webhook(session, owner, data, _allow_private(request))
    return service.serialize_webhook(hook, with_secret=True)


@router.get("", summary="Get your webhooks")
def list_webhooks(owner: Owner, session: SessionDep, page: PageDep) -> dict[str, Any]:
    return paginate(session, select(Webhook).where(Webhook.owner == owner), query=page, path=service.API,
                    serialize=service.serialize_webhook, order_fields={"created": Webhook.created, "url": Webhook.url},
                    updated_column=Webhook.updated)


@router.get("/{webhook_id}", summary="Get a webhook")
def get_webhook(webhook_id: str, owner: Owner, session: SessionDep) -> dict[str, Any]:
    return service.serialize_webhook(service.get_webhook(session, owner, webhook_id))


@router.patch("/{webhook_id}", summary="Update a webhook")
def update_webhook(webhook_id: str, data: WebhookUpdate, owner: Owner, session: SessionDep,
                   request: Request) -> dict[str, Any]:
    return service.serialize_webhook(service.update_webhook(session, owner, webhook_id, data,
                                                            _allow_private(request)))


@router.delete("/{webhook_id}", summary="Delete a webhook and its deliveries")
def delete_webhook(webhook_id: str, owner: Owner, session: SessionDep, request: Request) -> dict[str, Any]:
    service.delete_webhook(session, owner, webhook_id)
    return deleted(request, "Webhook")


@router.post("/{webhook_id}/rotate-secret", summary="Replace the secret (the new one is shown once)")
def rotate_secret(webhook_id: str, owner: Owner, session: SessionDep) -> dict[str, Any]:
    return service.serialize_webhook(service.rotate_secret(session, owner, webhook_id), with_secret=True)


@router.post("/{webhook_id}/test", status_code=202, summary="Send a ping through the outbox")
def send_ping(webhook_id: str, owner: Owner, session: SessionDep) -> dict[str, Any]:
    return service.serialize_delivery(service.send_ping(session, owner, webhook_id))


@router.get("/{webhook_id}/deliveries", summary="Deliveries of a webhook, newest first")
def list_deliveries(webhook_id: str, owner: Owner, session: SessionDep, page: PageDep) -> dict[str, Any]:
    hook = service.get_webhook(session, owner, webhook_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
    return paginate(session, stmt, query=page, path=f"{service.API}/{webhook_id}/deliveries",
                    serialize=service.serialize_delivery, order_fields={"created": WebhookDelivery.created_ms},
                    updated_column=None, default_order="-created")


