"""`kit.bulk`: many rows in one statement, read back as each database stores them."""

from pathlib import Path

import pytest
from sqlalchemy import select

from feedgate.failover.models import Slicer
from feedgate.kit.bulk import insert_rows
from feedgate.kit.db import Database
from feedgate.kit.migrate import upgrade
from feedgate.kit.versions import FleetChange


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    url = (f"sqlite:///{tmp_path / 'bulk.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres").create_database())
    upgrade(url)
    database = Database(url)
    request.addfinalizer(database.dispose)
    return database


def slicer(key: str, slicer_id: str, **extra: object) -> dict[str, object]:
    return {"id": key, "owner": "o1", "slicer_id": slicer_id, "hostname": f"host-{key}", "hls_url": "",
            "signals": {}, "state": -1, **extra}


def test_rows_go_in_with_their_types_and_the_column_defaults(db: Database) -> None:
    rows = [slicer(f"k{i}", f"s{i}", signals={"fps": 29.97, "nested": {"a": [1, 2]}}, order=i) for i in range(1500)]
    rows[7]["signals"] = {}
    with db.sessions() as session, session.begin():
        assert insert_rows(session, Slicer, []) == set()
        insert_rows(session, Slicer, rows)
    with db.sessions() as session:
        stored = {s.id: s for s in session.scalars(select(Slicer))}
    assert len(stored) == 1500
    assert stored["k3"].signals == {"fps": 29.97, "nested": {"a": [1, 2]}}
    assert stored["k7"].signals == {}
    assert stored["k1499"].order == 1499 and stored["k0"].order == 0
    assert stored["k5"].hostname == "host-k5" and stored["k5"].state == -1
    assert stored["k5"].observed == {} and stored["k5"].enabled is True  # the model's defaults
    assert stored["k5"].failover_group_id is None and stored["k5"].last_heartbeat_ms is None


def test_conflicting_rows_are_left_out_and_the_inserted_keys_returned(db: Database) -> None:
    with db.sessions() as session, session.begin():
        insert_rows(session, Slicer, [slicer("old", "taken")])
    with db.sessions() as session, session.begin():
        created = insert_rows(session, Slicer, [slicer("a", "free"), slicer("b", "taken"), slicer("c", "free2")],
                              skip_conflicts_on=("owner", "slicer_id"))
    assert created == {"a", "c"}
    with db.sessions() as session:
        assert session.execute(select(Slicer.id).where(Slicer.slicer_id == "taken")).scalar_one() == "old"


def test_null_values_stay_null(db: Database) -> None:
    with db.sessions() as session, session.begin():
        insert_rows(session, FleetChange, [{"version": 3, "group_id": None, "slicer_key": "k", "changed_ms": 1},
                                           {"version": 3, "group_id": "g", "slicer_key": None, "changed_ms": 2}])
    with db.sessions() as session:
        got = session.execute(select(FleetChange.group_id, FleetChange.slicer_key, FleetChange.version)
                              .order_by(FleetChange.changed_ms)).all()
    assert [tuple(r) for r in got] == [(None, "k", 3), ("g", None, 3)]
