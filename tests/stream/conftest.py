"""Shared by the viewer's-stream tests: one origin with two live ffmpeg encoders and two VOD assets, and
feedgate servers pointed at it (FEEDGATE_ASSET_URL), for the whole package."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feedgate.auth.tokens import token_query
from tests.conftest import IN_CI
from tests.stream.media import Encoder, Origin, encoders, make_asset
from tests.support import Api, Backend, PostgresServer, started_backend

if not shutil.which("ffmpeg"):
    if IN_CI:
        raise RuntimeError("ffmpeg is required in CI (.ci/run installs it)")
    pytest.skip("ffmpeg is not installed here", allow_module_level=True)

FAST = {"heartbeat_timeout_ms": 1000, "clear_after_ms": 1500, "blacklist_ms": 120_000}


class Stage:
    """One server (with FEEDGATE_ASSET_URL pointing at the origin), two live encoders and two assets."""

    def __init__(self, backend: Backend, origin: Origin, a: Encoder, b: Encoder) -> None:
        self.backend = backend
        self.origin = origin
        self.a = a
        self.b = b

    @property
    def base(self) -> str:
        return self.backend.server.base_url

    def channel_on(self, api: Api, **group: Any) -> tuple[dict, dict]:
        g = api.make_group("G", **{**FAST, **group})
        ch = api.make_channel("C")
        assert api.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": [ch["id"]]}).status_code == 204
        return g, ch

    def url(self, api: Api, channel_id: str, rendition: int | None = 0, **extras: str) -> str:
        query = token_query(api.user_id, api.api_key, channel_id, extras=extras)
        path = f"/channel/{channel_id}.m3u8" if rendition is None else f"/channel/{channel_id}/{rendition}.m3u8"
        return f"{self.base}{path}?{query}"


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




def active(api: Api, group_id: str) -> str:
    return str(api.group(group_id)["active_slicer_id"])
