"""What one viewer sees over time, as plain data: which source, from when, and its discontinuity count.

No I/O and no per-viewer state. A viewer's picture can change only at a channel's *cuts* (a program
or schedule window starting or ending, the group or a linked channel switching source); at each cut
the source is re-decided for that viewer with the same decision as the playback endpoint. Equal
neighbours merge, so a cut that changes nothing for this viewer is no cut for them.

Discontinuities are counted from the start of the UTC day: the count of a viewer's pieces (and of
a looping asset's restarts) since midnight, on top of `day * DAY_BASE`. Every instance derives the
same numbers from the same database, so a viewer may be served by any of them. The price: at
midnight the count jumps (one extra #EXT-X-DISCONTINUITY, which players take as a timestamp reset).
"""

from collections.abc import Callable
from dataclasses import dataclass

from feedgate.playback.matcher import Viewer
from feedgate.playback.state import ChannelPlan, Snapshot, decide

DAY_MS = 86_400_000
DAY_BASE = 100_000  # discontinuities a day may hold before one day's numbers could reach the next's


@dataclass(frozen=True)
class Source:
    kind: str  # "live" (a slicer's stream) | "vod" (an asset, the slate), played as a live window
    url: str
    loop: bool = True
    label: str = ""  # for people: "slicer enc-a", "asset promo", "slate"


@dataclass(frozen=True)
class Piece:
    start: int  # when this source began for this viewer (a looping asset's phase starts here)
    source: Source


@dataclass(frozen=True)
class Run:
    """A stretch of one source with one discontinuity count: a piece, or one pass of a looping asset."""

    start: int
    end: int | None  # None: still running
    source: Source
    cc: int
    unit: int = 0  # which stretch of one source it belongs to (all passes of a looping asset share one)
    k: int = 0  # the pass of a looping asset, counted from the start of its piece


SlicerUrl = Callable[[str, str], str | None]  # (owner, slicerID) -> the playlist it announced


def channel_source(urls: SlicerUrl, plan: ChannelPlan, at: int, slate: Source) -> Source:
    name = plan.source_at(at)
    if name is None or name == "no_slicer":
        return slate
    owner, _, slicer_id = name.rpartition(":")
    url = urls(owner or plan.group_owner, slicer_id)
    return Source("live", url, label=f"slicer {name}") if url else slate


def resolve(snapshot: Snapshot, urls: SlicerUrl, plan: ChannelPlan, viewer: Viewer, allow_unlocated: bool, at: int,
            slate: Source, asset_url: str | None) -> Source:
    """The source this viewer sees at `at`: the channel's own, or its blackout's alternate (one hop)."""
    rule = decide(plan, viewer, viewer.located, at, allow_unlocated).rule
    if rule is None:
        return channel_source(urls, plan, at, slate)
    if rule.content_type == "slicer":
        url = urls(plan.owner, rule.content_id)
        return Source("live", url, label=f"slicer {rule.content_id}") if url else slate
    if rule.content_type == "channel":
        other = snapshot.channels.get(rule.content_id)
        # One hop: the other channel's own picture, never its blackouts' alternates, so no loop can form.
        if other is None or other.owner != plan.owner:
            return slate
        return channel_source(urls, other, at, slate)
    if rule.content_type == "asset" and asset_url and rule.content_id:
        return Source("vod", asset_url.replace("{id}", rule.content_id), rule.loop, f"asset {rule.content_id}")
    return slate


def pieces(cuts: list[int], source_at: Callable[[int], Source], now: int) -> list[Piece]:
    """Today's pieces for one viewer, up to `now`; the first starts at the last cut before midnight."""
    day_start = now - now % DAY_MS
    earlier = [c for c in cuts if c <= day_start]
    found = [Piece(earlier[-1] if earlier else day_start, source_at(day_start))]
    for cut in cuts:
        if day_start < cut <= now:
            source = source_at(cut)
            if source != found[-1].source:
                found.append(Piece(cut, source))
    return found


def runs(found: list[Piece], now: int, durations: dict[str, int], slate: Source, since: int) -> list[Run]:
    """The runs of today's pieces that overlap [since, now], each with its discontinuity count.

    `durations` holds each VOD source's length (its first rendition's, so every rendition counts
    alike); a VOD source missing from it counts as one pass. An asset that does not loop plays
    once, then the slate loops for the rest of its piece.
    """
    day_start = now - now % DAY_MS
    cc = (day_start // DAY_MS) * DAY_BASE
    result: list[Run] = []
    expanded: list[tuple[int, int | None, Source]] = []
    for i, piece in enumerate(found):
        end = found[i + 1].start if i + 1 < len(found) else None
        source = piece.source
        length = durations.get(source.url)
        # An asset that does not loop, past its end: the slate takes the rest of the piece.
        if source.kind == "vod" and not source.loop and length and piece.start + length <= min(end or now, now):
            expanded += [(piece.start, piece.start + length, source), (piece.start + length, end, slate)]
            continue
        expanded.append((piece.start, end, source))
    for i, (start, end, source) in enumerate(expanded):
        counted_from = max(start, day_start)
        if i:
            cc += 1
        length = durations.get(source.url) if source.kind == "vod" else None
        stop = min(end, now) if end is not None else now
        if not length or not source.loop:  # live, or an asset's single pass (its end was split off above)
            if end is None or end > since:
                result.append(Run(start, end, source, cc, i))
            continue
        # A looping VOD source: one run per pass, each a discontinuity (its timestamps start again).
        first_pass = (counted_from - start) // length
        last_pass = max(first_pass, (stop - start - 1) // length) if stop > start else first_pass
        for k in range(max(first_pass, (max(since, start) - start) // length), last_pass + 1):  # those in view
            pass_start = start + k * length
            pass_end = pass_start + length if end is None else min(pass_start + length, end)
            if pass_end > since and (end is None or pass_start < end):
                result.append(Run(pass_start, pass_end, source, cc + (k - first_pass), i, k))
        cc += last_pass - first_pass
    return result
