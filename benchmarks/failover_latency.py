"""Failover latency at fleet scale, through real `feedgate serve` processes.

Groups of two slicers (on air + backup) beat once a second, spread over `--instances` servers
(one SQLite file, or one PostgreSQL database for several instances). Every `--every` seconds one
on-air slicer goes silent; latency runs from the send of its last acknowledged beat to the switch:
as seen by a client polling the group over the API ("API"), and as recorded by the engine
(`failover_time`, "engine"), both minus `heartbeat_timeout_ms`. Meanwhile a reader times
`GET /failover-groups/{id}` on random groups, and at the end the database is asked for failovers
of groups nobody silenced (spurious).

Usage: python benchmarks/failover_latency.py [--slicers 2000] [--minutes 5] [--instances 1]
       [--postgres | --database-url postgresql://...] [--every 15]
"""

import argparse
import asyncio
import contextlib
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import select
from tests.support import ServerProcess

from benchmarks._beats import BeatFleet
from feedgate.auth.service import create_user
from feedgate.auth.signing import signed_params
from feedgate.failover.models import FailoverEvent
from feedgate.kit.db import Database
from feedgate.kit.migrate import upgrade

TIMEOUT_MS = 3000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


class Api:
    def __init__(self, base: str, user_id: str, api_key: str) -> None:
        self.http = httpx.Client(base_url=base + "/api/v4", timeout=30)
        self.user_id, self.api_key = user_id, api_key

    def call(self, method: str, path: str, json: object = None) -> dict:
        r = self.http.request(method, path, json=json, params=signed_params(self.user_id, self.api_key))
        r.raise_for_status()
        return r.json() if r.content else {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slicers", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--every", type=float, default=15, help="seconds between two silenced slicers")
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL and use it")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file (one instance)")
    args = parser.parse_args()
    cluster = None
    if args.postgres and not args.database_url:
        from tests.support import PostgresServer

        cluster = PostgresServer()
        args.database_url = cluster.create_database()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='feedgate-bench-')) / 'fleet.db'}"
    if url.startswith("sqlite") and args.instances != 1:
        sys.exit("SQLite serves one instance; use --database-url postgresql://... for several")
    upgrade(url)
    db = Database(url)
    with db.sessions() as session:
        user = create_user(session, "bench")
    servers = [ServerProcess(url, env_extra={"FEEDGATE_LOG_LEVEL": "warning"}).start()
               for _ in range(args.instances)]
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}; "
          f"{'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}, {args.instances} instance(s), "
          f"{args.slicers} slicers at 1 Hz, heartbeat_timeout_ms {TIMEOUT_MS}, {args.minutes} min")
    api = Api(servers[0].base_url, user.id, user.api_key)
    fleet = BeatFleet([s.base_url for s in servers], user.id, user.api_key, connections_per_server=64)
    groups = []
    for i in range(args.slicers // 2):
        g = api.call("POST", "/failover-groups", {"name": f"g{i}", "heartbeat_timeout_ms": TIMEOUT_MS,
                                                   "clear_after_ms": 1000, "blacklist_ms": 3_600_000})
        groups.append(g["id"])
        fleet.add(f"p{i}", g["id"])
        fleet.add(f"b{i}", g["id"])
    # Slicers come up one after another, as in a rollout: each registers (its first beat takes the checked,
    # transactional path) and then beats at 1 Hz. Registering them all from the fleet's shared connections
    # at once would queue steady beats behind registrations in this client (a real slicer has its own).
    for slicer in fleet.slicers.values():
        slicer.alive = False
    loop_thread = threading.Thread(target=lambda: asyncio.run(fleet.run(10 * 24 * 3600)), daemon=True)
    loop_thread.start()
    registered = time.monotonic()
    for slicer in fleet.slicers.values():
        api.call("PUT", f"/slicers/{slicer.slicer_id}/status",
                 {"hostname": f"{slicer.slicer_id}.bench", "failover_group_id": slicer.group_id})
        slicer.alive = True
    print(f"  registered {len(fleet.slicers)} slicers in {time.monotonic() - registered:.1f} s")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with db.reading() as conn:
            from feedgate.failover.models import FailoverGroup
            missing = conn.execute(select(FailoverGroup.id).where(FailoverGroup.active_slicer.is_(None))).first()
        if missing is None:
            break
        time.sleep(1)
    else:
        sys.exit("not every group had an active slicer within 120 s")
    print(f"  set up: {len(groups)} groups on air")
    time.sleep(3)
    reads: list[float] = []
    stop_reader = threading.Event()

    def reader() -> None:
        rng = random.Random(3)
        while not stop_reader.is_set():
            started = time.perf_counter()
            api.call("GET", f"/failover-groups/{rng.choice(groups)}")
            reads.append((time.perf_counter() - started) * 1000)
            stop_reader.wait(0.05)

    threading.Thread(target=reader, daemon=True).start()
    poller = Api(servers[-1].base_url, user.id, user.api_key)
    api_ms, engine_ms, victims, missed = [], [], set(), 0
    started = time.monotonic()
    window_start_ms = int(time.time() * 1000)
    index = 0
    while time.monotonic() - started < args.minutes * 60 and index < len(groups):
        gid = groups[index]
        index += 1
        body = poller.call("GET", f"/failover-groups/{gid}")
        victim = fleet.slicers[body["active_slicer_id"]]
        victims.add(gid)
        victim.alive = False
        time.sleep(0.05)  # an in-flight beat lands
        last = victim.last_sent
        give_up = time.monotonic() + 30
        while time.monotonic() < give_up:
            body = poller.call("GET", f"/failover-groups/{gid}")
            if body["active_slicer_id"] != victim.slicer_id:
                api_ms.append((time.time() - last) * 1000 - TIMEOUT_MS)
                engine_ms.append(body["failover_time"] - last * 1000 - TIMEOUT_MS)
                break
            time.sleep(0.01)
        else:
            missed += 1
        rest = args.every - (time.monotonic() - started) % args.every
        time.sleep(rest)
    stop_reader.set()
    elapsed = time.monotonic() - started
    with db.reading() as conn:
        switched = conn.execute(select(FailoverEvent.failover_group_id).where(
            FailoverEvent.kind.in_(("failover", "failback")), FailoverEvent.from_slicer_id.is_not(None),
            FailoverEvent.time >= window_start_ms)).scalars()
        spurious = sum(1 for g in switched if g not in victims)
    sent = sum(s.sent for s in fleet.slicers.values())
    errors = sum(s.errors for s in fleet.slicers.values())
    fleet.stop()
    print(f"  {len(api_ms)} failovers over {elapsed:.0f} s ({missed} silenced slicers not replaced within 30 s); "
          f"heartbeats acknowledged {sent:,} (errors {errors})")
    print(f"  over the timeout: API p50 {pct(api_ms, 50):.0f} ms  p99 {pct(api_ms, 99):.0f} ms  "
          f"max {max(api_ms):.0f} ms | engine p50 {pct(engine_ms, 50):.0f} ms  p99 {pct(engine_ms, 99):.0f} ms")
    print(f"  GET /failover-groups/{{id}} during the run: p50 {pct(reads, 50):.1f} ms  p99 {pct(reads, 99):.1f} ms "
          f"({len(reads)} reads, mean {statistics.fmean(reads):.1f} ms)")
    print(f"  spurious failovers: {spurious}")
    for s in servers:
        with contextlib.suppress(Exception):
            s.stop()
    db.dispose()
    if cluster is not None:
        cluster.stop()


if __name__ == "__main__":
    main()
