"""`/metrics` with a large fleet: scrape time and size with 5,000 slicers (2,500 groups of two), with the
per-slicer series on and off (FEEDGATE_METRICS_PER_SLICER), against a bare async FastAPI route in the same run.

Usage: python benchmarks/metrics_scrape.py [--slicers 5000] [--scrapes 20]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from tests.support import ServerProcess

from benchmarks._baseline import baseline_server
from feedgate.auth.service import create_user
from feedgate.failover.models import FailoverGroup, Slicer
from feedgate.kit.bulk import insert_rows
from feedgate.kit.db import Database
from feedgate.kit.ids import new_id
from feedgate.kit.migrate import upgrade
from feedgate.kit.time import utcnow


def fleet_db(slicers: int) -> str:
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='feedgate-bench-')) / 'metrics.db'}"
    upgrade(url)
    db = Database(url)
    with db.sessions() as session:
        owner = create_user(session, "ops").id
    now = utcnow()
    groups = [{"id": new_id(), "owner": owner, "name": f"channel {i:05}", "created": now, "updated": now}
              for i in range(slicers // 2)]
    rows = [{"id": new_id(), "owner": owner, "slicer_id": f"enc{i:05}{side}", "failover_group_id": g["id"],
             "order": 1 if side == "a" else 2, "hostname": f"enc{i}{side}.example"}
            for i, g in enumerate(groups) for side in "ab"]
    with db.sessions() as session, session.begin():
        insert_rows(session, FailoverGroup, groups)
        insert_rows(session, Slicer, rows)
    db.dispose()
    return url


def scrape(url: str, path: str, runs: int) -> tuple[list[float], int, int]:
    """Scrape as Prometheus does (Accept-Encoding: gzip): times, bytes on the wire, bytes of text."""
    times, wire, size = [], 0, 0
    with httpx.Client(base_url=url, timeout=60) as client:
        client.get(path)
        for _ in range(runs):
            started = time.perf_counter()
            r = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            wire, size = r.num_bytes_downloaded, len(r.content)
    return times, wire, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slicers", type=int, default=5000)
    parser.add_argument("--scrapes", type=int, default=20)
    args = parser.parse_args()
    url = fleet_db(args.slicers)
    with baseline_server() as bare:
        base, _, _ = scrape(bare, "/", args.scrapes)
    base_ms = statistics.median(base)
    print(f"{args.slicers} slicers in {args.slicers // 2} groups, SQLite; bare route median {base_ms:.2f} ms")
    for per_slicer in ("true", "false"):
        server = ServerProcess(url, env_extra={"FEEDGATE_LOG_LEVEL": "warning",
                                               "FEEDGATE_METRICS_PER_SLICER": per_slicer}).start()
        try:
            deadline = time.monotonic() + 30
            while "feedgate_group_slate" not in httpx.get(server.base_url + "/metrics", timeout=30).text:
                if time.monotonic() > deadline:
                    raise SystemExit("the engine never led: no fleet series")
                time.sleep(0.2)
            times, wire, size = scrape(server.base_url, "/metrics", args.scrapes)
        finally:
            server.stop()
        series = "per group and per slicer" if per_slicer == "true" else "per group only"
        median = statistics.median(times)
        print(f"  /metrics ({series}): median {median:.0f} ms, max {max(times):.0f} ms, {size / 1e6:.2f} MB of "
              f"text, {wire / 1e6:.2f} MB gzipped; ratio to the bare route {median / base_ms:.0f}x")


if __name__ == "__main__":
    main()
