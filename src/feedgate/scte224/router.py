"""SCTE 224 documents over HTTP: import (or dry run), the record of imports, export, and rights feeds."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from feedgate.auth.dependencies import Owner
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, SettingsDep, deleted
from feedgate.kit.errors import bad_request
from feedgate.kit.schemas import Deleted
from feedgate.scte224 import feeds, schemas, service
from feedgate.scte224.export import export_channel

router = APIRouter(prefix="/scte224", tags=["scte224"], route_class=PlainRoute)
XML_BODY = {"requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}}}


def _channel_map(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for index, pair in enumerate(pairs):
        media, sep, channel = pair.partition("=")
        if not sep or not media or not channel:
            raise bad_request(f"Query parameter 'channel_map[{index}]' must be MEDIA_ID=CHANNEL (got '{pair}').")
        out[media] = channel
    return out


@router.post("", summary="Import an SCTE 224 document (the XML as the body); dry_run=1 answers the diff only",
             openapi_extra=XML_BODY)
async def import_document(request: Request, owner: Owner, session: SessionDep,
                          dry_run: Annotated[bool, Query()] = False,
                          channel_map: Annotated[list[str], Query(max_length=1000)] = []) -> schemas.Import:  # noqa: B006
    body = await request.body()
    mapping = _channel_map(channel_map)
    return await run_in_threadpool(service.import_document, session, owner, body, channel_map=mapping,
                                   dry_run=dry_run)


@router.get("/imports", summary="The record of imports: who, when, the digest and the diff")
def list_imports(owner: Owner, session: SessionDep, page: PageDep) -> schemas.Imports:
    return service.list_imports(session, owner, page)


@router.get("/media/{channel_id}", summary="A channel's audiences, rules, blackouts and windows as an SCTE 224 "
            "document the import reads back to the same state", response_class=Response,
            responses={200: {"content": {"application/xml": {"schema": {"type": "string"}}}}})
def export_media(channel_id: str, owner: Owner, session: SessionDep) -> Response:
    return Response(export_channel(session, owner, channel_id), media_type="application/xml")


@router.post("/feeds", status_code=201, summary="Add a rights feed: a URL checked at an interval, imported on change")
def create_feed(data: schemas.FeedCreate, owner: Owner, session: SessionDep, settings: SettingsDep) -> schemas.Feed:
    return feeds.serialize_feed(feeds.create_feed(session, owner, data, settings.allow_private_urls,
                                                  settings.max_feeds_per_user))


@router.get("/feeds", summary="Get your rights feeds and the outcome of their last check")
def list_feeds(owner: Owner, session: SessionDep, page: PageDep) -> schemas.Feeds:
    return feeds.list_feeds(session, owner, page)


@router.get("/feeds/{feed_id}", summary="Get a rights feed")
def get_feed(feed_id: str, owner: Owner, session: SessionDep) -> schemas.Feed:
    return feeds.serialize_feed(feeds.get_feed(session, owner, feed_id))


@router.post("/feeds/{feed_id}/check", status_code=202, summary="Check a rights feed now (within a second)")
def check_feed(feed_id: str, owner: Owner, session: SessionDep) -> schemas.Feed:
    return feeds.serialize_feed(feeds.check_now(session, owner, feed_id))


@router.delete("/feeds/{feed_id}", summary="Delete a rights feed (what it imported stays)")
def delete_feed(feed_id: str, owner: Owner, session: SessionDep, request: Request) -> Deleted:
    feeds.delete_feed(session, owner, feed_id)
    return deleted(request, "Scte224Feed")
