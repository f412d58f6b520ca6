"""The server's limits under attack, each reproduced: metrics flooding, 200 concurrent requests on
SQLite and PostgreSQL, slow connections under and over the cap, bodies over 1 MiB."""

import concurrent.futures
import contextlib
import json
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.support import (
    Api,
    Backend,
    assert_error,
    burst,
    call,
    mixed_requests,
    started_backend,
    wait_for,
)


def series(base_url: str) -> int:
    return sum(1 for line in httpx.get(base_url + "/metrics").text.splitlines()
               if line.startswith("feedgate_request") and not line.startswith("#"))


def test_metrics_series_do_not_grow_with_distinct_paths(sqlite_backend: Backend) -> None:
    api = sqlite_backend.new_user()
    ch = api.make_channel()
    base = sqlite_backend.server.base_url

    def probe(i: int) -> None:
        with httpx.Client(base_url=base) as client:
            for n in range(i, 10_000, 8):
                kind = n % 4
                if kind == 0:  # the documents' missing-slash form, signed
                    client.get(f"/api/v4/channels/{ch['id']}/blackouts{n:05d}", params=api.params())
                elif kind == 1:  # unsigned, on a route
                    client.get(f"/api/v4/channels/{n:032x}")
                elif kind == 2:  # no route at all
                    client.get(f"/nothing/{n}")
                else:  # made-up methods
                    client.request(f"X{n % 50}", f"/api/v4/channels/{n}")

    with httpx.Client(base_url=base) as client:  # one of each kind, so their series exist
        client.get(f"/api/v4/channels/{ch['id']}/blackoutsX", params=api.params())
        client.get(f"/api/v4/channels/{'0' * 32}")
        client.get("/nothing/x")
        client.request("X1", "/api/v4/channels/x")
    before = series(base)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(probe, range(8)))
    after = series(base)
    assert after - before <= 40, (before, after)  # a few new status codes at most, never one per path


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_200_concurrent_reads_and_writes(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # A server of its own: the latencies are this burst's, not those of what earlier tests left behind.
    url = (f"sqlite:///{tmp_path / 'burst.db'}" if kind == "sqlite"
           else request.getfixturevalue("postgres").create_database())
    with started_backend(kind, url) as backend:
        _burst_of_200(backend)


def _burst_of_200(backend: Backend) -> None:
    api = backend.new_user()
    group = api.make_group("busy")
    audience = api.post("/audiences", {"desc": "a", "country_codes": ["US"]}).json()

    requests = mixed_requests(group["id"], audience["id"])
    # Signed up front; the requests and /healthz go out together, each on its own connection.
    signed = [(m, f"/api/v4{p}?{urlencode(api.params())}", b) for m, p, b in requests]
    results = burst(backend.server.base_url, [*signed, ("GET", "/healthz", None)])
    healthz = results.pop()
    assert healthz[0] == 200
    statuses = sorted({status for status, _, _ in results})
    assert set(statuses) <= {200, 201}, [(s, body[:200]) for s, body, _ in results if s not in (200, 201)][:3]
    # The freeze this reproduces stalled every request for 30 s. The bound here is that freeze, not a speed
    # goal: timings are not pass/fail gates on a shared 2-core box. The measured p99 (about 0.8 s on
    # SQLite, 0.8 to 1.1 s on PostgreSQL) is reported by benchmarks/soak.py and docs/reliability.md.
    took = sorted(t for _, _, t in results)
    assert took[int(len(took) * 0.99) - 1] < 5.0, took[-5:]
    for (method, path, _), (status, body, _) in zip(requests, results, strict=True):
        if method == "POST":
            assert status == 201
            made = json.loads(body)["id"]
            assert api.get(f"{path}/{made}").status_code == 200


def _slow_connection(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finish
    return sock


def _drip(socks: list[socket.socket], stop: "threading.Event") -> None:
    """One more header byte a second on every slow connection (a slowloris, not merely idle sockets)."""
    while not stop.wait(1.0):
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.send(b"X")


def test_slow_connections_below_and_above_the_cap(tmp_path: Path) -> None:
    env = {"FEEDGATE_MAX_CONNECTIONS": "600", "FEEDGATE_HEADER_TIMEOUT_S": "4"}
    stop = threading.Event()
    with started_backend("sqlite", f"sqlite:///{tmp_path / 'slow.db'}", **env) as b:
        api = b.new_user()
        port = b.server.port
        slow = [_slow_connection(port) for _ in range(500)]  # below the cap, a byte a second each
        dripping = threading.Thread(target=_drip, args=(slow, stop), daemon=True)
        dripping.start()
        time.sleep(1.5)
        for _ in range(3):
            started = time.monotonic()
            assert httpx.get(b.server.base_url + "/healthz", timeout=5).status_code == 200
            assert api.get("/channels").status_code == 200
            assert time.monotonic() - started < 1.0
        slow += [_slow_connection(port) for _ in range(200)]  # past the cap
        flooded = time.monotonic()
        wait_for(lambda: "connection cap of 600 reached" in b.server.log(), timeout=5)

        def healthy() -> bool:
            try:
                return httpx.get(b.server.base_url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=4 + 1 + 2)
        assert time.monotonic() - flooded < 4 + 1 + 1.5
        assert b.server.proc is not None and b.server.proc.poll() is None
        stop.set()
        dripping.join()
        for sock in slow:
            sock.close()


class TestBodyLimit:
    def test_a_body_over_1_mib_is_413_without_being_read(self, api: Api) -> None:
        big = json.dumps({"desc": "x" * (1024 * 1024 + 10)}).encode()
        r = call(api, "POST", "/api/v4/channels", api.params(), big)
        assert_error(r, 413, "1048576")
        assert_error(httpx.post(api.base_url + "/healthz", content=big), 413)  # every route, signed or not

        def chunks():  # type: ignore[no-untyped-def]
            for _ in range(20):
                yield b" " * 65536

        r = httpx.post(api.base_url + "/api/v4/channels", params=api.params(), content=chunks(),
                       headers={"Content-Type": "application/json"})
        assert_error(r, 413, "1048576")
        assert api.get("/channels").json()["total_items"] == 0


