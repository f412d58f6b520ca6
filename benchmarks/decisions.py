"""Playback decision speed.

1. In process: compiled matcher decisions per second on one core with 10, 200 and 1,000 rules
   (each audience 100 zips and a few networks), against a naive rule-by-rule scan measured in the
   same run (the ratio), and the memory of the compiled state for 1,000 audiences.
2. Over HTTP, the channel of issue #28 (a blackout of 200 rules in force, each audience ALL of country US,
   100 zips and two devices): signed decisions per second for five kinds of viewer (matching, matching
   none, unlocated, IPv6, a playback token) and the viewer's media playlist on the same channel, each
   against a bare async FastAPI route served by the same venv's uvicorn in the same run, same client.
3. `--config large`: an operator's whole configuration, built through the API (decisions_large.py).

Usage: python benchmarks/decisions.py [--seconds 3] [--http-rules 200] [--config large]
"""

import argparse
import contextlib
import gc
import ipaddress
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedgate.auth.signing import signed_params
from feedgate.playback.matcher import AudienceSpec, CompiledBlackout, RuleSpec, Viewer


def build(rules: int, rng: random.Random) -> tuple[list[RuleSpec], dict[str, AudienceSpec]]:
    audiences: dict[str, AudienceSpec] = {}
    specs = []
    for i in range(rules):
        zips = tuple(f"{rng.randrange(100000):05d}" for _ in range(100))
        nets = tuple(f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.0/24" for _ in range(3))
        audiences[f"a{i}"] = AudienceSpec(f"a{i}", match_type="ANY", zip_codes=zips, ip_networks=nets)
        specs.append(RuleSpec(f"r{i}", audience_id=f"a{i}"))
    return specs, audiences


def viewers(n: int, rng: random.Random) -> list[Viewer]:
    return [Viewer(ip=f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
                   country="US", zip=f"{rng.randrange(100000):05d}") for _ in range(n)]


def naive_compile(rules: list[RuleSpec], audiences: dict[str, AudienceSpec]) -> list:  # type: ignore[type-arg]
    """The baseline: per rule, a zip set and parsed networks, walked in order (no cross-rule index)."""
    return [(rule, frozenset(audiences[rule.audience_id or ""].zip_codes),
             [ipaddress.ip_network(n) for n in audiences[rule.audience_id or ""].ip_networks]) for rule in rules]


def naive(table: list, v: Viewer) -> RuleSpec | None:  # type: ignore[type-arg]
    ip = ipaddress.ip_address(v.ip) if v.ip else None
    for rule, zips, networks in table:
        if v.zip in zips or (ip is not None and any(ip in n for n in networks)):
            return rule  # type: ignore[no-any-return]
    return None


def rate(fn, items: list[Viewer], seconds: float) -> float:  # type: ignore[no-untyped-def]
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for v in items:
            fn(v)
        done += len(items)
    return done / (time.perf_counter() - started)


def in_process(seconds: float) -> None:
    rng = random.Random(1)
    sample = viewers(2000, rng)
    print("in-process decisions/s (one core):")
    print(f"{'rules':>6} {'compiled':>12} {'naive scan':>12} {'ratio':>8}")
    for n in (10, 200, 1000):
        rules, audiences = build(n, rng)
        compiled = CompiledBlackout(rules, audiences)
        table = naive_compile(rules, audiences)
        for v in sample[:200]:
            assert compiled.decide(v) == naive(table, v)
        fast = rate(compiled.decide, sample, seconds)
        slow = rate(lambda v, t=table: naive(t, v), sample[:200], min(seconds, 2))
        print(f"{n:>6} {fast:>12,.0f} {slow:>12,.0f} {fast / slow:>7.1f}x")
    rules, audiences = build(1000, rng)
    gc.collect()
    tracemalloc.start()
    compiled = CompiledBlackout(rules, audiences)
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"compiled state for 1,000 audiences (100 zips + 3 networks each): {size / 2**20:.1f} MiB")
    del compiled


@contextlib.contextmanager
def granian(app: str, env: dict[str, str]) -> Iterator[str | None]:
    """The same app served by granian (ASGI, uvloop), when granian is installed; yields its URL or None."""
    from benchmarks._server import free_port

    binary = Path(sys.executable).parent / "granian"
    if not binary.exists():
        yield None
        return
    port = free_port()
    proc = subprocess.Popen([str(binary), "--interface", "asgi", "--loop", "uvloop", "--port", str(port),
                             "--log-level", "warning", "--no-access-log", app], env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=Path(__file__).resolve().parent.parent)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz" if "feedgate" in app or "granian_app" in app else url + "/",
                             timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def the_channel(api, rules: int, rng: random.Random) -> tuple[dict, list[list[str]]]:  # type: ignore[no-untyped-def]
    """The issue's channel: a blackout of `rules` rules in force, each audience ALL of country US, 100 zips and
    two devices. Returns the channel and each audience's zips."""
    channel = api.make_channel("bench")
    ids, zips = [], []
    for i in range(rules):
        mine = [f"{rng.randrange(100000):05d}" for _ in range(100)]
        a = api.post("/audiences", {"desc": f"a{i}", "match_type": "ALL", "country_codes": ["US"],
                                    "zip_codes": mine, "devices": ["roku", "ios"]}).json()
        ids.append(api.post("/rules", {"desc": f"r{i}", "audience": a["id"]}).json()["id"])
        zips.append(mine)
    assert api.post(f"/channels/{channel['id']}/blackouts", {"blackout_id": "B", "rules": ids}).status_code == 201
    assert api.put(f"/channels/{channel['id']}/program", {"blackout_id": "B"}).status_code in (200, 201)
    return channel, zips


def viewer_kinds(api, channel: str, zips: list[list[str]], rng: random.Random,  # type: ignore[no-untyped-def]
                 outside: Callable[[], str] | None = None) -> dict[str, list]:  # type: ignore[type-arg]
    """500 signed requests for each kind of viewer the issue names: `zips` are the rules' zips (a viewer
    matches with one of them), `outside` makes a zip no rule holds (default: any zip)."""
    other = outside or (lambda: f"{rng.randrange(100000):05d}")
    from feedgate.auth.tokens import token_query

    path = f"/api/v4/channels/{channel}/playback"

    def signed(**viewer: str) -> tuple[str, str, None]:
        return ("GET", f"{path}?{urlencode({**signed_params(api.user_id, api.api_key), **viewer})}", None)

    def ipv4() -> str:
        return f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"

    return {
        "matching (US, a rule's zip, roku)": [
            signed(**{"repl.cbcc": "US", "repl.cbzip": rng.choice(rng.choice(zips)), "repl.cbdevice": "roku"})
            for _ in range(500)],
        "matching none (US, other zip)": [signed(**{"repl.cbcc": "US", "repl.cbzip": other(),
                                                    "repl.cbdevice": "roku"}) for _ in range(500)],
        "unlocated (an IPv4 address only)": [signed(ip=ipv4()) for _ in range(500)],
        "IPv6 (address and Canada)": [signed(ip=f"2001:db8::{rng.randrange(1, 65535):x}", **{"repl.cbcc": "CA"})
                                      for _ in range(500)],
        "playback token (repl.cb* in it)": [
            ("GET", f"{path}?" + token_query(api.user_id, api.api_key, channel, 3600,
                                             {"repl.cbcc": "US", "repl.cbzip": rng.choice(rng.choice(zips)),
                                              "repl.cbdevice": "ios"}), None) for _ in range(500)],
    }


def media_playlists(api, channel: dict, zips: list[list[str]], rng: random.Random) -> list:  # type: ignore[no-untyped-def]
    """The viewer's media playlist on the same channel, 500 viewers' tokens, half of them blacked out."""
    from feedgate.auth.tokens import token_query

    paths = []
    for i in range(500):
        zip_code = rng.choice(rng.choice(zips)) if i % 2 else f"{rng.randrange(100000):05d}"
        query = token_query(api.user_id, api.api_key, channel["id"], ttl_s=3600,
                            extras={"repl.cbcc": "US", "repl.cbzip": zip_code, "repl.cbdevice": "roku"})
        paths.append(("GET", f"/channel/{channel['id']}/0.m3u8?{query}", None))
    return paths


def over_http(seconds: float, http_rules: int) -> None:
    from benchmarks._baseline import baseline_server
    from benchmarks._load import rate
    from benchmarks._server import ServerProcess, sqlite_backend
    from benchmarks.viewer_stream import LiveOrigin, heartbeating

    origin = LiveOrigin()
    with sqlite_backend() as backend, baseline_server() as bare:
        api = backend.new_user("bench")
        rng = random.Random(2)
        channel, zips = the_channel(api, http_rules, rng)
        group = api.make_group("bench")
        api.put(f"/failover-groups/{group['id']}/channels", {"channels_ids_to_add": [channel["id"]]})
        kinds = viewer_kinds(api, channel["id"], zips, rng)
        playlists = media_playlists(api, channel, zips, rng)
        rows: list[tuple[str, dict[str, float]]] = []
        with heartbeating(api, group["id"], origin.url):
            deadline = time.monotonic() + 30  # on air, and a segment of the source listed
            while "seg" not in httpx.get(backend.server.base_url + playlists[0][1]).text:
                if time.monotonic() > deadline:
                    raise RuntimeError("the bench slicer's source never reached the viewer's playlist")
                time.sleep(0.5)
            for requests in kinds.values():
                rate(backend.server.base_url, requests, 1)  # warm up
            rows.append(("bare async route", rate(bare, [("GET", "/", None)], seconds)))
            for kind, requests in kinds.items():
                rows.append((kind, rate(backend.server.base_url, requests, seconds)))
            rate(backend.server.base_url, playlists, 1)
            rows.append(("media playlist (/channel/{id}/0.m3u8)", rate(backend.server.base_url, playlists, seconds)))
            rows.append(("bare async route, again", rate(bare, [("GET", "/", None)], seconds)))
        backend.server.stop()  # the same file, now served by two processes
        env = {"FEEDGATE_LOG_LEVEL": "warning", "FEEDGATE_WORKERS": "2", "PATH": os.environ.get("PATH", "")}
        two = ServerProcess(backend.database_url, env_extra=env).start()
        none = kinds["matching none (US, other zip)"]
        try:
            time.sleep(2)  # the second worker starts after the first answers
            rate(two.base_url, none, 1)
            rows.append(("matching none, --workers 2", rate(two.base_url, none, seconds)))
        finally:
            two.stop()
        # granian, for the choice of server (docs/performance.md): the bare route and the same app.
        with granian("benchmarks._baseline:app", {}) as url:
            if url:
                rows.append(("granian: bare async route", rate(url, [("GET", "/", None)], seconds)))
        app_env = {"FEEDGATE_DATABASE_URL": backend.database_url, "FEEDGATE_LOG_LEVEL": "warning"}
        with granian("benchmarks._granian_app:app", app_env) as url:
            if url:
                rate(url, none, 1)
                rows.append(("granian: matching none", rate(url, none, seconds)))
        print(f"over HTTP (a blackout of {http_rules} rules in force, each ALL of US, 100 zips and two devices; "
              f"wrk 32 connections on the same 2-core machine):")
        base = statistics.mean(figures["rps"] for name, figures in rows if name.startswith("bare async"))
        for name, figures in rows:
            extra = f"  p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms" if "p50_ms" in figures else ""
            print(f"  {name:<40} {figures['rps']:>8,.0f} req/s{extra}  ratio {figures['rps'] / base:.2f}")
        print(f"  (ratios against the mean of the two bare-route runs, {base:,.0f} req/s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--http-rules", type=int, default=200)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--config", choices=("small", "large"), default="small",
                        help="large: 1,000 channels, 5,000 audiences, 200 rules on 100 channels (decisions_large.py)")
    args = parser.parse_args()
    if args.config == "large":
        from benchmarks.decisions_large import main as large

        large(args.seconds)
        return
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}")
    in_process(args.seconds)
    if not args.skip_http:
        over_http(args.seconds, args.http_rules)


if __name__ == "__main__":
    main()
