"""HLS playlists as plain data: parsed from a source (with the `m3u8` library), rendered for a viewer.

No I/O here. A source's playlist is parsed once per fetch into `Ladder` (a multivariant playlist) or
`Media` (a media playlist); every URI is made absolute against the playlist's own URL, so a viewer's
playlist served by feedgate points at the source (or its CDN) for segments, keys and init sections.
"""

import math
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import m3u8
from m3u8.model import InitializationSection, Key

CONTENT_TYPE = "application/vnd.apple.mpegurl"


@dataclass(frozen=True)
class Rendition:
    uri: str  # absolute
    attributes: str  # the EXT-X-STREAM-INF attribute list feedgate passes on
    bandwidth: int


@dataclass(frozen=True)
class Ladder:
    """A multivariant playlist: its renditions, in the source's order."""

    renditions: tuple[Rendition, ...]


@dataclass(frozen=True)
class Segment:
    uri: str  # absolute
    duration_ms: int
    pdt_ms: int | None  # EXT-X-PROGRAM-DATE-TIME, when the source gives it
    key: str  # the EXT-X-KEY line in force ("" when clear), URIs absolute
    map: str  # the EXT-X-MAP line in force ("" for MPEG-TS)
    byterange: str = ""


@dataclass(frozen=True)
class Media:
    target_ms: int
    sequence: int  # the source's EXT-X-MEDIA-SEQUENCE
    segments: tuple[Segment, ...]
    ended: bool  # EXT-X-ENDLIST: a VOD playlist (an asset, the slate)

    @property
    def duration_ms(self) -> int:
        return sum(s.duration_ms for s in self.segments)

    @property
    def end_sequence(self) -> int:
        """Moves whenever the source publishes a segment: what `playlist_stale_ms` watches."""
        return self.sequence + len(self.segments)


UNSAFE_IN_QUOTES = str.maketrans("", "", '"\r\n')
UNQUOTED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_x")


def _attr(name: str, value: object, quoted: bool = False) -> str:
    """One attribute, whatever the source sent: a quoted-string loses the quote and line breaks that would
    end it (HLS allows neither inside), an unquoted value keeps only the characters such values use."""
    if quoted:
        return f'{name}="{str(value).translate(UNSAFE_IN_QUOTES)}"'
    return f"{name}={''.join(c for c in str(value) if c in UNQUOTED)}"


def _key_line(key: Key | None, base: str) -> str:
    if key is None or key.method in (None, "NONE"):
        return ""
    parts = [_attr("METHOD", key.method)]
    if key.uri:
        parts.append(_attr("URI", urljoin(base, key.uri), quoted=True))
    if key.iv:
        parts.append(_attr("IV", key.iv))
    if key.keyformat:
        parts.append(_attr("KEYFORMAT", key.keyformat, quoted=True))
    if key.keyformatversions:
        parts.append(_attr("KEYFORMATVERSIONS", key.keyformatversions, quoted=True))
    return "#EXT-X-KEY:" + ",".join(parts)


def _map_line(init: InitializationSection | None, base: str) -> str:
    if init is None or not init.uri:
        return ""
    line = "#EXT-X-MAP:" + _attr("URI", urljoin(base, init.uri), quoted=True)
    return line + (f',BYTERANGE="{init.byterange}"' if init.byterange else "")


def parse(text: str, url: str) -> Ladder | Media:
    """A source's playlist; ValueError when it is not one."""
    if not text.lstrip("\ufeff").startswith("#EXTM3U"):
        raise ValueError("not an HLS playlist (no #EXTM3U)")
    playlist = m3u8.loads(text)
    if playlist.is_variant:
        renditions = []
        for variant in playlist.playlists:
            info = variant.stream_info
            attributes = [_attr("BANDWIDTH", info.bandwidth or 0)]
            if info.average_bandwidth:
                attributes.append(_attr("AVERAGE-BANDWIDTH", info.average_bandwidth))
            if info.resolution:
                attributes.append(_attr("RESOLUTION", f"{info.resolution[0]}x{info.resolution[1]}"))
            if info.codecs:
                attributes.append(_attr("CODECS", info.codecs, quoted=True))
            if info.frame_rate:
                attributes.append(_attr("FRAME-RATE", f"{info.frame_rate:.3f}"))
            renditions.append(Rendition(urljoin(url, variant.uri), ",".join(attributes), info.bandwidth or 0))
        if not renditions:
            raise ValueError("a multivariant playlist with no renditions")
        return Ladder(tuple(renditions))
    segments = []
    for segment in playlist.segments:
        pdt = segment.current_program_date_time
        byterange = ""
        if segment.byterange:
            length, _, offset = str(segment.byterange).partition("@")
            byterange = f"{length}@{offset or 0}"
        segments.append(Segment(
            uri=urljoin(url, segment.uri), duration_ms=round(float(segment.duration or 0) * 1000),
            pdt_ms=round(pdt.timestamp() * 1000) if pdt is not None else None,
            key=_key_line(segment.key, url), map=_map_line(segment.init_section, url), byterange=byterange))
    target = playlist.target_duration or max((s.duration_ms for s in segments), default=2000) / 1000
    return Media(target_ms=round(float(target) * 1000), sequence=playlist.media_sequence or 0,
                 segments=tuple(segments), ended=bool(playlist.is_endlist))


def render_ladder(ladder: Ladder, uri_for: list[str]) -> str:
    """The viewer's multivariant playlist: the source's renditions, each pointing back at feedgate."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rendition, uri in zip(ladder.renditions, uri_for, strict=True):
        lines += [f"#EXT-X-STREAM-INF:{rendition.attributes}", uri]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Placed:
    """A segment as one viewer's playlist lists it: its number, its discontinuity count and its time."""

    number: int
    cc: int
    pdt_ms: int
    segment: Segment


def _iso(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def render_media(placed: list[Placed]) -> str:
    """A live media playlist from placed segments (numbers rising, discontinuity counts not falling)."""
    target = max((math.ceil(p.segment.duration_ms / 1000) for p in placed), default=2)
    version = 6 if any(p.segment.map for p in placed) else (4 if any(p.segment.byterange for p in placed) else 3)
    first = placed[0] if placed else None
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{version}", f"#EXT-X-TARGETDURATION:{target}",
             f"#EXT-X-MEDIA-SEQUENCE:{first.number if first else 0}",
             f"#EXT-X-DISCONTINUITY-SEQUENCE:{first.cc if first else 0}"]
    key = init = ""
    previous: Placed | None = None
    for item in placed:
        segment = item.segment
        if previous is not None and item.cc != previous.cc:
            # One tag per step: a stretch that left no segment in view (a blip shorter than a segment)
            # still counts, so every segment's count is the same in every playlist that lists it.
            lines += ["#EXT-X-DISCONTINUITY"] * max(1, item.cc - previous.cc)
        if segment.key != key:
            lines.append(segment.key or "#EXT-X-KEY:METHOD=NONE")
            key = segment.key
        if segment.map and (segment.map != init or (previous is not None and item.cc != previous.cc)):
            lines.append(segment.map)
        init = segment.map
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_iso(item.pdt_ms)}")
        if segment.byterange:
            lines.append(f"#EXT-X-BYTERANGE:{segment.byterange}")
        lines += [f"#EXTINF:{segment.duration_ms / 1000:.3f},", segment.uri]
        previous = item
    return "\n".join(lines) + "\n"
