"""Console sign-in: server-side sessions, CSRF tokens, and a brake on guessing."""

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from feedgate.auth.models import User
from feedgate.kit.actor import Actor
from feedgate.kit.time import now_ms
from feedgate.operators.models import ConsoleSession, Operator
from feedgate.operators.service import can_act, verify

COOKIE = "feedgate_console"
FAILURES_PER_MINUTE = 10


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def key_mark(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Signed:
    user_id: str  # the tenant
    csrf: str
    token_hash: str
    role: str = "admin"  # the API key is the tenant's admin
    operator_id: str = ""
    name: str = ""  # who, as events and the audit log name them

    @property
    def can_act(self) -> bool:
        return can_act(self.role)

    def actor(self, action: str) -> Actor:
        kind, ident = ("operator", self.operator_id) if self.operator_id else ("console", self.user_id)
        return Actor(kind, ident, self.name, self.user_id, action)


def _start(session: Session, user_id: str, mark: str, hours: float, operator_id: str = "") -> str:
    token = secrets.token_urlsafe(32)
    now = now_ms()
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_ms < now))
    session.add(ConsoleSession(token_hash=_hash(token), user_id=user_id, csrf=secrets.token_urlsafe(24),
                               key_mark=mark, created_ms=now, expires_ms=now + int(hours * 3600 * 1000),
                               operator_id=operator_id))
    session.commit()
    return token


def sign_in(session: Session, user_id: str, api_key: str, hours: float) -> str | None:
    """A new session's cookie token when the user ID and API key match; None otherwise (no hint which)."""
    user = session.get(User, user_id) if user_id and len(user_id) <= 64 else None
    if user is None or not hmac.compare_digest(user.api_key.encode(), api_key.encode()):
        return None
    return _start(session, user.id, key_mark(user.api_key), hours)


def sign_in_operator(session: Session, login: str, password: str, code: str, hours: float) -> str | None:
    """A named operator's session: login, password (argon2) and, when set up, the one-time code."""
    op = verify(session, login, password, code)
    if op is None:
        return None
    return _start(session, op.owner, key_mark(op.password_hash), hours, op.id)


def current(session: Session, token: str | None, api_key_of: Callable[[str], str | None]) -> Signed | None:
    """The session behind a cookie, if it has not expired and what signed in still holds: the user's key
    not rotated, or the operator still enabled with the same password (their role is read each time)."""
    if not token:
        return None
    row = session.get(ConsoleSession, _hash(token))
    if row is None or row.expires_ms < now_ms():
        return None
    if row.operator_id:
        op = session.get(Operator, row.operator_id)
        if op is None or not op.enabled or row.key_mark != key_mark(op.password_hash):
            return None
        return Signed(op.owner, row.csrf, row.token_hash, op.role, op.id, f"{op.name} ({op.login})")
    api_key = api_key_of(row.user_id)
    if api_key is None or row.key_mark != key_mark(api_key):
        return None
    return Signed(row.user_id, row.csrf, row.token_hash, "admin", "", f"{row.user_id} (API key)")


def sign_out(session: Session, signed: Signed) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == signed.token_hash))
    session.commit()


class Brake:
    """Failed sign-ins per address: past FAILURES_PER_MINUTE in a minute, refused until the minute passes."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._failures.setdefault(address, deque())
        while times and now - times[0] > 60:
            times.popleft()
        return times

    def blocked(self, address: str) -> bool:
        with self._lock:
            return len(self._recent(address, time.monotonic())) >= FAILURES_PER_MINUTE

    def failed(self, address: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._recent(address, now).append(now)
            if len(self._failures) > 100_000:  # bounded: forget the quiet ones
                self._failures = {a: t for a, t in self._failures.items() if t and now - t[-1] < 60}
