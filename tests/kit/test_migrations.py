"""The same Alembic migrations bring an empty SQLite file and an empty PostgreSQL database to head."""

from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from feedgate.kit.db import make_engine
from feedgate.kit.migrate import upgrade
from feedgate.models import Base
from tests.support import PostgresServer


def _check(url: str) -> None:
    upgrade(url)
    upgrade(url)  # idempotent at head
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0006"
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
