"""`feedgate slicer-agent`, `feedgate simulate` and `feedgate demo`."""

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from feedgate.cli.output import client, console, emit_json, err, events_table, friendly, group_panel
from feedgate.kit.backoff import backoff_s
from feedgate.kit.errors import FeedgateError

if TYPE_CHECKING:  # imported where used: `feedgate --help` does not load httpx, pydantic or rich.live
    from feedgate.cli.fleet import Fleet
    from feedgate.cli.rehearsal import Rehearsal
    from feedgate.cli.video import Origin
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
    """Heartbeat for one slicer, with signals from --probe or synthetic ones (all clear).

    A server that cannot be reached, or answers 429 or 5xx (a restart, an upgrade), is retried with a short
    backoff that never exceeds the heartbeat interval: the agent keeps beating through it and never exits on
    it. Other 4xx (bad credentials, a group that does not exist) are not transient: one line, exit 1."""
    from feedgate.cli.fleet import probe_signals

    last_ok = int(time.time() * 1000)
    sent = 0
    interval = interval_ms
    with client() as c:
        retry = Backoff()
        while count == 0 or sent < count:
            signals: dict[str, float] = {}
            if probe:
                signals, ok = probe_signals(probe, last_ok)
                if ok:
                    last_ok = int(time.time() * 1000)
            try:
                answer = c.heartbeat(slicer_id, hostname, group, signals, hls_url=hls_url)
            except FeedgateError as exc:
                if not transient(exc):
                    raise
                delay = retry.next(interval)
                err.print(f"{slicer_id}: {exc.description} (retrying in {delay * 1000:.0f} ms)", highlight=False,
                          soft_wrap=True)
                time.sleep(delay)
                continue
            if retry.failures:
                console.print(f"{slicer_id}: reached feedgate again after {retry.failures} failed attempts",
                              highlight=False)
            retry.reset()
            sent += 1
            interval = min(interval_ms, answer.heartbeat_interval_ms)
            console.print(f"{slicer_id}: role={answer.role} interval={answer.heartbeat_interval_ms}ms "
                          f"signals={json.dumps(signals)}", highlight=False)
            time.sleep(interval / 1000)


def transient(exc: FeedgateError) -> bool:
    """Worth retrying: no answer at all (status 0), too many requests, or the server's own trouble."""
    return exc.status == 0 or exc.status == 429 or exc.status >= 500


@dataclass
class Backoff:
    """Exponential from 100 ms with full jitter, capped at the heartbeat interval: a restarting server is
    reached within one interval of its return, and a fleet does not come back in lockstep."""

    failures: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next(self, interval_ms: int) -> float:
        self.failures += 1
        return backoff_s(self.failures, 0.2, interval_ms / 1000, (0.5, 1.0), self.rng)

    def reset(self) -> None:
        self.failures = 0


@friendly
def simulate(groups: int = typer.Option(1, "--groups", min=1, help="Groups to create for the rehearsal."),
             slicers_per_group: int = typer.Option(3, "--slicers-per-group", min=1),
             interval_ms: int = typer.Option(1000, "--interval-ms", min=50, help="Heartbeat interval."),
             heartbeat_timeout_ms: int = typer.Option(3000, "--heartbeat-timeout-ms", min=100),
             hls_url: str | None = typer.Option(None, "--hls-url", help="Each slicer's HLS playlist: a template "
                                                "with {slicer}, {group} and {index} (its place in its group)."),
             at_once: bool = typer.Option(False, "--at-once", help="Every slicer's first heartbeat in the same "
                                          "second (a first deployment, a site coming back)."),
             script: str | None = typer.Option(None, "--script", help="Commands at times, e.g. '20 site 0.5; "
                                               "40 silence 8; 60 kill 0 1' (seconds from the start)."),
             duration: float | None = typer.Option(None, "--duration", help="Seconds; default: until you quit."),
             keep: bool = typer.Option(False, "--keep", help="Keep the groups and slicers afterwards."),
             webhooks: bool = typer.Option(False, "--webhooks", help="Let the groups' events reach your webhooks."),
             seed: int = typer.Option(1, "--seed", help="Which slicers a site failure picks."),
             as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON.")) -> None:
    """Rehearse a bad day in groups of its own: kill slicers, fail a site, silence the whole fleet; then read the
    summary. Type `kill G S`, `revive G S`, `site FRACTION`, `silence SECONDS`, `status` or `quit` (G, S from 0)."""
    from feedgate.cli.rehearsal import Rehearsal

    say = err.print if as_json else console.print  # with --json, stdout holds the summary alone
    with client() as c:
        run = Rehearsal(c, groups, slicers_per_group, interval_ms, heartbeat_timeout_ms, hls_url, webhooks)
        try:
            run.create()
            say(f"rehearsal {run.tag}: {groups} groups (sim-{run.tag}-N) x {slicers_per_group} slicers, "
                          f"heartbeats every {interval_ms} ms{', all starting at once' if at_once else ''}"
                          f"{'' if webhooks else '; their events stay off your webhooks'}")
            run.start(at_once)
            _rehearse(run, script, duration, random.Random(seed), say)
            run.fleet.stop()  # no heartbeat in flight: every one sent is counted answered or not
            summary = run.summary()
            emit_json(summary.as_json()) if as_json else console.print(summary.table(heartbeat_timeout_ms))
        except KeyboardInterrupt:
            say("stopped")
        finally:
            if keep:
                run.fleet.stop()
                say(f"kept: groups sim-{run.tag}-0 to sim-{run.tag}-{groups - 1}")
            else:
                run.clean_up()
                say("rehearsal groups and slicers deleted (--keep keeps them)")


def _rehearse(run: "Rehearsal", script: str | None, duration: float | None, rng: random.Random,
              say: Callable[[str], None]) -> None:
    """Play the script (or what is typed) until `duration` has passed, or `quit`."""
    started = time.monotonic()
    planned = sorted(((float(at), words) for at, _, words in
                      (part.strip().partition(" ") for part in (script or "").split(";") if part.strip())),
                     key=lambda item: item[0])
    if script or duration is not None:
        while planned or (duration is not None and time.monotonic() - started < duration):
            while planned and time.monotonic() - started >= planned[0][0]:
                _command(run, planned.pop(0)[1].split(), rng, say)
            time.sleep(0.05)
        return
    for line in sys.stdin:
        words = line.split()
        if words and words[0] == "quit":
            return
        if words:
            _command(run, words, rng, say)


def _command(run: "Rehearsal", words: list[str], rng: random.Random, say: Callable[[str], None]) -> None:
    try:
        if words[0] in ("kill", "revive") and len(words) == 3:
            slicer = run.find(int(words[1]), int(words[2]))
            if slicer is None:
                err.print(f"error: no slicer g{words[1]} s{words[2]}")
            elif words[0] == "kill":
                run.kill(slicer)
                say(f"kill {slicer.slicer_id}")
            else:
                slicer.alive = True
                say(f"revive {slicer.slicer_id}")
        elif words[0] == "site" and len(words) == 2:
            victims = run.site(float(words[1]), rng)
            say(f"site failure: {len(victims)} slicers on air silenced at once")
        elif words[0] == "silence" and len(words) == 2:
            run.silence(float(words[1]))
            say(f"the whole fleet silent for {float(words[1]):g} s")
        elif words[0] == "status":
            console.print(run.summary().table(run.timeout_ms))
        else:
            from feedgate.cli.rehearsal import COMMANDS

            err.print("commands: " + " | ".join(COMMANDS))
    except ValueError:
        err.print(f"error: not a number in '{' '.join(words)}'")


def _start_demo_server(folder: Path) -> tuple[subprocess.Popen[bytes], str, str, str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "FEEDGATE_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}", "FEEDGATE_PORT": str(port),
           "FEEDGATE_LOG_LEVEL": "warning"}
    feedgate = str(Path(sys.executable).parent / "feedgate")
    subprocess.run([feedgate, "migrate"], env=env, check=True, capture_output=True)  # its own database, made here
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
    fleet: "Fleet | None" = None
    origin: "Origin | None" = None
    encoders: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def setup(self) -> tuple["FeedgateClient", str]:
        from feedgate.cli.fleet import Fleet
        from feedgate.cli.video import Origin, start_encoders
        from feedgate.client import FeedgateClient

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

    def play(self, c: "FeedgateClient", group_id: str, duration: float | None) -> None:
        from rich.console import Group
        from rich.live import Live

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
