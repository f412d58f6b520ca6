"""Request-scoped dependencies shared by every router."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from feedgate.kit.pagination import PageQuery, page_query


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.db.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
PageDep = Annotated[PageQuery, Depends(page_query)]
