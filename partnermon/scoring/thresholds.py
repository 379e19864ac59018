"""Thresholds per moment of truth (DESIGN.md §5): owner-set limits for a measure, and the breaches they find.

Defaults apply until an owner changes them; an owner may set a limit for every moment or for one, and may
turn a measure off for a moment. A feedback measure is judged only with enough responses to mean anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.errors import ValidationError
from partnermon.models import MomentOfTruth, ScoreThreshold
from partnermon.scoring.attribution import MomentScore, PartnerScore


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    direction: str      # ">": a breach is above the limit; "<": below it
    default: float
    unit: str           # "%" (stored as a share 0–1) or "ms"
    minimum: float
    maximum: float

    def describe(self, value: float) -> str:
        return f"{value * 100:.1f} %" if self.unit == "%" else f"{value / 1000:.1f} s"

    def breached(self, value: float, limit: float) -> bool:
        return value > limit if self.direction == ">" else value < limit


MEASURES: dict[str, Measure] = {m.key: m for m in (
    Measure("dissatisfaction", "Dissatisfied clients", ">", 0.20, "%", 0.0, 1.0),
    Measure("brand_harm", "Clients who think less of the practice", ">", 0.10, "%", 0.0, 1.0),
    Measure("bh_availability", "Availability in business hours", "<", 0.995, "%", 0.0, 1.0),
    Measure("p95_ms", "p95 response time", ">", 3000.0, "ms", 100.0, 60000.0),
)}


def value_of(measure: str, moment: MomentScore) -> float | None:
    """The moment's value of a measure, or None when it is not known well enough to judge."""
    if measure == "dissatisfaction":
        return moment.feedback.dissatisfaction.value if moment.enough_feedback else None
    if measure == "brand_harm":
        return moment.feedback.brand_harm_rate.value if moment.enough_feedback else None
    if measure == "bh_availability":
        return moment.probes.bh_availability.value
    if measure == "p95_ms":
        return moment.probes.p95_ms
    raise KeyError(measure)


@dataclass(frozen=True)
class Limit:
    measure: Measure
    limit: float
    enabled: bool
    customised: bool


class Limits:
    """The limits in force for one practice: per moment, else the practice-wide row, else the default."""

    def __init__(self, rows: Iterable[ScoreThreshold]) -> None:
        self._rows = {(row.moment_id, row.measure): row for row in rows}

    def own(self, moment_id: int | None, measure: str) -> ScoreThreshold | None:
        """The owner's own row for exactly this scope (None: it follows the wider limit)."""
        return self._rows.get((moment_id, measure))

    def for_moment(self, moment_id: int | None, measure: str) -> Limit:
        spec = MEASURES[measure]
        row = self._rows.get((moment_id, measure)) if moment_id is not None else None
        row = row or self._rows.get((None, measure))
        if row is None:
            return Limit(spec, spec.default, True, False)
        return Limit(spec, row.limit, row.enabled, True)


def limits_of(session: Session, practice_id: int) -> Limits:
    return Limits(session.scalars(select(ScoreThreshold).where(ScoreThreshold.practice_id == practice_id)))


@dataclass(frozen=True)
class Breach:
    partner: PartnerScore
    moment: MomentScore
    measure: Measure
    value: float
    limit: float

    def describe(self) -> str:
        side = "above" if self.measure.direction == ">" else "below"
        return (f"{self.measure.label} {self.measure.describe(self.value)}, {side} the limit of "
                f"{self.measure.describe(self.limit)}")


def breaches(scores: Iterable[PartnerScore], limits: Limits) -> list[Breach]:
    found: list[Breach] = []
    for partner in scores:
        for moment in partner.moments:
            moment_id = moment.moment.id if moment.moment is not None else None
            for key in MEASURES:
                limit = limits.for_moment(moment_id, key)
                value = value_of(key, moment)
                if limit.enabled and value is not None and limit.measure.breached(value, limit.limit):
                    found.append(Breach(partner, moment, limit.measure, value, limit.limit))
    return found


def cell_status(limits: Limits, moment: MomentScore, key: str) -> str:
    """A heat-map cell's colour (partner page and report alike): "bad" over its threshold, "good" inside it,
    "ok" with the threshold off, "unknown" without a value. ``harm`` (no threshold) is graded on its own:
    under 5 % good, under 15 % ok, else bad."""
    if key == "harm":
        if moment.harm is None:
            return "unknown"
        return "good" if moment.harm.value < 0.05 else "ok" if moment.harm.value < 0.15 else "bad"
    value = value_of(key, moment)
    if value is None:
        return "unknown"
    limit = limits.for_moment(moment.moment.id if moment.moment is not None else None, key)
    if not limit.enabled:
        return "ok"
    return "bad" if limit.measure.breached(value, limit.limit) else "good"


def save_limits(session: Session, now: datetime, practice_id: int, moments: list[MomentOfTruth],
                form: Mapping[str, str]) -> None:
    """The thresholds page: one field per measure for every moment (``all:<measure>``) and per moment
    (``<moment id>:<measure>``; empty = as for every moment), plus ``off:<moment id>:<measure>`` checkboxes.
    Percentages are typed as percent. Raises ValidationError naming each wrong field; saves nothing then."""
    errors: dict[str, str] = {}
    wanted: dict[tuple[int | None, str], tuple[float, bool]] = {}
    scopes: list[tuple[int | None, str]] = [(None, "all")] + [(m.id, str(m.id)) for m in moments]
    for moment_id, prefix in scopes:
        for key, spec in MEASURES.items():
            name = f"{prefix}:{key}"
            raw = (form.get(name) or "").strip().replace(",", ".").rstrip("%").strip()
            off = moment_id is not None and bool(form.get(f"off:{prefix}:{key}"))
            if not raw:
                if moment_id is None:
                    wanted[(None, key)] = (spec.default, True)
                elif off:
                    wanted[(moment_id, key)] = (spec.default, False)
                continue
            try:
                number = float(raw)
            except ValueError:
                errors[name] = f"{spec.label}: enter a number, e.g. {typed(spec, spec.default)}."
                continue
            stored = number / 100 if spec.unit == "%" else number
            if not spec.minimum <= stored <= spec.maximum or number != number:
                errors[name] = (f"{spec.label}: enter a number from {typed(spec, spec.minimum)} to "
                                f"{typed(spec, spec.maximum)}.")
                continue
            wanted[(moment_id, key)] = (stored, not off)
    if errors:
        raise ValidationError(errors)
    existing = {(row.moment_id, row.measure): row for row in
                session.scalars(select(ScoreThreshold).where(ScoreThreshold.practice_id == practice_id))}
    for scope, row in existing.items():
        if scope not in wanted:
            session.delete(row)
    for (moment_id, key), (limit, enabled) in wanted.items():
        if moment_id is None and enabled and limit == MEASURES[key].default:
            if (None, key) in existing:
                session.delete(existing[(None, key)])
            continue
        row = existing.get((moment_id, key))
        if row is None:
            session.add(ScoreThreshold(practice_id=practice_id, moment_id=moment_id, measure=key, limit=limit,
                                       enabled=enabled, updated_at=now))
        elif (row.limit, row.enabled) != (limit, enabled):
            row.limit, row.enabled, row.updated_at = limit, enabled, now


def typed(spec: Measure, value: float) -> str:
    """A limit as a person types it on the form: percent for shares, milliseconds for times."""
    return f"{value * 100:g}" if spec.unit == "%" else f"{value:g}"
