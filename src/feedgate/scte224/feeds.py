"""Rights feeds: an SCTE 224 document at a URL, checked at an interval and imported when it changed.

The operator's side (add, list, check now, delete) and what a check's answer does to the feed. The checks
themselves run in `poller.py`, on the engine leader only.
"""

import hashlib
import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedgate.kit.backoff import backoff_s
from feedgate.kit.db import Database
from feedgate.kit.errors import FeedgateError, not_found
from feedgate.kit.events import DomainEvent, record
from feedgate.kit.models import within_limit
from feedgate.kit.outbound import check_address
from feedgate.kit.pagination import Listed, PageQuery, paginate
from feedgate.kit.time import iso_ms, ms_to_datetime, now_ms
from feedgate.scte224 import schemas
from feedgate.scte224.models import Scte224Feed
from feedgate.scte224.service import import_document

API = "/api/v4/scte224/feeds"
FIRST_RETRY_S, RETRY_CAP_S = 10.0, 900.0  # a failing feed: 10 s, 20 s, 40 s ... at most 15 min (± 20 %)
ERROR_CHARS = 1000
_rng = random.Random()


def serialize_feed(feed: Scte224Feed) -> schemas.Feed:
    return schemas.Feed(
        at_id=f"{API}/{feed.id}", id=feed.id, owner=feed.owner, url=feed.url, description=feed.description,
        interval_s=feed.interval_s, channel_map=feed.channel_map, enabled=feed.enabled,
        state=feed.state,
        failures=feed.failures, last_status=feed.last_status, last_error=feed.last_error,
        last_import_id=feed.last_import_id,
        checked=iso_ms(ms_to_datetime(feed.checked_ms)) if feed.checked_ms is not None else None,
        next_check=iso_ms(ms_to_datetime(feed.next_check_ms)) if feed.enabled else None,
        created=iso_ms(feed.created), updated=iso_ms(feed.updated))


def get_feed(session: Session, owner: str, feed_id: str) -> Scte224Feed:
    feed = session.scalars(select(Scte224Feed).where(Scte224Feed.id == feed_id, Scte224Feed.owner == owner)).first()
    if feed is None:
        raise not_found("Feed", feed_id)
    return feed


def list_feeds(session: Session, owner: str, page: PageQuery) -> schemas.Feeds:
    listed = Listed(API, {"created": Scte224Feed.created, "url": Scte224Feed.url}, updated_column=Scte224Feed.updated)
    return paginate(session, select(Scte224Feed).where(Scte224Feed.owner == owner), page, listed,
                    lambda rows: [serialize_feed(f) for f in rows], schemas.Feeds)


def create_feed(session: Session, owner: str, data: schemas.FeedCreate, allow_private: bool, most: int) -> Scte224Feed:
    within_limit(session, Scte224Feed.owner, owner, most, "feeds", "FEEDGATE_MAX_FEEDS_PER_USER")
    check_address(data.url, allow_private)
    feed = Scte224Feed(id=secrets.token_hex(16), owner=owner, url=data.url, description=data.description,
                       interval_s=data.interval_s, channel_map=dict(data.channel_map), enabled=data.enabled,
                       next_check_ms=now_ms())  # checked at once: the operator sees the first outcome soon
    session.add(feed)
    session.commit()
    return feed


def delete_feed(session: Session, owner: str, feed_id: str) -> None:
    """The feed goes; what it imported stays (delete it, or import a document without it, to remove it)."""
    session.delete(get_feed(session, owner, feed_id))
    session.commit()


def check_now(session: Session, owner: str, feed_id: str) -> Scte224Feed:
    feed = get_feed(session, owner, feed_id)
    feed.next_check_ms = now_ms()
    session.commit()
    return feed


@dataclass(frozen=True)
class Due:
    """A claimed feed: what its check needs, read once."""

    id: str
    owner: str
    url: str
    channel_map: dict[str, str]
    etag: str
    last_modified: str
    digest: str

    def conditional(self) -> dict[str, str]:
        headers = {"Accept": "application/xml, text/xml"}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


def claim(db: Database, most: int, hold_ms: int) -> list[Due]:
    """Feeds due now, moved `hold_ms` ahead in the same transaction (a check cut by a crash or a change of
    leader is retried then, not by two processes at once)."""
    now = now_ms()
    with db.sessions() as session, session.begin():
        stmt = (select(Scte224Feed).where(Scte224Feed.enabled, Scte224Feed.next_check_ms <= now)
                .order_by(Scte224Feed.next_check_ms).limit(most))
        if db.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        due = []
        for feed in session.scalars(stmt):
            feed.next_check_ms = now + hold_ms
            due.append(Due(feed.id, feed.owner, feed.url, dict(feed.channel_map), feed.etag, feed.last_modified,
                           feed.digest))
    return due


@dataclass
class Answer:
    """What a check got: the HTTP status (None: no answer), the body, the validators, or the error."""

    status: int | None
    body: bytes = b""
    error: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


def settle(db: Database, due: Due, answer: Answer) -> str:
    """Import what changed, then record the check's outcome on the feed; the outcome's state is returned."""
    import_id, changed, error = "", False, answer.error
    digest = hashlib.sha256(answer.body).hexdigest() if answer.status == 200 else ""
    if answer.status == 304 or (answer.status == 200 and digest == due.digest):
        state = "unchanged"
    elif answer.status == 200:
        try:
            with db.sessions() as session:
                result = import_document(session, due.owner, answer.body, channel_map=due.channel_map,
                                         by=f"feed {due.id}", source=due.url, feed_id=due.id)
            state, import_id, changed = "imported", result.id, result.changed
        except FeedgateError as exc:
            state, error = "failed", f"the document was not imported ({exc.status}): {exc.description}"
    else:
        state, error = "failed", error or f"the feed answered HTTP {answer.status}"
    with db.sessions() as session, session.begin():
        feed = session.get(Scte224Feed, due.id)
        if feed is not None:  # deleted meanwhile: nothing to record
            if state == "failed":
                _failed(session, feed, answer.status, error[:ERROR_CHARS])
            else:
                _succeeded(session, feed, state, answer, digest, import_id, changed)
    return state


def _failed(session: Session, feed: Scte224Feed, status: int | None, error: str) -> None:
    now = now_ms()
    feed.state, feed.checked_ms, feed.last_status, feed.last_error = "failed", now, status, error
    feed.failures += 1
    feed.next_check_ms = now + int(backoff_s(feed.failures, FIRST_RETRY_S, RETRY_CAP_S, (0.8, 1.2), _rng) * 1000)
    if feed.failures == 1:  # the first failure of a run raises the alarm; its retries do not repeat it
        record(session, DomainEvent("scte224.import_failed", feed.owner, {
            "feed_id": feed.id, "url": feed.url, "status": status, "error": error}))


def _succeeded(session: Session, feed: Scte224Feed, state: str, answer: Answer, digest: str, import_id: str,
               changed: bool) -> None:
    now = now_ms()
    if feed.failures and not changed:  # nothing new imported, but the alarm raised earlier is over
        record(session, DomainEvent("scte224.imported", feed.owner, {
            "feed_id": feed.id, "url": feed.url, "recovered": True, "changed": False}))
    feed.state, feed.checked_ms, feed.last_status, feed.last_error = state, now, answer.status, ""
    feed.failures, feed.next_check_ms = 0, now + feed.interval_s * 1000
    if answer.status == 200:  # a 304 may leave its validators out: the ones held stay
        feed.etag = answer.headers.get("etag", "")[:500]
        feed.last_modified = answer.headers.get("last-modified", "")[:100]
        feed.digest = digest
    else:
        feed.etag = answer.headers.get("etag", feed.etag)[:500]
        feed.last_modified = answer.headers.get("last-modified", feed.last_modified)[:100]
    if import_id:
        feed.last_import_id = import_id
