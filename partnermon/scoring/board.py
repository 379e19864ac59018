"""Scores for the pages, the export and the report: every partner of a practice scored for a period (and the
period before, for trends and early warnings), ranked by brand damage, with breaches and warnings.

Plain functions of ``(session, now, practice, …)``; the SQL is in ``measures``, the formula in
``attribution``. Nothing here is stored: a board is computed when it is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.models import MomentOfTruth, Partner, Practice
from partnermon.scoring import attribution, learned, measures, thresholds, warnings
from partnermon.scoring.attribution import PartnerScore
from partnermon.scoring.measures import FeedbackCounts, Health, ProbeCounts
from partnermon.scoring.periods import Period

# An index that moved less than this many points since the period before is "about the same".
TREND_POINTS = 2.0


@dataclass
class Board:
    practice: Practice
    period: Period
    scores: list[PartnerScore]                      # ranked, most damage first
    previous: dict[int, PartnerScore]               # the period before, by partner id
    breaches: list[thresholds.Breach]
    warnings: list[warnings.Change]
    unverified: dict[int, FeedbackCounts] = field(default_factory=dict)   # open-link answers, by partner id

    @property
    def anything_measured(self) -> bool:
        """Some partner has a score, or at least an answer or a check (then it is listed as too thin to rank)."""
        return any(s.has_data or s.feedback.n or s.probes.checks for s in self.scores)

    @property
    def min_responses(self) -> int:
        return self.practice.score_min_responses

    @property
    def weights_note(self) -> str:
        """Which moment weights these scores used: the owner's stakes or learned ones (scoring.learned)."""
        return learned.weights_note(self.practice.moments, self.practice.timezone)

    def trend(self, score: PartnerScore) -> str | None:
        """"up", "down" or "same" (the index since the period before), or None when either is unknown."""
        before = self.previous.get(score.partner.id)
        if score.index is None or before is None or before.index is None:
            return None
        assert score.index.value is not None and before.index.value is not None
        change = score.index.value - before.index.value
        if abs(change) < TREND_POINTS:
            return "same"
        return "up" if change > 0 else "down"

    def index_change(self, score: PartnerScore) -> float | None:
        before = self.previous.get(score.partner.id)
        if score.index is None or before is None or before.index is None:
            return None
        assert score.index.value is not None and before.index.value is not None
        return score.index.value - before.index.value

    def breaches_of(self, partner_id: int) -> list[thresholds.Breach]:
        return [b for b in self.breaches if b.partner.partner.id == partner_id]

    def warnings_of(self, partner_id: int) -> list[warnings.Change]:
        return [w for w in self.warnings if w.partner.partner.id == partner_id]


def _partners(session: Session, practice: Practice, *, category: str | None, partner_id: int | None) -> list[Partner]:
    query = select(Partner).where(Partner.practice_id == practice.id).order_by(Partner.name)
    if category:
        query = query.where(Partner.category == category)
    if partner_id is not None:
        query = query.where(Partner.id == partner_id)
    return list(session.scalars(query))


def score_periods(session: Session, now: datetime, practice: Practice, periods: Sequence[Period], *,
                  category: str | None = None, partner_id: int | None = None) -> list[dict[int, PartnerScore]]:
    """Every partner (or one) scored for each period: one dict per period, by partner id.

    Exposure is judged against all the practice's partners, whatever the filter, so that filtering the
    list by category never changes a partner's numbers."""
    all_partners = list(session.scalars(select(Partner).where(Partner.practice_id == practice.id)))
    # The practice's own touchpoints (partners.own) are never ranked among partners nor weigh on their
    # exposure: they are scored only when asked for by id, for their own section.
    partners = [p for p in all_partners if not p.is_own_practice]
    exposure, assumed = attribution.exposures(partners)
    wanted = [p for p in partners if (not category or p.category == category)
              and (partner_id is None or p.id == partner_id)]
    own = [p for p in all_partners if p.is_own_practice and p.id == partner_id]
    if own:
        own_exposure, own_assumed = attribution.exposures([*partners, *own])
        exposure[own[0].id] = own_exposure[own[0].id]
        assumed |= own_assumed & {own[0].id}
        wanted = own
    moments = {m.id: m for m in session.scalars(select(MomentOfTruth).where(MomentOfTruth.practice_id == practice.id))}
    feedback = measures.feedback_counts(session, practice.id, periods, partner_id=partner_id)
    probes = measures.probe_counts(session, practice.id, periods, partner_id=partner_id)
    # What is wrong right now belongs to the period that holds now, not to last year's months.
    health = measures.health_now(session, now, practice.id, partner_id=partner_id)
    current = {i for i, p in enumerate(periods) if p.start <= now < p.end}
    minimum = practice.score_min_responses
    # Which moments each partner has anything for, per period: one pass over the keys, not one per partner.
    measured: dict[tuple[int, int], set[int | None]] = {}
    for pid, moment_id, index in (*feedback, *probes):
        measured.setdefault((pid, index), set()).add(moment_id)
    unwell: dict[int, set[int | None]] = {}
    for pid, moment_id in health:
        unwell.setdefault(pid, set()).add(moment_id)
    results: list[dict[int, PartnerScore]] = []
    for index in range(len(periods)):
        by_partner: dict[int, PartnerScore] = {}
        for partner in sorted(wanted, key=lambda p: p.name.lower()):
            pid = partner.id
            keys = measured.get((pid, index), set()) | (unwell.get(pid, set()) if index in current else set())
            ordered = sorted(keys, key=lambda m: (m is None, moments[m].position if m in moments else 0, m or 0))
            moment_scores = [
                attribution.score_moment(
                    moments.get(m) if m is not None else None,
                    feedback.get((pid, m, index), FeedbackCounts()),
                    probes.get((pid, m, index), ProbeCounts()),
                    health.get((pid, m), Health()) if index in current else Health(),
                    minimum)
                for m in ordered]
            by_partner[pid] = attribution.score_partner(partner, moment_scores, exposure[pid], pid in assumed, minimum)
        results.append(by_partner)
    return results


def build(session: Session, now: datetime, practice: Practice, period: Period, *, category: str | None = None,
          partner_id: int | None = None) -> Board:
    """The board for ``period``; ``category`` or ``partner_id`` narrow what it lists, not how it is computed:
    early warnings are corrected over every comparison in the practice, so a filtered page shows exactly the
    warnings (and adjusted p-values) of the whole board."""
    previous_period = period.previous()
    # The practice's own row is scored by itself, never among the partners (partners.own).
    own = partner_id is not None and bool(session.scalar(
        select(Partner.is_own_practice).where(Partner.id == partner_id, Partner.practice_id == practice.id)))
    current, previous = score_periods(session, now, practice, [previous_period, period],
                                      partner_id=partner_id if own else None)[::-1]
    changes = warnings.early_warnings(attribution.rank(list(current.values())), previous)

    def wanted(partner: Partner) -> bool:
        return (not category or partner.category == category) and (partner_id is None or partner.id == partner_id)

    ranked = attribution.rank([s for s in current.values() if wanted(s.partner)])
    limits = thresholds.limits_of(session, practice.id)
    unverified: dict[int, FeedbackCounts] = {}
    for (pid, _moment, _index), counts in measures.feedback_counts(session, practice.id, [period], verified=False,
                                                                   partner_id=partner_id).items():
        if pid in current and wanted(current[pid].partner):
            unverified.setdefault(pid, FeedbackCounts()).add(counts)
    return Board(practice, period, ranked, {pid: s for pid, s in previous.items() if wanted(s.partner)},
                 thresholds.breaches(ranked, limits), [c for c in changes if wanted(c.partner.partner)], unverified)
