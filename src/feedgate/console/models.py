from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from feedgate.kit.base import Base


class ConsoleSession(Base):
    """A signed-in operator: opaque to the browser (the cookie holds a random token; only its hash is kept)."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    key_mark: Mapped[str] = mapped_column(String(16))  # which API key signed in: a rotation ends the session
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger, index=True)
