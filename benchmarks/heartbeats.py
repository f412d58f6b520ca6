"""Heartbeat ingest over HTTP: signed `PUT /api/v4/slicers/{id}/status` vs a bare async route, same run.

200 registered slicers (100 groups of two), wrk with 32 connections replaying signed heartbeats
(each signature stays valid for the ±300 s window). Prints both rates, p50/p99 and the ratio.

Usage: python benchmarks/heartbeats.py [--seconds 5] [--database-url URL]
"""

import argparse
import platform
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._baseline import baseline_server
from benchmarks._load import rate
from benchmarks._server import backend_for
from feedgate.auth.signing import signed_params


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}; "
          f"database: {'PostgreSQL' if args.database_url else 'SQLite'}")
    with backend_for(args.database_url) as b, baseline_server() as bare:
        api = b.new_user("bench")
        requests = []
        for i in range(100):
            g = api.make_group(f"g{i}", heartbeat_timeout_ms=60_000)
            for role in ("p", "b"):
                body = {"hostname": "h", "failover_group_id": g["id"], "signals": {"input_loss_ms": 0}}
                assert api.put(f"/slicers/{role}{i}/status", body).status_code == 200
                for _ in range(5):
                    query = urlencode(signed_params(api.user_id, api.api_key))
                    requests.append(("PUT", f"/api/v4/slicers/{role}{i}/status?{query}", body))
        time.sleep(1.5)
        rate(b.server.base_url, requests, 1)  # warm up
        base = rate(bare, [("GET", "/", None)], args.seconds)
        beats = rate(b.server.base_url, requests, args.seconds)
        for name, f in (("bare async route", base), ("signed heartbeat", beats)):
            print(f"  {name:<18} {f['rps']:>8,.0f} req/s  p50 {f.get('p50_ms', 0):.2f} ms  "
                  f"p99 {f.get('p99_ms', 0):.2f} ms")
        print(f"  ratio heartbeat / bare route: {beats['rps'] / base['rps']:.2f}")


if __name__ == "__main__":
    main()
