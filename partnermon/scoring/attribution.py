"""The formula: how feedback and probe measures become a partner experience index and a brand-damage
estimate (DESIGN.md §5). This is the only place the formula lives; docs/methodology.md explains it in
words with a worked example, and every page that shows a score can show these parts.

Per partner × moment of truth, the **harm rate** is the chance that a client's moment went badly:

- from feedback: the share of responses that were dissatisfied or said the practice now looks worse
  (used only with at least the practice's minimum number of responses). A response that skipped the brand
  question is judged by its satisfaction alone; and the brand answers count at all only when the brand
  question itself has the minimum number of answers — below it, feedback harm is dissatisfaction alone;
- from probes: the share of business-hours checks that found the touchpoint down, half the share of checks
  slower than 3 s, and a fixed 10 % while a page no longer offers a way to reach a person, combined as the
  chance of any of them (as below); their intervals are widened by the design effect of failures that
  come in runs (``stats.clustered_wilson``);
- both together: 1 − (1 − feedback harm) × (1 − probe harm), the chance of either.

Per partner, the harm rates of its moments are averaged with the moments' stakes as weights (high 3,
medium 2, low 1; or, for a moment whose owner adopted it, the weight learned from clients' answers —
partnermon.scoring.learned). **Index** = 100 × (1 − that average). **Brand damage** = exposure (clients dealing with
the partner) × that average × the mean stake of its moments ÷ 3: roughly, how many of the practice's
clients had a bad moment with this partner, counting one at a low-stake moment as a third of one at a
claim. Every number carries a 95 % interval, from the parts' intervals (lower bounds together, upper bounds
together, which is conservative). Partners are ranked by the lower end of their damage interval, so a
partner rises to the top only when the evidence says so, never on the noise of a few answers.

A score never comes from nothing: a moment with no part measured has no harm, a partner with no measured
moment has no index and no damage (and ranks last), and what was left out, and why, is kept to be said.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from statistics import median
from typing import Iterable

from partnermon.models import MomentOfTruth, Partner
from partnermon.models.practice import STAKES
from partnermon.scoring.measures import FeedbackCounts, Health, ProbeCounts, Readings, enough_answers
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

    @property
    def estimate(self) -> Estimate:
        """As an Estimate, for writing it out (``Estimate.shown``/``bounds``); n is not its own to give."""
        return Estimate(self.value, self.low, self.high, 0)

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
    feedback_harm_uses_brand: bool = False   # the brand answers reached the minimum and count in it
    probe_harm: Harm | None = None
    harm: Harm | None = None

    @property
    def name(self) -> str:
        return self.moment.name if self.moment is not None else "Moment not given"

    @cached_property
    def readings(self) -> Readings:
        # Read many times per page; a score's counts are final once it is made.
        return self.feedback.readings(self.min_responses)

    @property
    def left_out(self) -> str | None:
        """Why this moment's feedback is not in its harm (None when it is, or there is none)."""
        if self.feedback.n and self.feedback_harm is None:
            return f"{self.feedback.n} of {self.min_responses} answers needed"
        return None

    @property
    def stake(self) -> str:
        return self.moment.stake if self.moment is not None else UNSPECIFIED_STAKE

    @property
    def weight(self) -> float:
        # The owner's stake, or the learned weight the owner adopted for this moment (partnermon.scoring.learned).
        return self.moment.weight if self.moment is not None else float(STAKES[self.stake])

    @property
    def weight_source(self) -> str:
        """Where ``weight`` comes from: "learned" (adopted, scoring.learned), "owner" (the moment's stake) or
        "default" (answers that named no moment weigh as a medium stake)."""
        if self.moment is None:
            return "default"
        return "learned" if self.moment.uses_learned_weight else "owner"

    @property
    def enough_feedback(self) -> bool:
        return enough_answers(self.feedback.n, self.min_responses)

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
    min_responses: int = 5

    @property
    def has_data(self) -> bool:
        return self.harm is not None

    @cached_property
    def readings(self) -> Readings:
        # Read many times per page; a score's counts are final once it is made.
        return self.feedback.readings(self.min_responses)

    @property
    def from_checks_only(self) -> bool:
        """The index rests on probes alone: no measured moment had enough answers to count."""
        return self.has_data and all(m.feedback_harm is None for m in self.moments if m.harm is not None)

    @property
    def basis(self) -> str | None:
        """What the index rests on, in words, or None when there is no index."""
        if not self.has_data:
            return None
        if self.from_checks_only:
            if not self.feedback.n:
                return "from checks only: no client has answered yet"
            return f"from checks only: too few answers yet ({self.feedback.n} in all, {self.min_responses} needed per moment)"
        if all(m.probe_harm is None for m in self.moments if m.harm is not None):
            return "from client feedback only: no checks"
        return "from client feedback and checks"

    @property
    def left_out(self) -> list[tuple[str, str]]:
        """(moment, why) for every moment whose answers are not in the index: left out entirely (nothing else
        measured there) or with only its checks counted."""
        found = []
        for m in self.moments:
            reason = m.left_out
            if reason is None:
                continue
            found.append((m.name, f"{reason}, and nothing else measured" if m.harm is None
                          else f"{reason}, so only its checks count"))
        return found

    @property
    def rank_key(self) -> tuple[int, float, float, str]:
        if self.damage is None or self.damage.value is None:
            return (1, 0.0, 0.0, self.partner.name.lower())
        return (0, -self.damage.low, -self.damage.value, self.partner.name.lower())


def uses_brand(counts: FeedbackCounts, min_responses: int) -> bool:
    """Brand answers count in feedback harm only when the brand question reached the minimum itself."""
    return enough_answers(counts.brand_n, min_responses)


def feedback_harm(counts: FeedbackCounts, min_responses: int) -> Harm | None:
    """Responses that were dissatisfied or (when brand answers count) said "worse", over all responses.

    Every response answered satisfaction, so every response is judged; one that skipped the brand question
    counts as harmful only if it was dissatisfied. That can only understate brand harm, never invent it."""
    if not enough_answers(counts.n, min_responses):
        return None
    if uses_brand(counts, min_responses):
        return Harm.of(wilson(counts.harmful, counts.n))
    return Harm.of(wilson(counts.dissatisfied, counts.n))


def probe_harm(counts: ProbeCounts, health: Health) -> Harm | None:
    """Down share in business hours (all hours when the practice has none measured), slow share, lost contact.
    Both shares' intervals carry their design effect (checks in a row are not independent)."""
    down = counts.bh_down_share if counts.bh_checks else counts.down_share
    if down.value is None and not health.contact_missing:
        return None
    harm = Harm(0.0, 0.0, 0.0)
    if down.value is not None:
        harm = harm.either(Harm.of(down))
        slow = counts.slow_share
        if slow.value is not None:
            harm = harm.either(Harm(SLOW_WEIGHT * slow.value, SLOW_WEIGHT * slow.low, SLOW_WEIGHT * slow.high))
    if health.contact_missing:
        harm = harm.either(Harm(CONTACT_MISSING_HARM, CONTACT_MISSING_HARM, CONTACT_MISSING_HARM))
    return harm


def score_moment(moment: MomentOfTruth | None, feedback: FeedbackCounts, probes: ProbeCounts, health: Health,
                 min_responses: int) -> MomentScore:
    score = MomentScore(moment, feedback, probes, health, min_responses)
    score.feedback_harm = feedback_harm(feedback, min_responses)
    score.feedback_harm_uses_brand = score.feedback_harm is not None and uses_brand(feedback, min_responses)
    score.probe_harm = probe_harm(probes, health)
    parts = [h for h in (score.feedback_harm, score.probe_harm) if h is not None]
    if parts:
        combined = parts[0]
        for part in parts[1:]:
            combined = combined.either(part)
        score.harm = combined
    return score


def score_partner(partner: Partner, moments: list[MomentScore], exposure: int, exposure_assumed: bool,
                  min_responses: int = 5) -> PartnerScore:
    score = PartnerScore(partner, moments, exposure, exposure_assumed, min_responses=min_responses)
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
