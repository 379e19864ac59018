"""Who is told about a partner's touchpoints (partnermon.alerts): a user's choice per partner.

A row is a choice someone made. With no row the default applies — owners are told about every partner,
advisers about none — so a new partner or a new owner needs no rows at all (see alerts.subscriptions).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, UniqueConstraint
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
