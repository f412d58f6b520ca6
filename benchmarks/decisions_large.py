"""Decisions at a real operator's size (`python benchmarks/decisions.py --config large`).

Built through the API: 1,000 channels, 5,000 audiences (20 of a whole state's 40,000 zips, 200 of 200 DMAs,
the rest small), 200 superaudiences over them, 200 rules shared by the blackouts of 100 channels (200 rules
each), 10 % of the channels in a blackout. Prints: the time to create a 40,000-zip audience, the compiled
state's memory and build time, signed decisions/s over HTTP for five kinds of viewer with the ratio to a bare
async route of the same run, how long one rule's change takes to reach decisions on both processes of
`--workers 2`, and the worst latency a viewer of another channel saw meanwhile.
"""

import gc
import random
import statistics
import threading
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlencode

import httpx

from benchmarks._baseline import baseline_server
from benchmarks._load import rate
from benchmarks._server import Api, ServerProcess, sqlite_backend
from benchmarks.decisions import viewer_kinds
from feedgate.auth.signing import signed_params
from feedgate.failover.registry import Registry
from feedgate.kit.db import Database
from feedgate.playback.state import DecisionState
from feedgate.settings import Settings

STATE_ZIPS = [f"{i:05d}" for i in range(10000, 50000)]


def build(api, rng: random.Random) -> tuple[list[str], list[str], dict[str, float]]:  # type: ignore[no-untyped-def]
    figures: dict[str, float] = {}
    channels = [api.make_channel(f"ch{i}")["id"] for i in range(1000)]
    audiences: list[str] = []
    started = time.perf_counter()
    for i in range(20):
        t = time.perf_counter()
        r = api.post("/audiences", {"desc": f"state {i}", "match_type": "ANY",
                                    "zip_codes": STATE_ZIPS[i * 500:] + STATE_ZIPS[:i * 500]})
        assert r.status_code == 201, r.text
        figures.setdefault("state_audience_ms", (time.perf_counter() - t) * 1000)
        audiences.append(r.json()["id"])
    for i in range(200):
        dmas = [str(500 + (i + k) % 300) for k in range(200)]
        audiences.append(api.post("/audiences", {"desc": f"region {i}", "dma_codes": dmas}).json()["id"])
    while len(audiences) < 5000:
        i = len(audiences)
        body = {"desc": f"a{i}", "match_type": "ALL", "country_codes": ["US"],
                "zip_codes": [f"{rng.randrange(100000):05d}" for _ in range(20)], "devices": ["roku", "ios"]}
        audiences.append(api.post("/audiences", body).json()["id"])
    figures["audiences_s"] = time.perf_counter() - started
    supers = []
    for i in range(200):
        subs = rng.sample(audiences[220:], 3)
        supers.append(api.post("/audiences", {"desc": f"super {i}", "type": "Multiple", "match_type": "ANY",
                                              "sub_audiences": subs}).json()["id"])
    pool = audiences[:20] + audiences[20:220:4] + audiences[220:300] + supers[:50]
    rules = [api.post("/rules", {"desc": f"r{i}", "audience": pool[i % len(pool)]}).json()["id"]
             for i in range(200)]
    for ch in channels[:100]:
        assert api.post(f"/channels/{ch}/blackouts", {"blackout_id": "B", "rules": rules}).status_code == 201
        assert api.put(f"/channels/{ch}/program", {"blackout_id": "B"}).status_code in (200, 201)
    return channels, rules, figures


def propagation(url: str, api, channel: str, rule: str, other: str) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """Change one rule's content; seconds from the change until the first of 30 fresh connections in a row
    (both workers) answered the new content, and the worst and median latency a probe on another channel saw
    meanwhile (an upper bound of how long the change stalled the event loops)."""
    stop, probe = threading.Event(), []

    def watch() -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            while not stop.is_set():
                q = {**signed_params(api.user_id, api.api_key), "repl.cbcc": "US", "repl.cbzip": "99999"}
                t = time.perf_counter()
                c.get(f"/api/v4/channels/{other}/playback", params=q)
                probe.append((time.perf_counter() - t) * 1000)
                time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    time.sleep(1)
    before = len(probe)
    zip_code = STATE_ZIPS[0]
    started = time.perf_counter()
    r = api.patch(f"/rules/{rule}", {"alternate_content_type": "channel", "alternate_content_id": other})
    assert r.status_code == 200, r.text
    seen, streak_from = 0, 0.0
    while seen < 30:
        q = {**signed_params(api.user_id, api.api_key), "repl.cbcc": "US", "repl.cbzip": zip_code}
        asked = time.perf_counter()
        answer = httpx.get(f"{url}/api/v4/channels/{channel}/playback", params=q, timeout=30).json()
        if answer["content"]["type"] != "channel":
            seen = 0
        elif seen == 0:
            seen, streak_from = 1, asked
        else:
            seen += 1
    took = streak_from - started
    time.sleep(0.5)
    stop.set()
    watcher.join()
    during = probe[before:]
    return took, max(during), statistics.median(probe[:before])


def change_under_load(url: str, api, other: str, rule: str) -> tuple[dict[str, float], dict[str, float]]:  # type: ignore[no-untyped-def]
    """Viewers of another channel under wrk load on both processes: 6 s without a change, then 6 s with one
    rule's change (its content back to slate) 2 s in."""
    path = f"/api/v4/channels/{other}/playback"
    requests = [("GET", f"{path}?" + urlencode({**signed_params(api.user_id, api.api_key), "repl.cbcc": "US",
                                                  "repl.cbzip": f"{60000 + i:05d}"}), None) for i in range(300)]
    rate(url, requests, 1)
    quiet = rate(url, requests, 6)
    during: dict[str, float] = {}
    load = threading.Thread(target=lambda: during.update(rate(url, requests, 6)))
    load.start()
    time.sleep(2)
    r = api.patch(f"/rules/{rule}", {"alternate_content_type": "slate", "alternate_content_id": ""})
    assert r.status_code == 200, r.text
    load.join()
    return quiet, during


def listing(api, pid: int) -> str:  # type: ignore[no-untyped-def]
    """The first page of audiences (the 20 of 40,000 zips among them): time, size, the server's memory."""
    def rss_mib(field: str) -> float:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
        return 0.0

    before = rss_mib("VmRSS:")
    t = time.perf_counter()
    r = api.get("/audiences", params={"page_size": 40})
    took = time.perf_counter() - t
    assert r.status_code == 200, r.text
    zips = sum(len(item["zip_codes"]) for item in r.json()["items"])
    return (f"GET /audiences?page_size=40 (a page of the largest: {zips:,} zips): {took * 1000:.0f} ms, "
            f"{len(r.content) / 2**20:.1f} MiB; server RSS {before:.0f} -> {rss_mib('VmRSS:'):.0f} MiB "
            f"(peak {rss_mib('VmHWM:'):.0f})")


def builds(database_url: str) -> dict[str, float]:
    """The server's own builds (`DecisionState.rebuild`): the first, from the database; again with nothing
    changed (every audience row and compiled matcher reused); and one in which every blackout's matcher is
    made again (the worst a change can cost), in a thread while this thread keeps a 1 ms timer, whose worst
    overshoot is how long the build kept an event loop of the same process from running."""
    def state() -> DecisionState:
        return DecisionState(Database(database_url), Settings(database_url=database_url),
                             Registry(Database(database_url)))

    figures: dict[str, float] = {}
    gc.collect()
    tracemalloc.start()
    kept = state()
    kept.rebuild()
    figures["mib"] = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    del kept
    gc.collect()
    measured = state()
    t = time.perf_counter()
    measured.rebuild()
    figures["first_s"] = time.perf_counter() - t
    measured.invalidate()
    t = time.perf_counter()
    measured.rebuild()
    figures["unchanged_s"] = time.perf_counter() - t
    measured.snapshot().compiled.clear()  # as if the rules of every blackout had changed
    measured.invalidate()
    worst, started = 0.0, time.perf_counter()
    builder = threading.Thread(target=measured.rebuild)
    builder.start()
    while builder.is_alive():
        t = time.perf_counter()
        time.sleep(0.001)
        worst = max(worst, (time.perf_counter() - t) * 1000 - 1)
    figures["recompile_s"], figures["stall_ms"] = time.perf_counter() - started, worst
    return figures


def main(seconds: float) -> None:
    rng = random.Random(7)
    with sqlite_backend() as backend, baseline_server() as bare:
        api = backend.new_user("rights")
        t = time.perf_counter()
        channels, rules, figures = build(api, rng)
        print(f"large configuration built through the API in {time.perf_counter() - t:.0f} s "
              f"(5,000 audiences in {figures['audiences_s']:.0f} s; one 40,000-zip audience "
              f"{figures['state_audience_ms']:.0f} ms)")
        b = builds(backend.database_url)
        print(f"decision state: {b['mib']:.0f} MiB (tracemalloc); built from the database in {b['first_s']:.2f} s; "
              f"again with nothing changed {b['unchanged_s']:.2f} s; with every blackout compiled again "
              f"{b['recompile_s']:.2f} s, during which a 1 ms timer on the same process overshot by "
              f"{b['stall_ms']:.1f} ms at worst")
        print(listing(api, backend.server.proc.pid))
        base = rate(bare, [("GET", "/", None)], seconds)
        print(f"bare async route: {base['rps']:,.0f} req/s")
        kinds = viewer_kinds(api, channels[0], [STATE_ZIPS], rng, outside=lambda: f"{rng.randrange(60000, 99999):05d}")
        for kind, requests in kinds.items():
            rate(backend.server.base_url, requests, 1)
            got = rate(backend.server.base_url, requests, seconds)
            print(f"  {kind:<26} {got['rps']:>7,.0f} req/s  p99 {got.get('p99_ms', 0):6.1f} ms  "
                  f"ratio {got['rps'] / base['rps']:.2f}")
        backend.server.stop()
        two = ServerProcess(backend.database_url, env_extra={"FEEDGATE_LOG_LEVEL": "warning",
                                                             "FEEDGATE_WORKERS": "2"}).start()
        try:
            time.sleep(3)
            on_two = Api(two.base_url, api.user_id, api.api_key)  # the one-process server is gone
            took, worst, usual = propagation(two.base_url, on_two, channels[0], rules[0], channels[500])
            quiet, during = change_under_load(two.base_url, on_two, channels[1], rules[0])
        finally:
            two.stop()
        print(f"one rule's change reached decisions on both processes in {took:.2f} s; a viewer of another "
              f"channel meanwhile: worst {worst:.1f} ms (median before {usual:.1f} ms)")
        print(f"viewers of another channel under wrk load on both processes: p99 {quiet['p99_ms']:.1f} ms, max "
              f"{quiet['max_ms']:.1f} ms without a change; p99 {during['p99_ms']:.1f} ms, max "
              f"{during['max_ms']:.1f} ms with one rule's change in the middle ({quiet['rps']:,.0f} and "
              f"{during['rps']:,.0f} req/s)")
