"""Request-scoped dependencies shared by every router."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

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


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A read session for GET/HEAD; for changes, a session taken in this process's write turn."""
    db: Database = request.app.state.db
    if request.method in READ_METHODS:
        session = db.read_sessions()
        try:
            yield session
        finally:
            await _close(session)
        return
    async with write_turn(db):
        session = db.sessions()
        try:
            yield session
        finally:
            await _close(session)


SessionDep = Annotated[Session, Depends(get_session)]
PageDep = Annotated[PageQuery, Depends(page_query)]


class PlainRoute(APIRoute):
    """Routes render the dicts their services build, with no response-model validation.

    FastAPI validates a sync route's inferred response model in a second worker-thread hop; while a request
    waits for that hop it still holds its database connection, so a burst larger than the pool starves it.
    Without the hop a connection is held only while the route itself runs.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], *, response_model: Any = None, **kwargs: Any) -> None:
        if isinstance(response_model, DefaultPlaceholder):
            response_model = None
        super().__init__(path, endpoint, response_model=response_model, **kwargs)
