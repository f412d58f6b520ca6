"""Faults on the air path: the database goes away, the leader loses its lock, the disk fills, the server is
killed mid-write, the clock jumps. Each test runs a real server and causes the fault for real."""

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import Api, PostgresServer, assert_error, started_backend, wait_for


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A cluster of its own: these tests stop it."""
    server = PostgresServer()
    yield server
    server.stop()


def timed(call) -> tuple[httpx.Response, float]:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_postgresql_outage_is_503_within_2_s_and_heals_without_restart(own_postgres: PostgresServer) -> None:
    with started_backend("postgresql", own_postgres.create_database()) as b:
        api = b.new_user()
        g = api.make_group("before")
        own_postgres.halt()
        try:
            for call in (lambda: api.get(f"/failover-groups/{g['id']}"),
                         lambda: api.post("/failover-groups", {"name": "during"}),
                         lambda: api.get("/channels")):
                response, took = timed(call)
                assert took < 2.0, f"took {took:.2f} s"
                assert_error(response, 503)
            # A heartbeat is answered from memory, a join too (the air path does not stop for the database);
            # the join is written by the batch that succeeds once the database is back.
            joined, took = timed(lambda: api.heartbeat("enc1", g["id"]))
            assert took < 2.0 and joined.status_code == 200, joined.text
            assert joined.json()["failover_group_id"] == g["id"]
            health, took = timed(lambda: httpx.get(b.server.base_url + "/healthz", timeout=5))
            assert took < 2.0
            body = assert_error(health, 503, "database")
            assert "refused" in body["description"].lower() or "connect" in body["description"].lower()
        finally:
            own_postgres.resume()

        def healed() -> bool:
            r = api.get(f"/failover-groups/{g['id']}")
            return r.status_code == 200

        wait_for(healed, timeout=10, interval=0.2)
        wait_for(lambda: [s["id"] for s in api.group(g["id"])["slicers"]] == ["enc1"], timeout=10)
        assert httpx.get(b.server.base_url + "/healthz", timeout=5).status_code == 200
        assert api.post("/failover-groups", {"name": "after"}).status_code == 201
        names = [x["name"] for x in api.get("/failover-groups").json()["items"]]
        assert sorted(names) == ["after", "before"]  # the refused create left nothing behind
        wait_for(lambda: "feedgate_engine_leader 1.0" in httpx.get(b.server.base_url + "/metrics").text,
                 timeout=10)
        assert "Traceback" not in b.server.log()


def test_a_full_disk_on_sqlite_is_503_and_half_writes_nothing(tmp_path: Path) -> None:
    import resource
    import sqlite3

    path = tmp_path / "full.db"
    with started_backend("sqlite", f"sqlite:///{path}") as b:
        api = b.new_user()
        g = api.make_group("before")
        assert b.server.proc is not None
        pid = b.server.proc.pid
        # The disk is full for this process: no file it writes may grow past 1 byte (EFBIG, as ENOSPC).
        # (The soft limit only: raising a hard limit back needs a capability containers often lack.)
        _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, hard))
        try:
            for call in (lambda: api.post("/failover-groups", {"name": "during"}),
                         lambda: api.post("/audiences", {"desc": "during", "country_codes": ["US"]}),
                         lambda: api.patch(f"/failover-groups/{g['id']}", {"name": "renamed"})):
                response, took = timed(call)
                assert took < 2.0
                assert_error(response, 503, "disk")
            assert api.get(f"/failover-groups/{g['id']}").status_code == 200  # reads go on
        finally:
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))
        wait_for(lambda: api.post("/failover-groups", {"name": "after"}).status_code == 201, timeout=5)
        names = sorted(x["name"] for x in api.get("/failover-groups").json()["items"])
        assert names == ["after", "before"]
        assert api.get("/audiences").json()["total_items"] == 0
        assert b.server.proc.poll() is None
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def lock_holder(url: str) -> int | None:
    import psycopg

    from feedgate.failover.engine import LEADER_LOCK

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                           " AND classid::bigint = %s AND objid::bigint = %s",
                           (LEADER_LOCK >> 32, LEADER_LOCK & 0xFFFFFFFF)).fetchone()
    return int(row[0]) if row else None


def test_a_leader_cut_from_its_lock_switches_nothing_more(postgres: PostgresServer) -> None:
    """Cut the leader's lock session at the moment the active slicer dies: exactly one failover, and
    it is committed by whichever engine holds the lock, never by both."""
    import psycopg

    from tests.support import FAST, active, events, heartbeating, two_instances

    with two_instances(postgres) as (_, second):
        g = second.make_group("fenced", **FAST)
        database_url = second.database_url
        with heartbeating(second, g["id"], {"primary": {}, "backup": {}, "third": {}}) as beats:
            wait_for(lambda: active(second, g["id"]) == "primary")
            holder = lock_holder(database_url)
            assert holder is not None
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(%s)", (holder,))
            beats["primary"] = None
            wait_for(lambda: active(second, g["id"]) == "backup", timeout=10)
            time.sleep(2.0)  # time for a second (wrong) switch to show
            assert active(second, g["id"]) == "backup"
            switches = [e for e in events(second, g["id"]) if e["kind"] == "failover" and e["from_slicer_id"]]
            assert [(e["from_slicer_id"], e["to_slicer_id"]) for e in switches] == [("primary", "backup")]
            downs = [e for e in events(second, g["id"]) if e["kind"] == "unhealthy"]
            assert [e["from_slicer_id"] for e in downs] == ["primary"]
            new_holder = lock_holder(database_url)
            assert new_holder is not None and new_holder != holder
            # The next failure is handled once too, by the new holder.
            beats["backup"] = None
            wait_for(lambda: active(second, g["id"]) == "third", timeout=10)
            time.sleep(1.0)
            switches = [e for e in events(second, g["id"]) if e["kind"] == "failover" and e["from_slicer_id"]]
            assert [(e["from_slicer_id"], e["to_slicer_id"]) for e in switches] == [
                ("primary", "backup"), ("backup", "third")]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_kill_9_while_writing_as_fast_as_possible_loses_no_acknowledged_write(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    import random
    import sqlite3
    import threading

    from feedgate.auth.service import create_user
    from feedgate.kit.db import Database
    from feedgate.kit.migrate import upgrade
    from tests.support import ServerProcess

    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'crash.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database()
    upgrade(url)
    db = Database(url)
    with db.sessions() as session:
        user = create_user(session, "ops")
    db.dispose()
    server = ServerProcess(url).start()
    api = Api(server.base_url, user.id, user.api_key)
    channel = api.make_channel("crash")["id"]
    acknowledged: list[tuple[str, str]] = []  # (path to read back, what it was)
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        me = Api(server.base_url, user.id, user.api_key)
        me.http.timeout = httpx.Timeout(5)
        i = 0
        while not stop.is_set():
            i += 1
            tag = f"w{n}-{i}"
            try:
                step = i % 4
                if step == 0:
                    r = me.post("/failover-groups", {"name": tag})
                    path = f"/failover-groups/{r.json()['id']}" if r.status_code == 201 else ""
                elif step == 1:
                    r = me.post("/audiences", {"desc": tag, "country_codes": ["US"], "external_id": tag})
                    path = f"/audiences/{r.json()['id']}" if r.status_code == 201 else ""
                elif step == 2:
                    r = me.post("/rules", {"desc": tag, "alternate_content_type": "slate", "all_viewers": True})
                    path = f"/rules/{r.json()['id']}" if r.status_code == 201 else ""
                else:
                    r = me.post(f"/channels/{channel}/blackouts", {"blackout_id": tag})
                    path = f"/channels/{channel}/blackouts/{r.json()['id']}" if r.status_code == 201 else ""
            except (httpx.HTTPError, ValueError):
                time.sleep(0.05)  # the server is down: try again
                continue
            if path:
                with lock:
                    acknowledged.append((path, tag))

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(4)]
    for t in threads:
        t.start()
    rng = random.Random(12)
    try:
        for _ in range(5):
            with lock:
                before = len(acknowledged)
            time.sleep(rng.uniform(0.5, 1.2))
            with lock:
                assert len(acknowledged) > before, "no write was acknowledged between two kills"
            server.kill()
            server = ServerProcess(url, port=server.port).start()
        stop.set()
        for t in threads:
            t.join(10)
        check = Api(server.base_url, user.id, user.api_key)
        missing = []
        for path, tag in acknowledged:
            r = check.get(path)
            body = r.json()
            if r.status_code != 200 or tag not in (body.get("name"), body.get("desc"), body.get("blackout_id")):
                missing.append((path, r.status_code))
        assert len(acknowledged) > 40
        assert missing == [], f"{len(missing)} of {len(acknowledged)} acknowledged writes lost"
    finally:
        stop.set()
        server.stop()
    if kind == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


FAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")


def test_a_wall_clock_jump_fails_nothing_over_and_moves_the_signature_window(tmp_path: Path) -> None:
    """libfaketime steps the server's wall clock by an hour, forward then back, while slicers beat; the
    monotonic clock is left alone, as on a real machine whose NTP steps the time."""
    from tests.support import IN_CI, active, events, heartbeating

    if not FAKETIME.exists():
        if IN_CI:
            pytest.fail("libfaketime is required in CI (apt-get install faketime)")
        pytest.skip("libfaketime not installed")
    offset = tmp_path / "offset"
    offset.write_text("+0")
    # The offset file is re-read once a second: re-reading it on every clock call (FAKETIME_NO_CACHE) stalls a
    # threaded server for seconds at a time, which is the test tool's fault, not the product's.
    env = {"LD_PRELOAD": str(FAKETIME), "FAKETIME_TIMESTAMP_FILE": str(offset), "FAKETIME_CACHE_DURATION": "1",
           "DONT_FAKE_MONOTONIC": "1"}
    with started_backend("sqlite", f"sqlite:///{tmp_path / 'clock.db'}", **env) as b:
        api = b.new_user()
        # A timeout well above a loaded test client's hiccups: what is measured is an hour's jump.
        g = api.make_group("clock", heartbeat_timeout_ms=3000, clear_after_ms=800)
        stale = Api(b.server.base_url, api.user_id, api.api_key)  # a client that keeps the old time
        with heartbeating(api, g["id"], {"primary": {}, "backup": {}}):
            wait_for(lambda: active(api, g["id"]) == "primary")
            for jump in (3600, -3600):
                offset.write_text(f"{jump:+d}")
                api.skew_s = jump  # the slicers' clocks stepped as well
                time.sleep(6.5)  # two heartbeat timeouts and more
                assert active(api, g["id"]) == "primary"
                assert_error(stale.get("/channels"), 401, "timestamp")
                assert api.get("/channels").status_code == 200
        kinds = [e["kind"] for e in events(api, g["id"])]
        assert "unhealthy" not in kinds and kinds.count("failover") == 1  # the first pick of primary only
