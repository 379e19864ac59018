"""Partners a practice recommends, and the touchpoints where clients meet them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partnermon.db import Base, UTCDateTime
from partnermon.models.practice import MomentOfTruth, Practice

if TYPE_CHECKING:
    from partnermon.models.monitoring import Probe

PARTNER_CATEGORIES = {
    "insurer": "Insurer",
    "fund_manager": "Fund manager",
    "platform": "Platform",
    "lender": "Lender",
    "other": "Other",
}


class Partner(Base):
    __tablename__ = "partner"
    __table_args__ = (
        UniqueConstraint("practice_id", "name", name="uq_partner_practice_name"),
        # One own row per practice, however many owners click "add our own touchpoint" at once (partners.own).
        Index("uq_partner_own_practice", "practice_id", unique=True, sqlite_where=text("is_own_practice"),
              postgresql_where=text("is_own_practice")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20), default="other")
    website: Mapped[str | None] = mapped_column(String(2000))
    # How many of the practice's clients deal with this partner (DESIGN.md §3).
    exposure: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    account_manager_name: Mapped[str] = mapped_column(String(200), default="")
    account_manager_email: Mapped[str] = mapped_column(String(254), default="")
    account_manager_phone: Mapped[str] = mapped_column(String(40), default="")
    # The practice itself (issue 20): its own website, booking page and portal are touchpoints of this row,
    # probed, scored and alerted like a partner's but never ranked among partners (partnermon.partners.own).
    is_own_practice: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    practice: Mapped[Practice] = relationship(back_populates="partners")
    touchpoints: Mapped[list["Touchpoint"]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", order_by="Touchpoint.name"
    )

    @property
    def category_label(self) -> str:
        return PARTNER_CATEGORIES.get(self.category, self.category)


class Touchpoint(Base):
    __tablename__ = "touchpoint"
    __table_args__ = (UniqueConstraint("partner_id", "name", name="uq_touchpoint_partner_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Carried here as well as on the partner so every tenant filter is one column.
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    moment_id: Mapped[int] = mapped_column(ForeignKey("moment_of_truth.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    partner: Mapped[Partner] = relationship(back_populates="touchpoints")
    moment: Mapped[MomentOfTruth] = relationship()
    probe: Mapped["Probe | None"] = relationship(back_populates="touchpoint", cascade="all, delete-orphan",
                                                 uselist=False)
