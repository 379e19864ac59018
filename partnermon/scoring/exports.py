"""The scores as rows, for ``partnermon export --what scores`` and the dashboard's CSV download: one row per
partner × moment of truth and one per partner ("All moments"), every rate with its own n and 95 % interval.

Values are plain numbers (shares 0–1, milliseconds, minutes); names pass through ``safe_cell`` on the way
out like every other export. Each feedback measure carries its own n (``csat_n``, ``brand_harm_n``, …) in
every row; below the minimum its value and interval are empty, as on the pages and in the PDF. A partner
without an index has an empty index, damage and rank, and ``index_basis`` and ``left_out`` say why. A
partner's row also carries its closing-the-loop measures for the period (``partnermon.followups.measures``):
outcome counts always, shares and the recovery rate from the minimum.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from sqlalchemy.orm import Session

from partnermon.followups import measures as loop_measures
from partnermon.followups.measures import Outcomes, Recovery
from partnermon.models import Practice
from partnermon.scoring import board as board_
from partnermon.scoring.attribution import Harm, MomentScore, PartnerScore
from partnermon.scoring.measures import FeedbackCounts, ProbeCounts, Reading, Readings
from partnermon.scoring.periods import Period
from partnermon.scoring.stats import Estimate

_RATES = ("csat", "dissatisfaction", "brand_harm", "ces", "nps")
SHARE_DIGITS = 6       # shares 0–1: enough for every digit a page may show (formatting.MAX_EXTRA_DIGITS)
SCORE_DIGITS = 4       # index, damage, NPS
SCORE_FIELDS: tuple[str, ...] = (
    "period", "rank", "partner", "category", "moment", "stake", "weight", "weight_source", "weights_note", "exposure",
    "experience_index", "index_low", "index_high", "index_basis", "brand_damage", "damage_low", "damage_high", "harm_rate", "harm_low", "harm_high",
    "feedback_harm", "feedback_harm_low", "feedback_harm_high", "feedback_harm_uses_brand", "probe_harm", "left_out",
    "responses", *[f"{r}{s}" for r in _RATES for s in ("", "_low", "_high", "_n")], "contact_requests",
    "unverified_responses", "open_follow_ups", "overdue_follow_ups", "checks", "availability", "availability_low",
    "availability_high", "bh_checks", "bh_down", "bh_availability", "bh_availability_low", "bh_availability_high",
    "bh_design_effect", "answered_checks", "slow_checks", "slow_share", "slow_share_low", "slow_share_high",
    "slow_design_effect", "degraded_share", "p95_ms", "incidents", "bh_incident_minutes", "contact_missing",
    "certificates_expiring", "breaches", "warnings",
    # Closing the loop (issue 19, partnermon.followups.measures), on a partner's "All moments" row only.
    "follow_ups_resolved", "outcome_n", "outcome_unknown", "moved", "moved_share", "moved_low", "moved_high", "left",
    "left_share", "left_low", "left_high", "recovery_n", "recovery_yes", "recovery_partly", "recovery_no",
    "recovery_rate", "recovery_low", "recovery_high",
)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _estimate(prefix: str, estimate: Estimate | None, digits: int, *, bounds: str | None = None) -> dict[str, Any]:
    """``prefix``, ``<bounds>_low`` and ``<bounds>_high`` (bounds defaults to the prefix), empty when unknown."""
    bounds = bounds or prefix
    if estimate is None or estimate.value is None:
        return {prefix: None, f"{bounds}_low": None, f"{bounds}_high": None}
    return {prefix: round(estimate.value, digits), f"{bounds}_low": round(estimate.low, digits),
            f"{bounds}_high": round(estimate.high, digits)}


def _reading(reading: Reading, digits: int) -> dict[str, Any]:
    """A feedback measure: its own n always, its value and interval only from the minimum."""
    row = _estimate(reading.key, reading.estimate if reading.shown else None, digits)
    row[f"{reading.key}_n"] = reading.n
    return row


def _harm(prefix: str, harm: Harm | None, *, bounds: str | None = None) -> dict[str, Any]:
    bounds = bounds or prefix
    if harm is None:
        return {prefix: None, f"{bounds}_low": None, f"{bounds}_high": None}
    return {prefix: round(harm.value, SHARE_DIGITS), f"{bounds}_low": round(harm.low, SHARE_DIGITS),
            f"{bounds}_high": round(harm.high, SHARE_DIGITS)}


def _measures(feedback: FeedbackCounts, readings: Readings, probes: ProbeCounts) -> dict[str, Any]:
    row: dict[str, Any] = {"responses": feedback.n, "contact_requests": feedback.contact_requests}
    for key in ("csat", "dissatisfaction", "brand_harm", "ces"):
        row |= _reading(getattr(readings, key), SHARE_DIGITS)
    row |= _reading(readings.nps, SCORE_DIGITS)
    p95 = probes.p95_ms
    bh, slow = probes.bh_availability, probes.slow_share
    row |= {"checks": probes.checks, "bh_checks": probes.bh_checks, "bh_down": probes.bh_down,
            "bh_design_effect": round(bh.design_effect, 3) if bh.value is not None else None,
            "answered_checks": probes.answered, "slow_checks": min(probes.slow, probes.answered),
            "slow_design_effect": round(slow.design_effect, 3) if slow.value is not None else None,
            "degraded_share": _round(probes.degraded_share.value, SHARE_DIGITS),
            "p95_ms": None if p95 is None else round(p95), "incidents": probes.incidents,
            "bh_incident_minutes": round(probes.bh_incident_seconds / 60)}
    row |= _estimate("availability", probes.availability, SHARE_DIGITS)
    row |= _estimate("bh_availability", bh, SHARE_DIGITS)
    row |= _estimate("slow_share", slow, SHARE_DIGITS)
    return row


def _left_out(score: PartnerScore) -> str:
    return "; ".join(f"{name}: {why}" for name, why in score.left_out)


def _moment_left_out(moment: MomentScore) -> str:
    return moment.left_out or ""


def _closing(outcomes: Outcomes, recovery: Recovery) -> dict[str, Any]:
    """A partner's closing-the-loop measures: counts of outcomes always, shares from the minimum; the recovery
    rate and its yes/partly/no only from the minimum (below it, only how many answered), as on the pages."""
    row: dict[str, Any] = {"follow_ups_resolved": outcomes.resolved, "outcome_n": outcomes.n,
                           "outcome_unknown": outcomes.unknown, "moved": outcomes.moved, "left": outcomes.left,
                           "recovery_n": recovery.n}
    for key, reading in (("moved", outcomes.moved_share), ("left", outcomes.left_share)):
        row |= _estimate(f"{key}_share", reading.estimate if reading.shown else None, SHARE_DIGITS, bounds=key)
    shown = recovery.shown
    row |= _estimate("recovery_rate", recovery.rate.estimate if shown else None, SHARE_DIGITS, bounds="recovery")
    row |= {"recovery_yes": recovery.yes if shown else None, "recovery_partly": recovery.partly if shown else None,
            "recovery_no": recovery.no if shown else None}
    return row


def score_rows(session: Session, now: datetime, practice: Practice, period: Period) -> Iterator[dict[str, Any]]:
    board = board_.build(session, now, practice, period)
    closing = loop_measures.measure(session, practice, period)
    for rank, score in enumerate(board.scores, start=1):
        partner = score.partner
        common = {"period": period.key, "rank": rank if score.has_data else None, "partner": partner.name,
                  "category": partner.category, "exposure": score.exposure}
        breaches = board.breaches_of(partner.id)
        changes = board.warnings_of(partner.id)
        total: dict[str, Any] = dict(common, moment="All moments", stake=None, weight=None,
                                     weight_source=None, weights_note=board.weights_note, index_basis=score.basis,
                                     left_out=_left_out(score))
        total |= _estimate("experience_index", score.index, SCORE_DIGITS, bounds="index")
        total |= _estimate("brand_damage", score.damage, SCORE_DIGITS, bounds="damage")
        total |= _harm("harm_rate", score.harm, bounds="harm")
        total |= {"feedback_harm": None, "probe_harm": None}
        total |= _measures(score.feedback, score.readings, score.probes)
        total |= {"unverified_responses": board.unverified.get(partner.id, FeedbackCounts()).n,
                  "open_follow_ups": score.health.open_follow_ups, "overdue_follow_ups": score.health.overdue_follow_ups,
                  "contact_missing": score.health.contact_missing,
                  "certificates_expiring": score.health.certificates_expiring,
                  "breaches": len(breaches), "warnings": len(changes)}
        total |= _closing(closing.outcomes_of(partner.id), closing.recovery_of(partner.id))
        yield {field: total.get(field) for field in SCORE_FIELDS}
        for moment in score.moments:
            row: dict[str, Any] = dict(common, moment=moment.name, stake=moment.stake, weight=moment.weight,
                                       weight_source=moment.weight_source, left_out=_moment_left_out(moment))
            row |= _harm("harm_rate", moment.harm, bounds="harm")
            row |= _harm("feedback_harm", moment.feedback_harm)
            row["feedback_harm_uses_brand"] = moment.feedback_harm_uses_brand if moment.feedback_harm else None
            row["probe_harm"] = None if moment.probe_harm is None else round(moment.probe_harm.value, SHARE_DIGITS)
            row |= _measures(moment.feedback, moment.readings, moment.probes)
            row |= {"open_follow_ups": moment.health.open_follow_ups,
                    "overdue_follow_ups": moment.health.overdue_follow_ups,
                    "contact_missing": moment.health.contact_missing,
                    "certificates_expiring": moment.health.certificates_expiring,
                    "breaches": sum(1 for b in breaches if b.moment is moment),
                    "warnings": sum(1 for c in changes if c.moment is moment)}
            yield {field: row.get(field) for field in SCORE_FIELDS}
