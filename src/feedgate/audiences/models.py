from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from feedgate.kit.base import Base, Timestamped


class Audience(Timestamped, Base):
    __tablename__ = "audiences"
    __table_args__ = (UniqueConstraint("owner", "external_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    desc: Mapped[str] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(16), default="Single")
    match_type: Mapped[str] = mapped_column(String(8), default="ANY")
    country_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    zip_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    dma_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    ip_networks: Mapped[list[str]] = mapped_column(JSON, default=list)
    devices: Mapped[list[str]] = mapped_column(JSON, default=list)


class SubAudience(Base):
    """Membership of a Single audience in a superaudience; RESTRICT keeps a used audience from vanishing."""

    __tablename__ = "audience_members"

    super_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True
    )
    sub_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("audiences.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)
