"""Webhooks over HTTP."""

from fastapi import APIRouter, Request

from feedgate.auth.dependencies import Owner
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, SettingsDep, deleted
from feedgate.kit.schemas import Deleted
from feedgate.webhooks import schemas, service
from feedgate.webhooks.schemas import WebhookCreate, WebhookUpdate

router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=PlainRoute)


@router.post("", status_code=201, summary="Add a webhook (its secret is shown in this answer only)")
def create_webhook(data: WebhookCreate, owner: Owner, session: SessionDep,
                   settings: SettingsDep) -> schemas.WebhookWithSecret:
    return service.with_secret(service.create_webhook(session, owner, data, settings.allow_private_urls,
                                                      settings.max_webhooks_per_user))


@router.get("", summary="Get your webhooks")
def list_webhooks(owner: Owner, session: SessionDep, page: PageDep) -> schemas.Webhooks:
    return service.list_webhooks(session, owner, page)


@router.get("/{webhook_id}", summary="Get a webhook")
def get_webhook(webhook_id: str, owner: Owner, session: SessionDep) -> schemas.Webhook:
    return service.serialize_webhook(service.get_webhook(session, owner, webhook_id))


@router.patch("/{webhook_id}", summary="Update a webhook")
def update_webhook(webhook_id: str, data: WebhookUpdate, owner: Owner, session: SessionDep,
                   settings: SettingsDep) -> schemas.Webhook:
    hook = service.update_webhook(session, owner, webhook_id, data, settings.allow_private_urls)
    return service.serialize_webhook(hook)


@router.delete("/{webhook_id}", summary="Delete a webhook and its deliveries")
def delete_webhook(webhook_id: str, owner: Owner, session: SessionDep, request: Request) -> Deleted:
    service.delete_webhook(session, owner, webhook_id)
    return deleted(request, "Webhook")


@router.post("/{webhook_id}/rotate-secret", summary="Replace the secret (the new one is shown once)")
def rotate_secret(webhook_id: str, owner: Owner, session: SessionDep) -> schemas.WebhookWithSecret:
    return service.with_secret(service.rotate_secret(session, owner, webhook_id))


@router.post("/{webhook_id}/test", status_code=202, summary="Send a ping through the outbox")
def send_ping(webhook_id: str, owner: Owner, session: SessionDep) -> schemas.WebhookDelivery:
    return service.serialize_delivery(service.send_ping(session, owner, webhook_id))


@router.get("/{webhook_id}/deliveries", summary="Deliveries of a webhook, newest first")
def list_deliveries(webhook_id: str, owner: Owner, session: SessionDep,
                    page: PageDep) -> schemas.WebhookDeliveries:
    return service.list_deliveries(session, owner, webhook_id, page)
