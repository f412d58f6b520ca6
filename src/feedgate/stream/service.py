"""The viewer's stream: a multivariant playlist and live media playlists, per viewer, from compiled state.

The viewer is decided exactly as `GET /channels/{id}/playback` decides them (shared code); what they
see over time is `timeline`'s; the segments come from the sources' own playlists (`upstream`), listed
by absolute URL. Numbering is derived from the segments' program date-time, so it needs no
per-viewer state: a segment's media sequence number is its PROGRAM-DATE-TIME in whole seconds (a
segment must last at least a second), which rises across any switch of source and is the same on
every instance. docs/design.md has the whole scheme.
"""

import bisect
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from feedgate.failover.registry import Registry
from feedgate.kit.metrics import VIEWER_PLAYLISTS
from feedgate.kit.time import now_ms
from feedgate.playback.matcher import Viewer
from feedgate.playback.service import token_viewer, viewer_for
from feedgate.playback.state import ChannelPlan, DecisionState, Snapshot
from feedgate.settings import Settings
from feedgate.stream.playlists import Ladder, Placed, Rendition, Segment, render_ladder, render_media
from feedgate.stream.timeline import Piece, Source, pieces, resolve, runs
from feedgate.stream.upstream import SHIPPED_SLATE, Upstream

# A viewer's playlist lists what started in the last 30 s (as far as the sources still list it): a fixed span,
# so that its first segment, and so its media sequence, only moves forward whatever the source's segment length.
WINDOW_MS = 30_000
PIECES_CACHED = 50_000
UNKNOWN_BANDWIDTH = 2_000_000  # declared for a source that names no renditions
RENDER_MS = 200  # a rendered playlist is reused this long by every viewer whose pieces are the same


@dataclass
class Numbering:
    """The media sequence offsets of one channel rendition's units, as this process gave them."""

    offsets: dict[int, int] = field(default_factory=dict)
    closed: dict[int, int] = field(default_factory=dict)
    last: dict[int, int] = field(default_factory=dict)  # unit -> highest local number listed


@dataclass(frozen=True)
class Watching:
    """One viewer of one channel, decided."""

    channel_id: str
    snapshot: Snapshot
    plan: ChannelPlan
    viewer: Viewer


class StreamService:
    def __init__(self, decisions: DecisionState, upstream: Upstream, settings: Settings, registry: Registry) -> None:
        self.decisions = decisions
        self.registry = registry
        self.upstream = upstream
        self.slate = Source("vod", settings.slate_url or SHIPPED_SLATE, True, "slate")
        self.asset_url = settings.asset_url
        self._pieces: dict[tuple[Any, ...], list[Piece]] = {}
        self._numbering: dict[tuple[Any, ...], Numbering] = {}
        self._rendered: dict[tuple[Any, ...], tuple[int, str]] = {}

    def watching(self, channel_id: str, owner: str, token: dict[str, str], client_host: str | None) -> Watching:
        snapshot, plan, viewer = viewer_for(self.decisions, channel_id, owner, token_viewer(token), client_host)
        return Watching(channel_id, snapshot, plan, viewer)

    def source_at(self, w: Watching, at: int) -> Source:
        return resolve(w.snapshot, self.registry.current.hls_url, w.plan, w.viewer, self.decisions.allow_unlocated, at,
                       self.slate, self.asset_url)

    def pieces(self, w: Watching, now: int) -> list[Piece]:
        """Today's pieces for this viewer, cached until the configuration or the set of past cuts moves."""
        passed = bisect.bisect_right(w.plan.cuts, now)
        key = (w.snapshot.version, w.channel_id, w.viewer, now // 86_400_000, passed)
        found = self._pieces.get(key)
        if found is None:
            if len(self._pieces) >= PIECES_CACHED:
                self._pieces.clear()
            found = self._pieces[key] = pieces(w.plan.cuts, lambda at: self.source_at(w, at), now)
        return found

    async def ladder(self, w: Watching, query_string: str) -> str:
        """The multivariant playlist: the renditions of what the viewer sees now, each back through feedgate."""
        source = self.source_at(w, now_ms())
        value = await self.upstream.get(source.url)
        if value is None and source != self.slate:
            value = await self.upstream.get(self.slate.url)
        if not isinstance(value, Ladder):  # a single media playlist (or nothing yet): one rendition
            value = Ladder((Rendition(source.url, f"BANDWIDTH={UNKNOWN_BANDWIDTH}", UNKNOWN_BANDWIDTH),))
        channel = quote(w.channel_id, safe="")
        VIEWER_PLAYLISTS.labels("multivariant").inc()
        return render_ladder(value, [f"/channel/{channel}/{i}.m3u8?{query_string}"
                                     for i in range(len(value.renditions))])

    async def media(self, w: Watching, rendition: int) -> str:
        now = now_ms()
        found = self.pieces(w, now)
        key = (w.channel_id, rendition, tuple(found))
        cached = self._rendered.get(key)
        if cached is not None and now - cached[0] < RENDER_MS:
            VIEWER_PLAYLISTS.labels("media").inc()
            return cached[1]
        durations: dict[str, int] = {}
        for piece in found:
            if piece.source.kind == "vod" and piece.source.url not in durations:
                first = await self.upstream.media(piece.source.url, 0)
                if first is not None and first.duration_ms > 0:
                    durations[piece.source.url] = first.duration_ms
        since = now - WINDOW_MS
        candidates: list[tuple[int, int, int, int, Segment]] = []  # (start, unit, local number, cc, segment)
        for run in runs(found, now, durations, self.slate, since):
            media = await self.upstream.media(run.source.url, rendition)
            if media is None:
                continue
            if run.source.kind == "live":
                for i, segment in enumerate(media.segments):
                    start = segment.pdt_ms
                    if start is None or start + segment.duration_ms <= max(run.start, since):
                        continue
                    if run.end is not None and start >= run.end:
                        continue
                    candidates.append((start, run.unit, media.sequence + i, run.cc, segment))
                continue
            # One pass of a VOD source, laid on the clock from the start of the pass. A segment is listed
            # from its start (the files exist): a live segment after it can then never be listed first.
            at = run.start
            for i, segment in enumerate(media.segments):
                if (run.end is not None and at >= run.end) or at > now:
                    break
                if at + segment.duration_ms > since:
                    candidates.append((at, run.unit, run.k * len(media.segments) + i, run.cc, segment))
                at += segment.duration_ms
        # In timeline order: unit by unit (a live source's first segment may start before the cut that
        # began its unit, and must still come after the unit before), then by time within a unit.
        candidates.sort(key=lambda c: (c[1], c[0]))
        # Renditions share the numbering: a source's renditions number their segments alike.
        text = render_media(self._numbered((w.channel_id, key[2]), candidates, now))
        if len(self._rendered) >= PIECES_CACHED:
            self._rendered.clear()
        self._rendered[key] = (now, text)
        VIEWER_PLAYLISTS.labels("media").inc()
        return text

    def _numbered(self, key: tuple[Any, ...], candidates: list[tuple[int, int, int, int, Segment]],
                  now: int) -> list[Placed]:
        """Media sequence numbers: consecutive, as HLS requires, and stable from one reload to the next.

        Within a unit (a stretch of one source) a segment's number is its number at the source (or its
        place in the asset's passes) plus the unit's offset. A unit's offset is fixed when its first
        segment is listed, right after the last number of the unit before, which is then closed: a
        segment of the old source published late cannot take a number already given. Viewers whose
        pieces are the same share the offsets (this process's memory, not per viewer). The first unit a
        process numbers starts at twice the Unix seconds: above any number another process (or this one
        before a restart) can have given since, so a viewer moved between them only ever jumps forward.
        """
        numbering = self._numbering.get(key)
        if numbering is None:
            prefix = (key[0], key[1][:-1])
            inherited = self._numbering.get(prefix)
            numbering = Numbering(dict(inherited.offsets), dict(inherited.closed), dict(inherited.last)) \
                if inherited else Numbering()
            if len(self._numbering) >= PIECES_CACHED:
                self._numbering.clear()
            self._numbering[key] = numbering
        listed: list[Placed] = []
        for start, unit, local, cc, segment in candidates:
            offset = numbering.offsets.get(unit)
            if offset is None:
                before = max((u for u in numbering.offsets if u < unit), default=None)
                if listed:
                    follows = listed[-1].number
                elif before is not None:
                    follows = numbering.offsets[before] + numbering.last.get(before, 0)
                else:
                    follows = 2 * (now // 1000) - 1
                offset = numbering.offsets[unit] = follows + 1 - local
                if before is not None:
                    numbering.closed[before] = follows
            number = local + offset
            if number > numbering.closed.get(unit, number) or (listed and number <= listed[-1].number):
                continue  # a late segment of a unit already followed by another: its number is taken
            if listed and number != listed[-1].number + 1:
                listed = []  # the source skipped numbers: list from here (HLS numbers are consecutive)
            numbering.last[unit] = max(numbering.last.get(unit, local), local)
            listed.append(Placed(number, cc, start, segment))
        return listed

    def now_playing(self, w: Watching) -> dict[str, Any]:
        """What this viewer sees now, for people (the console's watch page)."""
        source = self.source_at(w, now_ms())
        return {"kind": source.kind, "label": source.label, "url": source.url}
