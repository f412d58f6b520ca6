"""The same Alembic migrations bring an empty SQLite file and an empty PostgreSQL database to head."""

from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from feedgate.kit.db import make_engine
from feedgate.kit.migrate import downgrade, upgrade
from feedgate.models import Base
from tests.support import PostgresServer

HEAD = "0010"


def _check(url: str) -> None:
    upgrade(url)
    upgrade(url)  # idempotent at head
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
        assert conn.execute(text("SELECT version FROM config_version WHERE id = 1")).scalar() == 0
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables


def test_migrations_on_empty_sqlite(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'fresh.db'}")


def test_migrations_on_empty_postgresql(postgres: PostgresServer) -> None:
    _check(postgres.create_database())


def test_models_and_migration_agree(tmp_path: Path) -> None:
    """Autogenerate against a migrated database finds nothing to add: the migration is complete."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = f"sqlite:///{tmp_path / 'cmp.db'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def _round_trip(url: str) -> None:
    """Every migration is reversible (docs/operations.md, the migration policy): down to nothing and back."""
    upgrade(url)
    downgrade(url, "base")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    _check(url)


def test_every_migration_reverses_on_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'round.db'}")


def test_every_migration_reverses_on_postgresql(postgres: PostgresServer) -> None:
    _round_trip(postgres.create_database())


def test_a_rollback_keeps_the_fleet_on_sqlite(tmp_path: Path) -> None:
    """SQLite rebuilds a table to drop a column: with foreign keys on, dropping the old table cascaded into
    the slicers and events that point at it. A rollback and upgrade keep every row."""
    from feedgate.auth.service import create_user
    from feedgate.failover.models import FailoverEvent, FailoverGroup, Slicer
    from feedgate.kit.db import Database

    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    upgrade(url)
    db = Database(url)
    with db.sessions() as session:
        owner = create_user(session, "ops").id
    with db.sessions() as session:
        session.add(FailoverGroup(id="g1", owner=owner, name="News"))
        session.flush()
        session.add(Slicer(id="s1", owner=owner, slicer_id="news01", hostname="news01", failover_group_id="g1"))
        session.add(FailoverEvent(id="e1", failover_group_id="g1", time=1, kind="joined", reason="joined"))
        session.commit()
    db.dispose()
    counts = _counts(url)
    downgrade(url, "0004")  # through 0005 and 0006, which rebuild failover_groups and slicers
    upgrade(url)
    assert counts["slicers"] == counts["failover_events"] == 1
    assert _counts(url) == counts


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        out = {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0)
               for t in ("failover_groups", "slicers", "failover_events", "users")}
    engine.dispose()
    return out
