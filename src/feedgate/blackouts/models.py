from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from feedgate.kit.base import Base, Timestamped


class Blackout(Timestamped, Base):
    __tablename__ = "blackouts"
    __table_args__ = (
        UniqueConstraint("channel_id", "blackout_id"),
        UniqueConstraint("channel_id", "external_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)
    channel_id: Mapped[str] = mapped_column(String(32), ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    blackout_id: Mapped[str] = mapped_column(String(200))
    desc: Mapped[str] = mapped_column(String(500), default="")
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)


class BlackoutRule(Base):
    """A rule's place in a blackout; RESTRICT keeps a rule in use from being deleted."""

    __tablename__ = "blackout_rules"

    blackout_pk: Mapped[str] = mapped_column(
        String(32), ForeignKey("blackouts.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(32), ForeignKey("rules.id", ondelete="RESTRICT"), index=True)
