from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from feedgate.kit.base import Base, Timestamped


class Rule(Timestamped, Base):
    __tablename__ = "rules"
    __table_args__ = (UniqueConstraint("owner", "external_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    desc: Mapped[str] = mapped_column(String(500))
    all_viewers: Mapped[bool] = mapped_column(Boolean, default=False)
    alternate_content_type: Mapped[str] = mapped_column(String(16), default="slate")
    alternate_content_id: Mapped[str] = mapped_column(String(200), default="")
    alternate_content_loop: Mapped[bool] = mapped_column(Boolean, default=True)
    audience_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("audiences.id", ondelete="RESTRICT"), nullable=True, index=True
    )
