"""A restart or an upgrade is never a failover (docs/operations.md).

Real `feedgate serve` processes, stopped with SIGTERM while a fleet beats: the only SQLite instance, a
rolling restart of two PostgreSQL instances under 200 slicers (the slicers reach whichever instance answers,
as behind a load balancer), and an upgrade whose start runs a migration. Each gives zero switches, zero
no_candidate, zero unhealthy and zero webhook deliveries.
"""

import contextlib
import json
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from feedgate.kit.db import Database
from feedgate.kit.migrate import downgrade, upgrade
from tests.support import Api, PostgresServer, ServerProcess, console_login, serve_http, wait_for

GROUPS = 100  # two slicers each
SETTLED = {"primary"}


class Receiver(BaseHTTPRequestHandler):
    """Counts webhook deliveries: none may arrive during a restart."""

    received: list[dict[str, Any]] = []
    since = ""  # ISO time the restart began

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Receiver.received.append(json.loads(body or b"{}"))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


class Fleet:
    """Slicers beating every 500 ms from a few threads; each beat goes to the first instance that answers."""

    def __init__(self, urls: list[str], user: tuple[str, str], groups: list[str], threads: int = 4) -> None:
        self.apis = [Api(url, *user) for url in urls]
        self.groups = groups
        self.stop = threading.Event()
        self.unanswered = 0  # beats that reached no instance (all were down at that moment)
        self.threads = [threading.Thread(target=self._beat, args=(groups[i::threads],), daemon=True)
                        for i in range(threads)]

    def _beat(self, groups: list[str]) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            for group_id in groups:
                for name in ("primary", "backup"):
                    if not self._send(f"{name}-{group_id[:8]}", group_id):
                        self.unanswered += 1
            self.stop.wait(max(0.0, 0.5 - (time.monotonic() - started)))

    def _send(self, slicer_id: str, group_id: str) -> bool:
        for api in self.apis:
            with contextlib.suppress(httpx.HTTPError):
                if api.heartbeat(slicer_id, group_id).status_code == 200:
                    return True
        return False

    def __enter__(self) -> "Fleet":
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def settle(api: Api, groups: list[str]) -> None:
    """Every group has its primary on air and both slicers healthy."""
    def ready() -> bool:
        items = api.get("/failover-groups").json()["items"]
        mine = [g for g in items if g["id"] in groups]
        return len(mine) == len(groups) and all(
            str(g["active_slicer_id"]).startswith("primary") for g in mine)
    wait_for(ready, timeout=60, interval=0.5)
    time.sleep(1.5)  # the backups' healthy state written too


def event_count(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.reading() as conn:
            rows = conn.execute(text("SELECT kind, count(*) FROM failover_events GROUP BY kind")).all()
    finally:
        db.dispose()
    return {kind: n for kind, n in rows}


@contextlib.contextmanager
def console_tab(base_url: str, user: tuple[str, str]) -> Iterator[list[bytes]]:
    """A signed-in console with its live stream open, as an operator's browser tab keeps it: it must not hold
    the stop (it held it for 40 s, while the engine went on judging a fleet it could no longer hear)."""
    web = httpx.Client(base_url=base_url, timeout=httpx.Timeout(5, read=None))
    assert console_login(web, *user).status_code in (200, 303)
    chunks: list[bytes] = []

    def read() -> None:
        with contextlib.suppress(httpx.HTTPError), web.stream("GET", "/console/stream") as r:
            for chunk in r.iter_bytes():
                chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for(lambda: chunks)
        yield chunks
    finally:
        web.close()


@contextlib.contextmanager
def receiver() -> Iterator[str]:
    Receiver.received = []
    server, port = serve_http(Receiver)
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        server.shutdown()


def make_fleet(api: Api, hook: str) -> list[str]:
    groups = [api.make_group(f"restart-{i}", heartbeat_timeout_ms=3000)["id"] for i in range(GROUPS)]
    assert api.post("/webhooks", {"url": hook, "events": ["*"]}).status_code == 201
    return groups


def graceful_stop(server: ServerProcess) -> float:
    """SIGTERM, as systemd sends it; how long the process took to exit."""
    assert server.proc is not None
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(30)
    return time.monotonic() - started


def assert_untouched(url: str, before: dict[str, int], server_logs: list[str]) -> None:
    """No event recorded since `before`, and no delivery of an event created since the restart began (the
    deliveries of the fleet's set-up may still be arriving)."""
    after = event_count(url)
    moved = {kind: after.get(kind, 0) - before.get(kind, 0) for kind in after}
    assert {k: n for k, n in moved.items() if n} == {}, f"events during the restart: {moved}\n" + "\n".join(
        line for log in server_logs for line in log.splitlines() if "group " in line)[:3000]
    time.sleep(1.0)  # a delivery would be on its way by now
    late = [d for d in Receiver.received if d["created"] >= Receiver.since]
    assert late == [], json.dumps(late[:2])


def new_user(url: str) -> tuple[str, str]:
    from feedgate.auth.service import create_user

    db = Database(url)
    try:
        with db.sessions() as session:
            user = create_user(session, "ops")
        return user.id, user.api_key
    finally:
        db.dispose()


def test_a_restart_of_the_only_sqlite_instance_fails_nothing_over(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    upgrade(url)
    user = new_user(url)
    server = ServerProcess(url).start()
    logs = []
    try:
        api = Api(server.base_url, *user)
        with receiver() as hook:
            groups = make_fleet(api, hook)
            with Fleet([server.base_url], user, groups) as fleet, console_tab(server.base_url, user):
                settle(api, groups)
                Receiver.since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                before = event_count(url)
                took = graceful_stop(server)
                logs.append(server.log())
                server = ServerProcess(url, port=server.port).start()
                time.sleep(5)  # more than the heartbeat timeout after the new process started
                assert fleet.unanswered > 0  # the restart was real: beats went unanswered meanwhile
            logs.append(server.log())
            assert took < 10, f"the stop took {took:.1f} s"
            assert "engine judges nothing more" in logs[0]
            assert_untouched(url, before, logs)
    finally:
        server.stop()


def test_an_upgrade_that_runs_a_migration_fails_nothing_over(tmp_path: Path) -> None:
    """The fleet beats while the server stops, the schema is taken one revision back (the previous release's),
    and the new server's start migrates it forward again."""
    url = f"sqlite:///{tmp_path / 'upgrade.db'}"
    upgrade(url)
    user = new_user(url)
    server = ServerProcess(url).start()
    logs = []
    try:
        api = Api(server.base_url, *user)
        with receiver() as hook:
            groups = make_fleet(api, hook)
            with Fleet([server.base_url], user, groups):
                settle(api, groups)
                Receiver.since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                before = event_count(url)
                graceful_stop(server)
                logs.append(server.log())
                downgrade(url, "-1")
                server = ServerProcess(url, port=server.port).start()
                time.sleep(5)
            logs.append(server.log())
            assert "Running upgrade" in logs[1]  # this start did migrate
            assert_untouched(url, before, logs)
    finally:
        server.stop()


def test_a_rolling_restart_of_two_postgresql_instances_fails_nothing_over(postgres: PostgresServer) -> None:
    url = postgres.create_database()
    upgrade(url)
    user = new_user(url)
    first = ServerProcess(url).start()
    wait_for(lambda: "feedgate_engine_leader 1.0" in httpx.get(first.base_url + "/metrics", timeout=2).text)
    second = ServerProcess(url).start()
    servers = [first, second]
    logs: list[str] = []
    try:
        api = Api(first.base_url, *user)
        with receiver() as hook:
            groups = make_fleet(api, hook)
            with Fleet([first.base_url, second.base_url], user, groups):
                settle(api, groups)
                Receiver.since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                before = event_count(url)
                for i in (0, 1):  # the leader first, then the other: each stop hands the engine over
                    graceful_stop(servers[i])
                    logs.append(servers[i].log())
                    time.sleep(2)
                    servers[i] = ServerProcess(url, port=servers[i].port).start()
                    time.sleep(4)
            logs += [s.log() for s in servers]
            assert sum("engine leadership acquired" in log for log in logs) >= 2  # it really moved
            assert_untouched(url, before, logs)
    finally:
        for s in servers:
            s.stop()
