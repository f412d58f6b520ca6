"""Playback decision speed.

1. In process: compiled matcher decisions per second on one core with 10, 200 and 1,000 rules
   (each audience 100 zips and a few networks), against a naive rule-by-rule scan measured in the
   same run (the ratio), and the memory of the compiled state for 1,000 audiences.
2. Over HTTP: signed playback decisions per second against a bare async FastAPI route served by the
   same venv's uvicorn in the same run (the Python HTTP limit on this machine), same client.

Usage: python benchmarks/decisions.py [--seconds 3] [--http-rules 200]
"""

import argparse
import contextlib
import gc
import ipaddress
import os
import platform
import random
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
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


def over_http(seconds: float, http_rules: int) -> None:
    from benchmarks._baseline import baseline_server
    from benchmarks._load import rate
    from benchmarks._server import ServerProcess, sqlite_backend

    with sqlite_backend() as backend, baseline_server() as bare:
        api = backend.new_user("bench")
        channel = api.make_channel("bench")
        rng = random.Random(2)
        rules = []
        for i in range(http_rules):
            zips = [f"{rng.randrange(100000):05d}" for _ in range(100)]
            a = api.post("/audiences", {"desc": f"a{i}", "zip_codes": zips}).json()
            rules.append(api.post("/rules", {"desc": f"r{i}", "audience": a["id"]}).json()["id"])
        api.post(f"/channels/{channel['id']}/blackouts", {"blackout_id": "B", "rules": rules})
        api.put(f"/channels/{channel['id']}/program", {"blackout_id": "B"})
        path = f"/api/v4/channels/{channel['id']}/playback"
        playback = []
        for _ in range(500):
            query = {**signed_params(api.user_id, api.api_key), "repl.cbcc": "US",
                     "repl.cbzip": f"{rng.randrange(100000):05d}"}
            playback.append(("GET", f"{path}?{urlencode(query)}", None))
        rows: list[tuple[str, dict[str, float]]] = []
        rate(backend.server.base_url, playback, 1)  # warm up
        rows.append(("bare async route", rate(bare, [("GET", "/", None)], seconds)))
        rows.append(("signed playback", rate(backend.server.base_url, playback, seconds)))
        backend.server.stop()  # the same file, now served by two processes
        env = {"FEEDGATE_LOG_LEVEL": "warning", "FEEDGATE_WORKERS": "2", "PATH": os.environ.get("PATH", "")}
        two = ServerProcess(backend.database_url, env_extra=env).start()
        try:
            time.sleep(2)  # the second worker starts after the first answers
            rate(two.base_url, playback, 1)
            rows.append(("signed playback, --workers 2", rate(two.base_url, playback, seconds)))
        finally:
            two.stop()
        # granian, for the choice of server: the bare route and the same app, one process each.
        env = {"FEEDGATE_DATABASE_URL": backend.database_url, "FEEDGATE_LOG_LEVEL": "warning"}
        with granian("benchmarks._baseline:app", {}) as url:
            if url:
                rows.append(("granian: bare async route", rate(url, [("GET", "/", None)], seconds)))
        with granian("benchmarks._granian_app:app", env) as url:
            if url:
                rate(url, playback, 1)
                rows.append(("granian: signed playback", rate(url, playback, seconds)))
        print(f"over HTTP ({http_rules} rules, 32 connections, load generator on the same 2-core machine):")
        for name, figures in rows:
            extra = f"  p50 {figures['p50_ms']:.2f} ms  p99 {figures['p99_ms']:.2f} ms" if "p50_ms" in figures else ""
            print(f"  {name:<30} {figures['rps']:>8,.0f} req/s{extra}")
        got = dict(rows)
        ratio = got["signed playback"]["rps"] / got["bare async route"]["rps"]
        print(f"  ratio playback / bare async route: {ratio:.2f}")
        print(f"  --workers 2 / one worker: "
              f"{got['signed playback, --workers 2']['rps'] / got['signed playback']['rps']:.2f}x")
        if "granian: signed playback" in got:
            print(f"  granian / uvicorn, signed playback: "
                  f"{got['granian: signed playback']['rps'] / got['signed playback']['rps']:.2f}x")


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
