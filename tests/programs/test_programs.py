"""Program tags, SCTE-35 cues and schedule windows over real HTTP."""

from datetime import UTC, datetime, timedelta

from tests.support import (
    Api,
    assert_error,
    blackout_setup,
    build_cue,
    decide,
    iso,
    start_cue,
)


class TestValuesReachingTheDatabase:
    def test_program_at_is_range_checked(self, api: Api) -> None:
        ch = api.make_channel()
        assert_error(api.get(f"/channels/{ch['id']}/program", params={"at": "9" * 64}), 400, "'at'")
        assert_error(api.get(f"/channels/{ch['id']}/program", params={"at": "²"}), 400, "'at'")
        assert_error(api.get(f"/channels/{ch['id']}/playback", params={"at": "²"}), 400, "'at'")
        assert_error(api.get(f"/channels/{ch['id']}/playback", params={"at": "9" * 64}), 400, "'at'")

    def test_program_start_and_schedule_end_are_range_checked(self, api: Api) -> None:
        ch = api.make_channel()
        r = api.put(f"/channels/{ch['id']}/program", {"blackout_id": "B", "start": "99999999999999999999"})
        assert_error(r, 400, "'start'")
        r = api.post(f"/channels/{ch['id']}/schedule", {"blackout_id": "B", "start": "0", "end": "9" * 19})
        assert_error(r, 400, "'end'")
        r = api.post(f"/channels/{ch['id']}/schedule", {"blackout_id": "B", "start": "0001-01-01T00:00:00Z",
                                                         "end": "1000"})
        assert_error(r, 400, "'start'")
        assert api.get(f"/channels/{ch['id']}/schedule").json()["total_items"] == 0
        assert api.get(f"/channels/{ch['id']}/program").json()["blackout_id"] is None


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
