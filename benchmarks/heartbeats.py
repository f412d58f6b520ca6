"""Heartbeat ingest over HTTP: signed `PUT /api/v4/slicers/{id}/status` vs a bare async route, same run.

200 registered slicers (100 groups of two), wrk with 32 connections replaying signed heartbeats
(each signature stays valid for the ±300 s window). Prints both rates, p50/p99 and the ratio.
With `--instances 2` (PostgreSQL), it also loads two `feedgate serve` processes on one database at
once (16 connections each) and prints their combined rate against one instance's.

Usage: python benchmarks/heartbeats.py [--seconds 5] [--postgres | --database-url URL] [--instances 1|2]
"""

import argparse
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import ServerProcess

from benchmarks._baseline import baseline_server
from benchmarks._load import rate
from benchmarks._server import backend_for
from feedgate.auth.signing import signed_params

Request = tuple[str, str, dict]


def fleet_requests(api) -> list[Request]:  # type: ignore[no-untyped-def]
    requests = []
    for i in range(100):
        g = api.make_group(f"g{i}", heartbeat_timeout_ms=60_000)
        for role in ("p", "b"):
            body = {"hostname": "h", "failover_group_id": g["id"], "signals": {"input_loss_ms": 0}}
            assert api.put(f"/slicers/{role}{i}/status", body).status_code == 200
            for _ in range(5):
                query = urlencode(signed_params(api.user_id, api.api_key))
                requests.append(("PUT", f"/api/v4/slicers/{role}{i}/status?{query}", body))
    return requests


def show(name: str, f: dict[str, float]) -> None:
    print(f"  {name:<26} {f['rps']:>8,.0f} req/s  p50 {f.get('p50_ms', 0):.2f} ms  p99 {f.get('p99_ms', 0):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL and use it")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--instances", type=int, default=1, choices=(1, 2))
    args = parser.parse_args()
    cluster = None
    if args.postgres and not args.database_url:
        from tests.support import PostgresServer

        cluster = PostgresServer()
        args.database_url = cluster.create_database()
    if args.instances == 2 and not args.database_url:
        sys.exit("two instances share one PostgreSQL database: pass --database-url postgresql://...")
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}; "
          f"database: {'PostgreSQL' if args.database_url else 'SQLite'}")
    with backend_for(args.database_url) as b, baseline_server() as bare:
        api = b.new_user("bench")
        requests = fleet_requests(api)
        time.sleep(1.5)
        rate(b.server.base_url, requests, 1)  # warm up
        base = rate(bare, [("GET", "/", None)], args.seconds)
        beats = rate(b.server.base_url, requests, args.seconds)
        show("bare async route", base)
        show("signed heartbeat", beats)
        print(f"  ratio heartbeat / bare route: {beats['rps'] / base['rps']:.2f}")
        if args.instances == 2:
            second = ServerProcess(b.database_url, env_extra={"FEEDGATE_LOG_LEVEL": "warning"}).start()
            try:
                time.sleep(1.5)
                rate(second.base_url, requests, 1)
                with ThreadPoolExecutor(2) as pool:
                    both = list(pool.map(lambda url: rate(url, requests, args.seconds, connections=16),
                                         [b.server.base_url, second.base_url]))
                total = sum(f["rps"] for f in both)
                show("instance 1 of 2", both[0])
                show("instance 2 of 2", both[1])
                print(f"  two instances together: {total:,.0f} req/s = {total / beats['rps']:.2f}x one instance")
            finally:
                second.stop()
    if cluster is not None:
        cluster.stop()


if __name__ == "__main__":
    main()
