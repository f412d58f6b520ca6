from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from feedgate.auth.dependencies import Owner
from feedgate.kit.deps import PageDep, PlainRoute, SessionDep, deleted
from feedgate.kit.pagination import paginate
from feedgate.rules import service
from feedgate.rules.models import Rule
from feedgate.rules.schemas import RuleCreate, RuleUpdate

router = APIRouter(prefix="/rules", tags=["rules"], route_class=PlainRoute)


@router.post("", status_code=201, summary="Add a rule")
def create_rule(data: RuleCreate, owner: Owner, session: SessionDep) -> dict[str, Any]:
    rule = service.create_rule(session, owner, data)
    return service.serialize_rule(rule)


@router.get("", summary="Get multiple rules")
def list_rules(owner: Owner, session: SessionDep, page: PageDep) -> dict[str, Any]:
    return paginate(session, select(Rule).where(Rule.owner == owner), query=page, path=service.API,
                    serialize=service.serialize_rule,
                    order_fields={"created": Rule.created, "desc": Rule.desc, "external_id": Rule.external_id},
                    updated_column=Rule.updated, tombstone=("rule", owner, ""), tombstone_type="Rule")


@router.get("/{rule_id}", summary="Get a rule")
def get_rule(rule_id: str, owner: Owner, session: SessionDep) -> dict[str, Any]:
    return service.serialize_rule(service.get_rule(session, owner, rule_id))


@router.patch("/{rule_id}", summary="Update a rule")
def update_rule(rule_id: str, data: RuleUpdate, owner: Owner, session: SessionDep) -> dict[str, Any]:
    rule = service.update_rule(session, owner, rule_id, data)
    return service.serialize_rule(rule)


@router.delete("/{rule_id}", summary="Delete a rule")
def delete_rule(rule_id: str, owner: Owner, session: SessionDep, request: Request) -> dict[str, Any]:
    service.delete_rule(session, owner, rule_id)
    return deleted(request, "Rule")
