"""Real media parts for the viewer's-stream tests (the ffmpeg half of the support module): ffmpeg live HLS
encoders, a local HTTP origin that records what it serves, ffmpeg as an HLS client, slicers that keep
heartbeating, and the stage that puts them behind a feedgate server."""

import contextlib
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from feedgate.auth.tokens import token_query
from feedgate.cli.video import Origin as DemoOrigin
from feedgate.cli.video import hls_command
from tests.support import Api, Backend

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"


class Origin(DemoOrigin):
    """The demo's origin on a fresh temporary directory, remembering every path asked for."""

    def __init__(self) -> None:
        super().__init__(Path(tempfile.mkdtemp(prefix="feedgate-origin-")))

    def asked(self, prefix: str) -> list[str]:
        return [p for p in list(self.requests) if p.startswith(prefix)]

    def close(self) -> None:
        super().close()
        shutil.rmtree(self.root, ignore_errors=True)


class Encoder:
    """`ffmpeg` encoding a test picture to live HLS (1 s segments, program date-time) under origin/<name>/."""

    def __init__(self, origin: Origin, name: str, pattern: str = "testsrc2", renditions: int = 1) -> None:
        self.origin = origin
        self.name = name
        self.dir = origin.root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        cmd = hls_command(FFMPEG, self.dir, pattern, renditions)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @property
    def url(self) -> str:
        return f"{self.origin.url}/{self.name}/index.m3u8"

    def wait_ready(self, segments: int = 3, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            playlist = self.dir / "r0.m3u8"
            if (self.dir / "index.m3u8").exists() and playlist.exists() \
                    and playlist.read_text().count("#EXTINF") >= segments:
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"ffmpeg exited: {self.proc.stderr.read().decode() if self.proc.stderr else ''}")
            time.sleep(0.2)
        raise RuntimeError(f"encoder {self.name} published no playlist in {timeout} s")

    def freeze(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)  # a stuck encoder: the playlist stops, the files stay

    def thaw(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Beating:
    """Slicers that heartbeat every 300 ms from a thread, each with its HLS URL, until told to stop."""

    def __init__(self, api: Api, group_id: str, slicers: dict[str, str]) -> None:
        self.api = api
        self.group_id = group_id
        self.slicers = dict(slicers)  # slicer ID -> hls_url
        self.silent: set[str] = set()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for slicer_id, url in list(self.slicers.items()):
                if slicer_id not in self.silent:
                    with contextlib.suppress(Exception):
                        self.api.heartbeat(slicer_id, self.group_id, hls_url=url)
            self._stop.wait(0.3)

    def __enter__(self) -> "Beating":
        for slicer_id, url in self.slicers.items():  # the first beats join, in this order
            assert self.api.heartbeat(slicer_id, self.group_id, hls_url=url).status_code == 200
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.thread.join(5)


@contextlib.contextmanager
def encoders(origin: Origin, *names: str, renditions: int = 1) -> Iterator[list[Encoder]]:
    patterns = ["testsrc2", "smptebars", "rgbtestsrc", "mandelbrot"]
    started = [Encoder(origin, name, patterns[i % len(patterns)], renditions) for i, name in enumerate(names)]
    try:
        for encoder in started:
            encoder.wait_ready()
        yield started
    finally:
        for encoder in started:
            encoder.stop()


def make_asset(origin: Origin, name: str, seconds: int = 3, color: str = "red") -> str:
    """A VOD HLS asset (1 s segments) under origin/assets/<name>/; returns its multivariant URL."""
    out = origin.root / "assets" / name
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(hls_command(FFMPEG, out, f"color=c={color}", vod_seconds=seconds), check=True)
    return f"{origin.url}/assets/{name}/index.m3u8"


class Playlist:
    """A media playlist read by the test's own parser (not feedgate's): numbers, counts, URIs."""

    def __init__(self, text: str) -> None:
        assert text.startswith("#EXTM3U"), text[:200]
        self.sequence = self.discontinuity_sequence = 0
        self.segments: list[tuple[int, int, str]] = []  # (media sequence number, discontinuity count, uri)
        self.program_times: list[str] = []
        number, cc = None, None
        for line in text.splitlines():
            if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                self.sequence = number = int(line.split(":", 1)[1])
            elif line.startswith("#EXT-X-DISCONTINUITY-SEQUENCE:"):
                self.discontinuity_sequence = cc = int(line.split(":", 1)[1])
            elif line == "#EXT-X-DISCONTINUITY":
                assert cc is not None
                cc += 1
            elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
                self.program_times.append(line.split(":", 1)[1])
            elif line and not line.startswith("#"):
                assert number is not None and cc is not None
                self.segments.append((number, cc, line))
                number += 1
        self.text = text


def source_of(uri: str) -> str:
    """Which source a segment comes from: its directory (/a/, /assets/promo/, /stream/slate/)."""
    path = uri.split("://", 1)[-1]
    path = path[path.find("/"):]
    return path.rsplit("/", 1)[0]


class ViewerLog:
    """A viewer polling one media playlist, checking the continuity rules on every answer:
    the media sequence and the discontinuity sequence never go back; a number once seen keeps its
    segment and its discontinuity count; a change of source is always a discontinuity."""

    def __init__(self, url: str) -> None:
        import httpx

        self.url = url
        self.http = httpx.Client(timeout=10)
        self.seen: dict[int, tuple[int, str]] = {}
        self.last: Playlist | None = None
        self.polls = 0

    def poll(self) -> Playlist:
        response = self.http.get(self.url)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/vnd.apple.mpegurl"
        playlist = Playlist(response.text)
        if self.last is not None:
            assert playlist.sequence >= self.last.sequence, (self.last.text, playlist.text)
            assert playlist.discontinuity_sequence >= self.last.discontinuity_sequence, (self.last.text, playlist.text)
        previous = None
        for number, cc, uri in playlist.segments:
            if number in self.seen:
                assert self.seen[number] == (cc, uri), (number, self.seen[number], (cc, uri), playlist.text)
            self.seen[number] = (cc, uri)
            if previous is not None and source_of(previous[2]) != source_of(uri):
                assert cc > previous[1], f"source changed without a discontinuity:\n{playlist.text}"
            previous = (number, cc, uri)
        self.last = playlist
        self.polls += 1
        return playlist

    def until(self, predicate: Any, timeout: float = 20.0) -> Playlist:
        deadline = time.monotonic() + timeout
        while True:
            playlist = self.poll()
            if predicate(playlist):
                return playlist
            if time.monotonic() > deadline:
                raise AssertionError(f"playlist never matched; last:\n{playlist.text}")
            time.sleep(0.3)

    def sources(self) -> list[str]:
        """Sources in the order this viewer's numbers run through them (consecutive repeats merged)."""
        order: list[str] = []
        for number in sorted(self.seen):
            source = source_of(self.seen[number][1])
            if not order or order[-1] != source:
                order.append(source)
        return order


STAGE_FAST = {"heartbeat_timeout_ms": 1000, "clear_after_ms": 1500, "blacklist_ms": 120_000}


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
        g = api.make_group("G", **{**STAGE_FAST, **group})
        ch = api.make_channel("C")
        assert api.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": [ch["id"]]}).status_code == 204
        return g, ch

    def url(self, api: Api, channel_id: str, rendition: int | None = 0, **extras: str) -> str:
        query = token_query(api.user_id, api.api_key, channel_id, extras=extras)
        path = f"/channel/{channel_id}.m3u8" if rendition is None else f"/channel/{channel_id}/{rendition}.m3u8"
        return f"{self.base}{path}?{query}"
