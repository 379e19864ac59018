"""Who is told about a partner's touchpoints (partnermon.alerts): a user's choice per partner; and how each
user wants each kind of alert delivered (partnermon.alerts.delivery), with what waits for their daily digest.

A row is a choice someone made. With no row the default applies — owners are told about every partner,
advisers about none — so a new partner or a new owner needs no rows at all (see alerts.subscriptions).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from partnermon.db import Base, UTCDateTime


class PartnerSubscription(Base):
    __tablename__ = "partner_subscription"
    __table_args__ = (UniqueConstraint("user_id", "partner_id", name="uq_partner_subscription_user_partner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    subscribed: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertPreference(Base):
    """A user's choice for one kind of alert: ``immediate``, ``digest`` or ``off``. No row means immediate."""

    __tablename__ = "alert_preference"
    __table_args__ = (UniqueConstraint("user_id", "alert_type", name="uq_alert_preference_user_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    alert_type: Mapped[str] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DigestItem(Base):
    """An alert held for the user's daily digest instead of being emailed at once."""

    __tablename__ = "digest_item"
    __table_args__ = (Index("ix_digest_item_user_sent", "user_id", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    # The alert's own dedupe key: a retried job holds the same alert once, as it would email it once.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(String(300))
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
