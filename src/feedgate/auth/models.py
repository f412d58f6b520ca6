from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from feedgate.kit.base import Base, UTCDateTime
from feedgate.kit.time import utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Kept as is: verifying an HMAC needs the key itself. Never logged or listed.
    api_key: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Nonce(Base):
    """A `_nonce` already used by an owner, until its signature's window ends (PostgreSQL: shared by instances)."""

    __tablename__ = "auth_nonces"

    owner: Mapped[str] = mapped_column(String(32), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_ms: Mapped[int] = mapped_column(BigInteger, index=True)
