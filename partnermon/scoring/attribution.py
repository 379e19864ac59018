"""The formula: how feedback and probe measures become a partner experience index and a brand-damage
estimate (DESIGN.md §5). This is the only place the formula lives; docs/methodology.md explains it in
words with a worked example, and every page that shows a score can show these parts.

Per partner × moment of truth, the **harm rate** is the chance that a client's moment went badly:

- from feedback: the share of responses that were dissatisfied or said the practice now looks worse
  (used only with at least the practice's minimum number of responses);
- from probes: the share of business-hours checks that found the touchpoint down, half the share of checks
  slower than 3 s, and a fixed 10 % while a page no longer offers a way to reach a person, combined as the
  chance of any of them (as below);
- both together: 1 − (1 − feedback harm) × (1 − probe harm), the chance of either.

Per partner, the harm rates of its moments are averaged with the moments' stakes as weights (high 3,
medium 2, low 1). **Index** = 100 × (1 − that average). **Brand damage** = exposure (clients dealing with
the partner) × that average × the mean stake of its moments ÷ 3: roughly, how many of the practice's
clients had a bad moment with this partner, counting one at a low-stake moment as a third of one at a
claim. Every number carries a 95 % interval, from the parts' intervals (lower bounds together, upper bounds
together, which is conservative). Partners are ranked by the lower end of their damage interval, so a
partner rises to the top only when the evidence says so, never on the noise of a few answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median
from typing import Iterable

from partnermon.models import MomentOfTruth, Partner
from partnermon.models.practice import STAKES
from partnermon.scoring.measures import FeedbackCounts, Health, ProbeCounts
from partnermon.scoring.stats import Estimate, wilson

SLOW_WEIGHT = 0.5             # a slow check is half as bad as a failed one
CONTACT_MISSING_HARM = 0.10   # clients who need a person and find no way to reach one
UNSPECIFIED_STAKE = "medium"  # responses that named no moment


@dataclass(frozen=True)
class Harm:
    value: float
    low: float
    high: float

    @staticmethod
    def of(estimate: Estimate) -> "Harm":
        assert estimate.value is not None
        return Harm(estimate.value, estimate.low, estimate.high)

    def either(self, other: "Harm") -> "Harm":
        """The chance of this harm or the other (independent): 1 − (1 − a)(1 − b), bounds alike."""
        return Harm(1 - (1 - self.value) * (1 - other.value), 1 - (1 - self.low) * (1 - other.low),
                    1 - (1 - self.high) * (1 - other.high))


@dataclass
class MomentScore:
    """One moment of one partner, with every part of its harm rate."""

    moment: MomentOfTruth | None          # None: responses that named no moment
    feedback: FeedbackCounts
    probes: ProbeCounts
    health: Health
    min_responses: int
    feedback_harm: Harm | None = None
    probe_harm: Harm | None = None
    harm: Harm | None = None

    @property
    def name(self) -> str:
        return self.moment.name if self.moment is not None else "Moment not given"

    @property
    def stake(self) -> str:
        return self.moment.stake if self.moment is not None else UNSPECIFIED_STAKE

    @property
    def weight(self) -> int:
        return STAKES[self.stake]

    @property
    def enough_feedback(self) -> bool:
        return self.feedback.n >= self.min_responses

    @property
    def has_data(self) -> bool:
        return self.harm is not None


@dataclass
class PartnerScore:
    partner: Partner
    moments: list[MomentScore] = field(default_factory=list)
    exposure: int = 0
    exposure_assumed: bool = False       # exposure not entered: the practice's median is used
    harm: Harm | None = None             # stake-weighted mean of the moments' harm
    mean_stake: float = 0.0
    index: Estimate | None = None        # 0–100
    damage: Estimate | None = None       # clients, high-stake equivalent
    feedback: FeedbackCounts = field(default_factory=FeedbackCounts)
    probes: ProbeCounts = field(default_factory=ProbeCounts)
    health: Health = field(default_factory=Health)

    @property
    def has_data(self) -> bool:
        return self.harm is not None

    @property
    def rank_key(self) -> tuple[int, float, float, str]:
        if self.damage is None or self.damage.value is None:
            return (1, 0.0, 0.0, self.partner.name.lower())
        return (0, -self.damage.low, -self.damage.value, self.partner.name.lower())


def feedback_harm(counts: FeedbackCounts, min_responses: int) -> Harm | None:
    if counts.n < max(1, min_responses):
        return None
    return Harm.of(counts.harm_rate)


def probe_harm(counts: ProbeCounts, health: Health) -> Harm | None:
    """Down share in business hours (all hours when the practice has none measured), slow share, lost contact."""
    checks, down = (counts.bh_checks, counts.bh_down) if counts.bh_checks else (counts.checks, counts.down)
    if not checks and not health.contact_missing:
        return None
    harm = Harm(0.0, 0.0, 0.0)
    if checks:
        harm = harm.either(Harm.of(wilson(down, checks)))
        answered = counts.up + counts.degraded
        if answered:
            slow = wilson(min(counts.slow, answered), answered)
            assert slow.value is not None
            harm = harm.either(Harm(SLOW_WEIGHT * slow.value, SLOW_WEIGHT * slow.low, SLOW_WEIGHT * slow.high))
    if health.contact_missing:
        harm = harm.either(Harm(CONTACT_MISSING_HARM, CONTACT_MISSING_HARM, CONTACT_MISSING_HARM))
    return harm


def score_moment(moment: MomentOfTruth | None, feedback: FeedbackCounts, probes: ProbeCounts, health: Health,
                 min_responses: int) -> MomentScore:
    score = MomentScore(moment, feedback, probes, health, min_responses)
    score.feedback_harm = feedback_harm(feedback, min_responses)
    score.probe_harm = probe_harm(probes, health)
    parts = [h for h in (score.feedback_harm, score.probe_harm) if h is not None]
    if parts:
        combined = parts[0]
        for part in parts[1:]:
            combined = combined.either(part)
        score.harm = combined
    return score


def score_partner(partner: Partner, moments: list[MomentScore], exposure: int, exposure_assumed: bool) -> PartnerScore:
    score = PartnerScore(partner, moments, exposure, exposure_assumed)
    for moment in moments:
        score.feedback.add(moment.feedback)
        score.probes.add(moment.probes)
        for name in ("contact_missing", "certificates_expiring", "open_follow_ups", "overdue_follow_ups"):
            setattr(score.health, name, getattr(score.health, name) + getattr(moment.health, name))
    measured = [m for m in moments if m.harm is not None]
    if not measured:
        return score
    weights = sum(m.weight for m in measured)

    def mean(part: str) -> float:
        return sum(m.weight * getattr(m.harm, part) for m in measured) / weights

    score.harm = Harm(mean("value"), mean("low"), mean("high"))
    score.mean_stake = weights / len(measured)
    score.index = Estimate(100 * (1 - score.harm.value), 100 * (1 - score.harm.high), 100 * (1 - score.harm.low),
                           score.feedback.n)
    scale = exposure * score.mean_stake / STAKES["high"]
    score.damage = Estimate(scale * score.harm.value, scale * score.harm.low, scale * score.harm.high, score.feedback.n)
    return score


def exposures(partners: Iterable[Partner]) -> tuple[dict[int, int], set[int]]:
    """Each partner's exposure, and which are assumed: a partner without one gets the median of those entered
    (1 when none is), so that leaving the field empty neither hides a partner's damage nor inflates it."""
    partners = list(partners)
    entered = [p.exposure for p in partners if p.exposure > 0]
    fallback = max(1, round(median(entered))) if entered else 1
    values = {p.id: (p.exposure if p.exposure > 0 else fallback) for p in partners}
    return values, {p.id for p in partners if p.exposure <= 0}


def rank(scores: list[PartnerScore]) -> list[PartnerScore]:
    """Most brand damage first, by the lower end of its interval; partners without data last."""
    return sorted(scores, key=lambda s: s.rank_key)
