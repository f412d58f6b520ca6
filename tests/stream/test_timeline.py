"""The viewer's timeline and playlists as plain functions: no server, no I/O."""

from hypothesis import given, settings
from hypothesis import strategies as st

from feedgate.stream.playlists import Ladder, Media, Placed, parse, render_media
from feedgate.stream.timeline import DAY_BASE, DAY_MS, Piece, Source, pieces, runs

LIVE_A = Source("live", "http://o/a/index.m3u8", label="slicer a")
LIVE_B = Source("live", "http://o/b/index.m3u8", label="slicer b")
SLATE = Source("vod", "/stream/slate/index.m3u8", True, "slate")
PROMO = Source("vod", "http://o/promo.m3u8", True, "asset promo")
ONCE = Source("vod", "http://o/once.m3u8", False, "asset once")
DAY = 20_000 * DAY_MS  # some midnight


class TestPieces:
    def test_cuts_that_change_nothing_for_this_viewer_are_no_cuts(self) -> None:
        timeline = {DAY + 1000: LIVE_A, DAY + 2000: LIVE_A, DAY + 3000: LIVE_B}

        def source_at(at: int) -> Source:
            return [s for t, s in sorted(timeline.items()) if t <= at][-1] if at >= DAY + 1000 else SLATE

        found = pieces(sorted(timeline), source_at, DAY + 5000)
        assert found == [Piece(DAY, SLATE), Piece(DAY + 1000, LIVE_A), Piece(DAY + 3000, LIVE_B)]

    def test_the_first_piece_keeps_its_start_from_before_midnight(self) -> None:
        found = pieces([DAY - 7000], lambda at: PROMO, DAY + 5000)
        assert found == [Piece(DAY - 7000, PROMO)]


class TestRuns:
    def test_each_piece_and_each_pass_of_a_looping_asset_is_one_discontinuity(self) -> None:
        found = [Piece(DAY, LIVE_A), Piece(DAY + 10_000, PROMO), Piece(DAY + 40_000, LIVE_B)]
        got = runs(found, DAY + 50_000, {PROMO.url: 10_000}, SLATE, since=DAY)
        base = (DAY // DAY_MS) * DAY_BASE
        assert [(r.start, r.source, r.cc) for r in got] == [
            (DAY, LIVE_A, base), (DAY + 10_000, PROMO, base + 1), (DAY + 20_000, PROMO, base + 2),
            (DAY + 30_000, PROMO, base + 3), (DAY + 40_000, LIVE_B, base + 4)]

    def test_an_asset_that_does_not_loop_gives_way_to_the_slate(self) -> None:
        found = [Piece(DAY, LIVE_A), Piece(DAY + 10_000, ONCE)]
        got = runs(found, DAY + 25_000, {ONCE.url: 4_000, SLATE.url: 10_000}, SLATE, since=DAY)
        assert [(r.start, r.source.label) for r in got] == [
            (DAY, "slicer a"), (DAY + 10_000, "asset once"), (DAY + 14_000, "slate"), (DAY + 24_000, "slate")]

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.tuples(st.integers(1, 3_600_000), st.sampled_from([LIVE_A, LIVE_B, SLATE, PROMO, ONCE])),
                    min_size=1, max_size=12), st.integers(0, 3_600_000), st.integers(1_000, 60_000))
    def test_counts_never_fall_and_stay_the_same_later(self, cuts: list, step: int, window: int) -> None:
        """The count of a run is the same whenever it is asked (later, or with a narrower view)."""
        timeline = sorted({DAY + t: s for t, s in cuts}.items())
        durations = {PROMO.url: 6_000, ONCE.url: 4_000, SLATE.url: 10_000}

        def source_at(at: int) -> Source:
            earlier = [s for t, s in timeline if t <= at]
            return earlier[-1] if earlier else SLATE

        now = DAY + 3_600_000
        later = now + step
        early = runs(pieces([t for t, _ in timeline], source_at, now), now, durations, SLATE, since=now - window)
        late = runs(pieces([t for t, _ in timeline], source_at, later), later, durations, SLATE, since=DAY)
        counts = [r.cc for r in early]
        assert counts == sorted(counts) and len(set(counts)) == len(counts)
        by_start = {(r.start, r.source): r.cc for r in late}
        for r in early[:-1]:  # the last run may still grow; every finished one keeps its count
            assert by_start[(r.start, r.source)] == r.cc


class TestPlaylists:
    def test_keys_maps_and_byteranges_pass_through_with_absolute_uris(self) -> None:
        source = ("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:40\n"
                  "#EXT-X-MAP:URI=\"init.mp4\"\n"
                  "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key1\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n"
                  "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T10:00:00.000Z\n#EXTINF:2.0,\n#EXT-X-BYTERANGE:1000@0\nall.m4s\n"
                  "#EXT-X-KEY:METHOD=AES-128,URI=\"../keys/k2\",IV=0x0000000000000000000000000000000A\n"
                  "#EXTINF:2.0,\nseg41.m4s\n")
        media = parse(source, "https://cdn.example/live/ch1/r0.m3u8")
        assert isinstance(media, Media) and media.sequence == 40 and not media.ended
        placed = [Placed(7, 3, s.pdt_ms or 0, s) for s in media.segments]
        placed[1] = Placed(8, 3, placed[1].pdt_ms, media.segments[1])
        text = render_media(placed)
        assert '#EXT-X-MAP:URI="https://cdn.example/live/ch1/init.mp4"' in text
        assert 'URI="skd://key1"' in text and 'KEYFORMAT="com.apple.streamingkeydelivery"' in text
        assert 'URI="https://cdn.example/live/keys/k2",IV=0x0000000000000000000000000000000A' in text
        assert "#EXT-X-BYTERANGE:1000@0\n#EXTINF:2.000,\nhttps://cdn.example/live/ch1/all.m4s" in text
        assert "#EXT-X-VERSION:6" in text and "#EXT-X-MEDIA-SEQUENCE:7" in text
        assert "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T10:00:02.000Z" in text

    def test_a_multivariant_playlist_keeps_its_renditions_in_order(self) -> None:
        ladder = parse("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS=\"avc1.4d401e,mp4a.40.2\""
                       "\nlow/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720\nhigh.m3u8\n",
                       "https://o/ch/master.m3u8")
        assert isinstance(ladder, Ladder)
        assert [r.uri for r in ladder.renditions] == ["https://o/ch/low/index.m3u8", "https://o/ch/high.m3u8"]
        assert ladder.renditions[0].attributes == 'BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2"'

    def test_what_is_not_a_playlist_is_refused(self) -> None:
        for text in ("", "<html>", "{}"):
            try:
                parse(text, "https://o/x.m3u8")
            except ValueError:
                continue
            raise AssertionError(f"accepted {text!r}")


def test_a_stretch_with_no_segment_in_view_still_counts() -> None:
    """A blip shorter than a segment leaves no segment, but its count: one tag per step keeps every
    segment's discontinuity count the same in every playlist that lists it."""
    media = parse("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-PROGRAM-DATE-TIME:2026-11-23T10:00:00.000Z\n"
                  "#EXTINF:1.0,\na.ts\n#EXTINF:1.0,\nb.ts\n", "http://o/x/r0.m3u8")
    assert isinstance(media, Media)
    first, second = media.segments
    text = render_media([Placed(10, 5, 0, first), Placed(11, 7, 1000, second)])
    assert "#EXT-X-DISCONTINUITY-SEQUENCE:5\n" in text
    assert text.count("#EXT-X-DISCONTINUITY\n") == 2
