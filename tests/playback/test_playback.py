"""Playback decisions over real HTTP: program tags, SCTE-35, schedule, geolocation, propagation."""

import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from feedgate.kit.migrate import upgrade
from tests.playback.test_scte35 import build_cue, start_cue
from tests.support import Api, Backend, PostgresServer, ServerProcess, assert_error, started_backend, wait_for


def build_city_db(path: Path) -> None:
    writer = MMDBWriter(ip_version=6, database_type="GeoIP2-City", ipv4_compatible=True)
    writer.insert_network(IPSet(["198.51.100.0/24"]), {
        "country": {"iso_code": "US"}, "postal": {"code": "90503"}, "location": {"metro_code": 803}})
    writer.insert_network(IPSet(["203.0.113.0/24"]), {"country": {"iso_code": "CA"}})
    writer.insert_network(IPSet(["192.0.2.0/24"]), {"country": {"iso_code": "US"}, "postal": {"code": "10001"}})
    writer.to_db_file(str(path))


@pytest.fixture(scope="module")
def geo_backend() -> Iterator[Backend]:
    folder = Path(tempfile.mkdtemp(prefix="feedgate-geo-"))
    build_city_db(folder / "city.mmdb")
    with started_backend("sqlite-geo", f"sqlite:///{folder / 'geo.db'}",
                         FEEDGATE_GEOIP_DB=str(folder / "city.mmdb")) as backend:
        yield backend


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def blackout_setup(api: Api) -> tuple[dict, dict, dict]:
    """Channel with blackout BNA: rule 1 zip 90503 -> asset, rule 2 country US -> slate."""
    ch = api.make_channel("Sports")
    la = api.post("/audiences", {"desc": "LA", "zip_codes": ["90503"]}).json()
    us = api.post("/audiences", {"desc": "US", "country_codes": ["US"]}).json()
    r1 = api.post("/rules", {"desc": "la", "audience": la["id"], "alternate_content_type": "asset",
                             "alternate_content_id": "la-asset", "alternate_content_loop": False}).json()
    r2 = api.post("/rules", {"desc": "us", "audience": us["id"]}).json()
    api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "BNA", "rules": [r1["id"], r2["id"]]})
    return ch, r1, r2


def decide(api: Api, channel_id: str, **params: str) -> dict:
    params = {k.replace("repl_", "repl."): v for k, v in params.items()}
    r = api.get(f"/channels/{channel_id}/playback", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


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


class TestScte35Endpoint:
    def test_cue_starts_and_ends_program(self, api: Api) -> None:
        ch, _, r2 = blackout_setup(api)
        r = api.post(f"/channels/{ch['id']}/scte35", {"cue": start_cue("BNA")})
        assert r.status_code == 201 and r.json()["blackout_id"] == "BNA" and r.json()["source"] == "scte35"
        assert decide(api, ch["id"], repl_cbcc="US")["rule"] == r2["id"]
        api.post(f"/channels/{ch['id']}/scte35", {"cue": str(build_cue(0x11, "BNA").encode())})
        assert decide(api, ch["id"], repl_cbcc="US")["blacked_out"] is False

    def test_malformed_cue_is_400(self, api: Api) -> None:
        ch = api.make_channel()
        assert_error(api.post(f"/channels/{ch['id']}/scte35", {"cue": "AAAA"}), 400, "cue")
        assert api.get(f"/channels/{ch['id']}/program").json()["blackout_id"] is None


class TestSchedule:
    def test_window_applies_inside_only(self, api: Api) -> None:
        ch, _, _ = blackout_setup(api)
        now = datetime.now(UTC)
        body = {"blackout_id": "BNA", "start": iso(now + timedelta(minutes=10)),
                "end": iso(now + timedelta(minutes=20))}
        r = api.post(f"/channels/{ch['id']}/schedule", body)
        assert r.status_code == 201
        assert decide(api, ch["id"], repl_cbcc="US", at=iso(now + timedelta(minutes=15)))["blacked_out"] is True
        assert decide(api, ch["id"], repl_cbcc="US", at=iso(now + timedelta(minutes=25)))["blacked_out"] is False
        assert api.get(f"/channels/{ch['id']}/schedule").json()["total_items"] == 1
        assert api.delete(f"/channels/{ch['id']}/schedule/{r.json()['id']}").status_code == 200
        assert decide(api, ch["id"], repl_cbcc="US", at=iso(now + timedelta(minutes=15)))["blacked_out"] is False

    def test_inverted_and_overlapping_windows_refused(self, api: Api) -> None:
        ch = api.make_channel()
        now = datetime.now(UTC)
        url = f"/channels/{ch['id']}/schedule"
        assert_error(api.post(url, {"blackout_id": "X", "start": iso(now), "end": iso(now - timedelta(1))}), 400, "end")
        api.post(url, {"blackout_id": "X", "start": iso(now), "end": iso(now + timedelta(hours=1))})
        assert_error(api.post(url, {"blackout_id": "Y", "start": iso(now + timedelta(minutes=30)),
                                    "end": iso(now + timedelta(hours=2))}), 409, "overlaps")


class TestGeolocation:
    def test_located_from_mmdb_and_dma_from_metro(self, geo_backend: Backend) -> None:
        api = geo_backend.new_user()
        ch, r1, r2 = blackout_setup(api)
        api.put(f"/channels/{ch['id']}/program", {"blackout_id": "BNA"})
        la = decide(api, ch["id"], ip="198.51.100.20")
        assert la["viewer"] | {} == {"ip": "198.51.100.20", "country": "US", "zip": "90503", "dma": "803",
                                     "device": None, "located": True}
        assert la["rule"] == r1["id"]
        assert decide(api, ch["id"], ip="192.0.2.1")["rule"] == r2["id"]
        assert decide(api, ch["id"], ip="203.0.113.5")["blacked_out"] is False
        assert decide(api, ch["id"], ip="203.0.113.5", repl_cbcc="US")["rule"] == r2["id"]

    def test_zip_to_dma_table(self, geo_backend: Backend, tmp_path: Path) -> None:
        import subprocess

        from tests.support import FEEDGATE

        csv = tmp_path / "dma.csv"
        csv.write_text("zip,dma\n10001,501\n1234,501\n60601,abc\n")
        out = subprocess.run([FEEDGATE, "geo", "load-dma", str(csv)], capture_output=True, text=True, check=True,
                             env={**__import__("os").environ, "FEEDGATE_DATABASE_URL": geo_backend.database_url})
        assert "loaded 1 rows, refused 2" in out.stdout
        api = geo_backend.new_user()
        ch = api.make_channel()
        nyc = api.post("/audiences", {"desc": "NYC DMA", "dma_codes": ["501"]}).json()
        r = api.post("/rules", {"desc": "nyc", "audience": nyc["id"]}).json()
        api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "B", "rules": [r["id"]]})
        api.put(f"/channels/{ch['id']}/program", {"blackout_id": "B"})
        body = wait_for(lambda: (d := decide(api, ch["id"], ip="192.0.2.1"))["blacked_out"] and d, timeout=3)
        assert body["viewer"]["dma"] == "501"


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
