"""Blackout rules over HTTP."""

from fastapi import APIRouter, Request

from feedgate.auth.dependencies import Owner
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, deleted
from feedgate.kit.schemas import Deleted
from feedgate.rules import schemas, service
from feedgate.rules.schemas import RuleCreate, RuleUpdate

router = APIRouter(prefix="/rules", tags=["rules"], route_class=PlainRoute)


@router.post("", status_code=201, summary="Add a rule")
def create_rule(data: RuleCreate, owner: Owner, session: SessionDep) -> schemas.Rule:
    return service.serialize_rule(service.create_rule(session, owner, data))


@router.get("", summary="Get multiple rules")
def list_rules(owner: Owner, session: SessionDep, page: PageDep) -> schemas.Rules:
    return service.list_rules(session, owner, page)


@router.get("/{rule_id}", summary="Get a rule")
def get_rule(rule_id: str, owner: Owner, session: SessionDep) -> schemas.Rule:
    return service.serialize_rule(service.get_rule(session, owner, rule_id))


@router.patch("/{rule_id}", summary="Update a rule")
def update_rule(rule_id: str, data: RuleUpdate, owner: Owner, session: SessionDep) -> schemas.Rule:
    return service.serialize_rule(service.update_rule(session, owner, rule_id, data))


@router.delete("/{rule_id}", summary="Delete a rule")
def delete_rule(rule_id: str, owner: Owner, session: SessionDep, request: Request) -> Deleted:
    service.delete_rule(session, owner, rule_id)
    return deleted(request, "Rule")
