"""Request-scoped dependencies shared by every router."""

import asyncio
import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from feedgate.kit.db import Database
from feedgate.kit.pagination import PageQuery, page_or_all, page_query
from feedgate.kit.schemas import Deleted
from feedgate.settings import Settings

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Sessions are closed (connection back to the pool) on threads of their own: closing must never queue
# behind routes waiting for a worker thread, or a burst of requests would hold every pooled connection
# while waiting to give it back.
_closer = ThreadPoolExecutor(max_workers=4, thread_name_prefix="session-close")


async def _close(session: Session) -> None:
    await asyncio.get_running_loop().run_in_executor(_closer, session.close)


@contextlib.asynccontextmanager
async def write_turn(db: Database) -> AsyncIterator[None]:
    """Wait (on the event loop, holding no thread) for this process's turn to write; a no-op on PostgreSQL."""
    if db.write_gate is None:
        yield
        return
    async with db.write_gate:
        yield


# The app keeps one typed `Runtime` in `app.state.runtime` (feedgate.app.runtime). Lower layers never import
# it: each reads the one part it needs through an accessor in the package that owns the part's type.
async def database(request: Request) -> Database:
    return request.app.state.runtime.db


async def settings(request: Request) -> Settings:
    return request.app.state.runtime.settings


SESSIONS = "feedgate.sessions"  # scope keys: the request's sessions, and the write turn it holds
WRITE_TURN = "feedgate.write_turn"


async def get_session(request: Request) -> Session:
    """A read session for GET/HEAD; for changes, a session taken in this process's write turn.

    A plain async dependency (no generator: FastAPI's exit-stack machinery cost a fifth of a request);
    `SessionCloser` closes the session and ends the write turn when the request is over.
    """
    db = await database(request)
    if request.method in READ_METHODS:
        session = db.read_sessions()
    else:
        if db.write_gate is not None:
            await db.write_gate.acquire()
            request.scope[WRITE_TURN] = db.write_gate
        session = db.sessions()
    request.scope.setdefault(SESSIONS, []).append(session)
    return session


class SessionCloser:
    """Pure ASGI middleware: closes the request's sessions and releases its write turn, whatever happened."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            for session in scope.pop(SESSIONS, ()):
                await _close(session)
            turn = scope.pop(WRITE_TURN, None)
            if turn is not None:
                turn.release()


# Routes that can answer 403 (an allowed owner asking for an owner's change) say so; OpenAPI adds the body.
FORBIDDEN: dict[int | str, dict[str, Any]] = {403: {"description": "Only the owner may do this"}}

SessionDep = Annotated[Session, Depends(get_session)]
DatabaseDep = Annotated[Database, Depends(database)]
SettingsDep = Annotated[Settings, Depends(settings)]
PageDep = Annotated[PageQuery, Depends(page_query)]
PageOrAllDep = Annotated[PageQuery, Depends(page_or_all)]


class PlainRoute(APIRoute):
    """Routes render what they return (a response shape, or a `Response` as is) to JSON bytes themselves.

    The return annotation is the route's `response_model`: OpenAPI documents the body from it, and its own
    pydantic serializer renders it, in the route's thread. FastAPI would instead validate the answer again
    in a second worker-thread hop (or on the event loop) while the request still holds its database
    connection, so a burst larger than the pool starved it (the old 30 s freeze). An endpoint that answers
    a `Response` skips that hop.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        status = kwargs.get("status_code")
        super().__init__(path, _rendered(endpoint, status if isinstance(status, int) else 200), **kwargs)


def render(result: Any, status: int = 200) -> Response:
    """A route's answer as a JSON response: a shape through its own serializer, bytes as they are, anything
    else with orjson."""
    if isinstance(result, Response):
        return result
    if isinstance(result, BaseModel):
        body = result.__pydantic_serializer__.to_json(result, by_alias=True)
    elif isinstance(result, bytes):  # JSON rendered already (a whole collection, in chunks)
        body = result
    else:
        body = orjson.dumps(result)
    return Response(body, status_code=status, media_type="application/json")


def _rendered(endpoint: Callable[..., Any], status: int) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint):
        @functools.wraps(endpoint)
        async def render_async(*args: Any, **kwargs: Any) -> Any:
            return render(await endpoint(*args, **kwargs), status)

        return render_async

    @functools.wraps(endpoint)
    def render_sync(*args: Any, **kwargs: Any) -> Any:
        return render(endpoint(*args, **kwargs), status)

    return render_sync


def deleted(request: Request, kind: str) -> Deleted:
    """The answer to a DELETE: `@id` is the path as asked (an external ID stays an external ID)."""
    return Deleted(at_id=request.url.path, at_type=kind)
