"""Real parts for the suite: a PostgreSQL server, `feedgate serve` processes, signed HTTP calls."""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from feedgate.auth.service import create_user
from feedgate.auth.signing import signed_params
from feedgate.kit.db import Database
from feedgate.kit.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
FEEDGATE = str(Path(sys.executable).parent / "feedgate")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A throwaway cluster from Debian's postgresql binaries, run as the postgres user when we are root."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
        self.bin = Path(bins[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="feedgate-pg-"))
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run([str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres", "-A", "trust",
                   "--no-sync", "-E", "UTF8"])
        self.resume()
        self._counter = 0

    def _run(self, cmd: list[str]) -> None:
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.dir)

    def create_database(self) -> str:
        import psycopg

        self._counter += 1
        name = f"feedgate_{self._counter}"
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def halt(self) -> None:
        """Stop the server (an outage); `resume` brings it back on the same port with the same data."""
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"])

    def resume(self) -> None:
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w",
                   "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                         "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
                   "start"])

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop"])
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class ServerProcess:
    """`feedgate serve` in a subprocess, on a free port."""

    url_db: str
    env_extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServerProcess":
        env = {**os.environ, "FEEDGATE_DATABASE_URL": self.url_db, "FEEDGATE_PORT": str(self.port),
               "FEEDGATE_LOG_LEVEL": "info", **self.env_extra}
        handle, name = tempfile.mkstemp(prefix="feedgate-serve-", suffix=".log")
        self.log_path = Path(name)
        self.proc = subprocess.Popen([FEEDGATE, "serve"], env=env, stdout=handle, stderr=subprocess.STDOUT)
        os.close(handle)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"feedgate serve exited:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"feedgate serve did not answer:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path else ""

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Backend:
    """One database and one server on it."""

    name: str
    database_url: str
    server: ServerProcess
    db: Database

    def new_user(self, name: str = "tester") -> "Api":
        with self.db.sessions() as session:
            user = create_user(session, name)
        return Api(self.server.base_url, user.id, user.api_key)


class Api:
    """Signed requests as one user, over real HTTP."""

    def __init__(self, base_url: str, user_id: str, api_key: str, database_url: str = "") -> None:
        self.base_url = base_url
        self.database_url = database_url
        self.skew_s = 0  # this client's clock against the real one (a client whose clock jumped too)
        self.user_id = user_id
        self.api_key = api_key
        self.http = httpx.Client(base_url=base_url + "/api/v4", timeout=30)

    def params(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        stamp = int(time.time()) + self.skew_s
        return {**signed_params(self.user_id, self.api_key, timestamp=stamp), **(extra or {})}

    def request(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None,
                **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, json=json, params=self.params(params), **kwargs)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.request("POST", path, json=json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, json=json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)

    # Small builders used across tests.
    def make_channel(self, desc: str = "Channel", **extra: Any) -> dict[str, Any]:
        r = self.post("/channels", {"desc": desc, **extra})
        assert r.status_code == 201, r.text
        return dict(r.json())

    def make_group(self, name: str = "Group", **extra: Any) -> dict[str, Any]:
        r = self.post("/failover-groups", {"name": name, **extra})
        assert r.status_code == 201, r.text
        return dict(r.json())

    def heartbeat(self, slicer_id: str, group_id: str | None = None, **extra: Any) -> httpx.Response:
        body: dict[str, Any] = {"hostname": f"{slicer_id}.example", **extra}
        if group_id:
            body["failover_group_id"] = group_id
        return self.put(f"/slicers/{slicer_id}/status", body)

    def group(self, group_id: str) -> dict[str, Any]:
        r = self.get(f"/failover-groups/{group_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())


def assert_error(response: httpx.Response, status: int, *mentions: str) -> dict[str, Any]:
    """The v4 error body, with the status, a reason phrase and a description naming what is at fault."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    body = response.json()
    assert body["@type"] == "Error"
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    for text in mentions:
        assert text in body["description"], f"{text!r} not in {body['description']!r}"
    return dict(body)


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


@contextlib.contextmanager
def started_backend(name: str, database_url: str, **env: str) -> Iterator[Backend]:
    upgrade(database_url)
    server = ServerProcess(database_url, env_extra=env).start()
    db = Database(database_url)
    try:
        yield Backend(name, database_url, server, db)
    finally:
        server.stop()
        db.dispose()


def burst(base_url: str, requests: list[tuple[str, str, bytes | None]]) -> list[tuple[int, bytes, float]]:
    """Send every request at once, each on its own connection, with a client light enough (raw asyncio
    sockets, no HTTP library) that the latencies measure the server, not the client.

    Returns (status, body, seconds) per request, in order.
    """
    import asyncio
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)

    async def one(method: str, target: str, body: bytes | None) -> tuple[int, bytes, float]:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        head = f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        started = time.monotonic()
        writer.write(head.encode() + b"\r\n" + (body or b""))
        data = await reader.read()
        took = time.monotonic() - started
        writer.close()
        if not data:  # closed without an answer (a connection cap): status 0
            return 0, b"", took
        status = int(data[9:12])
        return status, data.split(b"\r\n\r\n", 1)[1], took

    async def run() -> list[tuple[int, bytes, float]]:
        return list(await asyncio.gather(*(one(*r) for r in requests)))

    return asyncio.run(run())


def mixed_requests(group_id: str, audience_id: str, count: int = 200) -> list[tuple[str, str, bytes | None]]:
    """The concurrency mix of the hostile-input report: create groups and channels, read a group, an
    audience and the channel list, in turn (paths under /api/v4, unsigned)."""
    import json

    plan: list[tuple[str, str, bytes | None]] = []
    for i in range(count):
        kind = i % 5
        if kind == 0:
            plan.append(("POST", "/failover-groups", json.dumps({"name": f"g{i}"}).encode()))
        elif kind == 1:
            plan.append(("GET", f"/failover-groups/{group_id}", None))
        elif kind == 2:
            plan.append(("GET", f"/audiences/{audience_id}", None))
        elif kind == 3:
            plan.append(("POST", "/channels", json.dumps({"desc": f"c{i}"}).encode()))
        else:
            plan.append(("GET", "/channels", None))
    return plan


@contextlib.contextmanager
def two_instances(postgres: PostgresServer, **env: str) -> Iterator[tuple[Api, Api]]:
    """Two `feedgate serve` processes on one fresh PostgreSQL database, the first one the engine leader,
    and one user: an Api on each instance."""
    url = postgres.create_database()
    upgrade(url)
    first = ServerProcess(url, env_extra=env).start()
    wait_for(lambda: "feedgate_engine_leader 1.0" in httpx.get(first.base_url + "/metrics", timeout=2).text)
    second = ServerProcess(url, env_extra=env).start()
    db = Database(url)
    try:
        with db.sessions() as session:
            user = create_user(session, "ops")
        yield (Api(first.base_url, user.id, user.api_key, url), Api(second.base_url, user.id, user.api_key, url))
    finally:
        second.stop()
        first.stop()
        db.dispose()
