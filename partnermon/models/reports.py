"""Monthly reports (DESIGN.md §3): one row per practice and month, which is also the work a worker claims.

The unique (practice, month) makes "exactly once" a property of the table: the scheduler may queue the same
month twice, two workers may race for it, and there is still one report, rendered by whoever claimed it.
The PDF itself lives in the report store (partnermon.reports.storage); the row says where.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partnermon.db import Base, UTCDateTime
from partnermon.models.practice import Practice

REPORT_STATUSES = ("queued", "rendering", "done", "failed")


class Report(Base):
    __tablename__ = "report"
    __table_args__ = (UniqueConstraint("practice_id", "month", name="uq_report_practice_month"),
                      Index("ix_report_status_due", "status", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    month: Mapped[str] = mapped_column(String(7))            # "2026-11", in the practice's time zone
    status: Mapped[str] = mapped_column(String(10), default="queued")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A claim: the worker rendering it and until when; an expired lease may be taken over.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Scheduled reports are emailed to the owners once rendered; one asked for on the reports page is not.
    email_owners: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped by each regeneration, so the download link of an older rendering stops working.
    generation: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str | None] = mapped_column(String(300))
    bytes: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    render_ms: Mapped[int | None] = mapped_column(Integer)
    generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    practice: Mapped[Practice] = relationship()


__all__ = ["REPORT_STATUSES", "Report"]
