"""Finding an owner's resource by system ID or external_id, the way every v4 endpoint addresses it."""

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from feedgate.kit.errors import not_found

T = TypeVar("T")


def find_by_ref(session: Session, model: type[T], ref: str, kind: str, *where: ColumnElement[bool],
                for_update: bool = False) -> T:
    """The row of `model` matching `where` whose id or external_id is `ref` (id wins); 404 otherwise."""
    entity: Any = model
    stmt = select(entity).where(*where, or_(entity.id == ref, entity.external_id == ref)).order_by(entity.id != ref)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise not_found(kind, ref)
    return row
