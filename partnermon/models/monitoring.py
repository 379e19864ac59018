"""Probes of touchpoints, what they found, incidents, maintenance windows and rollups (DESIGN.md §7)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partnermon.db import Base, UTCDateTime
from partnermon.models.partners import Partner, Touchpoint

# Upper edges (ms) of the fixed response-time histogram. Fixed edges are what let hourly histograms be
# added together into daily and monthly ones and still give honest p50/p95 (DESIGN.md §7).
LATENCY_EDGES_MS: tuple[int, ...] = (
    25, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000, 7500, 10000, 15000, 30000,
)
HISTOGRAM_SIZE = len(LATENCY_EDGES_MS) + 1  # the last bucket holds everything slower


def latency_bucket(total_ms: float | None) -> int | None:
    if total_ms is None:
        return None
    for index, edge in enumerate(LATENCY_EDGES_MS):
        if total_ms <= edge:
            return index
    return len(LATENCY_EDGES_MS)


class Probe(Base):
    """The scheduled check of one touchpoint; also the work row a worker claims (DESIGN.md §6)."""

    __tablename__ = "probe"
    __table_args__ = (Index("ix_probe_due", "enabled", "next_due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    touchpoint_id: Mapped[int] = mapped_column(ForeignKey("touchpoint.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="http")
    checks: Mapped[list[str]] = mapped_column(JSON, default=list)
    soft_checks: Mapped[list[str]] = mapped_column(JSON, default=list)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=300)
    timeout_seconds: Mapped[float] = mapped_column(Float, default=10.0)
    degraded_after_ms: Mapped[int | None] = mapped_column(Integer)
    failure_threshold: Mapped[int] = mapped_column(Integer, default=2)
    success_threshold: Mapped[int] = mapped_column(Integer, default=2)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The latest outcome, and the runs of consecutive outcomes the incident thresholds count, each with
    # the time it began (an incident starts at the first failing check, not at the one that confirmed it).
    state: Mapped[str] = mapped_column(String(10), default="unknown")
    down_run: Mapped[int] = mapped_column(Integer, default=0)
    down_run_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    working_run: Mapped[int] = mapped_column(Integer, default=0)
    working_run_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    degraded_run: Mapped[int] = mapped_column(Integer, default=0)
    degraded_run_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    healthy_run: Mapped[int] = mapped_column(Integer, default=0)
    healthy_run_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The open incidents, if any: kept here so recording a result needs no search for them.
    open_down_incident_id: Mapped[int | None] = mapped_column(Integer)
    open_degraded_incident_id: Mapped[int | None] = mapped_column(Integer)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    # What results say beyond up/down (monitoring.touchpoint_health), kept here so the one-off alerts
    # (alerts.touchpoint_health) never search raw results: the expiry of the certificate last read, and a run
    # of readable pages offering no way to reach a person, with when it began. The ``*_told_for`` columns name
    # the expiry / the run that was last told about, so each is told once.
    certificate_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    certificate_told_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_missing_run: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    contact_missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_lost_told_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    touchpoint: Mapped[Touchpoint] = relationship(back_populates="probe")


class ProbeResult(Base):
    """One run of a probe: the kind's ``probes.spec.Finding``, stored. Bounded fields only: no page bodies, a
    short error excerpt (DESIGN.md §7)."""

    __tablename__ = "probe_result"
    __table_args__ = (
        Index("ix_probe_result_touchpoint_started", "touchpoint_id", "started_at"),
        Index("ix_probe_result_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    touchpoint_id: Mapped[int] = mapped_column(ForeignKey("touchpoint.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(10))
    status_code: Mapped[int | None] = mapped_column(Integer)
    dns_ms: Mapped[float | None] = mapped_column(Float)
    connect_ms: Mapped[float | None] = mapped_column(Float)
    tls_ms: Mapped[float | None] = mapped_column(Float)
    first_byte_ms: Mapped[float | None] = mapped_column(Float)
    total_ms: Mapped[float | None] = mapped_column(Float)
    latency_bucket: Mapped[int | None] = mapped_column(SmallInteger)
    bytes_read: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(300))
    failed_checks: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    in_business_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    in_maintenance: Mapped[bool] = mapped_column(Boolean, default=False)


class Incident(Base):
    """A period in which a touchpoint was down (or, kept apart, degraded)."""

    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_touchpoint_started", "touchpoint_id", "started_at"),
                      Index("ix_incident_notice_due", "notice_due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    touchpoint_id: Mapped[int] = mapped_column(ForeignKey("touchpoint.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # "down" or "degraded"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_error: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(String(300))
    in_maintenance: Mapped[bool] = mapped_column(Boolean, default=False)
    # Filled when resolved; an open incident's durations are computed up to "now" when shown.
    seconds_total: Mapped[int | None] = mapped_column(Integer)
    seconds_in_business_hours: Mapped[int | None] = mapped_column(Integer)
    # Telling the partner's subscribers (alerts.incidents). ``notice_due_at`` is when there is next something
    # to tell — set when the incident opens or resolves, then by the alerts job (the next reminder, or the end
    # of a maintenance window) — and None when there is nothing: the job reads only due rows, by index.
    notice_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # While open and announced: the number of the reminder that falls due at ``notice_due_at``.
    reminder_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    touchpoint: Mapped[Touchpoint] = relationship()

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class MaintenanceWindow(Base):
    """Planned work at a partner (all its touchpoints) or on one touchpoint: checks go on, incidents are
    marked as in maintenance so they do not count against the partner."""

    __tablename__ = "maintenance_window"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    touchpoint_id: Mapped[int | None] = mapped_column(ForeignKey("touchpoint.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    partner: Mapped[Partner] = relationship()
    touchpoint: Mapped[Touchpoint | None] = relationship()


class JobMark(Base):
    """How far a periodic job has got (e.g. rollups up to this hour), so a restart resumes, not redoes."""

    __tablename__ = "job_mark"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class _RollupCounts:
    """Counts by outcome, the same in business hours, and response-time histograms (all and business)."""

    up: Mapped[int] = mapped_column(Integer, default=0)
    degraded: Mapped[int] = mapped_column(Integer, default=0)
    down: Mapped[int] = mapped_column(Integer, default=0)
    maintenance: Mapped[int] = mapped_column(Integer, default=0)
    bh_up: Mapped[int] = mapped_column(Integer, default=0)
    bh_degraded: Mapped[int] = mapped_column(Integer, default=0)
    bh_down: Mapped[int] = mapped_column(Integer, default=0)
    histogram: Mapped[list[int]] = mapped_column(JSON, default=list)
    bh_histogram: Mapped[list[int]] = mapped_column(JSON, default=list)


class HourlyRollup(_RollupCounts, Base):
    __tablename__ = "rollup_hourly"
    __table_args__ = (UniqueConstraint("touchpoint_id", "hour", name="uq_rollup_hourly"),
                      Index("ix_rollup_hourly_hour", "hour"))

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    touchpoint_id: Mapped[int] = mapped_column(ForeignKey("touchpoint.id", ondelete="CASCADE"))
    hour: Mapped[datetime] = mapped_column(UTCDateTime)  # start of the UTC hour


class DailyRollup(_RollupCounts, Base):
    __tablename__ = "rollup_daily"
    # Scores read a practice's days in a period (partnermon.scoring.measures).
    __table_args__ = (UniqueConstraint("touchpoint_id", "day", name="uq_rollup_daily"),
                      Index("ix_rollup_daily_practice_day", "practice_id", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    touchpoint_id: Mapped[int] = mapped_column(ForeignKey("touchpoint.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)  # the practice's local calendar day

    # The all-hours histogram again, one integer column per bucket (``latency_0`` …): scores add up a
    # practice's days in SQL, and summing plain columns is ten times cheaper than reading JSON elements
    # (300 touchpoints × 60 days: 25 ms instead of 290 ms on PostgreSQL). ``histogram`` stays the list the
    # Python code uses; ``latency_columns`` fills both from it, and every writer goes through it.
    for _bucket in range(HISTOGRAM_SIZE):
        locals()[f"latency_{_bucket}"] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    del _bucket


LATENCY_COLUMNS = tuple(f"latency_{bucket}" for bucket in range(HISTOGRAM_SIZE))


def latency_columns(histogram: list[int]) -> dict[str, int]:
    """A daily rollup's bucket columns from its histogram list."""
    padded = list(histogram[:HISTOGRAM_SIZE]) + [0] * (HISTOGRAM_SIZE - len(histogram))
    return dict(zip(LATENCY_COLUMNS, padded))
