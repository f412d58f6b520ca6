import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import CHROMIUM, IN_CI, Api, Backend, PostgresServer, started_backend


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


# The servers every test shares: each test's slicers fall silent together when it ends, and on a shared
# server those would open a fleet-wide disruption that holds the next tests' groups (rightly, by the rule),
# so a test's outcome would depend on which tests ran before it. The rule is tested on servers of its own
# (tests/failover/test_fleet.py).
SHARED = {"FEEDGATE_DISRUPTION_MIN_SLICERS": "1000000"}


@pytest.fixture(scope="session")
def sqlite_backend() -> Iterator[Backend]:
    path = Path(tempfile.mkdtemp(prefix="feedgate-sqlite-")) / "feedgate.db"
    with started_backend("sqlite", f"sqlite:///{path}", **SHARED) as backend:
        yield backend


@pytest.fixture(scope="session")
def postgresql_backend(postgres: PostgresServer) -> Iterator[Backend]:
    with started_backend("postgresql", postgres.create_database(), **SHARED) as backend:
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("Debian's chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()
