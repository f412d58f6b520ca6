from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from feedgate.kit.base import Base, UTCDateTime
from feedgate.kit.time import utcnow


class Scte224Import(Base):
    """One import (or dry run answered): who, when, from where, the document's digest and the diff."""

    __tablename__ = "scte224_imports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    by: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(2000), default="")
    digest: Mapped[str] = mapped_column(String(64))
    generation: Mapped[str] = mapped_column(String(16))
    changed: Mapped[bool] = mapped_column(Boolean, default=False)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    media: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    summary: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    diff: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class Scte224Object(Base):
    """Which `Media` of which owner an object came from: what a later version of that Media no longer has
    is removed. `kind` is audience, rule, blackout, window or cue_match; `object_id` its system ID."""

    __tablename__ = "scte224_objects"

    owner: Mapped[str] = mapped_column(String(32), primary_key=True)
    media: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(32), primary_key=True)


class Scte224Feed(Base):
    """A rights feed: a URL polled by the engine leader, a change imported as if posted. `updated` moves when
    the operator changes the feed, not when it is checked; the check's outcome has its own fields."""

    __tablename__ = "scte224_feeds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), default="")
    interval_s: Mapped[int] = mapped_column(Integer, default=300)
    channel_map: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    next_check_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    # The last check: its outcome (pending, imported, unchanged, failed), failures in a row, and what the
    # next conditional GET sends back (ETag, Last-Modified) with the digest of the document last imported.
    state: Mapped[str] = mapped_column(String(16), default="pending")
    checked_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    last_import_id: Mapped[str] = mapped_column(String(32), default="")
    etag: Mapped[str] = mapped_column(String(500), default="")
    last_modified: Mapped[str] = mapped_column(String(100), default="")
    digest: Mapped[str] = mapped_column(String(64), default="")
