"""Failover latency and heartbeat ingest, through the HTTP API of a real `feedgate serve`.

1. For 10, 100 and 1,000 slicers (pairs: primary + backup per group) heartbeating every second,
   silence one primary at a time and measure from its last heartbeat to the switch being visible
   over the API, minus heartbeat_timeout_ms (p50, p99), plus the engine's own switch time.
2. Heartbeat ingest: heartbeats/s with 32 connections, against /healthz in the same run (ratio).

Usage: python benchmarks/failover_latency.py [--sizes 10,100,1000] [--victims 10] [--database-url URL]
Load comes from wrk when installed (apt-get install wrk), else from an httpx client.
"""

import argparse
import platform
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import started_backend

from benchmarks._load import rate
from benchmarks._server import sqlite_backend
from feedgate.auth.signing import signed_params
from feedgate.cli.fleet import Fleet
from feedgate.client import FeedgateClient, FeedgateError

TIMEOUT_MS = 3000  # the default; slicers beat every 1,000 ms


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def backend(database_url: str | None):  # type: ignore[no-untyped-def]
    if database_url:
        from feedgate.kit.migrate import upgrade

        upgrade(database_url)
        return started_backend("bench", database_url, FEEDGATE_LOG_LEVEL="warning")
    return sqlite_backend()


def latency(size: int, victims: int, database_url: str | None) -> None:
    with backend(database_url) as b:
        api = b.new_user("bench")
        c = FeedgateClient(b.server.base_url, api.user_id, api.api_key)
        groups = [c.create_group(f"g{i}", heartbeat_timeout_ms=TIMEOUT_MS, clear_after_ms=1000,
                                 blacklist_ms=600_000) for i in range(max(1, size // 2))]
        fleet = Fleet(b.server.base_url, api.user_id, api.api_key, interval_ms=1000)
        for i, g in enumerate(groups):
            fleet.add(f"p{i}", g.id)
            fleet.add(f"b{i}", g.id)
        fleet.start_background()
        started = time.monotonic()
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                actives = {g.id: g.active_slicer_id for g in c.list_groups()}
                if all(actives.values()):
                    break
                time.sleep(0.5)
            else:
                print(f"{size:>6} slicers: not every group had an active slicer within 90 s; skipped")
                return
            time.sleep(2)
            api_ms, engine_ms = [], []
            for i in range(min(victims, len(groups))):
                victim = fleet.slicers[actives[groups[i].id] or ""]  # whichever joined first is on air
                victim.alive = False
                time.sleep(0.05)  # let an in-flight heartbeat land
                last = victim.last_sent_ms
                while True:
                    g = c.get_group(groups[i].id)
                    if g.active_slicer_id != victim.slicer_id:
                        seen = int(time.time() * 1000)
                        break
                    time.sleep(0.01)
                api_ms.append(seen - last - TIMEOUT_MS)
                engine_ms.append(g.failover_time - last - TIMEOUT_MS)
            sent = sum(s.sent for s in fleet.slicers.values())
            errors = sum(s.errors for s in fleet.slicers.values())
            elapsed = time.monotonic() - started
            spurious = sum(1 for g in groups[len(api_ms):]  # groups nobody touched must not have switched
                           for e in c.events(g.id) if e.kind == "failover" and e.from_slicer_id)
            print(f"{size:>6} slicers  over timeout: API p50 {percentile(api_ms, 50):6.0f} ms  "
                  f"p99 {percentile(api_ms, 99):6.0f} ms | engine p50 {percentile(engine_ms, 50):6.0f} ms  "
                  f"p99 {percentile(engine_ms, 99):6.0f} ms | heartbeats {sent / elapsed:6.0f}/s "
                  f"(errors {errors}) | spurious failovers {spurious}")
        finally:
            fleet.stop()
            c.close()


def ingest(seconds: int, database_url: str | None) -> None:
    with backend(database_url) as b:
        api = b.new_user("bench")
        requests = []
        for i in range(100):
            g = api.make_group(f"g{i}", heartbeat_timeout_ms=60_000)
            for role in ("p", "b"):
                body = {"hostname": "h", "failover_group_id": g["id"], "signals": {"input_loss_ms": 0}}
                api.put(f"/slicers/{role}{i}/status", body)
                query = urlencode(signed_params(api.user_id, api.api_key))
                requests.append(("PUT", f"/api/v4/slicers/{role}{i}/status?{query}", body))
        time.sleep(1.5)
        healthz = rate(b.server.base_url, [("GET", "/healthz", None)], seconds)
        beats = rate(b.server.base_url, requests, seconds)
        print(f"heartbeat ingest: {beats['rps']:,.0f}/s (p99 {beats.get('p99_ms', float('nan')):.0f} ms) vs "
              f"/healthz {healthz['rps']:,.0f}/s: ratio {beats['rps'] / healthz['rps']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--victims", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}; "
          f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; heartbeat_timeout_ms {TIMEOUT_MS}")
    for size in (int(s) for s in args.sizes.split(",") if s):
        try:
            latency(size, args.victims, args.database_url)
        except FeedgateError as exc:
            print(f"{size:>6} slicers: saturated - the API stopped answering in time ({exc.description})")
    ingest(args.seconds, args.database_url)


if __name__ == "__main__":
    main()
