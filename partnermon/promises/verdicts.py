"""Whether a promise was kept in a period, with its evidence (the measure's value, 95 % interval and n).

Each measure is read from what scores already read — probe measures from daily rollups, feedback from
responses — over the promise's scope: its touchpoint, else its moment (the partner's touchpoints and answers
of that moment), else the whole partner. Feedback carries moments, not touchpoints, so a satisfaction or
duration promise about a touchpoint is judged on the answers about the touchpoint's moment.

- availability: the share of checks that found the touchpoint working, around the clock (a stated SLA is),
  with the clustered interval scores use (checks in a row are not independent);
- p95_ms: the 95th percentile of answered checks' response times, from the rollups' histogram; its interval
  is the percentiles at the ends of the Wilson-style interval around rank 0.95·n, widened by the checks'
  design effect (a distribution-free interval for a quantile);
- duration: the share of clients who said it took no longer than the target ("How long did it take?"); the
  promise holds when at least 9 in 10 clients say so (``DURATION_SHARE``);
- satisfaction: the share of satisfied clients (4–5 of 5), Wilson interval.

The rule, the same for every measure: **not measured** below the minimum n (the practice's minimum answers,
or ``MIN_CHECKS`` checks); **kept** when the value meets the target; **broken** when the whole interval misses
it — clearly, not by chance; **too close to call** when the value misses but the interval still reaches the
target. Only a broken promise is told to anyone.

Pure reads of ``(session, period, promise)``; nothing is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from partnermon.models import FeedbackResponse, Practice, Promise
from partnermon.monitoring.rollups import percentile
from partnermon.promises import durations
from partnermon.scoring import formatting
from partnermon.scoring.measures import FeedbackCounts, ProbeCounts, enough_answers, feedback_counts, probe_counts
from partnermon.scoring.periods import Period
from partnermon.scoring.stats import Z95, Estimate, wilson
from partnermon.scoring.warnings import MIN_CHECKS

DURATION_SHARE = 0.9
KEPT, BROKEN, UNCLEAR, NOT_MEASURED = "kept", "broken", "unclear", "not_measured"
STATE_LABELS = {KEPT: "Kept", BROKEN: "Broken", UNCLEAR: "Too close to call", NOT_MEASURED: "Not measured"}


@dataclass(frozen=True)
class Verdict:
    promise: Promise
    period: Period
    state: str
    estimate: Estimate | None     # shares 0–1; for p95, milliseconds
    n: int
    minimum: int
    unit: str                      # "checks" or "answers"

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def broken(self) -> bool:
        return self.state == BROKEN

    def evidence(self) -> str:
        """What the verdict rests on, in words: "99.1 % (98.7–99.4 %) of 8,640 checks"."""
        if self.state == NOT_MEASURED or self.estimate is None or self.estimate.value is None:
            return f"not enough {self.unit} yet ({self.n:,} of {self.minimum:,})"
        e = self.estimate
        if self.promise.measure == "p95_ms":
            return (f"p95 {_ms(e.value)} ({_ms(e.low)}–{_ms(e.high)}) over {self.n:,} checks")
        what = {"availability": "of checks found it working",
                "satisfaction": "of clients satisfied",
                "duration": f"of clients said it took at most {durations.describe(self.promise.target)}"
                }[self.promise.measure]
        return f"{formatting.percent(e.value, 1)} ({e.bounds(1)} %) {what}, n = {self.n:,}"


def describe_target(promise: Promise) -> str:
    """The target in words: "at least 99.5 % available", "p95 at most 2.0 s", "within 2 days (9 in 10 clients)"."""
    t = promise.target
    if promise.measure == "availability":
        return f"available at least {formatting.trimmed(t, 3)} % of the time"
    if promise.measure == "p95_ms":
        return f"p95 response time at most {_ms(t)}"
    if promise.measure == "duration":
        return f"done within {durations.describe(t)} (for at least 9 in 10 clients)"
    return f"at least {formatting.trimmed(t, 1)} % of clients satisfied"


def scope_label(promise: Promise) -> str:
    if promise.touchpoint is not None:
        return promise.touchpoint.name
    if promise.moment is not None:
        return promise.moment.name
    return "All touchpoints"


def _ms(value: float) -> str:
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{round(value)} ms"


def _scope_moment(promise: Promise) -> int | None:
    if promise.touchpoint is not None:
        return promise.touchpoint.moment_id
    return promise.moment_id


def _probe_counts(session: Session, promise: Promise, period: Period) -> ProbeCounts:
    found = probe_counts(session, promise.practice_id, [period], partner_id=promise.partner_id,
                         touchpoint_id=promise.touchpoint_id)
    total = ProbeCounts()
    moment = None if promise.touchpoint_id is not None else promise.moment_id
    for (_pid, moment_id, _index), counts in found.items():
        if moment is None or moment_id == moment:
            total.add(counts)
    return total


def _feedback_counts(session: Session, promise: Promise, period: Period) -> FeedbackCounts:
    moment = _scope_moment(promise)
    total = FeedbackCounts()
    for (_pid, moment_id, _index), counts in feedback_counts(session, promise.practice_id, [period],
                                                             partner_id=promise.partner_id).items():
        if moment is None or moment_id == moment:
            total.add(counts)
    return total


def _duration_counts(session: Session, promise: Promise, period: Period) -> tuple[int, int]:
    """(answers within the target, answers) among the period's verified answers to "How long did it take?"."""
    r = FeedbackResponse
    query = (select(func.count(), func.coalesce(func.sum(case((r.duration_seconds <= promise.target, 1), else_=0)), 0))
             .where(r.practice_id == promise.practice_id, r.partner_id == promise.partner_id, r.verified.is_(True),
                    r.duration_seconds.is_not(None), r.created_at >= period.start, r.created_at < period.end))
    moment = _scope_moment(promise)
    if moment is not None:
        query = query.where(r.moment_id == moment)
    n, within = session.execute(query).one()
    return int(within or 0), int(n or 0)


def _share_state(estimate: Estimate, target: float, *, at_least: bool) -> str:
    assert estimate.value is not None
    if at_least:
        return KEPT if estimate.value >= target else (BROKEN if estimate.high < target else UNCLEAR)
    return KEPT if estimate.value <= target else (BROKEN if estimate.low > target else UNCLEAR)


def p95_estimate(counts: ProbeCounts) -> Estimate:
    """The p95 with a distribution-free interval: the percentiles at 0.95 ∓ z·√(0.95·0.05·deff / n)."""
    n = counts.answered
    value = percentile(counts.histogram, 0.95)
    if not n or value is None:
        return Estimate(None, 0.0, 0.0, 0)
    deff = max(1.0, counts.slow_share.design_effect)
    half = Z95 * math.sqrt(0.95 * 0.05 * deff / n)
    low = percentile(counts.histogram, max(0.0, 0.95 - half)) or 0.0
    high = percentile(counts.histogram, min(1.0, 0.95 + half)) or value
    return Estimate(value, min(low, value), max(high, value), n, deff)


def verdict(session: Session, practice: Practice, promise: Promise, period: Period) -> Verdict:
    measure = promise.measure
    if measure in ("availability", "p95_ms"):
        counts = _probe_counts(session, promise, period)
        if measure == "availability":
            estimate, n = counts.availability, counts.checks
        else:
            estimate, n = p95_estimate(counts), counts.answered
        if n < MIN_CHECKS or estimate.value is None:
            return Verdict(promise, period, NOT_MEASURED, None, n, MIN_CHECKS, "checks")
        if measure == "availability":
            state = _share_state(estimate, promise.target / 100, at_least=True)
        else:
            state = _share_state(estimate, promise.target, at_least=False)
        return Verdict(promise, period, state, estimate, n, MIN_CHECKS, "checks")
    minimum = practice.score_min_responses
    if measure == "satisfaction":
        estimate = _feedback_counts(session, promise, period).csat
        target = promise.target / 100
    else:
        within, n = _duration_counts(session, promise, period)
        estimate, target = wilson(within, n), DURATION_SHARE
    if not enough_answers(estimate.n, minimum) or estimate.value is None:
        return Verdict(promise, period, NOT_MEASURED, None, estimate.n, max(1, minimum), "answers")
    return Verdict(promise, period, _share_state(estimate, target, at_least=True), estimate, estimate.n,
                   max(1, minimum), "answers")


def verdicts(session: Session, practice: Practice, promises: list[Promise], period: Period) -> list[Verdict]:
    return [verdict(session, practice, promise, period) for promise in promises]
