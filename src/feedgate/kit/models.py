"""Tables every domain shares: tombstones of deleted items and the configuration version."""

from datetime import datetime

from sqlalchemy import Integer, String, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from feedgate.kit.db import CONFIG_CHANGED, Base, UTCDateTime
from feedgate.kit.time import utcnow


class Tombstone(Base):
    """What was deleted and when, so `include_deleted=true` can report it for ten minutes."""

    __tablename__ = "tombstones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    owner: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(64), default="")
    item_id: Mapped[str] = mapped_column(String(64))
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ConfigVersion(Base):
    """One row whose counter moves on every change that decisions depend on.

    Each process polls it and recompiles its in-memory decision state when it moved, which is how
    a change made through any process shows in every process's decisions within a second.
    """

    __tablename__ = "config_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


def bump_config_version(session: Session, kind: str = "config") -> None:
    """Move the version in this transaction; after the commit, `Database` tells this process's listeners.

    `kind` is "config" for a change made through the API, "switch" for the engine's own (which it has
    already mirrored in its registry), "member" for a slicer registering or joining by heartbeat.
    """
    session.execute(update(ConfigVersion).where(ConfigVersion.id == 1).values(version=ConfigVersion.version + 1))
    if session.info.get(CONFIG_CHANGED) != "config":
        session.info[CONFIG_CHANGED] = kind


def add_tombstone(session: Session, kind: str, owner: str, item_id: str, scope: str = "") -> None:
    session.add(Tombstone(kind=kind, owner=owner, item_id=item_id, scope=scope))


def commit_change(session: Session, conflict_description: str) -> None:
    """Commit a configuration change (moving the version) or, on a uniqueness clash, 409 and nothing applied."""
    from sqlalchemy.exc import IntegrityError

    from feedgate.kit.errors import conflict

    try:
        bump_config_version(session)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise conflict(conflict_description) from None
