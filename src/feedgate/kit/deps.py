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
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from feedgate.kit.db import Database
from feedgate.kit.pagination import PageQuery, page_query

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


SESSIONS = "feedgate.sessions"  # scope keys: the request's sessions, and the write turn it holds
WRITE_TURN = "feedgate.write_turn"


async def get_session(request: Request) -> Session:
    """A read session for GET/HEAD; for changes, a session taken in this process's write turn.

    A plain async dependency (no generator: FastAPI's exit-stack machinery cost a fifth of a request);
    `SessionCloser` closes the session and ends the write turn when the request is over.
    """
    db: Database = request.app.state.db
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


SessionDep = Annotated[Session, Depends(get_session)]
PageDep = Annotated[PageQuery, Depends(page_query)]


class PlainRoute(APIRoute):
    """Routes render the dicts their services build straight to JSON bytes (orjson), in the route's thread.

    FastAPI would validate a sync route's inferred response model, and run `jsonable_encoder`, in a second
    worker-thread hop or on the event loop; while a request waits for that hop it still holds its database
    connection, so a burst larger than the pool starved it (the old 30 s freeze), and the encoder was an
    eighth of a request's CPU. A route that returns a `Response` keeps it as is.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], *, response_model: Any = None, **kwargs: Any) -> None:
        if isinstance(response_model, DefaultPlaceholder):
            response_model = None
        status = kwargs.get("status_code")
        if response_model is None and not inspect.iscoroutinefunction(endpoint):
            endpoint = _rendered(endpoint, status if isinstance(status, int) else 200)
        super().__init__(path, endpoint, response_model=response_model, **kwargs)


def _rendered(endpoint: Callable[..., Any], status: int) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def render(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        if isinstance(result, Response):
            return result
        return Response(orjson.dumps(result), status_code=status, media_type="application/json")

    return render


def deleted(request: Request, kind: str) -> dict[str, Any]:
    """The answer to a DELETE: `@id` is the path as asked (an external ID stays an external ID)."""
    return {"@id": request.url.path, "@type": kind, "message": "Deleted"}
