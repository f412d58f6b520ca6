"""Engine pass cost at fleet size, in process (no HTTP): nothing due, 100 groups due, 100 failovers.

10,000 slicers in 5,000 groups of two on a SQLite file, the registry loaded, every slicer heard.
The engine keeps groups in a heap by their next due instant, so a pass with nothing due should cost
the same at any fleet size; the old engine read and evaluated every group on every pass, which is
measured here too as the baseline (`full scan`).

Usage: python benchmarks/engine_tick.py [--slicers 10000]
"""

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from feedgate.failover.engine import FailoverEngine, group_view
from feedgate.failover.health import HealthTable
from feedgate.failover.models import FailoverGroup, Slicer
from feedgate.failover.policy import evaluate
from feedgate.failover.registry import Registry
from feedgate.kit.db import Database
from feedgate.kit.ids import new_id
from feedgate.kit.migrate import upgrade
from feedgate.kit.time import clock_ms


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slicers", type=int, default=10_000)
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='feedgate-bench-')) / 'tick.db'}"
    upgrade(url)
    db = Database(url)
    owner = new_id()
    groups, slicers = [], []
    for i in range(args.slicers // 2):
        gid = new_id()
        primary, backup = new_id(), new_id()
        groups.append({"id": gid, "owner": owner, "name": f"g{i}", "active_slicer": primary, "failover_time": 0})
        for key, name, order in ((primary, f"p{i}", 1), (backup, f"b{i}", 2)):
            slicers.append({"id": key, "owner": owner, "slicer_id": name, "failover_group_id": gid, "order": order,
                            "state": 0, "healthy_since_ms": 0, "last_heartbeat_ms": int(time.time() * 1000)})
    with db.sessions() as session, session.begin():
        session.execute(insert(FailoverGroup), groups)
        session.execute(insert(Slicer), slicers)
    registry = Registry(db)
    loaded = time.perf_counter()
    fleet = registry.reload()
    load_s = time.perf_counter() - loaded
    health = HealthTable()
    engine = FailoverEngine(db, registry, health)
    assert engine.leadership.ensure(), "another engine holds this database's lock"  # the flock on SQLite
    now = clock_ms()
    for key in fleet.members:
        health.beat(key, now, None, 3000)
    engine.run_pass(now)  # first pass: everything evaluated and scheduled
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}; "
          f"{args.slicers:,} slicers in {len(groups):,} groups; registry load {load_s * 1000:.0f} ms")
    idle = timed(lambda: engine.run_pass(now + 1), 20_000)
    print(f"  pass with nothing due:        {idle * 1e6:8.1f} µs")
    sample = [g["id"] for g in groups[:100]]

    def hundred_due() -> None:
        for gid in sample:
            engine.wake(gid)
        engine.run_pass(now + 2)

    due = timed(hundred_due, 200)
    print(f"  pass with 100 groups due:     {due * 1e3:8.2f} ms (re-checked, nothing to change)")

    def full_scan() -> None:  # what every 100 ms pass of the previous engine did
        with db.reading() as conn:
            conn.execute(select(FailoverGroup.__table__)).all()
            conn.execute(select(Slicer.__table__).where(Slicer.failover_group_id.is_not(None))).all()
        for group in registry.current.groups.values():
            evaluate(group_view(group, registry.current, health), now + 3)

    scan = timed(full_scan, 5)
    print(f"  baseline, scan of every group: {scan * 1e3:8.1f} ms per pass")
    for g in groups[100:200]:  # their on-air slicers fall silent: 100 failovers in one pass
        health.forget(g["active_slicer"])
        health.beat(g["active_slicer"], now - 10_000, None, 3000)
    for g in groups[100:200]:
        engine.wake(g["id"])
    started = time.perf_counter()
    changed = engine.run_pass(now + 3)
    assert changed == 100, f"{changed} groups switched, expected 100"
    print(f"  pass with 100 failovers:      {(time.perf_counter() - started) * 1e3:8.1f} ms ({changed} groups "
          "switched, one transaction each)")
    db.dispose()


if __name__ == "__main__":
    main()
