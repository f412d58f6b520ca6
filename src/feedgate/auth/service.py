"""Users and their API keys, plus the in-memory key cache the signature check reads."""

import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedgate.auth.models import User
from feedgate.kit.db import Database
from feedgate.kit.ids import new_id


def create_user(session: Session, name: str) -> User:
    user = User(id=new_id(), name=name, api_key=secrets.token_hex(20))
    session.add(user)
    session.commit()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.created)))


def rotate_key(session: Session, user_id: str) -> User | None:
    user = session.get(User, user_id)
    if user is None:
        return None
    user.api_key = secrets.token_hex(20)
    session.commit()
    return user


def any_user(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


@dataclass
class _Entry:
    api_key: str | None
    fetched: float


class KeyCache:
    """user ID -> API key, so signed requests (the playback hot path too) skip the database.

    Entries live a few seconds: a key rotated by `feedgate users rotate-key` in another process
    takes effect here within `ttl_s`.
    """

    def __init__(self, ttl_s: float = 5.0) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def cached(self, user_id: str) -> tuple[bool, str | None]:
        """(True, key or None) when a fresh entry is held; (False, None) when the database must be asked."""
        entry = self._entries.get(user_id)
        if entry is not None and time.monotonic() - entry.fetched < self.ttl_s:
            return True, entry.api_key
        return False, None

    def api_key(self, db: Database, user_id: str) -> str | None:
        now = time.monotonic()
        entry = self._entries.get(user_id)
        if entry is not None and now - entry.fetched < self.ttl_s:
            return entry.api_key
        with db.reading() as conn:
            key = conn.execute(select(User.api_key).where(User.id == user_id)).scalar()
        with self._lock:
            self._entries[user_id] = _Entry(key, now)
        return key
