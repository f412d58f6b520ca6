"""Writes of many rows as one statement each, never one statement per row.

A thread's statement releases the GIL around the database call and must win it back afterwards. While the
event loop is busy (thousands of heartbeats a second on two cores) winning it back costs about a
millisecond, so a thread writing a thousand rows one statement at a time takes seconds where one statement
takes milliseconds (`docs/performance.md`, "A fleet starting at once").
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import FromClause, column, func, insert, literal, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import InstrumentedAttribute, Session

# Bound parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
MAX_PARAMS = 30_000


def insert_rows(session: Session, model: type, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT the rows (all with the same keys) in as few multi-row statements as the parameter limit allows."""
    if not rows:
        return
    per = max(1, MAX_PARAMS // max(1, len(rows[0])))
    for at in range(0, len(rows), per):
        session.execute(insert(model).values(list(rows[at:at + per])))


def rows_table(session: Session, columns: Mapping[str, InstrumentedAttribute[Any]],
               rows: Sequence[Mapping[str, Any]]) -> FromClause:
    """The rows as a table `v` (one JSON parameter), each column typed as the model column given for it: join
    it in an UPDATE (`WHERE t.id = v.id`) to give every row its own values in one statement, in O(rows)."""
    data = [{name: row[name] for name in columns} for row in rows]
    if session.get_bind().dialect.name == "postgresql":
        return func.jsonb_to_recordset(literal(data, JSONB)).table_valued(
            *(column(name, attr.type) for name, attr in columns.items())).render_derived(name="v", with_types=True)
    each = func.json_each(json.dumps(data, separators=(",", ":"))).table_valued("value")
    return select(*(type_coerce(each.c.value.op("->>")(name), attr.type).label(name)
                    for name, attr in columns.items())).subquery("v")
