"""A pure ASGI front for the hottest signed routes (heartbeats, playback decisions).

FastAPI's routing, dependency solving and response validation cost more than the work these routes
do. A hot route handles only the steady, valid case with the same services and the same signature
check, renders straight to bytes, and hands everything else (a validation error, a registration,
anything unusual) to the FastAPI route behind it, which stays the one complete, documented
implementation. A hot route never answers differently from its FastAPI route.
"""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feedgate.kit.errors import FeedgateError, database_unavailable

ROUTE_LABEL = "feedgate.route"  # scope key: the route template, for metrics
RECEIVED = "feedgate.received_ms"  # scope key: when the request began to arrive (kit.time.clock_ms)
PARSED_QUERY = "feedgate.query"  # scope key: the query string's parameters, blanks kept, when parsed already


@dataclass
class HotRequest:
    scope: Scope
    path_params: dict[str, str]
    body: bytes
    _query: dict[str, str] | None = None

    @property
    def query(self) -> dict[str, str]:
        """The query string's parameters, parsed when first asked (a token route never asks)."""
        if self._query is None:
            parsed = self.scope.get(PARSED_QUERY)
            self._query = {name: value for name, value in parsed.items() if value} if parsed is not None else \
                dict(parse_qsl(self.scope.get("query_string", b"").decode("latin-1")))
        return self._query

    async def read_body(self) -> bytes:
        return self.body

    @property
    def client_host(self) -> str | None:
        client = self.scope.get("client")
        return client[0] if client else None


@dataclass(frozen=True)
class HotResponse:
    """An answer that is not JSON (a playlist), sent as is."""

    body: bytes
    content_type: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()


Handler = Callable[[HotRequest], Awaitable[Any]]  # the answer (a shape or a HotResponse), or None to pass


@dataclass(frozen=True)
class HotRoute:
    method: str
    template: str  # /api/v4/slicers/{slicer_id}/status
    handler: Handler

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(self.template)))


def is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() == b"application/json"
    return False


class Pass(Exception):
    """Raised by a hot handler: let the FastAPI route answer this request."""


class HotRoutes:
    def __init__(self, app: ASGIApp, routes: list[HotRoute], body_limit: int = 64 * 1024) -> None:
        self.app = app
        self.routes = [(r.method, r.pattern, r) for r in routes]
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for method, pattern, route in self.routes:
                match = pattern.fullmatch(scope["path"]) if scope["method"] == method else None
                if match is None:
                    continue
                body, complete = await _read_body(receive, self.body_limit)
                if complete:
                    try:
                        answer = await route.handler(HotRequest(scope, match.groupdict(), body))
                    except (FeedgateError, OperationalError) as exc:
                        error = exc if isinstance(exc, FeedgateError) else database_unavailable(exc)
                        scope[ROUTE_LABEL] = route.template
                        await send_json(send, error.status, error.body())
                        return
                    except Pass:
                        answer = None
                    if answer is not None:
                        scope[ROUTE_LABEL] = route.template
                        if isinstance(answer, HotResponse):
                            await send({"type": "http.response.start", "status": 200, "headers": [
                                (b"content-type", answer.content_type),
                                (b"content-length", str(len(answer.body)).encode()), *answer.headers]})
                            await send({"type": "http.response.body", "body": answer.body})
                        else:
                            await send_json(send, 200, answer)
                        return
                receive = _replay(body, complete, receive)
                break
        await self.app(scope, receive, send)


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The body, and whether it was read whole within `limit` (else the FastAPI route reads the rest)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > limit:
            return b"".join(chunks), False


def _replay(body: bytes, complete: bool, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replay


async def send_json(send: Send, status: int, content: Any) -> None:
    """`content` as JSON: a response shape through its own serializer (the one the route declares), else orjson."""
    if isinstance(content, BaseModel):
        body = content.__pydantic_serializer__.to_json(content, by_alias=True)
    else:
        body = orjson.dumps(content)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
