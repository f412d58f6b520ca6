"""Named console operators under a tenant, their sign-in (argon2, optional TOTP), and the audit log.

An API key stays the tenant's admin (scripts, and the console sign-in kept for compatibility). Roles:
viewer reads, operator acts on groups and channels, admin also manages accounts. Disabling an account, or
changing its password, ends its console sessions.
"""

import csv
import io
import secrets
from collections.abc import Iterator
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from feedgate.kit.actor import Actor
from feedgate.kit.errors import bad_request, conflict, not_found
from feedgate.kit.models import flush_change
from feedgate.kit.pagination import Listed, PageQuery, paginate
from feedgate.kit.time import iso_ms, ms_to_datetime, now_ms, utcnow
from feedgate.operators import schemas
from feedgate.operators.models import AuditEntry, ConsoleSession, Operator

API = "/api/v4/operators"
ROLES_THAT_ACT = ("operator", "admin")
_hasher = PasswordHasher()  # argon2id with the library's current defaults
_DUMMY = _hasher.hash("a password nobody has")  # verified against when the login is unknown: same timing


def serialize_operator(op: Operator) -> schemas.Operator:
    return schemas.Operator(at_id=f"{API}/{op.id}", id=op.id, owner=op.owner, login=op.login, name=op.name,
                            role=op.role, enabled=op.enabled, totp=bool(op.totp_secret),
                            created=iso_ms(op.created), updated=iso_ms(op.updated))


def get_operator(session: Session, owner: str, operator_id: str) -> Operator:
    op = session.scalars(select(Operator).where(Operator.id == operator_id, Operator.owner == owner)).first()
    if op is None:
        raise not_found("Operator", operator_id)
    return op


def list_operators(session: Session, owner: str, page: PageQuery) -> schemas.Operators:
    listed = Listed(API, {"created": Operator.created, "login": Operator.login}, updated_column=Operator.updated)
    return paginate(session, select(Operator).where(Operator.owner == owner), page, listed,
                    lambda rows: [serialize_operator(o) for o in rows], schemas.Operators)


def create_operator(session: Session, owner: str, data: schemas.OperatorCreate) -> schemas.OperatorWithSecret:
    login = data.login.lower()
    if len(login) == 32 and all(c in "0123456789abcdef" for c in login):
        raise bad_request("Field 'login': 32 hex digits is how user IDs look (they sign in with the API key); "
                          "choose another.")
    if session.scalar(select(Operator.id).where(Operator.login == login)) is not None:
        raise conflict(f"Field 'login': '{login}' is taken; choose another.")
    op = Operator(id=secrets.token_hex(16), owner=owner, login=login, name=data.name, role=data.role,
                  password_hash=_hasher.hash(data.password), totp_secret=pyotp.random_base32() if data.totp else "")
    session.add(op)
    flush_change(session, {"login": login})  # a race for the same login: 409 naming it
    session.commit()  # no decision depends on accounts: no configuration version
    uri = pyotp.TOTP(op.totp_secret).provisioning_uri(name=login, issuer_name="feedgate") if op.totp_secret else ""
    return schemas.OperatorWithSecret(**dict(serialize_operator(op)), totp_uri=uri)


def update_operator(session: Session, owner: str, operator_id: str, data: schemas.OperatorUpdate) -> Operator:
    op = get_operator(session, owner, operator_id)
    ends_sessions = False
    if data.name is not None:
        op.name = data.name
    if data.role is not None:  # read by every console request: no session needs ending
        op.role = data.role
    if data.password is not None:
        op.password_hash, ends_sessions = _hasher.hash(data.password), True
    if data.enabled is not None:
        ends_sessions |= op.enabled and not data.enabled
        op.enabled = data.enabled
    op.updated = utcnow()
    if ends_sessions:
        _end_sessions(session, op.id)
    session.commit()
    return op


def delete_operator(session: Session, owner: str, operator_id: str) -> None:
    op = get_operator(session, owner, operator_id)
    _end_sessions(session, op.id)
    session.delete(op)
    session.commit()


def _end_sessions(session: Session, operator_id: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.operator_id == operator_id))


def verify(session: Session, login: str, password: str, code: str) -> Operator | None:
    """The enabled operator with this login, password and (when set up) current one-time code; else None,
    after the same work whichever part was wrong."""
    op = session.scalars(select(Operator).where(Operator.login == login.strip().lower())).first() \
        if 0 < len(login) <= 100 else None
    try:
        _hasher.verify(op.password_hash if op is not None else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if op is None or not op.enabled:
        return None
    if op.totp_secret and not pyotp.TOTP(op.totp_secret).verify(code.strip(), valid_window=1):
        return None
    return op


def can_act(role: str) -> bool:
    return role in ROLES_THAT_ACT


# -- the audit log ------------------------------------------------------------------------------------------
def write_audit(session: Session, actor: Actor) -> None:
    """A `Database.on_write` listener: the row commits with the change it records, or not at all."""
    session.add(AuditEntry(owner=actor.owner, at_ms=now_ms(), actor_kind=actor.kind, actor_id=actor.id,
                           actor_name=actor.name[:200], action=actor.action[:500]))


def _audit_query(owner: str, who: str | None, what: str | None, since: datetime | None,
                 until: datetime | None) -> Select[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.owner == owner)
    if who:
        stmt = stmt.where(AuditEntry.actor_name.contains(who, autoescape=True) |
                          (AuditEntry.actor_id == who))
    if what:
        stmt = stmt.where(AuditEntry.action.contains(what, autoescape=True))
    if since is not None:
        stmt = stmt.where(AuditEntry.at_ms >= int(since.timestamp() * 1000))
    if until is not None:
        stmt = stmt.where(AuditEntry.at_ms < int(until.timestamp() * 1000))
    if since is not None and until is not None and until <= since:
        raise bad_request("Query parameter 'until' must be later than 'since'.")
    return stmt


def serialize_entry(e: AuditEntry) -> schemas.AuditEntry:
    return schemas.AuditEntry(id=e.id, at=iso_ms(ms_to_datetime(e.at_ms)), actor_kind=e.actor_kind,
                              actor_id=e.actor_id, actor_name=e.actor_name, action=e.action)


def list_audit(session: Session, owner: str, page: PageQuery, who: str | None = None, what: str | None = None,
               since: datetime | None = None, until: datetime | None = None) -> schemas.AuditLog:
    listed = Listed("/api/v4/audit", {"at": AuditEntry.at_ms, "id": AuditEntry.id}, default_order="-at")
    return paginate(session, _audit_query(owner, who, what, since, until), page, listed,
                    lambda rows: [serialize_entry(e) for e in rows], schemas.AuditLog)


def audit_csv(session: Session, owner: str, who: str | None = None, what: str | None = None,
              since: datetime | None = None, until: datetime | None = None) -> Iterator[str]:
    """The log as CSV, newest first, in 64 KiB chunks. Plain rows, not entities (no server-side cursor either:
    on PostgreSQL a read runs outside a transaction, where a cursor cannot be declared)."""
    stmt = _audit_query(owner, who, what, since, until).with_only_columns(
        AuditEntry.at_ms, AuditEntry.actor_kind, AuditEntry.actor_id, AuditEntry.actor_name, AuditEntry.action,
    ).order_by(AuditEntry.at_ms.desc(), AuditEntry.id.desc())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "actor_kind", "actor_id", "actor_name", "action"])
    for entry in session.execute(stmt):
        writer.writerow([iso_ms(ms_to_datetime(entry.at_ms)), entry.actor_kind, entry.actor_id,
                         _cell(entry.actor_name), _cell(entry.action)])
        if out.tell() > 64 * 1024:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _cell(value: str) -> str:
    """No formula injection when the CSV is opened in a spreadsheet."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
