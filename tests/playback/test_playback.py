"""Playback decisions over real HTTP: rule order, overrides, unlocated viewers, sources, propagation."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from feedgate.kit.migrate import upgrade
from tests.support import (
    Api,
    PostgresServer,
    ServerProcess,
    assert_error,
    blackout_setup,
    decide,
    iso,
    started_backend,
    wait_for,
)


class TestPlaybackDecision:
    def test_untagged_program_is_normal_programming(self, api: Api) -> None:
        ch, _, _ = blackout_setup(api)
        body = decide(api, ch["id"], repl_cbcc="US", repl_cbzip="90503")
        assert body["blacked_out"] is False and body["blackout_id"] is None
        assert body["content"] == {"type": "channel", "id": ch["id"], "loop": False}

    def test_rule_order_and_overrides(self, api: Api) -> None:
        ch, r1, r2 = blackout_setup(api)
        assert api.put(f"/channels/{ch['id']}/program", {"blackout_id": "BNA", "title": "Game"}).status_code == 200
        la = decide(api, ch["id"], repl_cbcc="US", repl_cbzip="90503", repl_cbdevice="Roku")
        assert la["blacked_out"] and la["rule"] == r1["id"] and la["audience"] == r1["audience"]
        assert la["content"] == {"type": "asset", "id": "la-asset", "loop": False}
        assert la["viewer"] == {"ip": "127.0.0.1", "country": "US", "zip": "90503", "dma": None,
                                "device": "Roku", "located": True}
        ny = decide(api, ch["id"], repl_cbcc="US", repl_cbzip="10001")
        assert ny["rule"] == r2["id"] and ny["content"]["type"] == "slate"
        ca = decide(api, ch["id"], repl_cbcc="CA")
        assert ca["blacked_out"] is False

    def test_unlocated_viewer_fails_closed(self, api: Api) -> None:
        ch, r1, _ = blackout_setup(api)
        api.put(f"/channels/{ch['id']}/program", {"blackout_id": "BNA"})
        body = decide(api, ch["id"], ip="198.51.100.1")  # no GeoIP database on this server
        assert body["viewer"]["located"] is False and body["rule"] == r1["id"]

    def test_unknown_id_and_cleared_program(self, api: Api) -> None:
        ch, _, _ = blackout_setup(api)
        api.put(f"/channels/{ch['id']}/program", {"blackout_id": "NOT-CONFIGURED"})
        assert decide(api, ch["id"], repl_cbcc="US")["blacked_out"] is False
        api.put(f"/channels/{ch['id']}/program", {"blackout_id": "BNA"})
        assert decide(api, ch["id"], repl_cbcc="US")["blacked_out"] is True
        api.put(f"/channels/{ch['id']}/program", {"blackout_id": None})
        assert decide(api, ch["id"], repl_cbcc="US")["blacked_out"] is False

    def test_at_past_and_future(self, api: Api) -> None:
        ch, _, _ = blackout_setup(api)
        now = datetime.now(UTC)
        api.put(f"/channels/{ch['id']}/program", {"blackout_id": "BNA", "start": iso(now + timedelta(hours=1))})
        assert decide(api, ch["id"], repl_cbcc="US")["blacked_out"] is False
        assert decide(api, ch["id"], repl_cbcc="US", at=iso(now + timedelta(hours=2)))["blacked_out"] is True

    def test_source_follows_group(self, api: Api) -> None:
        ch, _, _ = blackout_setup(api)
        g = api.make_group()
        api.heartbeat("enc", g["id"])
        api.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": [ch["id"]]})
        api.put(f"/failover-groups/{g['id']}/activate_slicer", {"slicer_id": "enc"})
        assert decide(api, ch["id"])["source"] == "enc"
        api.put(f"/failover-groups/{g['id']}/set_no_slicer", {"no_slicer": True})
        assert decide(api, ch["id"])["source"] == "no_slicer"

    @pytest.mark.parametrize("params, field", [
        ({"ip": "999.1.1.1"}, "ip"), ({"repl.cbcc": "ZZ"}, "repl.cbcc"), ({"repl.cbzip": "9050"}, "repl.cbzip"),
        ({"repl.cbdma": "x"}, "repl.cbdma"), ({"at": "soon"}, "at"),
    ])
    def test_bad_parameters(self, api: Api, params: dict, field: str) -> None:
        ch = api.make_channel()
        assert_error(api.get(f"/channels/{ch['id']}/playback", params=params), 400, field)

    def test_other_owners_channel_is_404(self, api: Api, other: Api) -> None:
        ch = other.make_channel()
        assert_error(api.get(f"/channels/{ch['id']}/playback"), 404, ch["id"])


def test_change_in_one_process_shows_in_another_within_a_second(postgres: PostgresServer) -> None:
    url = postgres.create_database()
    upgrade(url)
    with started_backend("pg-a", url) as first:
        second = ServerProcess(url, env_extra={"FEEDGATE_ENGINE_ENABLED": "false"}).start()
        try:
            writer = first.new_user()
            reader = Api(second.base_url, writer.user_id, writer.api_key)
            ch, _, r2 = blackout_setup(writer)
            wait_for(lambda: reader.get(f"/channels/{ch['id']}/playback").status_code == 200, timeout=3)
            assert decide(reader, ch["id"], repl_cbcc="US")["blacked_out"] is False
            writer.put(f"/channels/{ch['id']}/program", {"blackout_id": "BNA"})
            started = time.monotonic()
            wait_for(lambda: decide(reader, ch["id"], repl_cbcc="US")["rule"] == r2["id"], timeout=3, interval=0.02)
            assert time.monotonic() - started < 1.0
        finally:
            second.stop()
