from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from feedgate.kit.base import Base, Timestamped


class Operator(Timestamped, Base):
    """A person who signs in to the console for a tenant (a user), with a role: viewer (reads), operator
    (acts on groups and channels), admin (also manages accounts). The password is an argon2 hash."""

    __tablename__ = "operators"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)  # lower case; what the sign-in form asks for
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str] = mapped_column(String(64), default="")  # "": no second factor
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class AuditEntry(Base):
    """Who changed what: one row per commit made while someone acts (kit.actor), written in that transaction."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)
    at_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(32))
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(500))


class ConsoleSession(Base):
    """A signed-in console user: opaque to the browser (the cookie holds a random token; only its hash is
    kept). Signed in with the API key (`operator_id` ""; the tenant's admin) or as a named operator."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    # Which API key, or which operator password, signed in: a rotation or a new password ends the session.
    key_mark: Mapped[str] = mapped_column(String(16))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    operator_id: Mapped[str] = mapped_column(String(32), default="", server_default="", index=True)
