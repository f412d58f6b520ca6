"""The decision state survives what is not the viewer's fault: a damaged configuration row leaves out that
row only (named in the log), and a failed rebuild keeps the previous state serving."""

from pathlib import Path

from sqlalchemy import text

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
        # Damaged outside the API (a hand edit, a bad restore): a list column holding a number.
        with b.db.sessions() as session, session.begin():
            session.execute(text("UPDATE audiences SET country_codes = '123' WHERE id = :id"), {"id": broken["id"]})
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
        second = load_snapshot(b.db, first.compiled)
        a_before, a_after = (s.channels[channels["a"][0]].blackouts["B"] for s in (first, second))
        b_before, b_after = (s.channels[channels["b"][0]].blackouts["B"] for s in (first, second))
        assert a_after is a_before  # untouched: reused
        assert b_after is not b_before  # its audience changed: compiled again, and right
        assert b_after.decide(Viewer(country="MX")) is not None and b_after.decide(Viewer(country="CA")) is None
        assert len(second.compiled) == 2  # nothing stale kept
