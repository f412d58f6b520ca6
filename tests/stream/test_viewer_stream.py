"""The viewer's stream, end to end with real parts: ffmpeg live HLS encoders on a local HTTP origin,
`feedgate serve` on a real database, signed playback tokens, and ffmpeg as the viewer's HLS client."""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from feedgate.auth.tokens import token_query
from feedgate.client import FeedgateClient
from tests.support import Api, active, assert_error, events, wait_for
from tests.support.media import FFMPEG, STAGE_FAST, Beating, Stage, ViewerLog, encoders, source_of


def sources_now(playlist: Any) -> list[str]:
    return [source_of(uri) for _, _, uri in playlist.segments]


class TestRefusals:
    def test_tokens_are_checked_and_refusals_are_errors_not_playlists(self, stage: Stage) -> None:
        api = stage.backend.new_user()
        _, ch = stage.channel_on(api)
        other = api.make_channel("Other")
        for path in (f"/channel/{ch['id']}.m3u8", f"/channel/{ch['id']}/0.m3u8"):
            assert_error(httpx.get(stage.base + path), 401, "playback token")
            signed = api.params()  # an API client's msg/sig is not a player's token
            assert_error(httpx.get(stage.base + path, params=signed), 401, "playback token")
        good = stage.url(api, ch["id"])
        assert_error(httpx.get(good[:-4] + "0000"), 401, "'sig' does not match")
        elsewhere = stage.url(api, other["id"]).replace(f"/channel/{other['id']}/", f"/channel/{ch['id']}/")
        assert_error(httpx.get(elsewhere), 403, "'cid'")
        expired = token_query(api.user_id, api.api_key, ch["id"], ttl_s=-5)
        assert_error(httpx.get(f"{stage.base}/channel/{ch['id']}/0.m3u8?{expired}"), 401, "expired")
        gone = token_query(api.user_id, api.api_key, "no-such-channel")
        assert_error(httpx.get(f"{stage.base}/channel/no-such-channel.m3u8?{gone}"), 404, "no-such-channel")
        stranger = stage.backend.new_user("stranger")
        theirs = token_query(stranger.user_id, stranger.api_key, ch["id"])
        assert_error(httpx.get(f"{stage.base}/channel/{ch['id']}.m3u8?{theirs}"), 404, ch["id"])
        bad_viewer = stage.url(api, ch["id"], **{"repl.cbcc": "XX"})
        assert_error(httpx.get(bad_viewer), 400, "repl.cbcc")

    def test_the_client_and_cli_hand_out_the_playlist_url(self, stage: Stage) -> None:
        api = stage.backend.new_user()
        ch = api.make_channel("Handed out")
        with FeedgateClient(stage.base, api.user_id, api.api_key) as client:
            url = client.playback_url(ch["id"], ttl=60, country="CA", hls=True)
        assert url.startswith(f"{stage.base}/channel/{ch['id']}.m3u8?tc=1&") and "repl.cbcc=CA" in url
        assert httpx.get(url).text.startswith("#EXTM3U")
        env = {**os.environ, "FEEDGATE_URL": stage.base, "FEEDGATE_USER_ID": api.user_id,
               "FEEDGATE_API_KEY": api.api_key}
        cli = subprocess.run([str(Path(sys.executable).parent / "feedgate"), "playback-url", ch["id"], "--hls"],
                             env=env, capture_output=True, text=True, check=True).stdout.strip()
        assert httpx.get(cli).status_code == 200 and "/channel/" in cli

    def test_multivariant_points_back_at_feedgate_with_the_token(self, stage: Stage) -> None:
        api = stage.backend.new_user()
        g, ch = stage.channel_on(api)
        with Beating(api, g["id"], {"enc-a": stage.a.url}):
            wait_for(lambda: active(api, g["id"]) == "enc-a")
            url = stage.url(api, ch["id"], rendition=None)
            response = httpx.get(url)
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/vnd.apple.mpegurl"
            assert "no-store" in response.headers["cache-control"] and "private" in response.headers["cache-control"]
            lines = response.text.splitlines()
            assert lines[0] == "#EXTM3U" and any(line.startswith("#EXT-X-STREAM-INF:BANDWIDTH=") for line in lines)
            variants = [line for line in lines if line and not line.startswith("#")]
            assert variants == [f"/channel/{ch['id']}/0.m3u8?{url.split('?', 1)[1]}"]
            # The variant URI as a player resolves it; enc-a's segments from the next one after the switch.
            media = ViewerLog(stage.base + variants[0]).until(lambda p: sources_now(p)[-1:] == ["/a"])
            # Segments are listed by absolute URL at the source: feedgate serves playlists only.
            assert next(uri for _, _, uri in media.segments if "/a/" in uri).startswith(stage.origin.url + "/a/r0_")
            # A rendition the source does not have (it has one): its last, logged once and counted, never an error.
            def mismatches() -> float:
                metrics = httpx.get(stage.base + "/metrics").text
                return sum(float(line.split()[-1]) for line in metrics.splitlines()
                           if line.startswith("feedgate_rendition_mismatches_total"))
            before = mismatches()
            second = ViewerLog(stage.base + variants[0].replace("/0.m3u8?", "/1.m3u8?")).poll()
            assert "/a/r0_" in "".join(uri for _, _, uri in second.segments)
            assert mismatches() == before + 1


def _failover_keeps_playing(stage: Stage) -> None:
    api = stage.backend.new_user()
    g, ch = stage.channel_on(api)
    with Beating(api, g["id"], {"enc-a": stage.a.url, "enc-b": stage.b.url}) as beating:
        # Two ffmpeg encoders share the runner's cores with the server: a generous first wait, and what the
        # group looked like if it runs out.
        wait_for(lambda: active(api, g["id"]) == "enc-a", timeout=20,
                 explain=lambda: (api.get(f"/failover-groups/{g['id']}").text, events(api, g["id"])[-5:]))
        viewer = ViewerLog(stage.url(api, ch["id"]))
        viewer.until(lambda p: sources_now(p)[-1:] == ["/a"])
        out = Path(tempfile.mkdtemp()) / "watched.ts"
        client = subprocess.Popen([FFMPEG, "-hide_banner", "-loglevel", "error", "-i",
                                   stage.url(api, ch["id"], rendition=None), "-c", "copy", "-f", "mpegts",
                                   "-flush_packets", "1", "-y",
                                   str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: out.exists() and out.stat().st_size > 50_000, timeout=20)
            b_before = len(stage.origin.asked("/b/r0_"))
            beating.silent.add("enc-a")  # enc-a's heartbeats stop: the group fails over to enc-b
            wait_for(lambda: active(api, g["id"]) == "enc-b", timeout=10)
            switched = viewer.until(lambda p: sources_now(p)[-1:] == ["/b"])
            assert "#EXT-X-DISCONTINUITY\n" in switched.text
            # The HLS client plays on: it fetches the new source's segments and its output keeps growing.
            wait_for(lambda: len(stage.origin.asked("/b/r0_")) >= b_before + 3, timeout=20)
            size = out.stat().st_size
            wait_for(lambda: out.stat().st_size > size + 20_000, timeout=10)
            assert client.poll() is None, client.stderr.read().decode() if client.stderr else ""
            # The operator activates enc-a again: another clean switch, counted.
            beating.silent.discard("enc-a")
            time.sleep(2)
            assert api.put(f"/failover-groups/{g['id']}/activate_slicer", {"slicer_id": "enc-a"}).status_code == 204
            back = viewer.until(lambda p: sources_now(p)[-1:] == ["/a"])
            # As the window slides past the switches, the discontinuity sequence counts them: once only enc-a
            # is listed, it is the count its segments had under the tags.
            now_count = back.segments[-1][1]
            assert now_count > back.discontinuity_sequence
            slid = viewer.until(lambda p: set(sources_now(p)) == {"/a"}, timeout=30)
            assert slid.discontinuity_sequence == now_count and "#EXT-X-DISCONTINUITY\n" not in slid.text
            assert viewer.sources()[-3:] == ["/a", "/b", "/a"]
            assert client.poll() is None
        finally:
            client.terminate()
            client.wait(10)


class TestContinuity:
    def test_failover_and_activate_keep_an_hls_client_playing(self, stage: Stage) -> None:
        _failover_keeps_playing(stage)

    def test_failover_on_postgresql(self, pg_stage: Stage) -> None:
        _failover_keeps_playing(pg_stage)

    def test_slate_on_and_off(self, stage: Stage) -> None:
        api = stage.backend.new_user()
        g, ch = stage.channel_on(api)
        with Beating(api, g["id"], {"enc-a": stage.a.url}):
            wait_for(lambda: active(api, g["id"]) == "enc-a")
            viewer = ViewerLog(stage.url(api, ch["id"]))
            viewer.until(lambda p: sources_now(p)[-1:] == ["/a"])
            assert api.put(f"/failover-groups/{g['id']}/set_no_slicer", {"no_slicer": True}).status_code == 204
            on_slate = viewer.until(lambda p: sources_now(p)[-1:] == ["/stream/slate"])
            slate_uri = on_slate.segments[-1][2]
            assert slate_uri.startswith("/stream/slate/")  # the slate feedgate ships, served by feedgate
            segment = httpx.get(stage.base + slate_uri)
            assert segment.status_code == 200 and segment.content[:1] == b"\x47"  # MPEG-TS sync byte
            assert api.put(f"/failover-groups/{g['id']}/set_no_slicer", {"no_slicer": False}).status_code == 204
            viewer.until(lambda p: sources_now(p)[-1:] == ["/a"])
            assert viewer.sources()[-3:] == ["/a", "/stream/slate", "/a"]

    def test_a_channel_with_no_slicer_gets_slate(self, stage: Stage) -> None:
        api = stage.backend.new_user()
        ch = api.make_channel("Idle")
        playlist = ViewerLog(stage.url(api, ch["id"])).poll()
        assert set(sources_now(playlist)) == {"/stream/slate"}
        assert playlist.segments and playlist.sequence > 1_700_000_000  # numbered by program date-time


class TestBlackouts:
    def _setup(self, stage: Stage, api: Api) -> tuple[dict, dict]:
        g, ch = stage.channel_on(api)
        g2 = api.make_group("G2", **STAGE_FAST)
        other = api.make_channel("Other")
        assert api.put(f"/failover-groups/{g2['id']}/channels",
                       {"channels_ids_to_add": [other["id"]]}).status_code == 204
        assert api.heartbeat("enc-b").status_code == 200  # a rule's alternate slicer must exist (registered)
        rules = []
        for desc, audience, content in (
            ("de", {"country_codes": ["DE"]}, {"alternate_content_type": "slicer", "alternate_content_id": "enc-b"}),
            ("ca", {"country_codes": ["CA"]}, {"alternate_content_type": "channel",
                                               "alternate_content_id": other["id"]}),
            ("fr", {"country_codes": ["FR"]}, {"alternate_content_type": "asset", "alternate_content_id": "promo",
                                               "alternate_content_loop": True}),
            ("es", {"country_codes": ["ES"]}, {"alternate_content_type": "asset", "alternate_content_id": "once",
                                               "alternate_content_loop": False}),
            ("us", {"country_codes": ["US"]}, {"alternate_content_type": "slate"}),
        ):
            aud = api.post("/audiences", {"desc": desc, **audience}).json()
            rule = api.post("/rules", {"desc": desc, "audience": aud["id"], **content})
            assert rule.status_code == 201, rule.text
            rules.append(rule.json()["id"])
        assert api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "GAME", "rules": rules}).status_code == 201
        return {"g": g, "g2": g2}, ch

    def test_each_kind_of_alternate_and_the_switch_back(self, stage: Stage) -> None:
        api = stage.backend.new_user()
        groups, ch = self._setup(stage, api)
        with Beating(api, groups["g"]["id"], {"enc-a": stage.a.url}), \
                Beating(api, groups["g2"]["id"], {"enc-b": stage.b.url}):
            wait_for(lambda: active(api, groups["g"]["id"]) == "enc-a"
                     and active(api, groups["g2"]["id"]) == "enc-b")
            viewers = {cc: ViewerLog(stage.url(api, ch["id"], **{"repl.cbcc": cc}))
                       for cc in ("DE", "CA", "FR", "ES", "US", "GB")}
            for viewer in viewers.values():
                viewer.until(lambda p: sources_now(p)[-1:] == ["/a"])
            assert api.put(f"/channels/{ch['id']}/program", {"blackout_id": "GAME"}).status_code == 200
            expect = {"DE": "/b", "CA": "/b", "FR": "/assets/promo", "ES": "/assets/once", "US": "/stream/slate"}
            for cc, source in expect.items():
                viewers[cc].until(lambda p, source=source: sources_now(p)[-1:] == [source])
            # Not in any audience: the channel itself, untouched (the slate before the group had a slicer aside).
            gb = viewers["GB"].poll()
            assert sources_now(gb)[-1] == "/a" and set(viewers["GB"].sources()) <= {"/a", "/stream/slate"}
            # The looping asset (3 s) plays again and again, each pass a discontinuity; the one that does not
            # loop (2 s) gives way to the slate.
            promo = viewers["FR"].until(lambda p: sources_now(p).count("/assets/promo") >= 5, timeout=15)
            names = [uri.rsplit("/", 1)[1] for _, _, uri in promo.segments if "/promo/" in uri]
            passes = ["r0_00000.ts", "r0_00001.ts", "r0_00002.ts"] * 3
            assert any(names[:4] == passes[i:i + 4] for i in range(3)), names
            viewers["ES"].until(lambda p: sources_now(p)[-1:] == ["/stream/slate"], timeout=10)
            assert viewers["ES"].sources()[-3:] == ["/a", "/assets/once", "/stream/slate"]
            # The program ends: everyone is back on the channel at the next segment, with a discontinuity.
            assert api.put(f"/channels/{ch['id']}/program", {"blackout_id": None}).status_code == 200
            for cc in expect:
                viewers[cc].until(lambda p: sources_now(p)[-1:] == ["/a"])
                assert viewers[cc].sources()[-1] == "/a"
            # The decision endpoint and the stream agree for the same token.
            decision = httpx.get(stage.url(api, ch["id"], **{"repl.cbcc": "DE"}).replace(
                f"/channel/{ch['id']}/0.m3u8", f"/api/v4/channels/{ch['id']}/playback")).json()
            assert decision["blacked_out"] is False


class TestFrozenOutput:
    def test_a_frozen_playlist_fails_the_group_over(self, stage: Stage) -> None:
        api = stage.backend.new_user()
        g, ch = stage.channel_on(api)
        with encoders(stage.origin, "frozen") as (frozen,), \
                Beating(api, g["id"], {"enc-f": frozen.url, "enc-b": stage.b.url}):
            wait_for(lambda: active(api, g["id"]) == "enc-f")
            viewer = ViewerLog(stage.url(api, ch["id"]))
            viewer.until(lambda p: sources_now(p)[-1:] == ["/frozen"])
            frozen.freeze()  # heartbeats go on; the playlist stops advancing
            started = time.monotonic()
            wait_for(lambda: active(api, g["id"]) == "enc-b", timeout=15)
            took = time.monotonic() - started
            history = api.get(f"/failover-groups/{g['id']}/events").json()["items"]
            failover = next(e for e in history if e["kind"] == "failover" and e["to_slicer_id"] == "enc-b")
            assert "playlist_stale_ms" in failover["reason"], failover
            signals = api.get("/slicers/enc-f").json()["signals"]
            assert signals.get("playlist_stale_ms", 0) >= 3000, signals  # 3 target durations of 1 s
            assert took < 12
            viewer.until(lambda p: sources_now(p)[-1:] == ["/b"])
            frozen.thaw()
