from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from feedgate.kit.base import Base, Timestamped, UTCDateTime
from feedgate.kit.time import utcnow


class ProgramTag(Base):
    """A program started on a channel at `start_ms`, tagged with a blackout ID (or none)."""

    __tablename__ = "program_tags"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    start_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    blackout_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(16), default="api")
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScheduleWindow(Timestamped, Base):
    __tablename__ = "schedule_windows"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    blackout_id: Mapped[str] = mapped_column(String(200))
    start_ms: Mapped[int] = mapped_column(BigInteger)
    end_ms: Mapped[int] = mapped_column(BigInteger)
