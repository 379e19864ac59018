"""Scores per period as JSON: the same board the pages, the CSV export and the report read (scoring.board),
written out so every figure carries its n and its 95 % interval.

A feedback measure below the practice's minimum n has ``value``, ``low`` and ``high`` null and says why in
``note`` ("not enough answers yet (3 of 5)"), exactly as the pages do; a partner without an index has a null
index, damage and rank, and ``index_basis``/``left_out`` say why. Each moment carries the ``weight`` the index
used — its stake's, or the learned weight its owner adopted — with ``weight_source``; ``weights_note`` says it in
words, as the pages and the report do. Shares are 0–1, NPS −100…100, the index 0–100.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from partnermon.models import Practice
from partnermon.scoring import board as board_
from partnermon.scoring.attribution import Harm, MomentScore, PartnerScore
from partnermon.scoring.exports import SCORE_DIGITS, SHARE_DIGITS
from partnermon.scoring.measures import ProbeCounts, Reading, Readings
from partnermon.scoring.periods import Period
from partnermon.scoring.stats import Estimate

NO_INDEX = "no index yet: nothing measured with enough answers or checks"
NO_CHECKS = "no checks in this period"


def _figure(estimate: Estimate | Harm | None, digits: int, why_not: str) -> dict[str, Any]:
    if estimate is None or estimate.value is None:
        return {"value": None, "low": None, "high": None, "note": why_not}
    return {"value": round(estimate.value, digits), "low": round(estimate.low, digits),
            "high": round(estimate.high, digits), "note": None}


def _reading(reading: Reading, digits: int) -> dict[str, Any]:
    figure = _figure(reading.estimate if reading.shown else None, digits, reading.not_enough())
    return {**figure, "n": reading.n, "minimum": reading.minimum}


def _readings(readings: Readings) -> dict[str, Any]:
    return {"csat": _reading(readings.csat, SHARE_DIGITS),
            "dissatisfaction": _reading(readings.dissatisfaction, SHARE_DIGITS),
            "brand_harm": _reading(readings.brand_harm, SHARE_DIGITS),
            "ces": _reading(readings.ces, SHARE_DIGITS), "nps": _reading(readings.nps, SCORE_DIGITS)}


def _probes(probes: ProbeCounts) -> dict[str, Any]:
    p95 = probes.p95_ms
    return {"checks": probes.checks, "bh_checks": probes.bh_checks,
            "availability": {**_figure(probes.availability, SHARE_DIGITS, NO_CHECKS), "n": probes.checks},
            "bh_availability": {**_figure(probes.bh_availability, SHARE_DIGITS, NO_CHECKS), "n": probes.bh_checks},
            "slow_share": {**_figure(probes.slow_share, SHARE_DIGITS, NO_CHECKS), "n": probes.answered},
            "p95_ms": None if p95 is None else round(p95), "incidents": probes.incidents,
            "bh_incident_minutes": round(probes.bh_incident_seconds / 60)}


def _moment(moment: MomentScore) -> dict[str, Any]:
    known = moment.moment
    return {"moment": None if known is None else {"id": known.id, "key": known.key, "name": known.name},
            "stake": None if known is None else known.stake, "weight": moment.weight,
            "weight_source": moment.weight_source, "responses": moment.feedback.n,
            "harm_rate": _figure(moment.harm, SHARE_DIGITS, moment.left_out or "nothing measured"),
            "left_out": moment.left_out, "measures": _readings(moment.readings), "probes": _probes(moment.probes)}


def _partner(score: PartnerScore, rank: int | None) -> dict[str, Any]:
    partner = score.partner
    return {"partner": {"id": partner.id, "name": partner.name}, "category": partner.category, "rank": rank,
            "exposure": score.exposure, "exposure_assumed": score.exposure_assumed,
            "experience_index": _figure(score.index, SCORE_DIGITS, NO_INDEX),
            "brand_damage": _figure(score.damage, SCORE_DIGITS, NO_INDEX),
            "index_basis": score.basis,
            "left_out": [{"moment": name, "reason": why} for name, why in score.left_out],
            "responses": score.feedback.n, "measures": _readings(score.readings), "probes": _probes(score.probes),
            "moments": [_moment(m) for m in score.moments]}


def scores(session: Session, now: datetime, practice: Practice, period: Period) -> dict[str, Any]:
    board = board_.build(session, now, practice, period)
    ranked = [_partner(score, rank if score.has_data else None)
              for rank, score in enumerate(board.scores, start=1)]
    return {"period": {"key": period.key, "label": period.label, "start": period.start, "end": period.end},
            "minimum_responses": board.min_responses, "weights_note": board.weights_note, "partners": ranked}
