"""Run Alembic migrations from code (`feedgate migrate`, `feedgate serve`, tests)."""

import logging
from pathlib import Path

# Before Alembic is imported: it announces its plugins as it loads.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _only_steps(record: logging.LogRecord) -> bool:
    """Of Alembic's start-up chatter, keep the steps it runs ("Running upgrade 0005 -> 0006"): a start that
    migrates nothing logs nothing."""
    return record.getMessage().startswith("Running ")


logging.getLogger("alembic.runtime.migration").addFilter(_only_steps)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def downgrade(url: str, revision: str) -> None:
    """Back to `revision` (an ID, or "-1"): an upgrade's rollback, run with the previous release's code."""
    command.downgrade(alembic_config(url), revision)
