"""Two `feedgate serve` processes on one PostgreSQL: one leader; kill it and exactly one failover follows."""

import time

import httpx

from feedgate.auth.service import create_user
from feedgate.kit.db import Database
from feedgate.kit.migrate import upgrade
from tests.support import FAST, Api, PostgresServer, ServerProcess, active, events, heartbeating, wait_for


def is_leader(server: ServerProcess) -> bool:
    try:
        return "feedgate_engine_leader 1.0" in httpx.get(server.base_url + "/metrics", timeout=2).text
    except httpx.HTTPError:
        return False


def test_leader_death_gives_exactly_one_failover(postgres: PostgresServer) -> None:
    url = postgres.create_database()
    upgrade(url)
    first = ServerProcess(url).start()
    wait_for(lambda: is_leader(first))
    second = ServerProcess(url).start()
    db = Database(url)
    try:
        assert not is_leader(second), "two leaders at once"
        with db.sessions() as session:
            user = create_user(session, "ops")
        via_second = Api(second.base_url, user.id, user.api_key)
        g = via_second.make_group("ha", **FAST)
        with heartbeating(via_second, g["id"], {"primary": {}, "backup": {}}) as beats:
            wait_for(lambda: active(via_second, g["id"]) == "primary")
            first.kill()
            beats["primary"] = None
            wait_for(lambda: is_leader(second), timeout=10)
            wait_for(lambda: active(via_second, g["id"]) == "backup", timeout=10)
            time.sleep(1.0)  # let any second (wrong) switch show up
            assert active(via_second, g["id"]) == "backup"
        switches = [e for e in events(via_second, g["id"]) if e["kind"] == "failover" and e["from_slicer_id"]]
        assert [(e["from_slicer_id"], e["to_slicer_id"]) for e in switches] == [("primary", "backup")]
        assert "engine leadership acquired" in second.log()
    finally:
        first.stop()
        second.stop()
        db.dispose()
