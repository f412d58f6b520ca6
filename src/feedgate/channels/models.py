from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from feedgate.kit.base import Base, Timestamped


class Channel(Timestamped, Base):
    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("owner", "external_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)
    desc: Mapped[str] = mapped_column(String(500))
    # NULL when unset, so the per-owner uniqueness ignores channels without one.
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # A channel belongs to at most one failover group: the column itself makes that impossible to break.
    failover_group_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("failover_groups.id", ondelete="SET NULL"), nullable=True, index=True
    )
