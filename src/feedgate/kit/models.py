"""Tables every domain shares (tombstones of deleted items) and the two things every write may need: a
uniqueness clash turned into 409, and "in use" read from the database's RESTRICT keys."""

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from feedgate.kit.base import Base, UTCDateTime
from feedgate.kit.errors import conflict
from feedgate.kit.time import utcnow
from feedgate.kit.versions import decisions_changed


class Tombstone(Base):
    """What was deleted and when, so `include_deleted=true` can report it for ten minutes."""

    __tablename__ = "tombstones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    owner: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(64), default="")
    item_id: Mapped[str] = mapped_column(String(64))
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


def add_tombstone(session: Session, kind: str, owner: str, item_id: str, scope: str = "") -> None:
    session.add(Tombstone(kind=kind, owner=owner, item_id=item_id, scope=scope))


def commit_change(session: Session, conflict_description: str) -> None:
    """Commit a change decisions depend on or, on a uniqueness clash, 409 and nothing applied."""
    try:
        decisions_changed(session)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise conflict(conflict_description) from None


def delete_unless_used(session: Session, row: Any, kind: str, ref: str) -> None:
    """Delete `row`, or 409 naming what still uses it: the database's RESTRICT keys decide, in one place.

    Whatever refers to a row by a RESTRICT key (a rule to its audience, a superaudience to its members, a
    blackout to its rules) makes the delete fail inside a savepoint; the request then changes nothing.
    """
    try:
        with session.begin_nested():
            session.delete(row)
            session.flush()
    except IntegrityError:
        users = ", ".join(_referrers(session, row.__table__, row.id))
        raise conflict(f"{kind} '{ref}' is used by {users or 'another item'}; change or delete those first.") \
            from None


def _referrers(session: Session, table: Table, key: str, most: int = 5) -> list[str]:
    """'rule 3f2a…', 'blackout 9c1e…': the items whose RESTRICT keys point at `key` in `table`."""
    found: list[str] = []
    for other in Base.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is not table or fk.ondelete not in (None, "RESTRICT"):
                continue
            if "id" in other.c:  # a resource row refers (a rule to its audience)
                noun, column = other.name.removesuffix("s"), other.c.id
            else:  # a link row refers on behalf of the resource at its other key (a blackout's rule list)
                link = next(f for f in other.foreign_keys if f is not fk)
                noun, column = link.column.table.name.removesuffix("s"), link.parent
            ids = session.scalars(select(column).where(fk.parent == key).distinct().limit(most))
            found += [f"{noun} {value}" for value in ids]
    return found
