"""The NOC wall at size (`python benchmarks/console_wall.py`): 1,000 groups, 2,000 slicers beating at 1 Hz.

Chromium (Debian's, through Playwright) shows `/console/wall?dense=1` at 1920x1080 while, `--kill-at` s into
the window, a site of `--site` slicers dies. Prints, over `--seconds`:
- the wall's frames per second (requestAnimationFrame) and its longest frame, and how long the tiles of
  the dead site took to turn amber or red on screen;
- the bytes per second of the wall's live stream, and of the overview's (cards and the ages vector);
- the server's CPU with the wall and an overview open, against the same window with no console open
  (the cost of live updates and true ages), both measured in this run.
"""

import argparse
import asyncio
import itertools
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import console_login

from benchmarks._beats import BeatFleet
from benchmarks._server import Api, ServerProcess
from feedgate.auth.service import create_user
from feedgate.kit.db import Database
from feedgate.kit.migrate import upgrade

FRAMES = """() => new Promise(done => {
  const times = []; const end = performance.now() + %d;
  function tick(t) { times.push(t); if (t < end) { requestAnimationFrame(tick); } else { done(times); } }
  requestAnimationFrame(tick);
})"""


WATCH = """() => { new MutationObserver(() => { const t = Date.now(); window.firstChange ??= t;
  window.lastChange = t; }).observe(document.getElementById("wall"), {childList: true, subtree: true}); }"""


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stream_bytes(base: str, cookies: httpx.Cookies, path: str, seconds: float,
                 out: dict[str, list[tuple[float, int]]]) -> None:
    """(seconds since the stream opened, bytes) for every chunk of a live stream."""
    with httpx.Client(base_url=base, cookies=cookies, timeout=seconds + 10) as web, \
            web.stream("GET", path) as stream:
        started = time.monotonic()
        for chunk in stream.iter_raw():
            out.setdefault(path, []).append((time.monotonic() - started, len(chunk)))
            if time.monotonic() - started > seconds:
                break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--site", type=int, default=100, help="primaries that die together (one site)")
    parser.add_argument("--kill-at", type=float, default=10)
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='feedgate-bench-')) / 'wall.db'}"
    upgrade(url)
    with Database(url).sessions() as session:
        user = create_user(session, "wall")
    server = ServerProcess(url, env_extra={"FEEDGATE_LOG_LEVEL": "warning"}).start()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; SQLite; "
          f"{args.groups} groups, {2 * args.groups} slicers at 1 Hz")
    api = Api(server.base_url, user.id, user.api_key)
    groups = [api.post("/failover-groups", {"name": f"ch{i:04d}"}).json()["id"] for i in range(args.groups)]
    fleet = BeatFleet([server.base_url], user.id, user.api_key, connections_per_server=32)
    for i, group_id in enumerate(groups):
        fleet.add(f"p{i}", group_id)
        fleet.add(f"b{i}", group_id)
    total = 25 + 2 * args.seconds + 20
    beats = threading.Thread(target=lambda: asyncio.run(fleet.run(total)), daemon=True)
    beats.start()
    time.sleep(25)  # every slicer joined and is healthy
    try:
        measure(server, user.id, user.api_key, fleet, args)
    finally:
        fleet.stop()
        server.stop()


def measure(server: ServerProcess, user_id: str, api_key: str, fleet: BeatFleet, args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    pid = server.proc.pid
    before = cpu_s(pid)
    time.sleep(args.seconds)
    idle_cpu = (cpu_s(pid) - before) / args.seconds
    with httpx.Client(base_url=server.base_url, follow_redirects=False) as web:
        assert console_login(web, user_id, api_key).status_code == 303
        cookies = web.cookies
    got: dict[str, list[tuple[float, int]]] = {}
    streams = [threading.Thread(target=stream_bytes, args=(server.base_url, cookies, path, args.seconds, got))
               for path in ("/console/wall/stream", "/console/stream?page=1")]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
        page.context.add_cookies([{"name": c.name, "value": c.value, "url": server.base_url} for c in cookies.jar])
        page.goto(server.base_url + "/console/wall?dense=1")
        page.wait_for_selector("[data-tile]")
        time.sleep(2)
        for t in streams:
            t.start()
        before = cpu_s(pid)
        page.evaluate(WATCH)
        killed: list[float] = []

        def kill() -> None:
            killed.append(time.time() * 1000)
            for i in range(args.site):  # one site: the primaries of `site` groups; their backups take over
                fleet.slicers[f"p{i}"].alive = False

        threading.Timer(args.kill_at, kill).start()
        frames = page.evaluate(FRAMES % int(args.seconds * 1000))
        busy_cpu = (cpu_s(pid) - before) / args.seconds
        not_ok = page.eval_on_selector_all('[data-tile]:not([data-severity="ok"])', "els => els.length")
        first, last = page.evaluate("[window.firstChange, window.lastChange]")
        page.screenshot(path="docs/console/wall.png")
        browser.close()
    for t in streams:
        t.join()
    gaps = [b - a for a, b in itertools.pairwise(frames)]
    fps = len(frames) / args.seconds
    print(f"wall: {fps:.0f} frames/s, longest frame {max(gaps):.0f} ms, frames over 50 ms: "
          f"{sum(1 for g in gaps if g > 50)}")
    if killed and first:
        print(f"site of {args.site} slicers killed at {args.kill_at:.0f} s: the first tile changed on screen "
              f"{(first - killed[0]) / 1000:.1f} s later, the last {(last - killed[0]) / 1000:.1f} s later; "
              f"{not_ok} tiles not green at the end")
    for path, chunks in got.items():
        first = sum(n for t, n in chunks if t < 2)
        steady = sum(n for t, n in chunks if t >= 2) / (args.seconds - 2)
        print(f"{path}: {first / 1024:.0f} KiB when opened (the whole page), then {steady / 1024:.2f} KiB/s "
              "(the site's failure included)")
    print(f"server CPU: {idle_cpu * 100:.0f} % of a core with no console open, {busy_cpu * 100:.0f} % with the "
          "wall in Chromium and the wall and overview streams open")


if __name__ == "__main__":
    main()
