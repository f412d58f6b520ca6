"""A throwaway `feedgate serve` for benchmarks (same as the test suite's, without pytest)."""

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import Api, ServerProcess, free_port, started_backend

__all__ = ["Api", "ServerProcess", "backend_for", "free_port", "sqlite_backend"]


def sqlite_backend(**env: str):  # type: ignore[no-untyped-def]
    folder = Path(tempfile.mkdtemp(prefix="feedgate-bench-"))
    return started_backend("bench", f"sqlite:///{folder / 'bench.db'}",
                           FEEDGATE_LOG_LEVEL="warning", **{**env, "PATH": os.environ.get("PATH", "")})


def backend_for(database_url: str | None, **env: str):  # type: ignore[no-untyped-def]
    """A server on `database_url` (migrated), or on a fresh SQLite file when None."""
    if database_url:
        from feedgate.kit.migrate import upgrade

        upgrade(database_url)
        return started_backend("bench", database_url, FEEDGATE_LOG_LEVEL="warning", **env)
    return sqlite_backend(**env)
