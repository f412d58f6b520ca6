from typing import Any

from alembic import context
from sqlalchemy import text

from feedgate.kit.db import make_engine
from feedgate.models import Base

MIGRATION_LOCK = 0x6665656467617465  # "feedgate": serializes migrations of processes starting together


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url
    engine = make_engine(url)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            connection.commit()
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration rebuilds a table (copy, drop, rename): with foreign keys on, the drop would
            # cascade into the rows that point at it (a group's slicers and events). Off for the migration,
            # then checked: a migration that leaves a dangling reference fails here, loudly.
            raw: Any = connection.connection.driver_connection
            raw.execute("PRAGMA foreign_keys=OFF")
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            dangling = raw.execute("PRAGMA foreign_key_check").fetchall()
            raw.execute("PRAGMA foreign_keys=ON")
            if dangling:
                raise RuntimeError(f"the migration left {len(dangling)} dangling references, e.g. {dangling[0]}")
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            connection.commit()
    engine.dispose()


run_migrations_online()
