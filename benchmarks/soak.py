"""Longer hostile runs against a real `feedgate serve` (SQLite by default): what a client sees, what is lost.

1. Bursts: every second, 200 simultaneous mixed reads and writes (create groups and channels, read
   groups, audiences, channel lists), for `--minutes`; errors, p99 per burst, and every acknowledged
   write read back at the end.
2. Flood: 100,000 requests to distinct paths (signed, unsigned, unmatched, made-up methods);
   `/metrics` series and size, and the server's resident memory, before and after.
3. Slow clients: twice the connection cap of connections sending headers a byte a second, for
   `--slow-seconds`; `/healthz` probed every second (how often it answered within 1 s, and the
   longest outage).

Prints one table row per scenario; the figures go in docs/reliability.md.

Usage: python benchmarks/soak.py [--minutes 2] [--slow-seconds 30] [--postgres]
"""

import argparse
import asyncio
import contextlib
import json
import platform
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from tests.support import Api, burst, mixed_requests, started_backend


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def series(base: str) -> tuple[int, int]:
    text = httpx.get(base + "/metrics", timeout=30).text
    return sum(1 for line in text.splitlines() if line and not line.startswith("#")), len(text)


def bursts(api: Api, base: str, minutes: float) -> None:
    group = api.make_group("soak")
    audience = api.post("/audiences", {"desc": "soak", "country_codes": ["US"]}).json()
    made: list[tuple[str, str]] = []
    worst, errors, count = 0.0, 0, 0
    ends = time.monotonic() + minutes * 60
    while time.monotonic() < ends:
        started = time.monotonic()
        plan = mixed_requests(group["id"], audience["id"])
        signed = [(m, f"/api/v4{p}?{urlencode(api.params())}", b) for m, p, b in plan]
        results = burst(base, signed)
        times = sorted(t for _, _, t in results)
        worst = max(worst, times[197])
        for (method, path, _), (status, body, _) in zip(plan, results, strict=True):
            count += 1
            if status >= 400:
                errors += 1
            elif method == "POST":
                made.append((path, json.loads(body)["id"]))
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
    lost = sum(1 for path, item in made if api.get(f"{path}/{item}").status_code != 200)
    print(f"| bursts of 200, {minutes:g} min | {count:,} requests, {errors} errors, worst burst p99 "
          f"{worst:.2f} s | — | {lost} of {len(made):,} acknowledged writes missing |")


def flood(api: Api, base: str, pid: int, total: int) -> None:
    before_series, before_size = series(base)
    before_rss = rss_mib(pid)
    channel = api.make_channel("flood")

    async def run() -> None:
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
            async def worker(start: int) -> None:
                for n in range(start, total, 16):
                    kind = n % 4
                    with contextlib.suppress(httpx.HTTPError):
                        if kind == 0:
                            await client.get(f"/api/v4/channels/{channel['id']}/blackouts{n:06d}",
                                             params=api.params())
                        elif kind == 1:
                            await client.get(f"/api/v4/channels/{n:032x}")
                        elif kind == 2:
                            await client.get(f"/nothing/{n}")
                        else:
                            await client.request(f"X{n % 97}", f"/api/v4/channels/{n}")

            await asyncio.gather(*(worker(i) for i in range(16)))

    started = time.monotonic()
    asyncio.run(run())
    after_series, after_size = series(base)
    after_rss = rss_mib(pid)
    print(f"| {total:,} distinct paths | {time.monotonic() - started:.0f} s, all answered | series "
          f"{before_series} → {after_series}, /metrics {before_size / 1024:.0f} → {after_size / 1024:.0f} KiB | "
          f"RSS {before_rss:.0f} → {after_rss:.0f} MiB |")


def slow_clients(base: str, port: int, cap: int, seconds: float, header_timeout: float) -> None:
    stop = threading.Event()
    opened = [0]

    def trickle() -> None:
        socks: list[socket.socket] = []
        while not stop.is_set():
            while len(socks) < cap * 2:
                with contextlib.suppress(OSError):
                    s = socket.create_connection(("127.0.0.1", port), timeout=1)
                    s.setblocking(False)
                    socks.append(s)
                    opened[0] += 1
            for s in list(socks):
                try:
                    s.send(b"X")
                except OSError:
                    socks.remove(s)
                    s.close()
            stop.wait(1.0)
        for s in socks:
            s.close()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    answered, probes, outage, longest = 0, 0, 0.0, 0.0
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        probes += 1
        started = time.monotonic()
        try:
            ok = httpx.get(base + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            ok = False
        if ok:
            answered += 1
            outage = 0.0
        else:
            outage += max(1.0, time.monotonic() - started)
            longest = max(longest, outage)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
    stop.set()
    thread.join()
    print(f"| {cap * 2} slow connections (cap {cap}), {seconds:g} s | /healthz answered {answered} of {probes} "
          f"probes within 1 s, longest gap {longest:.0f} s (header timeout {header_timeout:g} s) | "
          f"{opened[0]:,} slow connections opened | nothing (no state involved) |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=2)
    parser.add_argument("--flood", type=int, default=100_000)
    parser.add_argument("--slow-seconds", type=float, default=30)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    cluster = None
    if args.postgres:
        from tests.support import PostgresServer

        cluster = PostgresServer()
        url = cluster.create_database()
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='feedgate-soak-')) / 'soak.db'}"
    cap, header_timeout = 400, 5.0
    env = {"FEEDGATE_MAX_CONNECTIONS": str(cap), "FEEDGATE_HEADER_TIMEOUT_S": str(header_timeout),
           "FEEDGATE_LOG_LEVEL": "warning"}
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}; "
          f"{'PostgreSQL' if args.postgres else 'SQLite'}")
    print("| run | what a client saw | server | lost |")
    print("|---|---|---|---|")
    with started_backend("soak", url, **env) as b:
        api = b.new_user("soak")
        assert b.server.proc is not None
        bursts(api, b.server.base_url, args.minutes)
        flood(api, b.server.base_url, b.server.proc.pid, args.flood)
        slow_clients(b.server.base_url, b.server.port, cap, args.slow_seconds, header_timeout)
    if cluster is not None:
        cluster.stop()


if __name__ == "__main__":
    main()
