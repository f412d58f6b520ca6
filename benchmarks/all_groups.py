"""`GET /api/v4/failover-groups` without paging ("Retrieves all failover groups"): time and server memory with
5,000 groups of two slicers, against one page of 40 in the same run (the baseline: a client paging through
would need total / 40 such requests).

Usage: python benchmarks/all_groups.py [--groups 5000] [--postgres]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks._server import backend_for
from feedgate.auth.signing import signed_params
from feedgate.failover.models import FailoverGroup, Slicer
from feedgate.kit.bulk import insert_rows
from feedgate.kit.ids import new_id
from feedgate.kit.time import utcnow


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(client: httpx.Client, user: str, key: str, params: dict[str, str], runs: int) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        r = client.get("/api/v4/failover-groups", params={**signed_params(user, key), **params})
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text
        size = len(r.content)
    return times, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=5000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    database_url = None
    if args.postgres:
        from tests.support import PostgresServer

        database_url = PostgresServer().create_database()
    with backend_for(database_url) as backend:
        api = backend.new_user("lister")
        now = utcnow()
        groups = [{"id": new_id(), "owner": api.user_id, "name": f"group {i:05}", "created": now, "updated": now}
                  for i in range(args.groups)]
        slicers = [{"id": new_id(), "owner": api.user_id, "slicer_id": f"s{i:05}{side}", "failover_group_id": g["id"],
                    "order": 1 if side == "a" else 2, "hostname": f"s{i}{side}.example"}
                   for i, g in enumerate(groups) for side in "ab"]
        with backend.db.sessions() as session, session.begin():
            insert_rows(session, FailoverGroup, groups)
            insert_rows(session, Slicer, slicers)
        pid = backend.server.proc.pid
        with httpx.Client(base_url=backend.server.base_url, timeout=120) as client:
            bare = [client.get("/healthz").status_code for _ in range(3)]  # warm the connection
            assert bare == [200, 200, 200]
            before = rss_mib(pid)
            whole, size = timed(client, api.user_id, api.api_key, {}, 5)
            after = rss_mib(pid)
            page, page_size = timed(client, api.user_id, api.api_key, {"page_size": "40"}, 20)
        print(f"{args.groups} groups, {'PostgreSQL' if args.postgres else 'SQLite'}")
        print(f"  all groups, no paging: median {statistics.median(whole):.0f} ms, max {max(whole):.0f} ms, "
              f"{size / 1e6:.1f} MB of JSON; server RSS {before:.0f} -> {after:.0f} MiB")
        per_page = statistics.median(page)
        pages = -(-args.groups // 40)
        print(f"  one page of 40:        median {per_page:.1f} ms ({page_size / 1e3:.0f} kB); paging through all "
              f"{pages} pages: ~{per_page * pages:.0f} ms; ratio all / paging through: "
              f"{statistics.median(whole) / (per_page * pages):.2f}")


if __name__ == "__main__":
    main()
