"""Tables every domain shares (tombstones of deleted items) and the two things every write may need: a
uniqueness clash turned into 409, and "in use" read from the database's RESTRICT keys."""

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Table, func, select
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


# Columns that scope a uniqueness (per owner, per channel): the field at fault is the other one.
SCOPE_COLUMNS = frozenset({"owner", "channel_id", "failover_group_id"})


def integrity_problem(exc: IntegrityError) -> tuple[str, str, str]:
    """(table, field, value) a refused write broke, read from either database's message: the unique column
    outside its scope, or the reference that points nowhere; "" where the database does not say."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)  # psycopg: the constraint's own details
    message = str(orig)
    table = getattr(diag, "table_name", None) or ""
    columns: list[str] = []
    values: list[str] = []
    if found := re.search(r"UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)", message):  # SQLite
        qualified = [c.split(".") for c in found.group(1).split(", ")]
        table, columns = qualified[0][0], [c[-1] for c in qualified]
    elif found := re.search(r"Key \(([^)]*)\)=\((.*)\)", getattr(diag, "message_detail", None) or message):
        columns = [c.strip() for c in found.group(1).split(",")]  # PostgreSQL
        values = [v.strip() for v in found.group(2).split(",")]
    fields = [c for c in columns if c not in SCOPE_COLUMNS] or columns
    field = fields[-1] if fields else ""
    value = values[columns.index(field)] if field and len(values) == len(columns) else ""
    return table, field, value


def describe_clash(exc: IntegrityError, values: Mapping[str, object] | None = None) -> str:
    """One sentence naming the field (and the value, from `values` or the database) a write clashed on."""
    table, field, value = integrity_problem(exc)
    value = str((values or {}).get(field) or value)
    kind = table.removesuffix("s").replace("_", " ") or "item"
    if "unique" in str(exc.orig).lower() or "duplicate" in str(exc.orig).lower():
        scope = " on this channel" if table == "blackouts" else ""
        taken = f"'{value}'" if value else "that value"
        return (f"Field '{field}': another {kind}{scope} already uses {taken}." if field else
                f"The change clashes with another {kind} (a value that must be unique is taken).")
    return (f"Field '{field}' refers to an item that does not exist (it may have just been deleted)." if field
            else "The change refers to an item that no longer exists (it may have just been deleted).")


def commit_change(session: Session, conflict_description: str | None = None,
                  values: Mapping[str, object] | None = None, *, in_use: bool = True) -> None:
    """Commit a change decisions depend on (`in_use`: see `decisions_changed`) or, on a uniqueness clash, 409
    and nothing applied.

    Without a description the 409 names the field the database refused (and its value, from `values`)."""
    try:
        decisions_changed(session, in_use=in_use)
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise conflict(conflict_description or describe_clash(exc, values)) from None


def flush_change(session: Session, values: Mapping[str, object] | None = None) -> None:
    """Flush pending writes; a clash is a 409 naming the field, and the request's transaction is undone."""
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise conflict(describe_clash(exc, values)) from None


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


def within_limit(session: Session, owner_column: Any, owner: str, most: int, noun: str, setting: str) -> None:
    """A per-user limit: 409 naming it (and its setting) when `owner` already holds `most` of these rows."""
    held = session.scalar(select(func.count()).select_from(owner_column.table).where(owner_column == owner)) or 0
    if held >= most:
        raise conflict(f"You have {held} {noun}, the most one user may have ({most}, {setting}); delete one first.")
