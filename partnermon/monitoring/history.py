"""A touchpoint's last 90 days, one entry a day: availability in all hours and in business hours (the strip),
median and p95 response times, and which days an incident covered (the response-time chart's marks).

Read-only functions of ``(session, now, ...)``. Days come from daily rollups (one row a day, kept for years),
never from raw results; days are the practice's local days, as the rollups are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from partnermon.models import DailyRollup, Incident, Touchpoint
from partnermon.monitoring.rollups import local_day_bounds, percentile
from partnermon.practices.business_hours import BusinessHours

DAYS = 90
# Availability bands of a strip cell, best first: (lowest share, css class, words). Words go with every colour.
BANDS = ((0.999, "good", "99.9 % or more"), (0.99, "fair", "99 % to 99.9 %"), (0.95, "poor", "95 % to 99 %"),
         (0.0, "bad", "under 95 %"))


@dataclass(frozen=True)
class Day:
    day: date
    checks: int
    working: int
    bh_checks: int
    bh_working: int
    business_day: bool                  # the practice is open some of this day
    p50_ms: float | None
    p95_ms: float | None
    incident: str | None = None         # "down" or "degraded" if an incident covered part of the day (down wins)

    @property
    def availability(self) -> float | None:
        return self.working / self.checks if self.checks else None

    @property
    def bh_availability(self) -> float | None:
        return self.bh_working / self.bh_checks if self.bh_checks else None


def band(share: float | None) -> str:
    """The strip's colour class of an availability share ("none" without checks)."""
    if share is None:
        return "none"
    return next(name for low, name, _ in BANDS if share >= low)


def days_of(session: Session, now: datetime, touchpoint: Touchpoint, hours: BusinessHours,
            days: int = DAYS) -> list[Day]:
    """The touchpoint's last ``days`` local days, oldest first, today included (so far)."""
    zone = hours.zone
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    d = DailyRollup   # the columns read, not the whole row with its per-bucket copies
    rollups = {r.day: r for r in session.execute(
        select(d.day, d.up, d.degraded, d.down, d.bh_up, d.bh_degraded, d.bh_down, d.histogram)
        .where(d.practice_id == touchpoint.practice_id, d.touchpoint_id == touchpoint.id, d.day >= first,
               d.day <= today))}
    marks = _incident_days(session, now, touchpoint, hours, first, today)
    found = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        r = rollups.get(day)
        open_today = bool(hours.days & (1 << day.weekday())) and hours.end_minute > hours.start_minute
        if r is None:
            found.append(Day(day, 0, 0, 0, 0, open_today, None, None, marks.get(day)))
            continue
        histogram = list(r.histogram or [])
        found.append(Day(day, r.up + r.degraded + r.down, r.up + r.degraded, r.bh_up + r.bh_degraded + r.bh_down,
                         r.bh_up + r.bh_degraded, open_today, percentile(histogram, 0.5),
                         percentile(histogram, 0.95), marks.get(day)))
    return found


def _incident_days(session: Session, now: datetime, touchpoint: Touchpoint, hours: BusinessHours,
                   first: date, last: date) -> dict[date, str]:
    """Each local day an incident covered, with its kind (an outage outranks a degraded period that day)."""
    start, _ = local_day_bounds(first, hours.zone)
    _, end = local_day_bounds(last, hours.zone)
    marks: dict[date, str] = {}
    for incident in session.scalars(select(Incident).where(
            Incident.practice_id == touchpoint.practice_id, Incident.touchpoint_id == touchpoint.id,
            Incident.started_at < end, or_(Incident.resolved_at.is_(None), Incident.resolved_at >= start))):
        began = max(incident.started_at, start).astimezone(hours.zone).date()
        ended = min(incident.resolved_at or now, end - timedelta(microseconds=1)).astimezone(hours.zone).date()
        day = began
        while day <= ended:
            if marks.get(day) != "down":
                marks[day] = incident.kind
            day += timedelta(days=1)
    return marks


def totals(days: list[Day]) -> tuple[int, int, int, int]:
    """Checks and working checks over the days, all hours then business hours: the strip's n."""
    return (sum(d.checks for d in days), sum(d.working for d in days), sum(d.bh_checks for d in days),
            sum(d.bh_working for d in days))
