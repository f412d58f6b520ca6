"""Source playlists, fetched once however many viewers watch: single-flight, cached, never blocking.

Each URL has one entry. A live media playlist is fetched again when it is older than half its target
duration; a multivariant playlist every 10 s; a VOD playlist (an asset, the slate) every 5 minutes.
Concurrent requests for a stale entry share one fetch; while an entry holds a copy, a request waits
at most `WAIT_S` for the fresh one and is otherwise answered from the copy, so a source that hangs
costs its own viewers a little freshness and nobody else anything. The last good copy is kept when a
fetch fails (the segments it lists usually still exist at the origin or CDN).

The entry also records when a live playlist last advanced: `playlist_stale_ms` reads it.

Fetches go through the outbound policy (`kit/outbound.py`): a 2 s deadline for the whole fetch, the
2 MiB cap, the address guard on every hop, and slots per origin (scheme, host and port), so the slow
sources of one origin wait for each other and never for a fetch slot another origin needs. Parsing runs
in a worker thread and refuses playlists over MAX_SEGMENTS segments, so a huge playlist costs its own
source a parse error, not the event loop a freeze.
"""

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from importlib import resources
from urllib.parse import urlsplit

from feedgate import __version__
from feedgate.kit.metrics import RENDITION_MISMATCHES, UPSTREAM_FETCHES
from feedgate.kit.outbound import Outbound
from feedgate.kit.time import clock_ms, now_ms
from feedgate.stream.playlists import Ladder, Media, parse

log = logging.getLogger("feedgate.stream")
logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per playlist fetch would drown the log
SHIPPED_SLATE = "/stream/slate/index.m3u8"  # served by feedgate itself, from the package
WAIT_S = 0.5
MAX_BYTES = 2 * 1024 * 1024
MAX_ENTRIES = 20_000
MAX_SEGMENTS = 10_000  # a 2-hour VOD at 1 s segments is 7,200; a live window is a few dozen
PER_ORIGIN = 32
COMPLAIN_EVERY_S = 60.0


def slate_file(name: str) -> bytes | None:
    """A file of the slate feedgate ships (two renditions of a still picture, ten seconds, silent); None for
    any other name (a path, a NUL, a name too long for the file system: not found, never a 500)."""
    if not name or len(name) > 64 or "/" in name or "\x00" in name or name.startswith("."):
        return None
    try:
        return (resources.files("feedgate.stream") / "slate" / name).read_bytes()
    except (OSError, ValueError):
        return None


def parse_capped(text: str, url: str) -> Ladder | Media:
    """`parse`, refusing a playlist with more than MAX_SEGMENTS segments before the work starts."""
    if text.count("#EXTINF") > MAX_SEGMENTS:
        raise ValueError(f"playlist with more than {MAX_SEGMENTS} segments")
    return parse(text, url)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or ''}"


@dataclass
class Entry:
    url: str
    value: Ladder | Media | None = None
    fetched_ms: int = 0
    failed: bool = False
    task: "asyncio.Task[None] | None" = None
    end_sequence: int = -1
    advanced_ms: int = 0  # clock_ms() when its end sequence last moved (a live media playlist)
    estimated: dict[int, int] = field(default_factory=dict)  # sequence -> PDT, for sources without PDT


def max_age_ms(value: Ladder | Media | None) -> int:
    if value is None:
        return 1000  # a failure: try again in a second
    if isinstance(value, Ladder):
        return 10_000
    return 300_000 if value.ended else max(250, value.target_ms // 2)


class Upstream:
    def __init__(self, timeout_s: float = 2.0, allow_private: bool = False) -> None:
        self.timeout_s = timeout_s
        self.allow_private = allow_private
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        self.client: Outbound | None = None
        self._mismatched: set[str] = set()
        self._complained: dict[str, float] = {}

    async def start(self) -> None:
        self.client = Outbound(self.timeout_s, MAX_BYTES, PER_ORIGIN, self.allow_private,
                               headers={"User-Agent": f"feedgate/{__version__}"})

    async def stop(self) -> None:
        for entry in self.entries.values():
            if entry.task is not None:
                entry.task.cancel()
        if self.client is not None:
            await self.client.aclose()

    def entry(self, url: str) -> Entry:
        entry = self.entries.get(url)
        if entry is None:
            entry = self.entries[url] = Entry(url)
            if len(self.entries) > MAX_ENTRIES:
                self.entries.popitem(last=False)
        else:
            self.entries.move_to_end(url)
        return entry

    async def get(self, url: str) -> Ladder | Media | None:
        """The playlist at `url`, fresh enough; None when it was never fetched successfully."""
        entry = self.entry(url)
        if clock_ms() - entry.fetched_ms < max_age_ms(entry.value if not entry.failed else None):
            return entry.value
        task = entry.task
        if task is None:
            task = entry.task = asyncio.create_task(self._fetch(entry))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), WAIT_S if entry.value is not None else self.timeout_s + 1)
        return entry.value

    async def media(self, url: str, rendition: int) -> Media | None:
        """Rendition `rendition` of the source at `url` (matched by order; the last when it has fewer)."""
        value = await self.get(url)
        if isinstance(value, Ladder):
            if rendition >= len(value.renditions) and url not in self._mismatched:
                self._mismatched.add(url)
                RENDITION_MISMATCHES.inc()
                log.warning("source %s has %d renditions; viewers asking for rendition %d get its last", url,
                            len(value.renditions), rendition + 1)
            value = await self.get(value.renditions[min(rendition, len(value.renditions) - 1)].uri)
        return value if isinstance(value, Media) else None

    def rendition_url(self, url: str, rendition: int) -> str:
        """The media playlist URL `media(url, rendition)` reads, as far as this cache knows."""
        entry = self.entries.get(url)
        if entry is not None and isinstance(entry.value, Ladder):
            return entry.value.renditions[min(rendition, len(entry.value.renditions) - 1)].uri
        return url

    def stale_ms(self, url: str) -> tuple[int, int] | None:
        """(ms since this live playlist last advanced, its target duration), when it is being watched."""
        entry = self.entries.get(url)
        if entry is None or not isinstance(entry.value, Media) or entry.value.ended or not entry.advanced_ms:
            return None
        return clock_ms() - entry.advanced_ms, entry.value.target_ms

    async def _fetch(self, entry: Entry) -> None:
        try:
            text = await self._read(entry.url)
            value = await asyncio.to_thread(parse_capped, text, entry.url)
            if isinstance(value, Media) and not value.ended:
                value = self._timed(entry, value)
                if value.end_sequence != entry.end_sequence:
                    entry.end_sequence, entry.advanced_ms = value.end_sequence, clock_ms()
            entry.value, entry.failed = value, False
            UPSTREAM_FETCHES.labels("ok").inc()
        except Exception as exc:  # any failure of a source is its own: logged, counted, the copy kept
            entry.failed = True
            UPSTREAM_FETCHES.labels("error").inc()
            if time.monotonic() - self._complained.get(entry.url, -COMPLAIN_EVERY_S) >= COMPLAIN_EVERY_S:
                self._complain(entry.url)
                log.warning("source playlist %s could not be fetched: %s", entry.url, str(exc) or type(exc).__name__)
        finally:
            entry.fetched_ms = clock_ms()
            entry.task = None

    async def _read(self, url: str) -> str:
        if url.startswith(SHIPPED_SLATE.rsplit("/", 1)[0] + "/"):
            data = slate_file(url.rsplit("/", 1)[1])
            if data is None:
                raise FileNotFoundError(url)
            return data.decode()
        assert self.client is not None
        outcome = await self.client.request(origin(url), "GET", url)
        if outcome.status is None:
            raise OSError(outcome.error)
        if not 200 <= outcome.status < 300:
            raise OSError(f"HTTP {outcome.status}")
        return outcome.body.decode("utf-8", errors="replace")

    def _complain(self, url: str) -> None:
        """Remember when `url` was last logged; entries older than the interval go (the map stays small)."""
        now = time.monotonic()
        if len(self._complained) >= MAX_ENTRIES:
            self._complained = {u: t for u, t in self._complained.items() if now - t < COMPLAIN_EVERY_S}
            if len(self._complained) >= MAX_ENTRIES:  # all fresh: forget them (a few lines repeat, at worst)
                self._complained = {}
        self._complained[url] = now

    @staticmethod
    def _timed(entry: Entry, media: Media) -> Media:
        """A live playlist without PROGRAM-DATE-TIME gets times estimated once per segment and kept,
        so its numbering stays stable on this instance (sources should send PDT: Live Slicers and
        ffmpeg's `-hls_flags program_date_time` do)."""
        if all(s.pdt_ms is not None for s in media.segments):
            return media
        known = entry.estimated
        segments = list(media.segments)
        if not any(media.sequence + i in known for i in range(len(segments))):
            end = now_ms()
            for i in range(len(segments) - 1, -1, -1):
                end -= segments[i].duration_ms
                known[media.sequence + i] = end
        for i, segment in enumerate(segments):
            number = media.sequence + i
            if number not in known and number - 1 in known:
                known[number] = known[number - 1] + segments[i - 1].duration_ms if i else now_ms()
            segments[i] = replace(segment, pdt_ms=known.get(number, now_ms()))
        for number in [n for n in known if n < media.sequence]:
            del known[number]
        return replace(media, segments=tuple(segments))
