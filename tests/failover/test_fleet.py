"""A fleet that moves at once, in real servers: a burst of joins, a fleet-wide silence held and recorded, a
site failure that is not held, a join through a follower instance. Correctness only; the timings are in
benchmarks/fleet.py."""

import concurrent.futures
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from feedgate.failover.models import FleetDisruption
from feedgate.kit.db import Database
from feedgate.kit.versions import DECISIONS, FLEET, ConfigVersion
from tests.support import (
    Api,
    Backend,
    PostgresServer,
    active,
    events,
    heartbeating,
    started_backend,
    two_instances,
    wait_for,
)

FAST = {"heartbeat_timeout_ms": 600, "clear_after_ms": 600, "blacklist_ms": 60_000}


def versions(db: Database) -> dict[int, int]:
    with db.reading() as conn:
        return dict(conn.execute(select(ConfigVersion.id, ConfigVersion.version)).tuples().all())


def test_a_burst_of_joins_moves_the_fleet_not_the_decisions(api: Api, backend: Backend) -> None:
    groups = [api.make_group(f"burst{i}", heartbeat_timeout_ms=60_000)["id"] for i in range(30)]
    before = versions(backend.db)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:  # 60 first heartbeats at once
        answers = list(pool.map(lambda n: api.heartbeat(f"burst-{n}", groups[n // 2]), range(60)))
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers if r.status_code != 200]
    assert {r.json()["failover_group_id"] for r in answers} == set(groups)
    wait_for(lambda: all(active(api, g) for g in groups), timeout=10)
    after = versions(backend.db)
    assert after[DECISIONS] == before[DECISIONS], "joins must not rebuild anybody's decisions"
    assert after[FLEET] > before[FLEET]
    for g in groups:  # each joined in its own group, in the order of their beats, and said so
        group = api.group(g)
        expected = sorted(f"burst-{n}" for n in range(60) if groups[n // 2] == g)
        assert sorted(s["id"] for s in group["slicers"]) == expected
        assert sum(1 for e in events(api, g) if e["kind"] == "joined") == 2


def test_a_join_to_another_group_is_refused_from_memory(api: Api) -> None:
    a, b = api.make_group("a"), api.make_group("b")
    assert api.heartbeat("twice", a["id"]).status_code == 200
    refused = api.heartbeat("twice", b["id"])
    assert refused.status_code == 409 and a["id"] in refused.json()["description"]


@pytest.fixture(params=["sqlite", "postgresql"])
def own_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A server of its own (no other test's silent slicers), whose disruption rule needs 4 slicers."""
    url = f"sqlite:///{tmp_path / 'fleet.db'}" if request.param == "sqlite" else \
        request.getfixturevalue("postgres").create_database()
    with started_backend(request.param, url, FEEDGATE_DISRUPTION_MIN_SLICERS="4") as backend:
        yield backend


@contextlib.contextmanager
def fleet(api: Api, groups: int) -> Iterator[tuple[list[str], list[dict[str, dict | None]]]]:
    """Groups of two (p<i> on air, b<i> its partner), each beating from its own thread until the end; set a
    slicer's entry to None to silence it."""
    ids = [api.make_group(f"g{i}", **FAST)["id"] for i in range(groups)]
    with contextlib.ExitStack() as stack:
        beating = [stack.enter_context(heartbeating(api, g, {f"p{i}": {}, f"b{i}": {}})) for i, g in enumerate(ids)]
        yield ids, beating


def test_a_fleet_wide_silence_is_held_and_recorded(own_server: Backend) -> None:
    api = own_server.new_user()
    with fleet(api, 6) as (ids, beating):
        wait_for(lambda: all(active(api, g).startswith("p") for g in ids), timeout=10)
        on_air = {g: active(api, g) for g in ids}
        time.sleep(1.5)  # settled: every member heard and healthy
        for group_beats in beating:  # the control plane loses the whole fleet at once
            for name in group_beats:
                group_beats[name] = None
        def disruption() -> dict | None:
            return httpx.get(own_server.server.base_url + "/healthz").json().get("disruption")
        # A group whose silence began a moment after the disruption opened joins it on the next pass.
        wait_for(lambda: (disruption() or {}).get("held_groups") == 6, timeout=5)
        assert "went silent at once" in (disruption() or {})["reason"]
        time.sleep(2.0)  # three timeouts of silence: nothing may fail over, nothing is no_candidate
        assert {g: active(api, g) for g in ids} == on_air
        for group_beats in reversed(beating):  # beats return, partners first here: still no reshuffle
            for name in sorted(group_beats):
                group_beats[name] = {}
        wait_for(lambda: "disruption" not in httpx.get(own_server.server.base_url + "/healthz").json(), timeout=5)
        time.sleep(1.5)  # one more timeout and more: the returning slicers are not returns from offline
        assert {g: active(api, g) for g in ids} == on_air
        # Read while they beat: leaving the block silences them all again, a second disruption.
        for g in ids:
            kinds = [e["kind"] for e in events(api, g)]
            assert "failover" in kinds and kinds.count("failover") == 1  # the first activation only
            assert "no_candidate" not in kinds and "unhealthy" not in kinds
            assert kinds.count("disruption") == 2  # opened and closed, on every held group
        with own_server.db.reading() as conn:
            rows = conn.execute(select(FleetDisruption)).all()
        assert len(rows) == 1 and rows[0].ended_ms is not None and rows[0].held_groups == 6
        assert rows[0].silent == 12 and rows[0].considered == 12


def test_a_site_failure_in_which_partners_beat_is_not_held(own_server: Backend) -> None:
    api = own_server.new_user()
    with fleet(api, 6) as (ids, beating):
        wait_for(lambda: all(active(api, g) == "p" + str(i) for i, g in enumerate(ids)), timeout=10)
        time.sleep(1.5)
        for i in range(4):  # a site dies: the active slicers of four groups; their partners beat on
            beating[i][f"p{i}"] = None
        started = time.monotonic()
        wait_for(lambda: all(active(api, ids[i]) == f"b{i}" for i in range(4)), timeout=5)
        assert time.monotonic() - started < 3.0  # at once: timeout (0.6 s) and the engine's pass
        assert all(active(api, ids[i]) == f"p{i}" for i in range(4, 6))
        # Read while the rest still beat: leaving the block silences the whole test fleet at once, which is a
        # disruption of its own.
        with own_server.db.reading() as conn:
            assert conn.execute(select(FleetDisruption)).first() is None


def test_a_join_through_a_follower_reaches_the_leaders_engine(postgres: PostgresServer) -> None:
    with two_instances(postgres) as (leader, follower):
        g = leader.make_group("via follower", **FAST)
        with heartbeating(follower, g["id"], {"joiner": {}, "partner": {}}):
            wait_for(lambda: active(leader, g["id"]) == "joiner", timeout=5)
            time.sleep(2.0)  # three timeouts: beats reach the leader through the follower's batches
            assert active(leader, g["id"]) == "joiner"
            kinds = [e["kind"] for e in events(leader, g["id"])]
            assert kinds.count("joined") == 2 and "unhealthy" not in kinds and kinds.count("failover") == 1
