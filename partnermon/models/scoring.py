"""What attribution keeps (DESIGN.md §5): each practice's own thresholds per moment of truth, and the early
warnings it has raised, so that each new warning is told to the owners once.

Scores themselves are not stored: they are computed in SQL from rollups, incidents and responses whenever
they are read (partnermon.scoring), so they can never disagree with the data behind them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from partnermon.db import Base, UTCDateTime


class ScoreThreshold(Base):
    """An owner's limit for one measure, for one moment of truth or (moment_id None) for every moment.

    With no row the built-in default applies (partnermon.scoring.thresholds.DEFAULTS)."""

    __tablename__ = "score_threshold"
    __table_args__ = (UniqueConstraint("practice_id", "moment_id", "measure", name="uq_score_threshold"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    moment_id: Mapped[int | None] = mapped_column(ForeignKey("moment_of_truth.id", ondelete="CASCADE"))
    measure: Mapped[str] = mapped_column(String(40))
    limit: Mapped[float] = mapped_column(Float)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EarlyWarning(Base):
    """A significant change of one measure of one partner × moment between two periods.

    A warning stays one row while the change stays significant (``last_seen_at`` moves on); when it is no
    longer significant it is cleared, and a later change is a new warning — told to the owners again."""

    __tablename__ = "early_warning"
    __table_args__ = (Index("ix_early_warning_practice_cleared", "practice_id", "cleared_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    # None: responses that named no moment of truth.
    moment_id: Mapped[int | None] = mapped_column(ForeignKey("moment_of_truth.id", ondelete="CASCADE"))
    measure: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(6))  # "worse" or "better"
    previous_value: Mapped[float] = mapped_column(Float)
    current_value: Mapped[float] = mapped_column(Float)
    # The test and its result, as shown to the owner ("two-proportion z-test, z = 2.81, p = 0.005").
    test: Mapped[str] = mapped_column(String(60))
    statistic: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


__all__ = ["EarlyWarning", "ScoreThreshold"]
