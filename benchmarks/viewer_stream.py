"""The viewer's stream: signed media playlists per second, and many viewers polling at once.

A synthetic live origin (a thread of this process) answers a multivariant playlist and a media playlist
of 2 s segments computed from the clock, counting every fetch; segments are never fetched, since
feedgate serves playlists only. feedgate serves one channel whose active slicer announces that origin.

1. Throughput: signed media playlist requests (500 different viewers' tokens) against the bare async
   FastAPI route served by the same venv's uvicorn in the same run (wrk, 32 connections).
2. Viewers: N simulated players reloading their media playlists every target duration (2 s ±10 %),
   driven by wrk over 200 keep-alive connections (`--connections 0`: one per player), or without wrk
   an open-loop asyncio client over 200 connections. Reports the rate reached (N players ask N / 2 per
   second), p50/p99/max, and the origin's fetches per second: the same for 100 viewers as for 10,000
   (single-flight).

Usage: python benchmarks/viewer_stream.py [--seconds 8] [--viewers 100,2000,5000,10000] [--workers 1]
       [--connections 200 | 0 for one per player]
"""

import argparse
import asyncio
import contextlib
import http.server
import os
import platform
import random
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedgate.auth.tokens import token_query

SEGMENT_S = 2


class LiveOrigin:
    """A live HLS source made of arithmetic: 6 segments of 2 s ending now, numbered from the clock."""

    def __init__(self) -> None:
        self.fetches = 0
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                origin.fetches += 1
                if self.path.endswith("index.m3u8"):
                    body = ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,"
                            'CODECS="avc1.4d401f,mp4a.40.2"\nr0.m3u8\n')
                else:
                    now = int(time.time())
                    last = now // SEGMENT_S - 1
                    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{SEGMENT_S}",
                             f"#EXT-X-MEDIA-SEQUENCE:{last - 5}"]
                    for n in range(last - 5, last + 1):
                        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(n * SEGMENT_S))
                        lines += [f"#EXT-X-PROGRAM-DATE-TIME:{stamp}", f"#EXTINF:{SEGMENT_S}.000,", f"seg{n}.ts"]
                    body = "\n".join(lines) + "\n"
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.apple.mpegurl")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/live/index.m3u8"


@contextlib.contextmanager
def heartbeating(api: Any, group_id: str, hls_url: str) -> Iterator[None]:
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            with contextlib.suppress(Exception):
                api.heartbeat("bench-slicer", group_id, hls_url=hls_url)
            stop.wait(1.0)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


async def players(host: str, port: int, paths: list[str], viewers: int, seconds: float,
                  connections: int = 200) -> dict[str, float]:
    """`viewers` players reloading every SEGMENT_S seconds, spread evenly, over `connections` sockets."""
    latencies: list[float] = []
    failures = 0
    start = time.perf_counter() + 0.5
    per_connection = [list(range(i, viewers, connections)) for i in range(min(connections, viewers))]

    async def connection(members: list[int]) -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(host, port)
        # Each viewer is due at its own phase in the reload period; this socket serves its viewers in turn.
        schedule = sorted((start + (v / viewers) * SEGMENT_S, v) for v in members)
        rounds = 0
        while True:
            for due_base, viewer in schedule:
                due = due_base + rounds * SEGMENT_S
                if due > start + seconds:
                    writer.close()
                    return
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                path = paths[viewer % len(paths)]
                writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                await reader.readexactly(length)
                if not head.startswith(b"HTTP/1.1 200"):
                    failures += 1
                latencies.append(time.perf_counter() - due)  # from when it was due: queueing counts
            rounds += 1

    began = time.perf_counter()
    await asyncio.gather(*(connection(members) for members in per_connection))
    took = time.perf_counter() - began
    latencies.sort()
    pick = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000) if latencies else None
    return {"requests": len(latencies), "rps": len(latencies) / max(took, 1e-9), "failures": failures,
            "p50_ms": pick(0.5) if pick else 0, "p99_ms": pick(0.99) if pick else 0,
            "max_ms": latencies[-1] * 1000 if latencies else 0}


def paced_wrk(base_url: str, paths: list[str], viewers: int, seconds: float, connections: int) -> dict[str, float]:
    """The same players driven by wrk (C, so the client takes little of the machine) over `connections`
    keep-alive sockets (0: one per player, as players without an edge in between have), each carrying
    viewers/connections players: a request every SEGMENT_S * connections / viewers (±10 %), after a first
    one spread over the first period. Closed loop (wrk counts latency from the send), so the rate
    reached also says whether the server kept up: N players ask N / 2 a second."""
    import re
    import resource
    import subprocess
    import tempfile

    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 200
    connections = min(viewers, limit) if connections <= 0 else min(connections, viewers)
    period_ms = round(SEGMENT_S * 1000 * connections / viewers)
    rows = ",\n".join(f"[==[{p}]==]" for p in paths)
    script = Path(tempfile.mkdtemp()) / "players.lua"
    script.write_text(f"""
local paths = {{
{rows}
}}
local n, started = 0, 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
delay = function()
  started = started + 1
  if started <= {connections} then return math.random(0, {period_ms}) end  -- each player's first request
  return math.random({period_ms * 9 // 10}, {period_ms * 11 // 10})
end
local bad = 0
response = function(status, headers, body) if status ~= 200 then bad = bad + 1 end end
done = function(summary, latency, requests)
  io.write(string.format("BAD %d\\nP50 %d\\nP99 %d\\nMAX %d\\n", bad, latency:percentile(50),
           latency:percentile(99), latency.max))
end
""")
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                          "-s", str(script), base_url], capture_output=True, text=True, check=True).stdout
    found = {k: int(v) for k, v in re.findall(r"^(BAD|P50|P99|MAX) (\d+)$", out, re.M)}
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "failures": found["BAD"], "p50_ms": found["P50"] / 1000, "p99_ms": found["P99"] / 1000,
            "max_ms": found["MAX"] / 1000}


def main() -> None:
    from benchmarks._baseline import baseline_server
    from benchmarks._load import rate
    from benchmarks._server import Api, ServerProcess, sqlite_backend

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--viewers", default="100,2000,5000,10000")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=200, help="0: one per player")
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.python_implementation()} {platform.python_version()}")
    origin = LiveOrigin()
    with sqlite_backend() as backend, baseline_server() as bare:
        api = backend.new_user("bench")
        group = api.make_group("bench")
        channel = api.make_channel("bench")
        api.put(f"/failover-groups/{group['id']}/channels", {"channels_ids_to_add": [channel["id"]]})
        server = backend.server
        if args.workers > 1:
            server.stop()
            server = ServerProcess(backend.database_url, env_extra={
                "FEEDGATE_LOG_LEVEL": "warning", "FEEDGATE_WORKERS": str(args.workers),
                "PATH": os.environ.get("PATH", "")}).start()
            api = Api(server.base_url, api.user_id, api.api_key)
        with heartbeating(api, group["id"], origin.url):
            deadline = time.monotonic() + 15
            while api.group(group["id"])["active_slicer_id"] != "bench-slicer":
                if time.monotonic() > deadline:
                    raise RuntimeError("the bench slicer never went on air")
                time.sleep(0.2)
            rng = random.Random(3)
            paths = []
            for _ in range(500):
                query = token_query(api.user_id, api.api_key, channel["id"], ttl_s=3600,
                                    extras={"repl.cbcc": rng.choice(["US", "CA", "GB", "DE", "FR"]),
                                            "repl.cbzip": f"{rng.randrange(100000):05d}"})
                paths.append(f"/channel/{channel['id']}/0.m3u8?{query}")
            import httpx

            deadline = time.monotonic() + 15  # the slicer's segments start at the first one after it went on air
            while "seg" not in (sample := httpx.get(server.base_url + paths[0])).text:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no segment of the source listed:\n{sample.text}")
                time.sleep(0.5)
            rate(server.base_url, [("GET", p, None) for p in paths], 1)  # warm up
            base = rate(bare, [("GET", "/", None)], args.seconds)
            media = rate(server.base_url, [("GET", p, None) for p in paths], args.seconds)
            print(f"throughput (32 connections, load generator on the same machine, {args.workers} worker(s)):")
            for name, figures in (("bare async route", base), ("signed media playlist", media)):
                extra = f"  p50 {figures['p50_ms']:.2f} ms  p99 {figures['p99_ms']:.2f} ms" if "p50_ms" in figures \
                    else ""
                print(f"  {name:<24} {figures['rps']:>8,.0f} req/s{extra}")
            print(f"  ratio media playlist / bare async route: {media['rps'] / base['rps']:.2f}")
            port = int(server.base_url.rsplit(":", 1)[1])
            how = ("open loop, 200 connections" if args.client != "wrk" else "wrk, a connection per player"
                   if args.connections <= 0 else f"wrk, {args.connections} connections")
            print(f"players reloading every {SEGMENT_S} s ({how}), {args.seconds:.0f} s each:")
            print(f"  {'viewers':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'failed':>7} "
                  f"{'origin fetches/s':>17}")
            for count in (int(v) for v in args.viewers.split(",")):
                before, started = origin.fetches, time.perf_counter()
                if args.client == "wrk":
                    got = paced_wrk(server.base_url, paths, count, args.seconds, args.connections)
                else:
                    got = asyncio.run(players("127.0.0.1", port, paths, count, args.seconds))
                fetches = (origin.fetches - before) / (time.perf_counter() - started)
                print(f"  {count:>8,} {got['rps']:>8,.0f} {got['p50_ms']:>8.1f} {got['p99_ms']:>8.1f} "
                      f"{got['max_ms']:>8.1f} {got['failures']:>7} {fetches:>17.1f}")
        if server is not backend.server:
            server.stop()


if __name__ == "__main__":
    main()
