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
