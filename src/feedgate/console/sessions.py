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
from feedgate.console.models import ConsoleSession
from feedgate.kit.time import now_ms

COOKIE = "feedgate_console"
FAILURES_PER_MINUTE = 10


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def key_mark(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Signed:
    user_id: str
    csrf: str
    token_hash: str


def sign_in(session: Session, user_id: str, api_key: str, hours: float) -> str | None:
    """A new session's cookie token when the user ID and API key match; None otherwise (no hint which)."""
    user = session.get(User, user_id) if user_id and len(user_id) <= 64 else None
    if user is None or not hmac.compare_digest(user.api_key.encode(), api_key.encode()):
        return None
    token = secrets.token_urlsafe(32)
    now = now_ms()
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_ms < now))
    session.add(ConsoleSession(token_hash=_hash(token), user_id=user.id, csrf=secrets.token_urlsafe(24),
                               key_mark=key_mark(user.api_key), created_ms=now,
                               expires_ms=now + int(hours * 3600 * 1000)))
    session.commit()
    return token


def current(session: Session, token: str | None, api_key_of: Callable[[str], str | None]) -> Signed | None:
    """The session behind a cookie, if it has not expired and the user's key has not been rotated since."""
    if not token:
        return None
    row = session.get(ConsoleSession, _hash(token))
    if row is None or row.expires_ms < now_ms():
        return None
    api_key = api_key_of(row.user_id)
    if api_key is None or row.key_mark != key_mark(api_key):
        return None
    return Signed(row.user_id, row.csrf, row.token_hash)


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
