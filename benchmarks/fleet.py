"""A fleet on a bad day, through real `feedgate serve` processes: every slicer starting in the same second, a
site failing, the whole fleet silent for a moment.

Groups of two slicers beat once a second (`heartbeat_timeout_ms` 3000) from a lean asyncio client on the same
machine (`benchmarks/_beats.py`); nobody registers them first: every slicer's first heartbeat registers it and
joins its group, all within one second of the start.

Scenarios (`--scenario`):
- `at-once` (default): the start; then, at `--kill-at` seconds, the active slicers of `--kills` groups go silent.
  Prints how long until every group was on air, the failovers away from slicers that never stopped beating,
  each planned kill's switch over the timeout, and `GET /failover-groups/{id}` latency after the first 30 s.
- `site`: after a 30 s settle, the active slicers of `--site` groups go silent at once while their partners
  beat: each should switch at once (timeout + a little), none held.
- `partition`: after a 30 s settle, every slicer goes silent for `--silence` seconds, then beats again: nothing
  should switch, no `no_candidate`, every group on air (never off) and all heard again within 3 s.

Usage: python benchmarks/fleet.py [--slicers 2000] [--scenario at-once|site|partition] [--instances 1]
       [--postgres | --database-url URL] [--kills 20] [--kill-at 60] [--site 200] [--silence 8]
"""

import argparse
import asyncio
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import func, select
from tests.support import ServerProcess

from benchmarks._baseline import baseline_server
from benchmarks._beats import BeatFleet
from benchmarks._load import rate
from feedgate.auth.service import create_user
from feedgate.auth.signing import signed_params
from feedgate.failover.models import FailoverEvent, FailoverGroup, FleetDisruption, Slicer
from feedgate.kit.db import Database
from feedgate.kit.migrate import upgrade

TIMEOUT_MS = 3000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


class Api:
    def __init__(self, base: str, user_id: str, api_key: str) -> None:
        self.http = httpx.Client(base_url=base + "/api/v4", timeout=30)
        self.user_id, self.api_key = user_id, api_key

    def call(self, method: str, path: str, json: object = None) -> dict:
        r = self.http.request(method, path, json=json, params=signed_params(self.user_id, self.api_key))
        r.raise_for_status()
        return r.json() if r.content else {}


class Reader:
    """Times `GET /failover-groups/{id}` on random groups every 50 ms, from its own thread."""

    def __init__(self, api: Api, groups: list[str]) -> None:
        self.api, self.groups = api, groups
        self.samples: list[tuple[float, float]] = []  # (monotonic, ms)
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        rng = random.Random(3)
        while not self._stop.is_set():
            started = time.perf_counter()
            self.api.call("GET", f"/failover-groups/{rng.choice(self.groups)}")
            self.samples.append((time.monotonic(), (time.perf_counter() - started) * 1000))
            self._stop.wait(0.05)

    def after(self, since: float) -> list[float]:
        return [ms for at, ms in self.samples if at >= since]

    def stop(self) -> None:
        self._stop.set()


def switches(db: Database, since_ms: int) -> list[tuple[str, str | None, str, int, str]]:
    """(group, from, kind, time, reason) of every switch away from a slicer since `since_ms`."""
    with db.reading() as conn:
        return [tuple(r) for r in conn.execute(select(
            FailoverEvent.failover_group_id, FailoverEvent.from_slicer_id, FailoverEvent.kind, FailoverEvent.time,
            FailoverEvent.reason)
            .where(FailoverEvent.kind.in_(("failover", "failback")), FailoverEvent.from_slicer_id.is_not(None),
                   FailoverEvent.time >= since_ms))]  # type: ignore[misc]


def count(db: Database, kind: str, since_ms: int) -> int:
    with db.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(FailoverEvent).where(
            FailoverEvent.kind == kind, FailoverEvent.time >= since_ms)).scalar() or 0)


def off_air(db: Database) -> int:
    with db.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(FailoverGroup)
                                .where(FailoverGroup.active_slicer.is_(None))).scalar() or 0)


def actives(db: Database) -> dict[str, str]:
    """group -> its active slicer's slicerID."""
    with db.reading() as conn:
        return dict(conn.execute(select(FailoverGroup.id, Slicer.slicer_id)
                                 .join(Slicer, Slicer.id == FailoverGroup.active_slicer)).all())


def failover_times(db: Database, groups: list[str]) -> dict[str, int]:
    with db.reading() as conn:
        return dict(conn.execute(select(FailoverGroup.id, FailoverGroup.failover_time)
                                 .where(FailoverGroup.id.in_(groups))).all())


def silence(fleet: BeatFleet, db: Database, groups: list[str], label: str, settle: float = 10.0) -> set[str]:
    """Silence the active slicer of each of `groups` at once; print each switch's delay over the timeout."""
    on_air = actives(db)
    victims = {g: fleet.slicers[on_air[g]] for g in groups if g in on_air}
    for slicer in victims.values():
        slicer.alive = False
    time.sleep(0.05)  # beats already in flight land
    last = {g: s.last_sent for g, s in victims.items()}
    deadline = time.monotonic() + settle + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        times = failover_times(db, list(victims))
        done = {g: t for g, t in times.items() if t > last[g] * 1000}
        if len(done) == len(victims):
            break
        time.sleep(0.2)
    times = failover_times(db, list(victims))
    delays = [times[g] - last[g] * 1000 - TIMEOUT_MS for g in victims if times[g] > last[g] * 1000]
    print(f"  {label}: {len(delays)} of {len(victims)} switched; over the timeout p50 {pct(delays, 50):.0f} ms, "
          f"p99 {pct(delays, 99):.0f} ms, max {max(delays, default=float('nan')):.0f} ms")
    return set(victims)


def profile(server: ServerProcess, seconds: float, after: float) -> tuple[subprocess.Popen[bytes], Path]:
    """py-spy over `seconds` of the server from `after` seconds on, all threads, as collapsed stacks
    (flamegraph.pl reads them)."""
    assert server.proc is not None
    out = Path(tempfile.mkdtemp(prefix="feedgate-profile-")) / f"serve-{server.proc.pid}.txt"
    spy = Path(sys.executable).parent / "py-spy"
    record = [str(spy), "record", "--pid", str(server.proc.pid), "--duration", str(round(seconds)), "--format",
              "raw", "--threads", "--rate", "100", "--nonblocking", "-o", str(out)]
    return subprocess.Popen(["sh", "-c", f'sleep {after} && exec "$0" "$@"', *record],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slicers", type=int, default=2000)
    parser.add_argument("--scenario", choices=("at-once", "site", "partition"), default="at-once")
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL and use it")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file (one instance)")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--kill-at", type=float, default=60)
    parser.add_argument("--site", type=int, default=200)
    parser.add_argument("--silence", type=float, default=8)
    parser.add_argument("--connections", type=int, default=48, help="keep-alive connections per server")
    parser.add_argument("--log-level", default="warning", help="the servers' log level (their logs are kept)")
    parser.add_argument("--profile", type=float, default=0, metavar="SECONDS",
                        help="py-spy each server for SECONDS (collapsed stacks, kept)")
    parser.add_argument("--profile-after", type=float, default=0, metavar="SECONDS",
                        help="start the profile this long after the start (default: at the start)")
    args = parser.parse_args()
    cluster = None
    if args.postgres and not args.database_url:
        from tests.support import PostgresServer

        cluster = PostgresServer()
        args.database_url = cluster.create_database()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='feedgate-bench-')) / 'fleet.db'}"
    if url.startswith("sqlite") and args.instances != 1:
        sys.exit("SQLite serves one instance; use --postgres for several")
    with baseline_server() as bare:  # what this machine serves right now, before the fleet's servers start
        base = rate(bare, [("GET", "/", None)], 5)
    upgrade(url)
    db = Database(url)
    with db.sessions() as session:
        user = create_user(session, "bench")
    env = {"FEEDGATE_LOG_LEVEL": args.log_level}
    servers = [ServerProcess(url, env_extra=env).start() for _ in range(args.instances)]
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}; "
          f"{'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}, {args.instances} instance(s), "
          f"{args.slicers} slicers at 1 Hz, timeout {TIMEOUT_MS} ms; scenario {args.scenario}")
    api = Api(servers[0].base_url, user.id, user.api_key)
    made = time.monotonic()
    groups = [api.call("POST", "/failover-groups", {"name": f"g{i}", "heartbeat_timeout_ms": TIMEOUT_MS,
                                                     "clear_after_ms": 1000, "blacklist_ms": 3_600_000})["id"]
              for i in range(args.slicers // 2)]
    fleet = BeatFleet([s.base_url for s in servers], user.id, user.api_key, connections_per_server=args.connections)
    for i, group_id in enumerate(groups):
        fleet.add(f"p{i}", group_id)
        fleet.add(f"b{i}", group_id)
    print(f"  created {len(groups)} groups in {time.monotonic() - made:.1f} s; every slicer starts now", flush=True)
    time.sleep(1)
    start_ms = int(time.time() * 1000)
    started = time.monotonic()
    threading.Thread(target=lambda: asyncio.run(fleet.run(10 * 24 * 3600)), daemon=True).start()
    profiles = [profile(s, args.profile, args.profile_after) for s in servers] if args.profile else []
    on_air_at, curve = None, []
    while time.monotonic() - started < 60:
        waiting = off_air(db)
        if not curve or time.monotonic() - started >= len(curve) * 2:
            curve.append(f"{time.monotonic() - started:.0f}s:{waiting}")
        if waiting == 0:
            on_air_at = time.monotonic() - started
            break
        time.sleep(0.2)
    print(f"  groups off air over time: {' '.join(curve)}")
    print(f"  every one of {len(groups)} groups on air {on_air_at:.1f} s after the start" if on_air_at is not None
          else f"  {off_air(db)} groups still off air 60 s after the start")
    reader = Reader(api, groups)
    victims: set[str] = set()  # groups silenced on purpose: their switches are planned
    if args.scenario == "at-once":
        time.sleep(max(0.0, args.kill_at - (time.monotonic() - started)))
        victims = silence(fleet, db, random.Random(7).sample(groups, args.kills), f"{args.kills} planned kills at "
                          f"{args.kill_at:.0f} s")
    elif args.scenario == "site":
        time.sleep(max(0.0, 30 - (time.monotonic() - started)))
        victims = silence(fleet, db, random.Random(7).sample(groups, args.site),
                          f"site failure ({args.site} active slicers)")
    else:
        time.sleep(max(0.0, 30 - (time.monotonic() - started)))
        before, cut_ms = actives(db), int(time.time() * 1000)
        for slicer in fleet.slicers.values():
            slicer.alive = False
        time.sleep(args.silence)
        back = time.time()
        for slicer in fleet.slicers.values():
            slicer.alive, slicer.last_sent = True, 0.0  # the planned silence is no load-generator gap
        heard = None
        while time.time() - back < 15:
            if all(s.last_sent >= back for s in fleet.slicers.values()):
                heard = time.time() - back
                break
            time.sleep(0.1)
        time.sleep(5)
        after = actives(db)
        moved = sum(1 for g in before if after.get(g) != before[g])
        print(f"  the whole fleet silent for {args.silence:.0f} s: {len(switches(db, cut_ms))} switches, "
              f"{count(db, 'no_candidate', cut_ms)} no_candidate, {moved} groups on another slicer afterwards, "
              f"{off_air(db)} off air; every slicer heard again {heard if heard is None else round(heard, 1)} s "
              "after the beats returned")
        with db.reading() as conn:
            row = conn.execute(select(FleetDisruption).order_by(FleetDisruption.started_ms.desc())).first()
        if row is not None:
            print(f"  disruption record: {row.silent} of {row.considered} silent, {row.held_groups} groups held, "
                  f"lasted {((row.ended_ms or 0) - row.started_ms) / 1000:.1f} s")
    reader.stop()
    for spy, out in profiles:
        spy.wait()
        print(f"  profile: {out}")
    # A slicer the load generator itself left silent for a timeout (the machine's cores are shared) did stop.
    late = {s.slicer_id for s in fleet.slicers.values() if s.longest_gap * 1000 >= TIMEOUT_MS}
    away = [s for s in switches(db, start_ms) if s[0] not in victims]
    false = [s for s in away if s[1] not in late]
    print(f"  failovers away from slicers that never stopped beating: {len(false)}"
          + (f" (and {len(away) - len(false)} away from {len(late)} slicers the load generator left silent "
             f"for a timeout or more)" if late else ""))
    for group_id, slicer_id, _, at, reason in sorted(false, key=lambda s: s[3])[:5]:  # what to look into
        gap = fleet.slicers[slicer_id].longest_gap if slicer_id in fleet.slicers else float("nan")
        print(f"    {(at - start_ms) / 1000:.1f} s after the start, group {group_id[:8]}, away from {slicer_id} "
              f"(the load generator's longest gap for it {gap:.1f} s): {reason}")
    reads = reader.after(started + 30)
    print(f"  GET /failover-groups/{{id}} after the first 30 s: p50 {pct(reads, 50):.1f} ms, p99 {pct(reads, 99):.1f} "
          f"ms ({len(reads)} reads)")
    sent = sum(s.sent for s in fleet.slicers.values())
    errors = sum(s.errors for s in fleet.slicers.values())
    print(f"  heartbeats acknowledged {sent:,} (errors {errors}) in {time.monotonic() - started:.0f} s")
    print(f"  bare async route, same run: {base['rps']:,.0f} req/s, p99 {base['p99_ms']:.1f} ms; the fleet's "
          f"{args.slicers:,} beats a second are {args.slicers / base['rps']:.2f} of it")
    fleet.stop()
    for s in servers:
        s.stop()
        print(f"  server log: {s.log_path}")
    db.dispose()
    if cluster is not None:
        cluster.stop()


if __name__ == "__main__":
    main()
