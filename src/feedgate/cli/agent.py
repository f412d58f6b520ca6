"""`feedgate slicer-agent`, `feedgate simulate` and `feedgate demo`."""

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.console import Group
from rich.live import Live

from feedgate.cli.fleet import Fleet, probe_signals
from feedgate.cli.output import client, console, err, events_table, friendly, group_panel
from feedgate.cli.video import Origin, start_encoders
from feedgate.client import FeedgateClient


@friendly
def slicer_agent(slicer_id: str = typer.Option(..., "--slicer-id"), group: str = typer.Option(..., "--group"),
                 interval_ms: int = typer.Option(1000, "--interval-ms", min=50),
                 probe: str | None = typer.Option(None, "--probe", help="Live Slicer status URL (JSON)."),
                 hostname: str = typer.Option(os.uname().nodename, "--hostname"),
                 hls_url: str | None = typer.Option(None, "--hls-url",
                                                    help="The slicer's HLS multivariant playlist (viewers are "
                                                         "served from it: /channel/{id}.m3u8)."),
                 count: int = typer.Option(0, "--count", help="Stop after N heartbeats (0: until Ctrl-C).")) -> None:
    """Heartbeat for one slicer, with signals from --probe or synthetic ones (all clear)."""
    last_ok = int(time.time() * 1000)
    sent = 0
    with client() as c:
        try:
            while count == 0 or sent < count:
                signals: dict[str, float] = {}
                if probe:
                    signals, ok = probe_signals(probe, last_ok)
                    if ok:
                        last_ok = int(time.time() * 1000)
                answer = c.heartbeat(slicer_id, hostname, group, signals, hls_url=hls_url)
                sent += 1
                console.print(f"{slicer_id}: role={answer.role} interval={answer.heartbeat_interval_ms}ms "
                              f"signals={signals}", highlight=False)
                time.sleep(min(interval_ms, answer.heartbeat_interval_ms) / 1000)
        except KeyboardInterrupt:
            pass


@friendly
def simulate(groups: int = typer.Option(1, "--groups", min=1), slicers_per_group: int = typer.Option(3,
             "--slicers-per-group", min=1), interval_ms: int = typer.Option(1000, "--interval-ms", min=50),
             heartbeat_timeout_ms: int = typer.Option(3000, "--heartbeat-timeout-ms", min=100),
             hls_url: str | None = typer.Option(None, "--hls-url", help="Each slicer's HLS playlist: a template "
                                                "with {slicer}, {group} and {index} (its place in its group)."),
             duration: float | None = typer.Option(None, "--duration", help="Seconds; default until quit.")) -> None:
    """Drive many simulated slicers. Type `kill G S`, `revive G S`, `status` or `quit` (G, S from 0)."""
    with client() as c:
        made = [c.create_group(f"sim-{i}", heartbeat_timeout_ms=heartbeat_timeout_ms) for i in range(groups)]
        fleet = Fleet(c.base_url, c.user_id, c.api_key, interval_ms)
        tag = secrets.token_hex(2)
        for gi, g in enumerate(made):
            for si in range(slicers_per_group):
                slicer_id = f"sim{tag}-g{gi}-s{si}"
                url = hls_url.format(slicer=slicer_id, group=gi, index=si) if hls_url else None
                fleet.add(slicer_id, g.id, url)
        console.print(f"{groups} groups x {slicers_per_group} slicers heartbeating every {interval_ms} ms")
        if duration is not None:
            asyncio.run(fleet.run(duration))
            console.print(f"sent {sum(s.sent for s in fleet.slicers.values())} heartbeats")
            return
        fleet.start_background()
        try:
            for line in sys.stdin:
                words = line.split()
                if not words:
                    continue
                if words[0] == "quit":
                    break
                if words[0] in ("kill", "revive") and len(words) == 3:
                    key = f"sim{tag}-g{words[1]}-s{words[2]}"
                    if key in fleet.slicers:
                        fleet.slicers[key].alive = words[0] == "revive"
                        console.print(f"{words[0]} {key}")
                    else:
                        err.print(f"error: no slicer g{words[1]} s{words[2]}")
                elif words[0] == "status":
                    for g in made:
                        console.print(group_panel(c.get_group(g.id)))
                else:
                    err.print("commands: kill G S | revive G S | status | quit")
        except KeyboardInterrupt:
            pass
        finally:
            fleet.stop()


def _start_demo_server(folder: Path) -> tuple[subprocess.Popen[bytes], str, str, str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "FEEDGATE_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}", "FEEDGATE_PORT": str(port),
           "FEEDGATE_LOG_LEVEL": "warning"}
    feedgate = str(Path(sys.executable).parent / "feedgate")
    made = subprocess.run([feedgate, "users", "create", "--name", "demo", "--json"], env=env, check=True,
                          capture_output=True, text=True)
    user = json.loads(made.stdout)
    proc = subprocess.Popen([feedgate, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}", user["user_id"], user["api_key"]


# The demo's script: (seconds from the start, slicer, heartbeating?, what to say).
SCRIPT = [(3.0, "primary", False, "stopping primary's heartbeats"),
          (9.0, "primary", True, "primary is back; failback once it has been clean for 2 s")]
VIDEO_SCRIPT = [(30.0, "primary", False, "stopping primary's heartbeats: the picture goes to backup-1"),
                (60.0, "primary", True, "primary is back; failback once it has been clean for 2 s")]


@dataclass
class _Demo:
    """A throwaway server, a group of three simulated slicers on one channel, and (with video) test encoders."""

    folder: Path
    video: bool
    proc: subprocess.Popen[bytes] | None = None
    fleet: Fleet | None = None
    origin: Origin | None = None
    encoders: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def setup(self) -> tuple[FeedgateClient, str]:
        self.proc, url, user_id, api_key = _start_demo_server(self.folder)
        c = FeedgateClient(url, user_id, api_key)
        for _ in range(100):
            try:
                c.list_groups()
                break
            except Exception:
                time.sleep(0.1)
        group = c.create_group("demo", auto_failback=True, heartbeat_timeout_ms=1000, clear_after_ms=2000,
                               blacklist_ms=3000)
        channel = c.create_channel("Demo channel")
        c.change_channels(group.id, add=[channel.id])
        self.fleet = Fleet(url, user_id, api_key, interval_ms=250)
        hls: dict[str, str] = {}
        if self.video:
            media = self.folder / "media"
            media.mkdir()
            self.origin = Origin(media)
            self.encoders = start_encoders(media, ["primary", "backup-1"])
            hls = {name: f"{self.origin.url}/{name}/index.m3u8" for name in ("primary", "backup-1")}
            time.sleep(4)  # a few segments published before the slicers announce them
            console.print(f"Watch it: {url}/console/channels/{channel.id}/watch\n"
                          f"  sign in with user ID {user_id} and API key {api_key}")
        for name in ("primary", "backup-1", "backup-2"):
            self.fleet.add(name, group.id, hls.get(name))
        self.fleet.start_background()
        return c, group.id

    def play(self, c: FeedgateClient, group_id: str, duration: float | None) -> None:
        assert self.fleet is not None
        script = list(VIDEO_SCRIPT if self.video else SCRIPT)
        note = "all three slicers heartbeating"
        started = time.monotonic()
        with Live(console=console, refresh_per_second=4) as live:
            while duration is None or time.monotonic() - started < duration:
                elapsed = time.monotonic() - started
                while script and elapsed >= script[0][0]:
                    _, name, alive, note = script.pop(0)
                    self.fleet.slicers[name].alive = alive
                g = c.get_group(group_id)
                live.update(Group(f"[bold]{note}[/bold]  ({elapsed:4.1f} s; Ctrl-C to stop)", group_panel(g),
                                  events_table(c.events(group_id, page_size=8))))
                time.sleep(0.25)

    def close(self) -> None:
        if self.fleet is not None:
            self.fleet.stop()
        for encoder in self.encoders:
            encoder.terminate()
        if self.origin is not None:
            self.origin.close()
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def demo(duration: float | None = typer.Option(None, "--duration", help="Stop after N seconds (default: Ctrl-C)."),
         video: bool = typer.Option(False, "--video", help="Two ffmpeg test encoders behind the slicers: watch the "
                                    "failover in the console (needs ffmpeg).")) -> None:
    """A temporary server, three simulated slicers, a failover and a failback, live in the terminal."""
    if video and shutil.which("ffmpeg") is None:
        err.print("error: --video needs ffmpeg (apt-get install ffmpeg)")
        raise typer.Exit(1)
    run = _Demo(Path(tempfile.mkdtemp(prefix="feedgate-demo-")), video)
    try:
        c, group_id = run.setup()
        run.play(c, group_id, duration)
    except KeyboardInterrupt:
        pass
    finally:
        run.close()
    console.print("demo stopped")
