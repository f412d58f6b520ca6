"""Shared by the viewer's-stream tests: one origin with two live ffmpeg encoders and two VOD assets, and
feedgate servers pointed at it (FEEDGATE_ASSET_URL), for the whole package."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import IN_CI, PostgresServer, started_backend
from tests.support.media import Encoder, Origin, Stage, encoders, make_asset

if not shutil.which("ffmpeg"):
    if IN_CI:
        raise RuntimeError("ffmpeg is required in CI (.ci/run installs it)")
    pytest.skip("ffmpeg is not installed here", allow_module_level=True)


@pytest.fixture(scope="package")
def origin() -> Iterator[Origin]:
    served = Origin()
    make_asset(served, "promo", 3, "red")
    make_asset(served, "once", 2, "blue")
    yield served
    served.close()


@pytest.fixture(scope="package")
def live(origin: Origin) -> Iterator[tuple[Encoder, Encoder]]:
    with encoders(origin, "a", "b") as (a, b):
        yield a, b


def _stage(name: str, url: str, origin: Origin, live: tuple[Encoder, Encoder]) -> Iterator[Stage]:
    with started_backend(name, url, FEEDGATE_ASSET_URL=f"{origin.url}/assets/{{id}}/index.m3u8") as backend:
        yield Stage(backend, origin, *live)


@pytest.fixture(scope="package")
def stage(origin: Origin, live: tuple[Encoder, Encoder]) -> Iterator[Stage]:
    path = Path(tempfile.mkdtemp(prefix="feedgate-stream-")) / "feedgate.db"
    yield from _stage("sqlite", f"sqlite:///{path}", origin, live)


@pytest.fixture(scope="package")
def pg_stage(postgres: PostgresServer, origin: Origin, live: tuple[Encoder, Encoder]) -> Iterator[Stage]:
    yield from _stage("postgresql", postgres.create_database(), origin, live)
