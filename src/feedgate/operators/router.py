"""Operator accounts and the audit log over HTTP (signed by the tenant's API key: its admin)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from feedgate.auth.dependencies import Owner
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, deleted
from feedgate.kit.schemas import NO_NUL, Deleted
from feedgate.operators import schemas, service

router = APIRouter(tags=["operators"], route_class=PlainRoute)
Text = Annotated[str, NO_NUL]  # matched in SQL: PostgreSQL text cannot hold NUL
Who = Annotated[Text | None, Query(max_length=200, description="The actor's name (part of it) or ID.")]
What = Annotated[Text | None, Query(max_length=200, description="Part of the action, e.g. activate_slicer.")]
When = Annotated[datetime | None, Query(description="ISO 8601; UTC when no offset is given.")]


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@router.post("/operators", status_code=201, summary="Add a console operator (a TOTP secret is shown once)")
def create_operator(data: schemas.OperatorCreate, owner: Owner, session: SessionDep) -> schemas.OperatorWithSecret:
    return service.create_operator(session, owner, data)


@router.get("/operators", summary="Your console operators")
def list_operators(owner: Owner, session: SessionDep, page: PageDep) -> schemas.Operators:
    return service.list_operators(session, owner, page)


@router.get("/operators/{operator_id}", summary="Get a console operator")
def get_operator(operator_id: str, owner: Owner, session: SessionDep) -> schemas.Operator:
    return service.serialize_operator(service.get_operator(session, owner, operator_id))


@router.patch("/operators/{operator_id}", summary="Change an operator: name, role, password, enabled")
def update_operator(operator_id: str, data: schemas.OperatorUpdate, owner: Owner,
                    session: SessionDep) -> schemas.Operator:
    return service.serialize_operator(service.update_operator(session, owner, operator_id, data))


@router.delete("/operators/{operator_id}", summary="Delete an operator (their sessions end)")
def delete_operator(operator_id: str, owner: Owner, session: SessionDep, request: Request) -> Deleted:
    service.delete_operator(session, owner, operator_id)
    return deleted(request, "Operator")


@router.get("/audit", summary="Who changed what: every API write and console action, newest first")
def list_audit(owner: Owner, session: SessionDep, page: PageDep, who: Who = None, what: What = None,
               since: When = None, until: When = None) -> schemas.AuditLog:
    return service.list_audit(session, owner, page, who, what, _utc(since), _utc(until))


@router.get("/audit.csv", summary="The audit log as CSV (the same filters)", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def audit_csv(owner: Owner, session: SessionDep, who: Who = None, what: What = None, since: When = None,
              until: When = None) -> StreamingResponse:
    rows = list(service.audit_csv(session, owner, who, what, _utc(since), _utc(until)))  # before the session ends
    return StreamingResponse(iter(rows), media_type="text/csv",
                             headers={"Content-Disposition": 'attachment; filename="feedgate-audit.csv"'})
