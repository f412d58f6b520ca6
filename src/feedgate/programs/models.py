from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, String, UniqueConstraint
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
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)  # an SCTE 224 MediaPoint's id


class CueMatch(Timestamped, Base):
    """A SCTE 224 signal-based MediaPoint on a channel: a cue whose segmentation descriptors satisfy
    `conditions` (ALL or ANY of them) applies blackout `blackout_id`, or (`applies` false) ends the program."""

    __tablename__ = "cue_matches"
    __table_args__ = (UniqueConstraint("channel_id", "external_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    match: Mapped[str] = mapped_column(String(8), default="ANY")
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{"type": 16, "upid": "X"}]
    applies: Mapped[bool] = mapped_column(Boolean, default=True)
    blackout_id: Mapped[str] = mapped_column(String(200))
    effective_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    expires_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
