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
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feedgate.kit.errors import FeedgateError

ROUTE_LABEL = "feedgate.route"  # scope key: the route template, for metrics


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
            self._query = dict(parse_qsl(self.scope.get("query_string", b"").decode("latin-1")))
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


Handler = Callable[[HotRequest], Awaitable[Any]]  # returns the JSON answer (or a HotResponse), or None to pass


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
                    except FeedgateError as exc:
                        scope[ROUTE_LABEL] = route.template
                        await _send_json(send, exc.status, exc.body())
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
                            await _send_json(send, 200, answer)
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


async def _send_json(send: Send, status: int, content: Any) -> None:
    body = orjson.dumps(content)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413 and the error body, without reading them."""

    def __init__(self, app: ASGIApp, limit: int = 1024 * 1024) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = next((value for name, value in scope["headers"] if name == b"content-length"), None)
            if length is not None and (not length.isdigit() or int(length) > self.limit):
                await _send_json(send, 413, self._error().body())
                return
            if length is None and any(name == b"transfer-encoding" for name, _ in scope["headers"]):
                # Chunked: count as it arrives; past the limit, answer 413 and drop the rest. (Neither header:
                # no body at all, as for every GET.)
                await self._counted(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = 0
        refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit and not refused:
                refused = True
                await _send_json(send, 413, self._error().body())
            return {"type": "http.disconnect"} if refused else message

        async def guarded_send(message: Message) -> None:
            if not refused:  # after the 413, whatever the app says about the cut body is dropped
                await send(message)

        await self.app(scope, counted, guarded_send)

    def _error(self) -> FeedgateError:
        return FeedgateError(413, f"The request body is larger than {self.limit} bytes; nothing was read further.")


class JsonBodies:
    """The API speaks only JSON: a body sent to /api/v4 is read as JSON whatever its Content-Type says
    (`curl -d` sends a form type, some clients none); a body that is not JSON gets the 400 that says so."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/v4/") and scope["method"] != "GET":
            headers = scope["headers"]
            if not any(name == b"content-type" and value.split(b";")[0].strip().lower() == b"application/json"
                       for name, value in headers):
                scope = {**scope, "headers": [*(h for h in headers if h[0] != b"content-type"),
                                              (b"content-type", b"application/json")]}
        await self.app(scope, receive, send)


def allowed_methods(routes: list[Any], path: str) -> list[str]:
    """The methods some route answers at `path`, with HEAD wherever GET and OPTIONS everywhere; [] if none.

    Asked of the routes themselves (`matches`), so routers included in routers answer too.
    """
    from starlette.routing import Match

    methods = set()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        scope: dict[str, Any] = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
        if any(route.matches(scope)[0] == Match.FULL for route in routes):
            methods.add(method)
    if not methods:
        return []
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods | {"OPTIONS"})


class HttpManners:
    """HEAD wherever GET works (the GET answer's head, no body) and OPTIONS answered with `Allow`."""

    def __init__(self, app: ASGIApp, routes: Callable[[], list[Any]]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        if scope["type"] != "http" or method not in ("HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        allowed = allowed_methods(self.routes(), scope["path"])
        if method == "OPTIONS" and allowed:
            await send({"type": "http.response.start", "status": 204,
                        "headers": [(b"allow", ", ".join(allowed).encode())]})
            await send({"type": "http.response.body", "body": b""})
            return
        if method == "HEAD" and "GET" in allowed:
            async def headless(message: Message) -> None:
                if message["type"] == "http.response.body":
                    message = {**message, "body": b""}
                await send(message)

            await self.app({**scope, "method": "GET"}, receive, headless)
            return
        await self.app(scope, receive, send)
