"""The decision state survives what is not the viewer's fault: a damaged configuration row leaves out that
row only (named in the log), and a failed rebuild keeps the previous state serving."""

from pathlib import Path

from sqlalchemy import update

from feedgate.audiences.models import Audience
from tests.support import decide, started_backend, wait_for


def test_a_damaged_audience_row_leaves_out_that_audience_only(tmp_path: Path) -> None:
    with started_backend("sqlite", f"sqlite:///{tmp_path / 'dmg.db'}") as b:
        api = b.new_user()
        fine = api.post("/audiences", {"desc": "US", "country_codes": ["US"]}).json()
        broken = api.post("/audiences", {"desc": "CA", "country_codes": ["CA"]}).json()
        rules = [api.post("/rules", {"desc": d, "audience": a["id"]}).json()["id"] for d, a in
                 (("us", fine), ("ca", broken))]
        ch = api.make_channel("News")
        assert api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "B", "rules": rules}).status_code == 201
        assert api.put(f"/channels/{ch['id']}/program", {"blackout_id": "B"}).status_code in (200, 201)
        assert decide(api, ch["id"], **{"repl.cbcc": "CA"})["blacked_out"] is True
        # Damaged outside the API (an older bug, a script): a list column holding a number. Like every write it
        # moves the row's `updated`, which is how an incremental rebuild knows to read the row again.
        with b.db.sessions() as session, session.begin():
            session.execute(update(Audience).where(Audience.id == broken["id"]).values(country_codes=123))
        other = api.make_channel("Other")  # a change: the state is rebuilt with the damaged row in the database
        assert decide(api, other["id"], **{"repl.cbcc": "US"})["blacked_out"] is False
        assert decide(api, ch["id"], **{"repl.cbcc": "US"})["blacked_out"] is True  # the sound rule still applies
        assert decide(api, ch["id"], **{"repl.cbcc": "CA"})["blacked_out"] is False  # the damaged one is left out
        wait_for(lambda: f"audience {broken['id']} is damaged" in b.server.log())


def test_a_rebuild_recompiles_only_the_blackouts_whose_inputs_changed(tmp_path: Path) -> None:
    from feedgate.playback.matcher import Viewer
    from feedgate.playback.state import load_snapshot

    with started_backend("sqlite", f"sqlite:///{tmp_path / 'inc.db'}") as b:
        api = b.new_user()
        channels = {}
        for name, country in (("a", "US"), ("b", "CA")):
            audience = api.post("/audiences", {"desc": name, "country_codes": [country]}).json()
            rule = api.post("/rules", {"desc": name, "audience": audience["id"]}).json()
            ch = api.make_channel(name)
            api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "B", "rules": [rule["id"]]})
            channels[name] = (ch["id"], audience["id"])
        first = load_snapshot(b.db)
        api.patch(f"/audiences/{channels['b'][1]}", {"country_codes": ["MX"]})
        second = load_snapshot(b.db, first)
        a_before, a_after = (s.channels[channels["a"][0]].blackouts["B"] for s in (first, second))
        b_before, b_after = (s.channels[channels["b"][0]].blackouts["B"] for s in (first, second))
        assert a_after is a_before  # untouched: reused
        assert b_after is not b_before  # its audience changed: compiled again, and right
        assert b_after.decide(Viewer(country="MX")) is not None and b_after.decide(Viewer(country="CA")) is None
        assert len(second.compiled) == 2  # nothing stale kept
        a_spec = channels["a"][1]
        assert second.audience_rows[a_spec][1] is first.audience_rows[a_spec][1]  # its row was not read again


def test_an_incremental_rebuild_equals_a_build_from_scratch(tmp_path: Path) -> None:
    """Edits of every kind that reach an audience (its lists, its membership in a superaudience, its
    deletion), each followed by an incremental build: the result is the state a fresh build reads."""
    from feedgate.playback.state import load_snapshot

    with started_backend("sqlite", f"sqlite:///{tmp_path / 'inc.db'}") as b:
        api = b.new_user()
        singles = [api.post("/audiences", {"desc": f"s{i}", "zip_codes": [f"{10000 + i:05d}"]}).json()["id"]
                   for i in range(4)]
        multiple = api.post("/audiences", {"desc": "m", "type": "Multiple", "sub_audiences": singles[:2]}).json()
        rule = api.post("/rules", {"desc": "r", "audience": multiple["id"]}).json()
        channel = api.make_channel("c")["id"]
        api.post(f"/channels/{channel}/blackouts", {"blackout_id": "B", "rules": [rule["id"]]})
        edits = [
            ("PATCH", f"/audiences/{singles[0]}", {"zip_codes": ["20000", "20001"]}),
            ("PATCH", f"/audiences/{multiple['id']}", {"sub_audiences": singles[1:3]}),
            ("PATCH", f"/audiences/{singles[2]}", {"match_type": "NONE"}),
            ("DELETE", f"/audiences/{singles[3]}", None),
            ("PATCH", f"/audiences/{multiple['id']}", {"sub_audiences": [singles[0]]}),
        ]
        state = load_snapshot(b.db)
        for method, path, body in edits:
            assert api.request(method, path, json=body).status_code in (200, 204), (method, path)
            state = load_snapshot(b.db, state)
            scratch = load_snapshot(b.db)
            assert {k: v[1] for k, v in state.audience_rows.items()} == \
                {k: v[1] for k, v in scratch.audience_rows.items()}, path
            assert state.channels[channel].blackouts["B"].rules == scratch.channels[channel].blackouts["B"].rules
        assert singles[3] not in state.audience_rows
        assert state.audience_rows[multiple["id"]][1].sub_audiences == (singles[0],)  # type: ignore[union-attr]
