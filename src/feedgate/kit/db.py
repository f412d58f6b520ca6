"""Database engines and sessions for SQLite and PostgreSQL alike, and the commit hooks: domain events and
version marks are handed over inside the transaction, the changes to this process's listeners after it."""

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from feedgate.kit.actor import Actor, current_actor
from feedgate.kit.errors import FeedgateError
from feedgate.kit.events import EVENTS, DomainEvent, take
from feedgate.kit.versions import CHANGES, Changes, record_versions


def make_engine(url: str, threads: int = 32) -> Engine:
    """An engine whose pool covers every worker thread plus the background threads (engine, batch writer,
    watcher), so a request never waits for a connection behind another request's thread."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, threads)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # PostgreSQL: a few connections kept, the rest opened on demand; at the default 8 threads an instance uses
    # at most 24 (plus its leader-lock and change-feed connections): four instances fit max_connections=100.
    # No pre-ping (a round trip per request): a connection found dead fails one request with 503 and
    # SQLAlchemy then discards the whole pool, so the next requests reconnect.
    return create_engine(url, pool_size=8, max_overflow=threads + 8, pool_timeout=10)


def _sqlite_engine(url: str, threads: int) -> Engine:
    # SQLite connections are cheap to keep and costly to reopen (pragmas, WAL setup): keep them all.
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           pool_size=threads + 8, max_overflow=8)

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_conn: Any, _: Any) -> None:
        # Let us issue BEGIN ourselves: BEGIN IMMEDIATE takes the write lock up front, so two
        # writers queue on busy_timeout instead of failing on a read-to-write lock upgrade.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    _WriterLock().install(engine)
    return engine


class _WriterLock:
    """One process owns the SQLite file, so writers queue on a Python lock instead of SQLite's busy handler,
    which sleep-polls (up to 100 ms a try) and collapses throughput under concurrent writes.

    Ownership follows the DBAPI connection, not the thread: FastAPI may roll back a failed request's session
    from another thread than the one that began it. Readers (WAL) never block and never queue here.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders: set[int] = set()

    @staticmethod
    def _raw_id(connection: Any) -> int:
        # SQLAlchemy hands the dialect its pool proxy; the raw sqlite3 connection is the stable key.
        return id(getattr(connection, "dbapi_connection", connection))

    def release(self, dbapi_connection: Any) -> None:
        dbapi_id = self._raw_id(dbapi_connection)
        if dbapi_id in self.holders:
            self.holders.discard(dbapi_id)
            self.lock.release()

    def begin(self, conn: Any) -> None:
        if conn.get_execution_options().get(READONLY, False):
            conn.exec_driver_sql("BEGIN")
            return
        if not self.lock.acquire(timeout=30):
            raise FeedgateError(503, "The database stayed busy for 30 s; try again.")
        self.holders.add(self._raw_id(conn.connection))
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.release(conn.connection)
            raise

    def install(self, engine: Engine) -> None:
        event.listen(engine, "begin", self.begin)
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_connection: Any) -> None:
            try:
                commit(dbapi_connection)
            finally:
                self.release(dbapi_connection)

        def do_rollback(dbapi_connection: Any) -> None:
            try:
                rollback(dbapi_connection)
            finally:
                self.release(dbapi_connection)

        dialect.do_commit = do_commit  # type: ignore[method-assign]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign]


READONLY = "feedgate_readonly"


class Database:
    """One engine and session factory per process.

    `on_event` listeners get the domain events a transaction recorded (`kit.events`), inside it, just
    before it commits; the versions it marked move then too (`kit.versions`). `on_commit` listeners get its
    `Changes` after the commit: the one path for this process's side effects of a change (decisions, the
    registry, the engine, the console).
    """

    def __init__(self, url: str, threads: int = 32) -> None:
        self.url = url
        self.engine = make_engine(url, threads)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Sessions for GET/HEAD: on SQLite a deferred BEGIN, so reads never take or wait for the writer lock.
        self.read_sessions = sessionmaker(self.engine.execution_options(**self._read_options),
                                          expire_on_commit=False)
        # SQLite has one writer: write requests queue here, on the event loop, holding no worker thread, so
        # a request that holds the writer lock can always get a thread to finish (no pool starvation).
        self.write_gate: asyncio.Lock | None = None if self.is_postgres else asyncio.Lock()
        self.on_event: list[Callable[[Session, list[DomainEvent]], None]] = []
        self.on_commit: list[Callable[[Changes], None]] = []
        # Called before each commit made while someone acts (kit.actor: a write request's own transactions):
        # the audit log, written in the same transaction as what it records.
        self.on_write: list[Callable[[Session, Actor], None]] = []
        event.listen(self.sessions, "before_commit", self._before_commit)
        event.listen(self.sessions, "after_commit", self._after_commit)
        event.listen(self.sessions, "after_rollback", self._after_rollback)

    def _before_commit(self, session: Session) -> None:
        actor = current_actor()
        if actor is not None:
            for write in self.on_write:
                write(session, actor)
        events = take(session)
        if events:
            for listener in self.on_event:
                listener(session, events)
        record_versions(session)

    @staticmethod
    def _after_rollback(session: Session) -> None:
        session.info.pop(CHANGES, None)
        session.info.pop(EVENTS, None)

    def _after_commit(self, session: Session) -> None:
        changes: Changes | None = session.info.pop(CHANGES, None)
        if changes is not None:
            for listener in self.on_commit:
                listener(changes)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @property
    def _read_options(self) -> dict[str, Any]:
        # PostgreSQL reads run outside a transaction: under READ COMMITTED every statement has its own snapshot
        # all the same, and a read saves the BEGIN and ROLLBACK round trips (each a wait for the GIL again on
        # a busy instance: a third of a group's GET under a fleet's beats). A server-side cursor (`yield_per`)
        # needs a transaction: read in one of `sessions()` for that.
        return {READONLY: True, **({"isolation_level": "AUTOCOMMIT"} if self.is_postgres else {})}

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads only: on SQLite a deferred BEGIN, so it never waits for writers."""
        with self.engine.connect() as conn:
            conn.execution_options(**self._read_options)
            try:
                yield conn
            finally:
                conn.rollback()

    def dispose(self) -> None:
        self.engine.dispose()
