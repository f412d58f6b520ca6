"""A source that misbehaves is that source's problem: slow and huge playlists, addresses it may not reach,
attributes that try to add to the viewer's lines, bad slate names, tokens that never expire.

Sources are real HTTP servers on loopback; the fetches are the product's own (`Upstream`), and the API
cases run against a real server."""

import asyncio
import re
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from feedgate.auth.tokens import token_query
from feedgate.stream.playlists import Media, parse
from feedgate.stream.upstream import MAX_SEGMENTS, Upstream
from tests.support import Backend, assert_error, free_port, serve_http, started_backend


def live_playlist(segments: int = 5, sequence: int = 1) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", f"#EXT-X-MEDIA-SEQUENCE:{sequence}"]
    for i in range(segments):
        lines += [f"#EXT-X-PROGRAM-DATE-TIME:2026-12-02T10:00:{i * 2:02d}.000Z", "#EXTINF:2.0,", f"s{i}.ts"]
    return "\n".join(lines) + "\n"


class Sources:
    """/ok (a live playlist), /trickle (a byte every 1.5 s), /huge (MAX_SEGMENTS + 1 segments),
    /to-metadata (a redirect to the cloud-metadata address), /key (a key attribute that tries to escape)."""

    def __init__(self) -> None:
        self.port = free_port()
        huge = live_playlist(MAX_SEGMENTS + 1).encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path.startswith("/to-metadata"):
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = huge if self.path.startswith("/huge") else live_playlist().encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    if self.path.startswith("/trickle"):
                        for byte in body[:40]:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(1.5)
                    else:
                        self.wfile.write(body)
                except OSError:
                    return

            def log_message(self, *args: Any) -> None:
                pass

        self.server, _ = serve_http(Handler, self.port)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def sources() -> Iterator[Sources]:
    s = Sources()
    yield s
    s.server.shutdown()


def test_slow_sources_never_delay_another_origins_fetch(sources: Sources) -> None:
    other = Sources()  # another tenant's origin, healthy

    async def run() -> tuple[float, Any, list[Any]]:
        upstream = Upstream(allow_private=True)
        await upstream.start()
        try:
            slow = [asyncio.create_task(upstream.get(sources.url(f"/trickle/{i}.m3u8"))) for i in range(60)]
            await asyncio.sleep(0.3)  # every slow fetch is under way
            started = time.monotonic()
            healthy = await upstream.get(other.url("/ok/index.m3u8"))
            took = time.monotonic() - started
            return took, healthy, await asyncio.gather(*slow)
        finally:
            await upstream.stop()

    try:
        took, healthy, slow = asyncio.run(run())
    finally:
        other.server.shutdown()
    assert isinstance(healthy, Media) and len(healthy.segments) == 5
    assert took < 1.5  # not behind 60 trickling fetches (each is cut at its 2 s deadline)
    assert all(value is None for value in slow)


def test_a_huge_playlist_is_refused_not_parsed(sources: Sources) -> None:
    async def run() -> tuple[Any, bool]:
        upstream = Upstream(allow_private=True)
        await upstream.start()
        try:
            value = await upstream.get(sources.url("/huge/index.m3u8"))
            return value, upstream.entry(sources.url("/huge/index.m3u8")).failed
        finally:
            await upstream.stop()

    value, failed = asyncio.run(run())
    assert value is None and failed


def test_addresses_a_source_may_not_reach_are_refused_on_every_hop(sources: Sources) -> None:
    async def run() -> tuple[Any, Any]:
        guarded, open_net = Upstream(allow_private=False), Upstream(allow_private=True)
        await guarded.start()
        await open_net.start()
        try:
            assert guarded.client is not None and open_net.client is not None
            loopback = await guarded.client.request("t", "GET", sources.url("/ok/index.m3u8"))
            redirected = await open_net.client.request("t", "GET", sources.url("/to-metadata/x.m3u8"))
            return loopback, redirected
        finally:
            await guarded.stop()
            await open_net.stop()

    loopback, redirected = asyncio.run(run())
    assert loopback.status is None and "non-global" in loopback.error
    assert redirected.status is None and "metadata" in redirected.error


def test_an_hls_url_on_a_metadata_or_private_address_is_refused_at_the_heartbeat(tmp_path: Path) -> None:
    with started_backend("sqlite", f"sqlite:///{tmp_path / 'guarded.db'}", FEEDGATE_ALLOW_PRIVATE_URLS="0") as b:
        refuses_private(b)


def refuses_private(backend: Backend) -> None:
    api = backend.new_user("sources")
    for url in ("http://169.254.169.254/latest.m3u8", "http://10.0.0.1/a.m3u8", "http://[::1]/a.m3u8",
                "http://localhost/a.m3u8"):
        assert_error(api.heartbeat("probe", hls_url=url), 400, "'hls_url'")
    assert api.get("/slicers/probe").status_code == 404  # nothing was registered


def test_a_key_attribute_cannot_add_another_attribute() -> None:
    text = ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
            "#EXT-X-KEY:METHOD=AES-128,URI=\"k.bin\",KEYFORMAT='identity\",URI=\"http://evil/x'\n"
            "#EXTINF:2.0,\ns0.ts\n")
    media = parse(text, "http://origin.example/live/index.m3u8")
    assert isinstance(media, Media)
    line = media.segments[0].key
    names = [name for name, _ in re.findall(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1])]
    assert names == ["METHOD", "URI", "KEYFORMAT"]  # the would-be second URI stays inside KEYFORMAT's quotes
    assert line.startswith('#EXT-X-KEY:METHOD=AES-128,URI="http://origin.example/live/k.bin",KEYFORMAT="')


def test_bad_slate_names_are_404(backend: Backend) -> None:
    base = backend.server.base_url
    for name in ("%00", "a" * 300, "..%2Fsettings.py", "%2e%2e"):
        r = httpx.get(f"{base}/stream/slate/{name}")
        assert r.status_code == 404, (name, r.status_code, r.text[:200])
        assert r.json()["@type"] == "Error"


def test_a_playback_token_may_not_outlive_the_maximum(backend: Backend) -> None:
    api = backend.new_user("tokens")
    channel = api.make_channel("tokens")
    base = backend.server.base_url
    forever = token_query(api.user_id, api.api_key, channel["id"], ttl_s=10 ** 9)
    r = httpx.get(f"{base}/channel/{channel['id']}.m3u8?{forever}")
    assert_error(r, 401, "'exp'", "FEEDGATE_TOKEN_MAX_TTL_S")
    day = token_query(api.user_id, api.api_key, channel["id"], ttl_s=3600)
    assert httpx.get(f"{base}/channel/{channel['id']}.m3u8?{day}").status_code != 401
