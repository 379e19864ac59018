"""The measures of DESIGN.md §5, aggregated in SQL per partner × moment of truth × period.

Feedback measures come from responses, probe measures from daily rollups (never raw results) and incidents.
Each reader takes a list of periods and answers counts per (partner, moment, period index): one query
serves the dashboard's one period and the partner page's twelve months alike. Periods are put into buckets
by a CASE over their bounds, computed here in the practice's time zone, so SQLite and PostgreSQL group the
same rows the same way without either's date functions.

Counts only: what they mean (rates, intervals, p95) is in the dataclasses' properties. Each feedback
measure has its own n — the clients who answered that question — and its own ``Reading``, which knows
whether that n reached the practice's minimum. Probe shares carry, beside their counts, the sums over each
touchpoint's days that their design effect needs (``stats.Clustered``), added up in SQL like the counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any, Sequence

from sqlalchemy import Float, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from partnermon.models import DailyRollup, FeedbackResponse, FollowUp, Incident, Probe, Touchpoint
from partnermon.models.feedback import dissatisfied_sql
from partnermon.models.monitoring import HISTOGRAM_SIZE, LATENCY_COLUMNS, LATENCY_EDGES_MS
from partnermon.monitoring.rollups import percentile
from partnermon.scoring.periods import Period
from partnermon.scoring.stats import Clustered, Estimate, clustered_wilson, nps, wilson

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

def enough_answers(n: int, minimum: int) -> bool:
    """Whether a measure's own n (the clients who answered its question) reached the practice's minimum."""
    return n >= max(1, minimum)


@dataclass(frozen=True)
class Reading:
    """One feedback measure of one partner × moment (or partner): its estimate and whether its own n — the
    clients who answered its question — reached the minimum. Below it the measure is not shown as a number,
    not ranked and not used (DESIGN.md §5): ``value`` is then None, and pages say "not enough answers yet"."""

    key: str
    estimate: Estimate
    minimum: int

    @property
    def n(self) -> int:
        return self.estimate.n

    @property
    def shown(self) -> bool:
        return enough_answers(self.estimate.n, self.minimum) and self.estimate.value is not None

    @property
    def value(self) -> float | None:
        return self.estimate.value if self.shown else None

    def not_enough(self) -> str:
        return f"not enough answers yet ({self.n} of {self.minimum})"


@dataclass(frozen=True)
class Readings:
    csat: Reading
    dissatisfaction: Reading
    brand_harm: Reading
    nps: Reading
    ces: Reading


@dataclass
class FeedbackCounts:
    # Every response answers the satisfaction question (the form requires it), so CSAT and dissatisfaction
    # rest on all responses, n; the other questions may be skipped and have their own n.
    n: int = 0
    satisfied: int = 0          # satisfaction 4–5 (CSAT's top two boxes)
    dissatisfied: int = 0       # DESIGN.md §4
    brand_n: int = 0            # answered the brand question
    brand_harm: int = 0         # brand effect "worse"
    harmful: int = 0            # dissatisfied or brand harm: one bad moment per response, counted once
    recommend_n: int = 0
    promoters: int = 0          # recommend 9–10
    detractors: int = 0         # recommend 0–6
    effort_n: int = 0
    easy: int = 0               # effort 5–7
    contact_requests: int = 0

    def add(self, other: "FeedbackCounts") -> None:
        for name in _FEEDBACK_COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def csat(self) -> Estimate:
        return wilson(self.satisfied, self.n)

    @property
    def dissatisfaction(self) -> Estimate:
        return wilson(self.dissatisfied, self.n)

    @property
    def brand_harm_rate(self) -> Estimate:
        """"Worse" among the clients who answered the brand question (not among all responses)."""
        return wilson(self.brand_harm, self.brand_n)

    @property
    def nps(self) -> Estimate:
        return nps(self.promoters, self.detractors, self.recommend_n)

    @property
    def ces(self) -> Estimate:
        return wilson(self.easy, self.effort_n)

    def readings(self, minimum: int) -> Readings:
        return Readings(Reading("csat", self.csat, minimum), Reading("dissatisfaction", self.dissatisfaction, minimum),
                        Reading("brand_harm", self.brand_harm_rate, minimum), Reading("nps", self.nps, minimum),
                        Reading("ces", self.ces, minimum))


def feedback_counts(session: Session, practice_id: int, periods: Sequence[Period], *, partner_id: int | None = None,
                    verified: bool = True) -> dict[Key, FeedbackCounts]:
    """Responses per partner × moment × period. Open-link answers (``verified=False``) are read apart and
    never mixed in (DESIGN.md §5)."""
    r = FeedbackResponse
    bounds = [(p.start, p.end) for p in periods]
    dissatisfied = dissatisfied_sql()
    harm = r.brand_effect == "worse"
    bucket = _bucket(r.created_at, bounds).label("bucket")
    # Labelled by FeedbackCounts' field names, and read back by them.
    counts = {"n": func.count(), "satisfied": _count(r.satisfaction >= 4), "dissatisfied": _count(dissatisfied),
              "brand_n": func.count(r.brand_effect), "brand_harm": _count(harm), "harmful": _count(or_(dissatisfied, harm)),
              "recommend_n": func.count(r.recommend), "promoters": _count(r.recommend >= 9),
              "detractors": _count(r.recommend <= 6), "effort_n": func.count(r.effort), "easy": _count(r.effort >= 5),
              "contact_requests": _count(r.wants_contact)}
    query = (select(r.partner_id, r.moment_id, bucket, *(column.label(name) for name, column in counts.items()))
             .where(r.practice_id == practice_id, r.verified.is_(verified), _in_any(r.created_at, bounds))
             .group_by(r.partner_id, r.moment_id, bucket))
    if partner_id is not None:
        query = query.where(r.partner_id == partner_id)
    found: dict[Key, FeedbackCounts] = {}
    for row in session.execute(query):
        if row.bucket >= 0:
            found[(row.partner_id, row.moment_id, row.bucket)] = FeedbackCounts(
                **{name: int(row._mapping[name] or 0) for name in counts})
    return found


# --- probes ---------------------------------------------------------------------------------------------

# The three probe shares whose intervals respect runs of failures: (name, failed part, checks) per daily row.
CLUSTERED_SHARES = ("bh_down", "down", "slow")


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
    # Per share of CLUSTERED_SHARES, over the touchpoint-days (clusters) of the period: Σy², Σy·m, Σm² and the
    # number of days with checks, where y is a day's failed checks (down, or slow) and m its checks.
    spread: dict[str, tuple[float, float, float, int]] = field(
        default_factory=lambda: {name: (0.0, 0.0, 0.0, 0) for name in CLUSTERED_SHARES})

    def add(self, other: "ProbeCounts") -> None:
        # A board adds up every moment of every partner, for two periods, on each view: this is one of its
        # busiest loops, so the names are listed once (_PROBE_COUNTS) rather than asked of fields() each time.
        for name in ("bh_down_share", "down_share", "slow_share"):
            self.__dict__.pop(name, None)   # the cached shares no longer hold
        for name in _PROBE_COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.histogram = [a + b for a, b in zip(self.histogram, other.histogram)]
        # Touchpoint-days of different moments are different clusters: their sums simply add.
        mine, theirs = self.spread, other.spread
        self.spread = {k: (mine[k][0] + theirs[k][0], mine[k][1] + theirs[k][1], mine[k][2] + theirs[k][2],
                           mine[k][3] + theirs[k][3]) for k in CLUSTERED_SHARES}

    @property
    def checks(self) -> int:
        return self.up + self.degraded + self.down

    @property
    def bh_checks(self) -> int:
        return self.bh_up + self.bh_degraded + self.bh_down

    @property
    def answered(self) -> int:
        return self.up + self.degraded

    def _clustered(self, name: str, failed: int, checks: int) -> Estimate:
        y2, ym, m2, clusters = self.spread[name]
        return clustered_wilson(Clustered(failed, checks, y2, ym, m2, clusters))

    @cached_property
    def bh_down_share(self) -> Estimate:
        """Business-hours checks that found the page down, with an interval that respects runs of failures."""
        return self._clustered("bh_down", self.bh_down, self.bh_checks)

    @cached_property
    def down_share(self) -> Estimate:
        return self._clustered("down", self.down, self.checks)

    @cached_property
    def slow_share(self) -> Estimate:
        """Answered checks slower than SLOW_MS, among answered checks."""
        return self._clustered("slow", min(self.slow, self.answered), self.answered)

    @property
    def availability(self) -> Estimate:
        return _complement(self.down_share)

    @property
    def bh_availability(self) -> Estimate:
        """Business-hours checks that found the page working: 1 − the down share, interval alike. Its
        ``low``/``high`` are what a chart's error bar should draw."""
        return _complement(self.bh_down_share)

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


# The plain counts of each dataclass, which ``add`` sums name by name.
_FEEDBACK_COUNTS = tuple(f.name for f in fields(FeedbackCounts))
_PROBE_COUNTS = tuple(f.name for f in fields(ProbeCounts) if f.name not in ("histogram", "spread"))


def _complement(estimate: Estimate) -> Estimate:
    if estimate.value is None:
        return estimate
    return Estimate(1 - estimate.value, 1 - estimate.high, 1 - estimate.low, estimate.n, estimate.design_effect)


def _spread(failed: Any, checks: Any) -> list[ColumnElement[Any]]:
    """Σy², Σy·m, Σm² and the count of rows with checks, over the daily rows of a group. In double precision:
    a busy touchpoint's m² overflows a 32-bit integer, and PostgreSQL sums 64-bit integers as ``numeric``,
    which made these sums cost as much as the rest of the page's query; a double is exact to 2⁵³, far above
    any sum of squared daily check counts."""
    y, m = cast(failed, Float), cast(checks, Float)
    return [func.coalesce(func.sum(y * y), 0), func.coalesce(func.sum(y * m), 0),
            func.coalesce(func.sum(m * m), 0), _count(checks > 0)]


# The rollups' outcome counts, by the name they have in DailyRollup and in ProbeCounts.
_SUMMED = ("up", "degraded", "down", "maintenance", "bh_up", "bh_degraded", "bh_down")


@lru_cache(maxsize=1)
def _rollup_columns() -> tuple[ColumnElement[Any], ...]:
    """The aggregates probe_counts selects, built once: they do not depend on the periods asked for, and
    building some forty expressions anew costs more than running the cached statement."""
    d = DailyRollup
    sums = [func.coalesce(func.sum(getattr(d, name)), 0) for name in _SUMMED]
    # The fixed-bucket histograms add up bucket by bucket, in SQL, from the rollups' bucket columns.
    buckets = [func.coalesce(func.sum(getattr(d, name)), 0) for name in LATENCY_COLUMNS]
    slow_day = sum((getattr(d, name) for name in LATENCY_COLUMNS[_SLOW_FROM_BUCKET:]), start=0)
    spreads = [*_spread(d.bh_down, d.bh_up + d.bh_degraded + d.bh_down), *_spread(d.down, d.up + d.degraded + d.down),
               *_spread(slow_day, d.up + d.degraded)]
    return (*sums, *buckets, *spreads)


def probe_counts(session: Session, practice_id: int, periods: Sequence[Period], *,
                 partner_id: int | None = None, touchpoint_id: int | None = None) -> dict[Key, ProbeCounts]:
    """Daily rollups and incidents per partner × moment (the touchpoint's) × period; ``touchpoint_id`` reads
    one touchpoint's alone (a promise about it)."""
    d, t = DailyRollup, Touchpoint
    day_bounds = [(p.first_day, p.end_day) for p in periods]
    bucket = _bucket(d.day, day_bounds).label("bucket")
    query = (select(t.partner_id, t.moment_id, bucket, *_rollup_columns())
             .join(t, t.id == d.touchpoint_id)
             .where(d.practice_id == practice_id, _in_any(d.day, day_bounds))
             .group_by(t.partner_id, t.moment_id, bucket))
    if partner_id is not None:
        query = query.where(t.partner_id == partner_id)
    if touchpoint_id is not None:
        query = query.where(t.id == touchpoint_id)
    found: dict[Key, ProbeCounts] = {}
    size = len(LATENCY_COLUMNS)
    for partner, moment, index, *numbers in session.execute(query):
        if index < 0:
            continue
        summed = len(_SUMMED)
        counts = ProbeCounts(**{name: int(x) for name, x in zip(_SUMMED, numbers[:summed])})
        counts.histogram = [int(x) for x in numbers[summed:summed + size]]
        rest = numbers[summed + size:]
        counts.spread = {name: (float(rest[4 * i]), float(rest[4 * i + 1]), float(rest[4 * i + 2]), int(rest[4 * i + 3]))
                         for i, name in enumerate(CLUSTERED_SHARES)}
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
    if touchpoint_id is not None:
        query = query.where(t.id == touchpoint_id)
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
