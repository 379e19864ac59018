"""The scores as rows, for ``partnermon export --what scores`` and the dashboard's CSV download: one row per
partner × moment of truth and one per partner ("all moments"), every rate with its n and 95 % interval.

Values are plain numbers (shares 0–1, milliseconds, minutes); names pass through ``safe_cell`` on the way
out like every other export. A feedback measure below the minimum n is left empty, as on the pages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from sqlalchemy.orm import Session

from partnermon.models import Practice
from partnermon.scoring import board as board_
from partnermon.scoring.attribution import Harm
from partnermon.scoring.measures import FeedbackCounts, ProbeCounts
from partnermon.scoring.periods import Period
from partnermon.scoring.stats import Estimate

_RATES = ("csat", "dissatisfaction", "brand_harm", "ces", "nps")
SCORE_FIELDS: tuple[str, ...] = (
    "period", "rank", "partner", "category", "moment", "stake", "exposure", "experience_index", "index_low",
    "index_high", "brand_damage", "damage_low", "damage_high", "harm_rate", "feedback_harm", "probe_harm",
    "responses", *[f"{r}{s}" for r in _RATES for s in ("", "_low", "_high")], "contact_requests",
    "unverified_responses", "open_follow_ups", "overdue_follow_ups", "checks", "availability", "bh_checks",
    "bh_availability", "bh_availability_low", "bh_availability_high", "degraded_share", "p95_ms", "incidents",
    "bh_incident_minutes", "contact_missing", "certificates_expiring", "breaches", "warnings",
)


def _estimate(prefix: str, estimate: Estimate | None, enough: bool, digits: int = 4, *,
              bounds: str | None = None) -> dict[str, Any]:
    """``prefix``, ``<bounds>_low`` and ``<bounds>_high`` (bounds defaults to the prefix), empty when unknown."""
    bounds = bounds or prefix
    if not enough or estimate is None or estimate.value is None:
        return {prefix: None, f"{bounds}_low": None, f"{bounds}_high": None}
    return {prefix: round(estimate.value, digits), f"{bounds}_low": round(estimate.low, digits),
            f"{bounds}_high": round(estimate.high, digits)}


def _harm(harm: Harm | None) -> float | None:
    return None if harm is None else round(harm.value, 4)


def _measures(feedback: FeedbackCounts, probes: ProbeCounts, enough: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"responses": feedback.n, "contact_requests": feedback.contact_requests}
    row |= _estimate("csat", feedback.csat, enough)
    row |= _estimate("dissatisfaction", feedback.dissatisfaction, enough)
    row |= _estimate("brand_harm", feedback.brand_harm_rate, enough)
    row |= _estimate("ces", feedback.ces, enough)
    row |= _estimate("nps", feedback.nps, enough, 1)
    availability = probes.availability.value
    p95 = probes.p95_ms
    degraded = probes.degraded_share.value
    row |= {"checks": probes.checks, "availability": None if availability is None else round(availability, 5),
            "bh_checks": probes.bh_checks, "degraded_share": None if degraded is None else round(degraded, 4),
            "p95_ms": None if p95 is None else round(p95), "incidents": probes.incidents,
            "bh_incident_minutes": round(probes.bh_incident_seconds / 60)}
    row |= _estimate("bh_availability", probes.bh_availability, True, 5)
    return row


def score_rows(session: Session, now: datetime, practice: Practice, period: Period) -> Iterator[dict[str, Any]]:
    board = board_.build(session, now, practice, period)
    minimum = practice.score_min_responses
    for rank, score in enumerate(board.scores, start=1):
        partner = score.partner
        common = {"period": period.key, "rank": rank if score.has_data else None, "partner": partner.name,
                  "category": partner.category, "exposure": score.exposure}
        breaches = board.breaches_of(partner.id)
        changes = board.warnings_of(partner.id)
        total: dict[str, Any] = dict(common, moment="All moments", stake=None)
        total |= _estimate("experience_index", score.index, True, 1, bounds="index")
        total |= _estimate("brand_damage", score.damage, True, 2, bounds="damage")
        total |= {"harm_rate": _harm(score.harm), "feedback_harm": None, "probe_harm": None}
        total |= _measures(score.feedback, score.probes, score.feedback.n >= minimum)
        total |= {"unverified_responses": board.unverified.get(partner.id, FeedbackCounts()).n,
                  "open_follow_ups": score.health.open_follow_ups, "overdue_follow_ups": score.health.overdue_follow_ups,
                  "contact_missing": score.health.contact_missing,
                  "certificates_expiring": score.health.certificates_expiring,
                  "breaches": len(breaches), "warnings": len(changes)}
        yield {field: total.get(field) for field in SCORE_FIELDS}
        for moment in score.moments:
            row: dict[str, Any] = dict(common, moment=moment.name, stake=moment.stake)
            row |= {"harm_rate": _harm(moment.harm), "feedback_harm": _harm(moment.feedback_harm),
                    "probe_harm": _harm(moment.probe_harm)}
            row |= _measures(moment.feedback, moment.probes, moment.enough_feedback)
            row |= {"open_follow_ups": moment.health.open_follow_ups,
                    "overdue_follow_ups": moment.health.overdue_follow_ups,
                    "contact_missing": moment.health.contact_missing,
                    "certificates_expiring": moment.health.certificates_expiring,
                    "breaches": sum(1 for b in breaches if b.moment is moment),
                    "warnings": sum(1 for c in changes if c.moment is moment)}
            yield {field: row.get(field) for field in SCORE_FIELDS}
