"""Many rows in one statement (`kit.bulk.insert_rows`): the rows as one JSON parameter, against the multi-row
VALUES list it replaced (compiled afresh for every batch), on SQLite and PostgreSQL, in process.

A fleet starting at once writes thousands of `joined` events and slicer rows in a few batches; this is
that write alone, with the foreign keys deferred so the rows need no groups.

Usage: python benchmarks/bulk.py [--rows 2500] [--repeat 5]
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text
from sqlalchemy.orm import Session
from tests.support import PostgresServer

from feedgate.failover.models import FailoverEvent
from feedgate.kit.bulk import insert_rows
from feedgate.kit.db import Database
from feedgate.kit.ids import new_id
from feedgate.kit.migrate import upgrade


def values_list(session: Session, rows: list[dict[str, object]]) -> None:
    """The replaced way: one multi-row VALUES statement (its SQL and parameters built for these rows)."""
    session.execute(insert(FailoverEvent).values(rows))


def json_rows(session: Session, rows: list[dict[str, object]]) -> None:
    insert_rows(session, FailoverEvent, rows)


def timed(db: Database, write: Callable[[Session, list[dict[str, object]]], None], n: int) -> float:
    rows: list[dict[str, object]] = [
        {"id": new_id(), "failover_group_id": new_id(), "time": 1, "kind": "joined", "from_slicer_id": None,
         "to_slicer_id": f"p{i}", "reason": "joined by heartbeat from encoder-01"} for i in range(n)]
    with db.sessions() as session:
        session.begin()
        session.execute(text("SET session_replication_role = replica" if db.is_postgres
                             else "PRAGMA defer_foreign_keys = ON"))
        started = time.perf_counter()
        write(session, rows)
        took = time.perf_counter() - started
        session.rollback()
    return took * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cluster = PostgresServer()
    urls = {"SQLite": f"sqlite:///{Path(tempfile.mkdtemp(prefix='feedgate-bench-')) / 'bulk.db'}",
            "PostgreSQL": cluster.create_database()}
    print(f"{args.rows:,} failover events in one transaction, median of {args.repeat}:")
    for name, url in urls.items():
        upgrade(url)
        db = Database(url)
        figures = {}
        for label, write in (("VALUES list (before)", values_list), ("rows as one JSON parameter", json_rows)):
            timed(db, write, 100)  # warm: the connection, the statement cache
            figures[label] = statistics.median(timed(db, write, args.rows) for _ in range(args.repeat))
            print(f"  {name:10} {label:28} {figures[label]:8.1f} ms")
        before, after = figures.values()
        print(f"  {name:10} ratio: {before / after:.1f}x faster")
        db.dispose()
    cluster.stop()


if __name__ == "__main__":
    main()
