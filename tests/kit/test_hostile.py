"""Attacks found by a hostile-input run, each reproduced: stretched, replayed and redirected signatures,
values that overflow the database, metrics flooding, concurrent load on SQLite, slow connections."""

import base64
import concurrent.futures
import contextlib
import json
import socket
import threading
import time
import zlib
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from feedgate.auth.signing import bound_params, encode_msg, sign, signed_params
from tests.support import (
    Api,
    Backend,
    PostgresServer,
    assert_error,
    burst,
    mixed_requests,
    started_backend,
    two_instances,
    wait_for,
)


def signed_raw(api: Api, obj: dict) -> dict[str, str]:
    """msg/sig for an arbitrary JSON text built by hand (json.dumps writes NaN as NaN)."""
    msg = encode_msg(obj)
    return {"msg": msg, "sig": sign(msg, api.api_key)}


def call(api: Api, method: str, path: str, params: dict[str, str], body: bytes | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"} if body is not None else None
    return httpx.request(method, api.base_url + path, params=params, content=body, headers=headers, timeout=30)


class TestTimestamps:
    @pytest.mark.parametrize("stamp", [float("nan"), float("inf"), 1.7e9, "1700000000", True, None, [1]])
    def test_only_an_integer_timestamp_is_accepted(self, api: Api, stamp: object) -> None:
        value = time.time() if stamp == 1.7e9 else stamp
        params = signed_raw(api, {"_owner": api.user_id, "_timestamp": value})
        assert_error(call(api, "GET", "/api/v4/channels", params), 401, "_timestamp")
        body = json.dumps({"desc": "nan"}).encode()
        assert_error(call(api, "POST", "/api/v4/channels", params, body), 401, "_timestamp")
        assert api.get("/channels").json()["total_items"] == 0

    @pytest.mark.parametrize("digits", [400, 5000])
    def test_huge_timestamps_are_401_not_500(self, api: Api, digits: int) -> None:
        text = f'{{"_owner": "{api.user_id}", "_timestamp": {"9" * digits}}}'
        msg = base64.b64encode(zlib.compress(text.encode(), 9)).decode()
        assert_error(call(api, "GET", "/api/v4/channels", {"msg": msg, "sig": sign(msg, api.api_key)}), 401)
        assert_error(call(api, "GET", "/api/v4/channels", {"msg": msg, "sig": "0" * 64}), 401)

    def test_deep_nesting_is_401_without_credentials(self, api: Api) -> None:
        text = "[" * 100_000 + "]" * 100_000
        msg = base64.b64encode(zlib.compress(text.encode(), 9)).decode()
        assert_error(call(api, "GET", "/api/v4/channels", {"msg": msg, "sig": "0" * 64}), 401, "msg")

    def test_a_zip_bomb_is_refused_before_it_inflates(self, api: Api) -> None:
        bomb = base64.b64encode(zlib.compress(b" " * 16_000_000, 9)).decode()  # ~21 KB of URL, 16 MB inflated
        assert len(bomb) < 30_000
        r = call(api, "GET", "/api/v4/channels", {"msg": bomb, "sig": "0" * 64})
        assert_error(r, 401, "msg")
        modest = base64.b64encode(zlib.compress(b" " * 9_000, 9)).decode()
        assert_error(call(api, "GET", "/api/v4/channels", {"msg": modest, "sig": sign(modest, api.api_key)}),
                     401, "8192")

    def test_a_malformed_sig_is_refused_before_any_work(self, api: Api) -> None:
        params = signed_params(api.user_id, api.api_key)
        assert_error(call(api, "GET", "/api/v4/channels", {**params, "sig": "zz" * 32}), 401, "sig")


class TestBinding:
    def test_a_captured_get_signature_cannot_delete_when_bound(self, api: Api) -> None:
        channel = api.make_channel("keep me")
        captured = bound_params(api.user_id, api.api_key, "GET", "/api/v4/channels", None)
        assert call(api, "GET", "/api/v4/channels", captured).status_code == 200
        r = call(api, "DELETE", f"/api/v4/channels/{channel['id']}", captured)
        assert_error(r, 401, "_method")
        assert api.get(f"/channels/{channel['id']}").status_code == 200

    def test_path_and_body_are_bound(self, api: Api) -> None:
        body = json.dumps({"desc": "bound"}).encode()
        params = bound_params(api.user_id, api.api_key, "POST", "/api/v4/channels", body)
        assert_error(call(api, "POST", "/api/v4/audiences", params, body), 401, "_path")
        params = bound_params(api.user_id, api.api_key, "POST", "/api/v4/channels", body)
        assert_error(call(api, "POST", "/api/v4/channels", params, json.dumps({"desc": "other"}).encode()),
                     401, "_body_sha256")
        assert api.get("/channels").json()["total_items"] == 0

    def test_a_bound_post_is_accepted_once(self, api: Api) -> None:
        body = json.dumps({"desc": "once"}).encode()
        params = bound_params(api.user_id, api.api_key, "POST", "/api/v4/channels", body)
        assert call(api, "POST", "/api/v4/channels", params, body).status_code == 201
        assert_error(call(api, "POST", "/api/v4/channels", params, body), 401, "_nonce")
        assert api.get("/channels").json()["total_items"] == 1

    def test_bound_heartbeats_work_on_the_hot_path_and_are_not_replayable(self, api: Api) -> None:
        g = api.make_group("bound")
        path = "/api/v4/slicers/hb1/status"
        for expected in (200, 200, 200):  # registration (FastAPI route), then steady beats (hot route)
            body = json.dumps({"hostname": "h", "failover_group_id": g["id"]}).encode()
            params = bound_params(api.user_id, api.api_key, "PUT", path, body)
            assert call(api, "PUT", path, params, body).status_code == expected
            time.sleep(0.3)
        assert_error(call(api, "PUT", path, params, body), 401, "_nonce")

    def test_vendor_clients_stay_accepted_unbound(self, api: Api) -> None:
        params = signed_params(api.user_id, api.api_key)
        assert call(api, "POST", "/api/v4/channels", params, json.dumps({"desc": "v"}).encode()).status_code == 201


def test_strict_mode_refuses_unbound_requests(tmp_path: Path) -> None:
    with started_backend("sqlite", f"sqlite:///{tmp_path / 'strict.db'}", FEEDGATE_AUTH_STRICT="1") as b:
        api = b.new_user()
        assert_error(call(api, "GET", "/api/v4/channels", signed_params(api.user_id, api.api_key)), 401, "_method")
        bound = bound_params(api.user_id, api.api_key, "GET", "/api/v4/channels", None)
        assert call(api, "GET", "/api/v4/channels", bound).status_code == 200


def test_nonces_are_shared_by_instances_on_postgresql(postgres: PostgresServer) -> None:
    with two_instances(postgres) as (a, b):
        body = json.dumps({"desc": "once across instances"}).encode()
        params = bound_params(a.user_id, a.api_key, "POST", "/api/v4/channels", body)
        assert call(a, "POST", "/api/v4/channels", params, body).status_code == 201
        assert_error(call(b, "POST", "/api/v4/channels", params, body), 401, "_nonce")
        assert a.get("/channels").json()["total_items"] == 1


class TestValuesReachingTheDatabase:
    def test_program_at_is_range_checked(self, api: Api) -> None:
        ch = api.make_channel()
        assert_error(api.get(f"/channels/{ch['id']}/program", params={"at": "9" * 64}), 400, "'at'")
        assert_error(api.get(f"/channels/{ch['id']}/program", params={"at": "²"}), 400, "'at'")
        assert_error(api.get(f"/channels/{ch['id']}/playback", params={"at": "²"}), 400, "'at'")
        assert_error(api.get(f"/channels/{ch['id']}/playback", params={"at": "9" * 64}), 400, "'at'")

    def test_program_start_and_schedule_end_are_range_checked(self, api: Api) -> None:
        ch = api.make_channel()
        r = api.put(f"/channels/{ch['id']}/program", {"blackout_id": "B", "start": "99999999999999999999"})
        assert_error(r, 400, "'start'")
        r = api.post(f"/channels/{ch['id']}/schedule", {"blackout_id": "B", "start": "0", "end": "9" * 19})
        assert_error(r, 400, "'end'")
        r = api.post(f"/channels/{ch['id']}/schedule", {"blackout_id": "B", "start": "0001-01-01T00:00:00Z",
                                                         "end": "1000"})
        assert_error(r, 400, "'start'")
        assert api.get(f"/channels/{ch['id']}/schedule").json()["total_items"] == 0
        assert api.get(f"/channels/{ch['id']}/program").json()["blackout_id"] is None


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


class TestVerifiedSignatureCache:
    """The cache of verified (msg, sig) pairs never accepts what the full check would refuse."""

    def test_a_cached_signature_is_refused_once_its_timestamp_leaves_the_window(self, tmp_path: Path) -> None:
        with started_backend("sqlite", f"sqlite:///{tmp_path / 'w.db'}", FEEDGATE_TIMESTAMP_WINDOW_S="2") as b:
            api = b.new_user()
            params = signed_params(api.user_id, api.api_key)
            assert call(api, "GET", "/api/v4/channels", params).status_code == 200  # now cached
            time.sleep(3.2)
            assert_error(call(api, "GET", "/api/v4/channels", params), 401, "too old")

    def test_another_sig_for_a_cached_msg_is_refused(self, api: Api) -> None:
        params = signed_params(api.user_id, api.api_key)
        assert call(api, "GET", "/api/v4/channels", params).status_code == 200
        forged = {"msg": params["msg"], "sig": ("0" if params["sig"][0] != "0" else "1") + params["sig"][1:]}
        assert_error(call(api, "GET", "/api/v4/channels", forged), 401, "sig")

    def test_a_rotated_key_refuses_old_signatures_within_5_s(self, api: Api, backend: Backend) -> None:
        from feedgate.auth.service import rotate_key

        params = signed_params(api.user_id, api.api_key, timestamp=int(time.time()))
        assert call(api, "GET", "/api/v4/channels", params).status_code == 200  # cached with the old key
        with backend.db.sessions() as session:
            new_key = rotate_key(session, api.user_id)
        assert new_key is not None
        rotated = time.monotonic()
        wait_for(lambda: call(api, "GET", "/api/v4/channels", params).status_code == 401, timeout=6)
        assert time.monotonic() - rotated <= 5.5
        fresh = signed_params(api.user_id, new_key.api_key)
        assert call(api, "GET", "/api/v4/channels", fresh).status_code == 200
