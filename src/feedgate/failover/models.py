"""The failover domain's tables: groups, their allowed owners and events, and the slicers the engine judges.

The `Slicer` row lives here because the engine owns its state columns (state, healthy since, blacklist);
the `slicers` package registers slicers and ingests their heartbeats on top of it.
"""

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from feedgate.failover.policy import OFFLINE
from feedgate.kit.base import Base, Timestamped


class FailoverGroup(Timestamped, Base):
    __tablename__ = "failover_groups"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(16), default="prioritized")
    auto_failback: Mapped[bool] = mapped_column(Boolean, default=False)
    hot_warm: Mapped[int] = mapped_column(Integer, default=0)
    no_slicer: Mapped[bool] = mapped_column(Boolean, default=False)
    # System ID of the member slicer the engine tracks as active (kept while on slate).
    active_slicer: Mapped[str | None] = mapped_column(String(32), nullable=True)
    failover_time: Mapped[int] = mapped_column(BigInteger, default=0)
    # Set after a `no_candidate` event so it is recorded once per outage, cleared on recovery.
    no_candidate: Mapped[bool] = mapped_column(Boolean, default=False)
    # Health policy.
    heartbeat_timeout_ms: Mapped[int] = mapped_column(Integer, default=3000)
    clear_after_ms: Mapped[int] = mapped_column(Integer, default=10000)
    blacklist_ms: Mapped[int] = mapped_column(Integer, default=60000)
    input_loss_ms: Mapped[int] = mapped_column(Integer, default=2000)
    video_black_ms: Mapped[int] = mapped_column(Integer, default=10000)
    audio_silence_ms: Mapped[int] = mapped_column(Integer, default=30000)
    dropped_frames_pct: Mapped[float] = mapped_column(Float, default=20.0)
    upload_queue_s: Mapped[float] = mapped_column(Float, default=30.0)
    # Reported once the active slicer's playlist has not advanced for 3 target durations; 0: at once.
    playlist_stale_ms: Mapped[int] = mapped_column(Integer, default=0)
    # Its events go to webhooks (off for a rehearsal's groups: `feedgate simulate`).
    notify: Mapped[bool] = mapped_column(Boolean, default=True)


class AllowedOwner(Base):
    __tablename__ = "failover_group_allowed_owners"
    __table_args__ = (UniqueConstraint("failover_group_id", "owner"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    failover_group_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("failover_groups.id", ondelete="CASCADE"), index=True
    )
    owner: Mapped[str] = mapped_column(String(32), index=True)


class FailoverEvent(Base):
    __tablename__ = "failover_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    failover_group_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("failover_groups.id", ondelete="CASCADE"), index=True
    )
    time: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    from_slicer_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    to_slicer_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")


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
    signals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # as the slicer reports them
    # What feedgate observes itself (its playlist frozen: playlist_stale_ms), written by the engine leader.
    observed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_heartbeat_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Engine-owned: its state (policy.HEALTHY, UNHEALTHY, OFFLINE) and since when it has been healthy.
    state: Mapped[int] = mapped_column(Integer, default=OFFLINE)
    healthy_since_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    blacklist_until: Mapped[int] = mapped_column(BigInteger, default=0)



class FleetDisruption(Base):
    """A fleet-wide silence: most slicers quiet at once in groups where nothing beats. While it is open the
    engine holds every group as it was (docs/design.md, "A fleet-wide silence")."""

    __tablename__ = "fleet_disruptions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    ended_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    silent: Mapped[int] = mapped_column(Integer)  # slicers silent with their whole group, when it opened
    considered: Mapped[int] = mapped_column(Integer)  # slicers that were on the fleet
    held_groups: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(500), default="")
