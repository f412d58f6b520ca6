"""The one paging helper: page/page_size, order, after, include_deleted and @links for every collection."""

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

import orjson
from fastapi import Depends, Query, Request
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from feedgate.kit.errors import bad_request
from feedgate.kit.models import Tombstone
from feedgate.kit.schemas import Collection, Links, Shape
from feedgate.kit.schemas import Tombstone as TombstoneShape
from feedgate.kit.time import RECENT_WINDOW, iso_ms, parse_iso, utcnow

MAX_PAGE_SIZE = 40
Column = ColumnElement[Any] | QueryableAttribute[Any]
C = TypeVar("C", bound=Collection[Any])


@dataclass(frozen=True)
class PageQuery:
    page: int = 1
    page_size: int = MAX_PAGE_SIZE
    order: str | None = None
    after: datetime | None = None
    include_deleted: bool = False
    everything: bool = False  # no page asked for, on a collection the documents list whole

    def since(self) -> datetime | None:
        """The `after` instant, clamped to the last ten minutes; with include_deleted alone, ten minutes."""
        floor = utcnow() - RECENT_WINDOW
        if self.after is not None:
            return max(self.after, floor)
        return floor if self.include_deleted else None


async def page_query(
    page: int = Query(1, ge=1, le=1_000_000, description="Page number, from 1 to 1,000,000."),
    page_size: int = Query(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page, 1 to 40."),
    order: str | None = Query(None, max_length=64, description="FIELD or -FIELD, where the resource lists fields."),
    after: str | None = Query(None, max_length=64, description="ISO 8601 instant; only items updated after it.",
                              json_schema_extra={"format": "date-time"}),
    include_deleted: bool = Query(False, description="Add tombstones of items deleted in the window."),
) -> PageQuery:
    parsed_after = None
    if after is not None:
        try:
            parsed_after = parse_iso(after)
        except ValueError:
            raise bad_request(
                f"Query parameter 'after' is invalid: '{after}' is not an ISO 8601 instant "
                "such as 2024-01-08T20:31:11.510Z."
            ) from None
    return PageQuery(page, page_size, order, parsed_after, include_deleted)


async def page_or_all(request: Request, query: PageQuery = Depends(page_query)) -> PageQuery:
    """Paging as `page_query`; without `page` or `page_size`, the whole collection (the documents' "Retrieves
    all failover groups" gives no paging)."""
    asked = request.query_params
    return query if "page" in asked or "page_size" in asked else replace(query, everything=True)


ALL_CHUNK = 500  # rows rendered at a time when a whole collection is asked for


def _links(path: str, query: PageQuery, total: int) -> Links:
    last = max(1, math.ceil(total / query.page_size))
    extra: dict[str, str] = {}
    if query.order:
        extra["order"] = query.order
    if query.after is not None:
        extra["after"] = iso_ms(query.after)
    if query.include_deleted:
        extra["include_deleted"] = "true"

    def link(page: int) -> str:
        return f"{path}?{urlencode({'page': page, 'page_size': query.page_size, **extra})}"

    links: Links = {"first": link(1), "last": link(last)}
    if query.page < last:
        links["next"] = link(query.page + 1)
    if 1 < query.page <= last + 1:
        links["prev"] = link(min(query.page - 1, last))
    return links


@dataclass(frozen=True)
class Listed:
    """How one collection is listed.

    `order_fields` maps the names `order` accepts to columns (the first is the default order, unless
    `default_order` says otherwise); `updated_column` is what `after` filters on; `tombstone` is the
    (kind, owner, scope) of deleted items to report after the live ones, shown as `tombstone_type`.
    """

    path: str
    order_fields: Mapping[str, Column]
    updated_column: Column | None = None
    tombstone: tuple[str, str, str] | None = None
    tombstone_type: str = ""
    default_order: str | None = None

    def ordering(self, query: PageQuery) -> tuple[str, Column]:
        names = list(self.order_fields)
        order = query.order or self.default_order or names[0]
        field = order.removeprefix("-")
        if field not in self.order_fields:
            raise bad_request(f"Query parameter 'order' is invalid: '{order}' is not one of {', '.join(names)} "
                              "(prefix '-' to reverse).")
        return order, self.order_fields[field]


def paginate_or_all(session: Session, stmt: Select[Any], query: PageQuery, listed: Listed,
                    render: Callable[[Sequence[Any]], Sequence[Shape]], shape: type[C]) -> C | bytes:
    """`paginate`, or for `everything` (`page_or_all`) the whole collection as JSON bytes rendered ALL_CHUNK
    rows at a time (a route answers bytes as they are): 5,000 groups never sit in memory as objects at once."""
    if not query.everything:
        return paginate(session, stmt, query, listed, render, shape)
    order, column = listed.ordering(query)
    return _everything(session, _recent(stmt, query, listed), query, listed, render, order, column)


def paginate(session: Session, stmt: Select[Any], query: PageQuery, listed: Listed,
             render: Callable[[Sequence[Any]], Sequence[Shape]], shape: type[C]) -> C:
    """Run `stmt` (a select of one entity) one page at a time; `render` turns a page of rows into items."""
    order, column = listed.ordering(query)
    stmt = _recent(stmt, query, listed)
    live_total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    tombs = _tombstones(listed, query, query.since())
    tomb_total = 0
    if tombs is not None:
        tomb_total = session.scalar(select(func.count()).select_from(tombs.subquery())) or 0

    offset = (query.page - 1) * query.page_size
    direction = column.desc() if order.startswith("-") else column.asc()
    tiebreak = stmt.column_descriptions[0]["entity"].id
    rows = session.scalars(stmt.order_by(direction, tiebreak.asc()).offset(offset).limit(query.page_size)).all()
    items: list[Any] = list(render(rows))
    if tombs is not None and len(items) < query.page_size:
        tomb_offset = max(0, offset - live_total)
        for tomb in session.scalars(tombs.order_by(Tombstone.deleted_at, Tombstone.id)
                                    .offset(tomb_offset).limit(query.page_size - len(items))):
            items.append(TombstoneShape(at_id=f"{listed.path}/{tomb.item_id}", at_type=listed.tombstone_type,
                                        id=tomb.item_id))
    return shape(at_id=listed.path, items=items, total_items=live_total + tomb_total,
                 links=_links(listed.path, query, live_total + tomb_total))


def _recent(stmt: Select[Any], query: PageQuery, listed: Listed) -> Select[Any]:
    """Only the items updated after `after` (clamped to the last ten minutes), when it is given."""
    since = query.since()
    if since is not None and query.after is not None and listed.updated_column is not None:
        return stmt.where(listed.updated_column > since)
    return stmt


def _tombstones(listed: Listed, query: PageQuery, since: datetime | None) -> Select[Any] | None:
    if not query.include_deleted or listed.tombstone is None or since is None:
        return None
    kind, owner, scope = listed.tombstone
    return select(Tombstone).where(Tombstone.kind == kind, Tombstone.owner == owner, Tombstone.scope == scope,
                                   Tombstone.deleted_at > since)


def _everything(session: Session, stmt: Select[Any], query: PageQuery, listed: Listed,
                render: Callable[[Sequence[Any]], Sequence[Shape]], order: str, column: Column) -> bytes:
    entity = stmt.column_descriptions[0]["entity"]
    direction = column.desc() if order.startswith("-") else column.asc()
    ids = list(session.scalars(stmt.with_only_columns(entity.id).order_by(direction, entity.id.asc())))
    parts: list[bytes] = []
    for at in range(0, len(ids), ALL_CHUNK):
        chunk = ids[at:at + ALL_CHUNK]
        rows = {r.id: r for r in session.scalars(select(entity).where(entity.id.in_(chunk)))}
        parts.extend(item.__pydantic_serializer__.to_json(item, by_alias=True)
                     for item in render([rows[i] for i in chunk if i in rows]))
        session.expunge_all()  # the rendered rows are done with
    tombs = _tombstones(listed, query, query.since())
    if tombs is not None:
        for tomb in session.scalars(tombs.order_by(Tombstone.deleted_at, Tombstone.id)):
            shape = TombstoneShape(at_id=f"{listed.path}/{tomb.item_id}", at_type=listed.tombstone_type,
                                   id=tomb.item_id)
            parts.append(shape.__pydantic_serializer__.to_json(shape, by_alias=True))
    total = len(parts)
    head = orjson.dumps({"@id": listed.path, "@type": "Collection"})[:-1]
    tail = orjson.dumps({"total_items": total, "@links": {"first": listed.path, "last": listed.path}})[1:]
    return b"".join([head, b',"items":[', b",".join(parts), b"],", tail])
