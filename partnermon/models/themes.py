"""Themes in client comments (DESIGN.md §3): one row per practice per run of the theme finder
(partnermon.feedback.themes), with what it found as JSON. Pages and the report read the latest row, so a
request never re-runs the model; a run that found nothing (too few comments) stores nothing, so the themes
found before are kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from partnermon.db import Base, UTCDateTime


class ThemeRun(Base):
    __tablename__ = "theme_run"
    __table_args__ = (Index("ix_theme_run_practice_created", "practice_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The comments read: those written in [period_start, period_end); the trend compares the period before.
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    comments: Mapped[int] = mapped_column(Integer)
    previous_comments: Mapped[int] = mapped_column(Integer, default=0)
    # "schedule" (the daily job) or the email of the owner who pressed "Find themes now".
    trigger: Mapped[str] = mapped_column(String(254))
    # A list of themes as partnermon.feedback.themes.Theme.as_json() writes them.
    themes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
