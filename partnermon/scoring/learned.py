"""Learned stakes: how strongly a bad moment moves clients' view of the practice, measured from the practice's own
feedback, set beside the owner's guess (the moment's stake) and, if the owner adopts it, used as the moment's
weight in the scores (partnermon.scoring.attribution).

Per moment of truth, over the last ``LEARNING_DAYS`` of verified answers (open-link answers are kept apart, as in
every score) that answered the brand question:

- p_bad  = the share of dissatisfied answers (``models.feedback.dissatisfied_sql``) that said the practice now
  looks worse; n_bad = the dissatisfied answers that answered the brand question;
- p_good = the same share among satisfied answers (``satisfied_sql``: satisfaction 4–5); n_good likewise;
- the learned effect is the difference p_bad − p_good, with Newcombe's hybrid score interval
  (``stats.newcombe_difference``): how many more clients in a hundred a bad moment turns against the practice
  than a good one does. Below the practice's minimum number of answers in *either* arm it is not shown as a
  number ("not enough answers yet") and cannot be adopted.

The weight: the stakes' weights (high 3, medium 2, low 1) are read as one point of stake for every 20
percentage points of clients that a bad moment turns against the practice, so weight = 5 × difference, kept
within 0.5–3 (a moment whose bad experiences do not move the brand still counts, at half a low stake, for the
client's own experience; none counts more than a high stake) and rounded to one decimal. Its interval is the
difference's interval through the same map. The learned weight *differs* from the owner's when the owner's
stake weight lies outside that interval — the evidence, not the point estimate, disagrees with the guess.

Adopting freezes the weight as it is then (with its n and date) on the moment (``weight_source = "learned"``):
scores do not drift day by day with new answers; the owner adopts again to refresh it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from partnermon.accounts import audit
from partnermon.errors import ValidationError
from partnermon.models import STAKES, FeedbackResponse, MomentOfTruth, Practice, User
from partnermon.models.feedback import dissatisfied_sql, satisfied_sql
from partnermon.scoring.measures import enough_answers
from partnermon.scoring.stats import Difference, newcombe_difference

LEARNING_DAYS = 365
WEIGHT_PER_SHARE = 5.0          # one stake point per 20 percentage points of difference
MIN_WEIGHT, MAX_WEIGHT = 0.5, 3.0


def weight_of(difference: float) -> float:
    """The weight a difference in "worse" shares maps to (see the module docstring), before rounding."""
    return min(MAX_WEIGHT, max(MIN_WEIGHT, WEIGHT_PER_SHARE * difference))


def nearest_stake(weight: float) -> str:
    """The stake whose weight is closest (a tie goes to the higher stake)."""
    return min(STAKES, key=lambda stake: (abs(STAKES[stake] - weight), -STAKES[stake]))


@dataclass(frozen=True)
class BrandCounts:
    """Brand answers of one moment: dissatisfied ones (and how many said "worse"), and satisfied ones."""

    bad_n: int = 0
    bad_worse: int = 0
    good_n: int = 0
    good_worse: int = 0

    @property
    def n(self) -> int:
        return self.bad_n + self.good_n


@dataclass(frozen=True)
class LearnedStake:
    moment: MomentOfTruth
    counts: BrandCounts
    min_responses: int
    difference: Difference | None     # None below the minimum in either arm

    @property
    def enough(self) -> bool:
        return self.difference is not None

    @property
    def n(self) -> int:
        return self.counts.n

    @property
    def weight(self) -> float | None:
        return None if self.difference is None else round(weight_of(self.difference.value), 1)

    @property
    def weight_bounds(self) -> tuple[float, float] | None:
        if self.difference is None:
            return None
        return round(weight_of(self.difference.low), 1), round(weight_of(self.difference.high), 1)

    @property
    def stake(self) -> str | None:
        """The stake the learned weight is nearest to."""
        return None if self.weight is None else nearest_stake(self.weight)

    @property
    def differs(self) -> bool:
        """The owner's stake weight lies outside the learned weight's interval."""
        bounds = self.weight_bounds
        return bounds is not None and not bounds[0] <= self.moment.stake_weight <= bounds[1]

    @property
    def shortfall(self) -> str:
        """Why there is no learned stake yet, as shown: the n of each arm against the minimum."""
        c = self.counts
        return (f"not enough answers yet (n={c.bad_n} unhappy, {c.good_n} happy; "
                f"{self.min_responses} of each needed)")


def brand_counts(session: Session, practice_id: int, since: datetime, until: datetime) -> dict[int, BrandCounts]:
    """Per moment id: verified answers in [since, until) that answered the brand question, by mood, in SQL."""
    r = FeedbackResponse
    worse = r.brand_effect == "worse"

    def count(condition: object) -> object:
        return func.sum(case((condition, 1), else_=0))  # type: ignore[arg-type]

    bad, good = dissatisfied_sql(), satisfied_sql()
    query = (select(r.moment_id, count(bad), count(bad & worse), count(good), count(good & worse))
             .where(r.practice_id == practice_id, r.verified.is_(True), r.moment_id.is_not(None),
                    r.brand_effect.is_not(None), r.created_at >= since, r.created_at < until)
             .group_by(r.moment_id))
    return {moment_id: BrandCounts(int(a or 0), int(b or 0), int(c or 0), int(d or 0))
            for moment_id, a, b, c, d in session.execute(query)}


def learn(moment: MomentOfTruth, counts: BrandCounts, min_responses: int) -> LearnedStake:
    difference = None
    if enough_answers(counts.bad_n, min_responses) and enough_answers(counts.good_n, min_responses):
        difference = newcombe_difference(counts.bad_worse, counts.bad_n, counts.good_worse, counts.good_n)
    return LearnedStake(moment, counts, min_responses, difference)


def learned_stakes(session: Session, now: datetime, practice: Practice,
                   moments: Sequence[MomentOfTruth] | None = None) -> list[LearnedStake]:
    """Every moment's learned stake (retired ones too: the moments page lists them), in the moments' order."""
    if moments is None:
        moments = list(session.scalars(select(MomentOfTruth).where(MomentOfTruth.practice_id == practice.id)
                                       .order_by(MomentOfTruth.position, MomentOfTruth.id)))
    counts = brand_counts(session, practice.id, now - timedelta(days=LEARNING_DAYS), now)
    return [learn(m, counts.get(m.id, BrandCounts()), practice.score_min_responses) for m in moments]


def _adopt(now: datetime, learned: LearnedStake) -> None:
    moment = learned.moment
    moment.weight_source, moment.learned_weight = "learned", learned.weight
    moment.learned_n, moment.learned_at = learned.n, now


def adopt(session: Session, now: datetime, practice: Practice, moment: MomentOfTruth, actor: User) -> LearnedStake:
    """Use this moment's learned weight in the scores from now on (frozen as it is now)."""
    learned = learned_stakes(session, now, practice, [moment])[0]
    if not learned.enough:
        raise ValidationError({"weights": f"{moment.name} has {learned.shortfall}, so there is no learned weight "
                                          "to use yet; its stake stays as you set it."})
    _adopt(now, learned)
    audit.record(session, now, practice.id, actor, "moment.weight_learned", "moment", moment.id,
                 f"Scores use the learned weight {learned.weight} for {moment.name} (stake {moment.stake}, "
                 f"{moment.stake_weight}), learned from {learned.n} answers")
    return learned


def adopt_all(session: Session, now: datetime, practice: Practice, actor: User) -> tuple[list[LearnedStake], list[LearnedStake]]:
    """Adopt every active moment's learned weight that has enough answers; returns (adopted, left as they are)."""
    active = [m for m in practice.moments if not m.retired]
    found = learned_stakes(session, now, practice, active)
    adopted = [item for item in found if item.enough]
    for item in adopted:
        _adopt(now, item)
    if adopted:
        audit.record(session, now, practice.id, actor, "moment.weight_learned", "practice", practice.id,
                     "Scores use learned weights for " + ", ".join(f"{i.moment.name} ({i.weight})" for i in adopted))
    return adopted, [item for item in found if not item.enough]


def use_owners(session: Session, now: datetime, moment: MomentOfTruth, actor: User) -> None:
    """Back to the owner's stake for this moment."""
    moment.weight_source, moment.learned_weight, moment.learned_n, moment.learned_at = "owner", None, None, None
    audit.record(session, now, moment.practice_id, actor, "moment.weight_owner", "moment", moment.id,
                 f"Scores use the stake {moment.stake} ({moment.stake_weight}) for {moment.name} again")


def weights_note(moments: Iterable[MomentOfTruth], zone_name: str | None = None) -> str:
    """Which weights the scores used, in words: "weights: the owner's" or "weights: learned from N answers on
    <date>" (per moment when only some are learned)."""
    from zoneinfo import ZoneInfo

    moments = [m for m in moments if not m.retired]
    learned = [m for m in moments if m.uses_learned_weight]
    if not learned:
        return "weights: the owner's"

    def when(m: MomentOfTruth) -> str:
        at = m.learned_at
        if at is None:
            return "an earlier date"
        return (at.astimezone(ZoneInfo(zone_name)) if zone_name else at).strftime("%-d %b %Y")

    if len(learned) == len(moments) and len({when(m) for m in learned}) == 1:
        return f"weights: learned from {sum(m.learned_n or 0 for m in learned)} answers on {when(learned[0])}"
    parts = "; ".join(f"{m.name} {m.learned_weight:g}, learned from {m.learned_n} answers on {when(m)}"
                      for m in learned)
    return f"weights: learned for {parts}; the owner's for the rest"
