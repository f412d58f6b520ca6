"""Writes of many rows as one statement each, never one statement per row.

A thread's statement releases the GIL around the database call and must win it back afterwards. While the
event loop is busy (thousands of heartbeats a second on two cores) winning it back costs about a
millisecond, so a thread writing a thousand rows one statement at a time takes seconds where one statement
takes milliseconds (`docs/performance.md`, "A fleet starting at once"). The rows travel as one JSON
parameter: a statement of a thousand rows compiles once, where a multi-row VALUES list was compiled afresh
for every batch (0.17 ms a row on PostgreSQL: most of a fleet's first seconds).
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, FromClause, column, func, inspect, literal, select, true, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import InstrumentedAttribute, Session


def insert_rows(session: Session, model: type, rows: Sequence[Mapping[str, Any]],
                skip_conflicts_on: Sequence[str] = ()) -> set[Any]:
    """INSERT the rows (all with the same keys, JSON-able values) in one statement; with `skip_conflicts_on`
    (a unique index's columns), a row that would break it is left out. Returns the primary keys inserted when
    skipping (a RETURNING costs a read per row on SQLite), else an empty set."""
    if not rows:
        return set()
    names = list(rows[0])
    v = rows_table(session, {name: getattr(model, name) for name in names}, rows)
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(model)
    # `WHERE true`: SQLite would read `ON CONFLICT` as a join's ON after a bare `SELECT ... FROM`.
    statement = insert.from_select(names, select(*(v.c[name] for name in names)).where(true()))
    if not skip_conflicts_on:
        session.execute(statement)
        return set()
    key: Any = inspect(model).primary_key[0]
    return set(session.execute(statement.on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
                               .returning(key)).scalars())


def rows_table(session: Session, columns: Mapping[str, InstrumentedAttribute[Any]],
               rows: Sequence[Mapping[str, Any]]) -> FromClause:
    """The rows as a table `v` (one JSON parameter), each column typed as the model column given for it: join
    it in an UPDATE (`WHERE t.id = v.id`) to give every row its own values in one statement, in O(rows)."""
    data = [{name: row[name] for name in columns} for row in rows]
    if session.get_bind().dialect.name == "postgresql":
        return func.jsonb_to_recordset(literal(data, JSONB)).table_valued(
            *(column(name, attr.type) for name, attr in columns.items())).render_derived(name="v", with_types=True)
    each = func.json_each(json.dumps(data, separators=(",", ":"))).table_valued("value")
    # A JSON column takes the value's JSON text (`->`); any other its SQL value (`->>`).
    return select(*(type_coerce(each.c.value.op("->" if isinstance(attr.type, JSON) else "->>")(name), attr.type)
                    .label(name) for name, attr in columns.items())).subquery("v")
