
from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from feedgate.kit.base import Base, Timestamped


class Webhook(Timestamped, Base):
    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), default="")
    events: Mapped[list[str]] = mapped_column(JSON, default=list)  # event names, or ["*"]
    failover_group_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # [] = every group
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret: Mapped[str] = mapped_column(String(100))
    format: Mapped[str] = mapped_column(String(16), default="feedgate", server_default="feedgate")  # formats.FORMATS
    routing_key: Mapped[str] = mapped_column(String(64), default="", server_default="")  # PagerDuty's, write-only


class WebhookDelivery(Base):
    """The outbox: written in the transaction that records the event, sent after the commit."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(32), ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)
    event: Mapped[str] = mapped_column(String(64))  # the Feedgate-Event type, e.g. failover_group.failover
    body: Mapped[str] = mapped_column(Text)  # the exact JSON sent, fixed when the event happened
    created_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    delivered_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

