"""Thresholds per moment of truth (DESIGN.md §5): owner-set limits for a measure, and the breaches they find.

Defaults apply until an owner changes them; an owner may set a limit for every moment or for one, and may
turn a measure off for a moment. A feedback measure is judged only when its own answers reach the minimum.
A value compared with a limit is written with as many digits as the comparison needs to read true.

The default for dissatisfaction is 10 % (issue 14: one client in ten fundamentally dissatisfied is already a
big problem for a practice). Practices that existed under the old default of 20 % have it stored as their
own limit (migration 0011), so their choice does not change under them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.errors import ValidationError
from partnermon.models import MomentOfTruth, ScoreThreshold
from partnermon.scoring import formatting
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
    digits: int         # as pages show it: a share in percent, a time in seconds

    def scaled(self, value: float) -> float:
        return value * 100 if self.unit == "%" else value / 1000

    def describe(self, value: float, digits: int | None = None) -> str:
        d = self.digits if digits is None else digits
        return f"{formatting.fixed(self.scaled(value), d)} {'%' if self.unit == '%' else 's'}"

    def describe_limit(self, limit: float) -> str:
        """A limit as the owner set it, without padding: "99.5 %", "10 %", "3 s"."""
        return f"{formatting.trimmed(self.scaled(limit), 4)} {'%' if self.unit == '%' else 's'}"

    def breached(self, value: float, limit: float) -> bool:
        return value > limit if self.direction == ">" else value < limit

    def digits_against(self, value: float, limit: float) -> int:
        """Digits that make ``value`` read true against ``limit`` (99.46 % below 99.5 %, not 99.5 %)."""
        return formatting.compare_digits(self.scaled(value), self.scaled(limit), self.breached(value, limit),
                                         self.digits)


MEASURES: dict[str, Measure] = {m.key: m for m in (
    Measure("dissatisfaction", "Dissatisfied clients", ">", 0.10, "%", 0.0, 1.0, 0),
    Measure("brand_harm", "Clients who think less of the practice", ">", 0.10, "%", 0.0, 1.0, 0),
    Measure("bh_availability", "Availability in business hours", "<", 0.995, "%", 0.0, 1.0, 2),
    Measure("p95_ms", "p95 response time", ">", 3000.0, "ms", 100.0, 60000.0, 1),
)}
def value_of(measure: str, moment: MomentScore) -> float | None:
    """The moment's value of a measure, or None when it is not known well enough to judge (a feedback
    measure below the minimum of its own answers)."""
    if measure == "dissatisfaction":
        return moment.readings.dissatisfaction.value
    if measure == "brand_harm":
        return moment.readings.brand_harm.value
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
        digits = self.measure.digits_against(self.value, self.limit)
        return (f"{self.measure.label} {self.measure.describe(self.value, digits)}, {side} the limit of "
                f"{self.measure.describe_limit(self.limit)}")


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


def cell_digits(limits: Limits, moment: MomentScore, key: str) -> int:
    """How many digits a heat-map cell needs so that its colour and its number agree (a cell shown "10 %"
    is not red against a limit of 10 %: it shows "10.4 %")."""
    spec = MEASURES[key]
    value = value_of(key, moment)
    limit = limits.for_moment(moment.moment.id if moment.moment is not None else None, key)
    if value is None or not limit.enabled:
        return spec.digits
    return spec.digits_against(value, limit.limit)


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
