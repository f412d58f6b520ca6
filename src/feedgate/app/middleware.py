"""The general middleware every request passes: the body limit, JSON bodies, HEAD and OPTIONS.

Pure ASGI (cheaper than Starlette's BaseHTTPMiddleware); the hot routes (`kit.hotpath`) sit among them.
"""

import logging
import secrets
from collections.abc import Callable
from typing import Any

import orjson
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feedgate.kit.errors import FeedgateError
from feedgate.kit.hotpath import is_json, send_json


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413 and the error body, without reading them. A path in
    `larger` has its own limit (an SCTE 224 document: tens of MB of zips)."""

    def __init__(self, app: ASGIApp, limit: int = 1024 * 1024, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            limit = self.larger.get(scope["path"], self.limit)
            length = next((value for name, value in scope["headers"] if name == b"content-length"), None)
            if length is not None and (not length.isdigit() or int(length) > limit):
                await send_json(send, 413, self._error(limit).body())
                return
            if length is None and any(name == b"transfer-encoding" for name, _ in scope["headers"]):
                # Chunked: count as it arrives; past the limit, answer 413 and drop the rest. (Neither header:
                # no body at all, as for every GET.)
                await self._counted(scope, receive, send, limit)
                return
        await self.app(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        seen = 0
        refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit and not refused:
                refused = True
                await send_json(send, 413, self._error(limit).body())
            return {"type": "http.disconnect"} if refused else message

        async def guarded_send(message: Message) -> None:
            if not refused:  # after the 413, whatever the app says about the cut body is dropped
                await send(message)

        await self.app(scope, counted, guarded_send)

    @staticmethod
    def _error(limit: int) -> FeedgateError:
        return FeedgateError(413, f"The request body is larger than {limit} bytes; nothing was read further.")


class JsonBodies:
    """The API speaks only JSON: a body sent to /api/v4 is read as JSON whatever its Content-Type says
    (`curl -d` sends a form type, some clients none); a body that is not JSON gets the 400 that says so."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/v4/") and scope["method"] != "GET" \
                and not is_json(scope):
            scope = {**scope, "headers": [*(h for h in scope["headers"] if h[0] != b"content-type"),
                                          (b"content-type", b"application/json")]}
        await self.app(scope, receive, send)


def allowed_methods(routes: list[Any], path: str) -> list[str]:
    """The methods some route answers at `path`, with HEAD wherever GET and OPTIONS everywhere; [] if none.

    Asked of the routes themselves (`matches`), so routers included in routers answer too.
    """
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


log = logging.getLogger("feedgate")
CONSOLE_HEADERS = [(b"content-security-policy", b"frame-ancestors 'none'"), (b"x-frame-options", b"DENY"),
                   (b"cache-control", b"no-store"), (b"referrer-policy", b"same-origin")]
NOSNIFF = (b"x-content-type-options", b"nosniff")


class Outermost:
    """What every answer carries and what every failure becomes, in one layer (one `send` wrapper per request):

    - `nosniff` on every answer; on the console's pages also never framed (clickjacking) and never cached
      (an operator's view of the fleet stays out of shared caches and the back button);
    - any exception no handler took: a JSON 500 with a request ID that the log has too, and the connection
      kept. Starlette's own last handler answers and then re-raises, and uvicorn then drops the keep-alive
      connection without `Connection: close`: a pooled client saw ECONNRESET on its next request. Here the
      exception ends with the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [NOSNIFF, *CONSOLE_HEADERS] if scope["path"].startswith("/console") else [NOSNIFF]
        started = False

        async def answer(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in present)]
            await send(message)

        try:
            await self.app(scope, receive, answer)
        except Exception:
            request_id = secrets.token_hex(8)
            log.exception("unhandled error, request ID %s, on %s %s", request_id, scope.get("method"),
                          scope.get("path"))
            if started:  # half an answer is out: only closing the connection can tell the client
                raise
            error = FeedgateError(500, f"The server failed to handle the request; it was logged with request "
                                       f"ID {request_id}.")
            await answer({"type": "http.response.start", "status": 500,
                          "headers": [(b"content-type", b"application/json"), (b"x-request-id", request_id.encode())]})
            body = orjson.dumps({**error.body(), "request_id": request_id})
            await answer({"type": "http.response.body", "body": body})
