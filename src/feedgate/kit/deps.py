"""Request-scoped dependencies shared by every router."""

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from feedgate.kit.db import Database
from feedgate.kit.pagination import PageQuery, page_query

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
            await run_in_threadpool(session.close)
        return
    async with write_turn(db):
        session = db.sessions()
        try:
            yield session
        finally:
            await run_in_threadpool(session.close)


SessionDep = Annotated[Session, Depends(get_session)]
PageDep = Annotated[PageQuery, Depends(page_query)]
