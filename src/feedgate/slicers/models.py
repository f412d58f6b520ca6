from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from feedgate.kit.db import Base, Timestamped


class Slicer(Timestamped, Base):
    """A Live Slicer known by its heartbeats. `slicer_id` is the slicer's own slicerID setting."""

    __tablename__ = "slicers"
    __table_args__ = (UniqueConstraint("owner", "slicer_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)
    slicer_id: Mapped[str] = mapped_column(String(100))
    hostname: Mapped[str] = mapped_column(String(255), default="")
    thumb_url: Mapped[str] = mapped_column(String(2000), default="")
    hls_url: Mapped[str] = mapped_column(String(2000), default="")  # its HLS multivariant playlist, announced
    failover_group_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("failover_groups.id", ondelete="SET NULL"), nullable=True, index=True
    )
    order: Mapped[int] = mapped_column(Integer, default=1)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    signals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_heartbeat_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Engine-owned: 0 healthy, 1 unhealthy, -1 offline; and since when it has been healthy.
    state: Mapped[int] = mapped_column(Integer, default=-1)
    healthy_since_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    blacklist_until: Mapped[int] = mapped_column(BigInteger, default=0)
