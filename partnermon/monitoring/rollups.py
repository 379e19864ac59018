"""Hourly and daily rollups of probe results, availability and percentiles read from them, and retention.

Pages, scores and reports read rollups, never raw results (DESIGN.md §7). A rollup holds counts by
outcome (all hours and business hours), results during maintenance apart, and a fixed-bucket
response-time histogram, so that hours add up into days and months with honest p50/p95.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from partnermon.models import DailyRollup, HourlyRollup, JobMark, Practice, ProbeResult
from partnermon.models.monitoring import HISTOGRAM_SIZE, LATENCY_EDGES_MS, latency_columns

MARK = "rollups"
# Results are recorded up to a lease after they start; hours this close to the mark are recomputed.
LATE_RESULTS = timedelta(minutes=10)
COUNT_FIELDS = ("up", "degraded", "down", "maintenance", "bh_up", "bh_degraded", "bh_down")


def floor_hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


@dataclass
class Counts:
    """A sum of rollups: what availability and percentiles are computed from."""

    up: int = 0
    degraded: int = 0
    down: int = 0
    maintenance: int = 0
    bh_up: int = 0
    bh_degraded: int = 0
    bh_down: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_SIZE)
    bh_histogram: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_SIZE)

    def add(self, other: Any) -> None:
        for name in COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + (getattr(other, name) or 0))
        for name in ("histogram", "bh_histogram"):
            mine, theirs = getattr(self, name), getattr(other, name) or []
            for index, count in enumerate(theirs[:HISTOGRAM_SIZE]):
                mine[index] += count

    @property
    def checks(self) -> int:
        return self.up + self.degraded + self.down

    @property
    def bh_checks(self) -> int:
        return self.bh_up + self.bh_degraded + self.bh_down

    @property
    def availability(self) -> float | None:
        """Share of checks (outside maintenance) that found the touchpoint working (up or degraded)."""
        return (self.up + self.degraded) / self.checks if self.checks else None

    @property
    def bh_availability(self) -> float | None:
        return (self.bh_up + self.bh_degraded) / self.bh_checks if self.bh_checks else None

    def percentile(self, q: float, *, business_hours: bool = False) -> float | None:
        return percentile(self.bh_histogram if business_hours else self.histogram, q)

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (*COUNT_FIELDS, "histogram", "bh_histogram")}


def percentile(histogram: list[int], q: float) -> float | None:
    """The q-quantile (0–1) of a fixed-bucket histogram, interpolated within its bucket."""
    total = sum(histogram)
    if not total:
        return None
    target = q * total
    seen = 0
    for index, count in enumerate(histogram):
        if count and seen + count >= target:
            lower = LATENCY_EDGES_MS[index - 1] if index > 0 else 0
            upper = LATENCY_EDGES_MS[index] if index < len(LATENCY_EDGES_MS) else LATENCY_EDGES_MS[-1] * 2
            return lower + (upper - lower) * (target - seen) / count
        seen += count
    return float(LATENCY_EDGES_MS[-1])


def _hour_rollups(session: Session, hour: datetime) -> list[dict[str, Any]]:
    grouped = session.execute(
        select(ProbeResult.touchpoint_id, ProbeResult.practice_id, ProbeResult.outcome, ProbeResult.in_business_hours,
               ProbeResult.in_maintenance, ProbeResult.latency_bucket, func.count())
        .where(ProbeResult.started_at >= hour, ProbeResult.started_at < hour + timedelta(hours=1))
        .group_by(ProbeResult.touchpoint_id, ProbeResult.practice_id, ProbeResult.outcome,
                  ProbeResult.in_business_hours, ProbeResult.in_maintenance, ProbeResult.latency_bucket)
    ).all()
    counts: dict[tuple[int, int], Counts] = defaultdict(Counts)
    for touchpoint_id, practice_id, outcome, in_bh, in_maintenance, bucket, n in grouped:
        row = counts[(touchpoint_id, practice_id)]
        if in_maintenance:
            row.maintenance += n
            continue
        setattr(row, outcome, getattr(row, outcome) + n)
        if in_bh:
            setattr(row, f"bh_{outcome}", getattr(row, f"bh_{outcome}") + n)
        if bucket is not None and outcome != "down":
            row.histogram[bucket] += n
            if in_bh:
                row.bh_histogram[bucket] += n
    return [{"touchpoint_id": t, "practice_id": p, "hour": hour, **c.as_row()} for (t, p), c in counts.items()]


def roll_up(session: Session, now: datetime) -> int:
    """Recompute hourly rollups for the hours since the last run (and their days). Returns hours done."""
    mark = session.get(JobMark, MARK)
    if mark is None:
        earliest = session.scalar(select(func.min(ProbeResult.started_at)))
        start = floor_hour(earliest or now)
        mark = JobMark(name=MARK, at=start)
        session.add(mark)
    else:
        start = floor_hour(min(mark.at, now) - LATE_RESULTS)
    touched_days: set[tuple[int, datetime]] = set()
    hour, hours_done = start, 0
    while hour <= now:
        rows = _hour_rollups(session, hour)
        session.execute(delete(HourlyRollup).where(HourlyRollup.hour == hour))
        if rows:
            session.execute(insert(HourlyRollup), rows)
        touched_days.update((row["practice_id"], hour) for row in rows)
        hours_done += 1
        # Jump over hours without results (a first run may start months back).
        following = session.scalar(select(func.min(ProbeResult.started_at))
                                   .where(ProbeResult.started_at >= hour + timedelta(hours=1)))
        if following is None:
            break
        hour = max(hour + timedelta(hours=1), floor_hour(following))
    _roll_up_days(session, touched_days)
    mark.at = now
    session.commit()
    return hours_done


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), zone).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(timezone.utc)
    return start, end


def _roll_up_days(session: Session, touched: set[tuple[int, datetime]]) -> None:
    by_practice: dict[int, set[datetime]] = defaultdict(set)
    for practice_id, hour in touched:
        by_practice[practice_id].add(hour)
    for practice_id, hours in by_practice.items():
        practice = session.get(Practice, practice_id)
        if practice is None:
            continue
        zone = ZoneInfo(practice.timezone)
        for day in sorted({h.astimezone(zone).date() for h in hours}):
            start, end = local_day_bounds(day, zone)
            sums: dict[int, Counts] = defaultdict(Counts)
            for rollup in session.scalars(select(HourlyRollup).where(
                    HourlyRollup.practice_id == practice_id, HourlyRollup.hour >= start, HourlyRollup.hour < end)):
                sums[rollup.touchpoint_id].add(rollup)
            session.execute(delete(DailyRollup).where(DailyRollup.practice_id == practice_id, DailyRollup.day == day))
            if sums:
                session.execute(insert(DailyRollup), [
                    {"touchpoint_id": t, "practice_id": practice_id, "day": day, **c.as_row(),
                     **latency_columns(c.histogram)} for t, c in sums.items()
                ])


def counts_between(session: Session, touchpoint_ids: Iterable[int], start: datetime, end: datetime
                   ) -> dict[int, Counts]:
    ids = list(touchpoint_ids)
    totals: dict[int, Counts] = {tid: Counts() for tid in ids}
    if not ids:
        return totals
    for rollup in session.scalars(select(HourlyRollup).where(
            HourlyRollup.touchpoint_id.in_(ids), HourlyRollup.hour >= floor_hour(start), HourlyRollup.hour < end)):
        totals[rollup.touchpoint_id].add(rollup)
    return totals


WINDOWS = (("24 hours", timedelta(hours=24)), ("7 days", timedelta(days=7)), ("30 days", timedelta(days=30)))


def touchpoint_windows(session: Session, touchpoint_id: int, now: datetime) -> list[tuple[str, Counts]]:
    return [(label, counts_between(session, [touchpoint_id], now - span, now + timedelta(hours=1))[touchpoint_id])
            for label, span in WINDOWS]


def prune_results(session: Session, now: datetime, retention_days: int) -> int:
    """Raw results and hourly rollups older than the retention period go; daily rollups stay for years."""
    cutoff = now - timedelta(days=retention_days)
    removed = session.execute(delete(ProbeResult).where(ProbeResult.started_at < cutoff)).rowcount or 0
    session.execute(delete(HourlyRollup).where(HourlyRollup.hour < floor_hour(cutoff)))
    session.commit()
    return removed
