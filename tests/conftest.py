import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Api, Backend, PostgresServer, started_backend

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and could not start: {exc}")
        pytest.skip(f"PostgreSQL not available here: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_backend() -> Iterator[Backend]:
    path = Path(tempfile.mkdtemp(prefix="feedgate-sqlite-")) / "feedgate.db"
    with started_backend("sqlite", f"sqlite:///{path}") as backend:
        yield backend


@pytest.fixture(scope="session")
def postgresql_backend(postgres: PostgresServer) -> Iterator[Backend]:
    with started_backend("postgresql", postgres.create_database()) as backend:
        yield backend


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")  # type: ignore[no-any-return]


@pytest.fixture
def api(backend: Backend) -> Api:
    """A fresh user on a running server (each test owns its own resources)."""
    return backend.new_user()


@pytest.fixture
def other(backend: Backend) -> Api:
    """A second user on the same server, for tenancy and sharing."""
    return backend.new_user("other")
