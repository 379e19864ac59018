"""The measures of DESIGN.md §5, aggregated in SQL per partner × moment of truth × period.

Feedback measures come from responses, probe measures from daily rollups (never raw results) and incidents.
Each reader takes a list of periods and answers counts per (partner, moment, period index): one query
serves the dashboard's one period and the partner page's twelve months alike. Periods are put into buckets
by a CASE over their bounds, computed here in the practice's time zone, so SQLite and PostgreSQL group the
same rows the same way without either's date functions.

Counts only: what they mean (rates, intervals, p95) is in the dataclasses' properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from partnermon.models import DailyRollup, FeedbackResponse, FollowUp, Incident, Probe, Touchpoint
from partnermon.models.monitoring import HISTOGRAM_SIZE, LATENCY_COLUMNS, LATENCY_EDGES_MS
from partnermon.monitoring.rollups import percentile
from partnermon.scoring.periods import Period
from partnermon.scoring.stats import Estimate, nps, wilson

# (partner id, moment id or None, period index)
Key = tuple[int, int | None, int]
# Checks slower than this count as slow in the index (the default p95 threshold, DESIGN.md §5).
SLOW_MS = 3000
_SLOW_FROM_BUCKET = next(i for i, edge in enumerate(LATENCY_EDGES_MS) if edge > SLOW_MS)
CERTIFICATE_WARNING = timedelta(days=14)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _bucket(column: Any, bounds: Sequence[tuple[Any, Any]]) -> ColumnElement[int]:
    """The index of the period a row falls in (-1: none), from the periods' bounds."""
    return case(*[(and_(column >= start, column < end), index) for index, (start, end) in enumerate(bounds)],
                else_=-1)


def _in_any(column: Any, bounds: Sequence[tuple[Any, Any]]) -> ColumnElement[bool]:
    # The periods asked for together are adjacent, so one range keeps the index usable.
    return and_(column >= min(b[0] for b in bounds), column < max(b[1] for b in bounds))


# --- feedback -------------------------------------------------------------------------------------------

@dataclass
class FeedbackCounts:
    n: int = 0
    satisfied: int = 0          # satisfaction 4–5 (CSAT's top two boxes)
    dissatisfied: int = 0       # DESIGN.md §4
    brand_harm: int = 0         # brand effect "worse"
    harmful: int = 0            # dissatisfied or brand harm: one bad moment per response, counted once
    recommend_n: int = 0
    promoters: int = 0          # recommend 9–10
    detractors: int = 0         # recommend 0–6
    effort_n: int = 0
    easy: int = 0               # effort 5–7
    contact_requests: int = 0

    def add(self, other: "FeedbackCounts") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def csat(self) -> Estimate:
        return wilson(self.satisfied, self.n)

    @property
    def dissatisfaction(self) -> Estimate:
        return wilson(self.dissatisfied, self.n)

    @property
    def brand_harm_rate(self) -> Estimate:
        return wilson(self.brand_harm, self.n)

    @property
    def harm_rate(self) -> Estimate:
        return wilson(self.harmful, self.n)

    @property
    def nps(self) -> Estimate:
        return nps(self.promoters, self.detractors, self.recommend_n)

    @property
    def ces(self) -> Estimate:
        return wilson(self.easy, self.effort_n)


def feedback_counts(session: Session, practice_id: int, periods: Sequence[Period], *, partner_id: int | None = None,
                    verified: bool = True) -> dict[Key, FeedbackCounts]:
    """Responses per partner × moment × period. Open-link answers (``verified=False``) are read apart and
    never mixed in (DESIGN.md §5)."""
    r = FeedbackResponse
    bounds = [(p.start, p.end) for p in periods]
    dissatisfied = or_(and_(r.satisfaction.is_not(None), r.satisfaction <= 2),
                       and_(r.satisfaction.is_(None), r.recommend <= 6))
    harm = r.brand_effect == "worse"
    bucket = _bucket(r.created_at, bounds).label("bucket")
    query = (select(r.partner_id, r.moment_id, bucket, func.count(), _count(r.satisfaction >= 4), _count(dissatisfied),
                    _count(harm), _count(or_(dissatisfied, harm)), func.count(r.recommend), _count(r.recommend >= 9),
                    _count(r.recommend <= 6), func.count(r.effort), _count(r.effort >= 5), _count(r.wants_contact))
             .where(r.practice_id == practice_id, r.verified.is_(verified), _in_any(r.created_at, bounds))
             .group_by(r.partner_id, r.moment_id, bucket))
    if partner_id is not None:
        query = query.where(r.partner_id == partner_id)
    found: dict[Key, FeedbackCounts] = {}
    for partner, moment, index, *numbers in session.execute(query):
        if index >= 0:
            found[(partner, moment, index)] = FeedbackCounts(*(int(x or 0) for x in numbers))
    return found


# --- probes ---------------------------------------------------------------------------------------------

@dataclass
class ProbeCounts:
    up: int = 0
    degraded: int = 0
    down: int = 0
    maintenance: int = 0
    bh_up: int = 0
    bh_degraded: int = 0
    bh_down: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_SIZE)
    incidents: int = 0                 # down incidents that began in the period, outside maintenance
    incident_seconds: int = 0
    bh_incident_seconds: int = 0       # of those, in business hours

    def add(self, other: "ProbeCounts") -> None:
        for f in fields(self):
            if f.name == "histogram":
                self.histogram = [a + b for a, b in zip(self.histogram, other.histogram)]
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def checks(self) -> int:
        return self.up + self.degraded + self.down

    @property
    def bh_checks(self) -> int:
        return self.bh_up + self.bh_degraded + self.bh_down

    @property
    def availability(self) -> Estimate:
        return wilson(self.up + self.degraded, self.checks)

    @property
    def bh_availability(self) -> Estimate:
        return wilson(self.bh_up + self.bh_degraded, self.bh_checks)

    @property
    def degraded_share(self) -> Estimate:
        return wilson(self.degraded, self.checks)

    @property
    def slow(self) -> int:
        """Checks that answered, slower than SLOW_MS (from the histogram, whose buckets end at fixed edges)."""
        return sum(self.histogram[_SLOW_FROM_BUCKET:])

    @property
    def p95_ms(self) -> float | None:
        return percentile(self.histogram, 0.95)


def probe_counts(session: Session, practice_id: int, periods: Sequence[Period], *,
                 partner_id: int | None = None) -> dict[Key, ProbeCounts]:
    """Daily rollups and incidents per partner × moment (the touchpoint's) × period."""
    d, t = DailyRollup, Touchpoint
    day_bounds = [(p.first_day, p.end_day) for p in periods]
    bucket = _bucket(d.day, day_bounds).label("bucket")
    sums = [func.coalesce(func.sum(getattr(d, name)), 0)
            for name in ("up", "degraded", "down", "maintenance", "bh_up", "bh_degraded", "bh_down")]
    # The fixed-bucket histograms add up bucket by bucket, in SQL, from the rollups' bucket columns.
    buckets = [func.coalesce(func.sum(getattr(d, name)), 0) for name in LATENCY_COLUMNS]
    query = (select(t.partner_id, t.moment_id, bucket, *sums, *buckets)
             .join(t, t.id == d.touchpoint_id)
             .where(d.practice_id == practice_id, _in_any(d.day, day_bounds))
             .group_by(t.partner_id, t.moment_id, bucket))
    if partner_id is not None:
        query = query.where(t.partner_id == partner_id)
    found: dict[Key, ProbeCounts] = {}
    for partner, moment, index, *numbers in session.execute(query):
        if index < 0:
            continue
        counts = ProbeCounts(*(int(x) for x in numbers[:7]))
        counts.histogram = [int(x) for x in numbers[7:]]
        found[(partner, moment, index)] = counts
    i = Incident
    bounds = [(p.start, p.end) for p in periods]
    bucket = _bucket(i.started_at, bounds).label("bucket")
    query = (select(t.partner_id, t.moment_id, bucket, func.count(), func.coalesce(func.sum(i.seconds_total), 0),
                    func.coalesce(func.sum(i.seconds_in_business_hours), 0))
             .join(t, t.id == i.touchpoint_id)
             .where(i.practice_id == practice_id, i.kind == "down", i.in_maintenance.is_(False),
                    _in_any(i.started_at, bounds))
             .group_by(t.partner_id, t.moment_id, bucket))
    if partner_id is not None:
        query = query.where(t.partner_id == partner_id)
    # An open incident's durations are filled when it resolves; until then it counts, with no minutes yet
    # (the touchpoint page shows its running length).
    for partner, moment, index, count, seconds, bh_seconds in session.execute(query):
        if index >= 0:
            counts = found.setdefault((partner, moment, index), ProbeCounts())
            counts.incidents, counts.incident_seconds, counts.bh_incident_seconds = int(count), int(seconds), int(bh_seconds)
    return found


# --- now: touchpoint health and follow-ups ----------------------------------------------------------------

@dataclass
class Health:
    """What is wrong right now (not per period): pages without a way to reach a person, certificates about
    to expire, follow-ups not closed."""

    contact_missing: int = 0
    certificates_expiring: int = 0
    open_follow_ups: int = 0
    overdue_follow_ups: int = 0


def health_now(session: Session, now: datetime, practice_id: int, *, partner_id: int | None = None
               ) -> dict[tuple[int, int | None], Health]:
    p, t = Probe, Touchpoint
    query = (select(t.partner_id, t.moment_id,
                    _count(and_(p.contact_missing_run > 0, p.contact_missing_run >= p.failure_threshold)),
                    _count(and_(p.certificate_expires_at.is_not(None), p.certificate_expires_at < now + CERTIFICATE_WARNING)))
             .join(t, t.id == p.touchpoint_id)
             .where(p.practice_id == practice_id)
             .group_by(t.partner_id, t.moment_id))
    if partner_id is not None:
        query = query.where(t.partner_id == partner_id)
    found: dict[tuple[int, int | None], Health] = {}
    for partner, moment, missing, expiring in session.execute(query):
        if missing or expiring:
            found[(partner, moment)] = Health(int(missing), int(expiring))
    f = FollowUp
    query = (select(f.partner_id, f.moment_id, func.count(), _count(and_(f.status == "open", f.contact_due_at <= now)))
             .where(f.practice_id == practice_id, f.status != "resolved")
             .group_by(f.partner_id, f.moment_id))
    if partner_id is not None:
        query = query.where(f.partner_id == partner_id)
    for partner, moment, unresolved, overdue in session.execute(query):
        health = found.setdefault((partner, moment), Health())
        health.open_follow_ups, health.overdue_follow_ups = int(unresolved), int(overdue)
    return found
