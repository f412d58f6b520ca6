"""The one support module of the suite: real parts (a PostgreSQL server, `feedgate serve` processes, signed
HTTP calls) and the helpers every test folder shares (slicers that beat, a blackout, SCTE-35 cues, a City
database, the browser's sign-in). Media parts (ffmpeg encoders, an origin) are in `tests.support.media`.
Test modules import from here, never from each other; fixtures live in `conftest.py`."""

import contextlib
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from mmdb_writer import MMDBWriter
from netaddr import IPSet
from threefive import Cue, SegmentationDescriptor, SpliceInsert, TimeSignal

from feedgate.auth.service import create_user
from feedgate.auth.signing import encode_msg, sign, signed_params
from feedgate.kit.db import Database
from feedgate.kit.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository
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
        # The tests' receivers and sources live on loopback: private URLs are allowed unless a test (of the
        # address guard) sets FEEDGATE_ALLOW_PRIVATE_URLS=0 itself.
        env = {**os.environ, "FEEDGATE_DATABASE_URL": self.url_db, "FEEDGATE_PORT": str(self.port),
               "FEEDGATE_LOG_LEVEL": "info", "FEEDGATE_ALLOW_PRIVATE_URLS": "1", **self.env_extra}
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
        self.kill()  # a server that never answered must not outlive the test and load the ones after it
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


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05,
             explain: Callable[[], object] | None = None) -> Any:
    """`explain`, when given, says what was seen instead (a failure on a busy runner is then readable)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time" + (f": {explain()}" if explain else ""))
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


FAST = {"heartbeat_timeout_ms": 400, "clear_after_ms": 800, "blacklist_ms": 1500, "input_loss_ms": 500}


@contextmanager
def heartbeating(api: Api, group_id: str, slicers: dict[str, dict]) -> Iterator[dict[str, dict]]:
    """Beat for each slicer every 100 ms; tests edit `slicers` (None = stop, dict = signals)."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            for name, signals in list(slicers.items()):
                if signals is not None:
                    api.heartbeat(name, group_id, signals=signals)
            stop.wait(0.1)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield slicers
    finally:
        stop.set()
        thread.join()


def events(api: Api, group_id: str) -> list[dict]:
    return list(reversed(api.get(f"/failover-groups/{group_id}/events", params={"page_size": 40}).json()["items"]))


def active(api: Api, group_id: str) -> str:
    """The group's active_slicer_id as the API shows it."""
    return str(api.group(group_id)["active_slicer_id"])


def build_city_db(path: Path) -> None:
    writer = MMDBWriter(ip_version=6, database_type="GeoIP2-City", ipv4_compatible=True)
    writer.insert_network(IPSet(["198.51.100.0/24"]), {
        "country": {"iso_code": "US"}, "postal": {"code": "90503"}, "location": {"metro_code": 803}})
    writer.insert_network(IPSet(["203.0.113.0/24"]), {"country": {"iso_code": "CA"}})
    writer.insert_network(IPSet(["192.0.2.0/24"]), {"country": {"iso_code": "US"}, "postal": {"code": "10001"}})
    writer.to_db_file(str(path))


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def blackout_setup(api: Api) -> tuple[dict, dict, dict]:
    """Channel with blackout BNA: rule 1 zip 90503 -> asset, rule 2 country US -> slate."""
    ch = api.make_channel("Sports")
    la = api.post("/audiences", {"desc": "LA", "zip_codes": ["90503"]}).json()
    us = api.post("/audiences", {"desc": "US", "country_codes": ["US"]}).json()
    r1 = api.post("/rules", {"desc": "la", "audience": la["id"], "alternate_content_type": "asset",
                             "alternate_content_id": "la-asset", "alternate_content_loop": False}).json()
    r2 = api.post("/rules", {"desc": "us", "audience": us["id"]}).json()
    api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "BNA", "rules": [r1["id"], r2["id"]]})
    return ch, r1, r2


def decide(api: Api, channel_id: str, **params: str) -> dict:
    params = {k.replace("repl_", "repl."): v for k, v in params.items()}
    r = api.get(f"/channels/{channel_id}/playback", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def build_cue(type_id: int, upid: str, command: str = "time_signal") -> Cue:
    cue = Cue()
    if command == "time_signal":
        cue.command = TimeSignal()
        cue.command.time_specified_flag = True
        cue.command.pts_time = 10.0
    else:
        cue.command = SpliceInsert()
        cue.command.splice_event_id = 7
        cue.command.out_of_network_indicator = True
        cue.command.program_splice_flag = True
        cue.command.splice_immediate_flag = True
        cue.command.duration_flag = False
        cue.command.unique_program_id = 1
    d = SegmentationDescriptor()
    d.segmentation_event_cancel_indicator = False
    d.segmentation_event_id = "0x1"
    d.segmentation_event_id_compliance_indicator = True
    d.program_segmentation_flag = True
    d.segmentation_duration_flag = False
    d.delivery_not_restricted_flag = True
    d.segmentation_type_id = type_id
    d.segmentation_upid_type = 0x09
    d.segmentation_upid = upid
    d.segmentation_upid_length = len(upid)
    d.segment_num = 0
    d.segments_expected = 0
    cue.descriptors.append(d)
    return cue


def start_cue(upid: str = "BNA", command: str = "time_signal") -> str:
    return str(build_cue(0x10, upid, command).encode())


CHROMIUM = Path("/usr/bin/chromium")


SHOTS = ROOT / "docs" / "console"


def sign_in(page: Any, api: Api, key: str | None = None) -> Any:
    page.goto(api.base_url + "/console/login")
    page.fill("input[name=user_id]", api.user_id)
    page.fill("input[name=api_key]", key or api.api_key)
    page.click("#sign-in")
    return page


def serve_http(handler: type, port: int | None = None) -> tuple[Any, int]:
    """A threaded HTTP server on loopback for `handler` (a BaseHTTPRequestHandler): (server, port)."""
    from http.server import ThreadingHTTPServer

    port = port or free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, port


def console_login(web: httpx.Client, user_id: str, api_key: str) -> httpx.Response:
    """Sign in to the console as a browser does: the form (its CSRF token and cookie), then the post."""
    form = web.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None, form.text[:300]
    return web.post("/console/login", data={"user_id": user_id, "api_key": api_key, "csrf": token.group(1)})


IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


SEED_AUDIENCE = {"desc": "My New audience", "country_codes": ["US", "CA", "MX"], "external_id": "NorthAmerica",
                 "match_type": "ANY"}


SEED_RULE = {"desc": "My New Rule", "alternate_content_type": "slate", "all_viewers": True}


def audience(api: Api, **body: object) -> dict:
    r = api.post("/audiences", {"desc": "aud", **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


def rule(api: Api, **body: object) -> dict:
    r = api.post("/rules", {"desc": "rule", **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


def signed_raw(api: Api, obj: dict) -> dict[str, str]:
    """msg/sig for an arbitrary JSON text built by hand (json.dumps writes NaN as NaN)."""
    msg = encode_msg(obj)
    return {"msg": msg, "sig": sign(msg, api.api_key)}


def call(api: Api, method: str, path: str, params: dict[str, str], body: bytes | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"} if body is not None else None
    return httpx.request(method, api.base_url + path, params=params, content=body, headers=headers, timeout=30)
