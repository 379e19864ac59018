"""Closing the loop (issue 19): what became of clients after a bad moment with a partner, and whether the
practice won them back. Every page, the monthly report and the exports read these figures from here, so they
agree; docs/methodology.md ("Closing the loop") says the same in prose.

The definitions, for a period (a calendar month, the rolling 30 days or a calendar year, all in the practice's
time zone: ``scoring.periods``):

- **Follow-ups counted**: those about the partner resolved in the period (status ``resolved``, ``resolved_at``
  inside it). One reopened and resolved again counts once, in the period of its last resolution, with its
  last outcome.
- **n** for outcomes: those with a known outcome (stayed, moved, left). "Not known" — and follow-ups resolved
  before outcomes were recorded — are counted apart (``unknown``) and are not in n.
- **Moved away**: outcome ``moved`` (the client now deals with another partner). **Left the practice**: outcome
  ``left`` — the practice's measured brand loss. Both are shown as counts out of n always (they are clients,
  not estimates); as a share of n with its Wilson 95 % interval only from n ≥ the practice's minimum
  (``Practice.score_min_responses``), as every score (DESIGN.md §5).
- **Recovery rate**: recovery check-ins answered (status ``answered``) with ``answered_at`` in the period; the
  share answering "yes" (the practice put things right), n = check-ins answered. "Partly" is not yes and is
  counted apart. Wilson 95 % interval; below the minimum n it is "not enough answers yet" with the n.
- **By rung**: the check-in's ``reached_rung``, the rung of the ladder on which the client was reached when
  the follow-up was resolved; **by adviser**: the check-in's ``assignee_id`` (owners only see this table).
  Check-ins belong to the partner of their follow-up (the check-in's ``partner_id``).
- **The practice's own row** (``Partner.is_own_practice``: its own touchpoints) is not a partner: its figures
  are left out of every partner-level figure and total, so it is neither ranked among partners ("clients
  lost") nor added into their totals. Asked for by ``partner_id``, it still has its own figures (its own page).

Counts are added up in SQL (one grouped query for outcomes, one for check-ins); nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from partnermon.models import Partner, Practice, User
from partnermon.models.followups import RUNGS, FollowUp, RecoveryCheckIn
from partnermon.scoring.measures import Reading
from partnermon.scoring.periods import Period
from partnermon.scoring.stats import wilson

# How each rung is named where recovery is broken down by it.
RUNG_LABELS = {"email": "Email", "phone": "Phone call", "meeting": "Meeting"}


class OutcomeReading(Reading):
    """A share of resolved follow-ups (moved away, left): shown from the minimum, as every score."""

    def not_enough(self) -> str:
        return f"too few for a share yet ({self.n} of {self.minimum})"


@dataclass(frozen=True)
class Outcomes:
    """What became of the clients of the follow-ups about one partner (or all) resolved in a period."""

    minimum: int
    stayed: int = 0
    moved: int = 0
    left: int = 0
    unknown: int = 0        # "not known", or resolved before outcomes were recorded: not in n

    @property
    def n(self) -> int:
        return self.stayed + self.moved + self.left

    @property
    def resolved(self) -> int:
        return self.n + self.unknown

    @property
    def moved_share(self) -> OutcomeReading:
        return OutcomeReading("moved", wilson(self.moved, self.n), self.minimum)

    @property
    def left_share(self) -> OutcomeReading:
        return OutcomeReading("left", wilson(self.left, self.n), self.minimum)

    def __add__(self, other: "Outcomes") -> "Outcomes":
        return Outcomes(self.minimum, self.stayed + other.stayed, self.moved + other.moved,
                        self.left + other.left, self.unknown + other.unknown)


@dataclass(frozen=True)
class Recovery:
    """Answered recovery check-ins: how many said the practice put things right (yes), partly, or not."""

    minimum: int
    yes: int = 0
    partly: int = 0
    no: int = 0

    @property
    def n(self) -> int:
        return self.yes + self.partly + self.no

    @property
    def rate(self) -> Reading:
        """The recovery rate: "yes" among the check-ins answered."""
        return Reading("recovery", wilson(self.yes, self.n), self.minimum)

    @property
    def shown(self) -> bool:
        return self.rate.shown

    def __add__(self, other: "Recovery") -> "Recovery":
        return Recovery(self.minimum, self.yes + other.yes, self.partly + other.partly, self.no + other.no)


@dataclass(frozen=True)
class AdviserRecovery:
    user_id: int | None
    name: str               # the adviser's name, else email; "Nobody assigned" for none (or removed)
    recovery: Recovery


@dataclass
class Loop:
    """The closing-the-loop measures of one period: per partner, by rung and (for owners) by adviser.

    With ``partner_id`` given, everything is about that one partner."""

    period: Period
    minimum: int
    outcomes: dict[int, Outcomes] = field(default_factory=dict)        # partner id → its outcomes
    recovery_by_partner: dict[int, Recovery] = field(default_factory=dict)
    by_rung: list[tuple[str, Recovery]] = field(default_factory=list)  # every rung, in ladder order
    by_adviser: list[AdviserRecovery] | None = None                    # None: not asked for (not an owner)

    @property
    def total(self) -> Outcomes:
        return sum(self.outcomes.values(), Outcomes(self.minimum))

    @property
    def recovery(self) -> Recovery:
        return sum(self.recovery_by_partner.values(), Recovery(self.minimum))

    def outcomes_of(self, partner_id: int) -> Outcomes:
        return self.outcomes.get(partner_id, Outcomes(self.minimum))

    def recovery_of(self, partner_id: int) -> Recovery:
        return self.recovery_by_partner.get(partner_id, Recovery(self.minimum))

    @property
    def lost(self) -> list[tuple[int, int]]:
        """(partner id, clients who left the practice) for partners that lost any, most first."""
        found = [(pid, o.left) for pid, o in self.outcomes.items() if o.left]
        return sorted(found, key=lambda item: (-item[1], item[0]))

    @property
    def anything(self) -> bool:
        return bool(self.total.resolved or self.recovery.n)


def _count(condition: object) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _about(partner_column: object, practice: Practice, partner_id: int | None) -> list[object]:
    """Conditions on a row's partner: that one partner when asked for, else every partner but the own row."""
    if partner_id is not None:
        return [partner_column == partner_id]
    own = select(Partner.id).where(Partner.practice_id == practice.id, Partner.is_own_practice.is_(True))
    return [partner_column.not_in(own)]   # type: ignore[attr-defined]


def outcome_counts(session: Session, practice: Practice, period: Period, *, partner_id: int | None = None
                   ) -> dict[int, Outcomes]:
    """Per partner: the follow-ups resolved in ``period`` by outcome (module docstring); the own row only when
    asked for by ``partner_id``."""
    f = FollowUp
    conditions = [f.practice_id == practice.id, f.status == "resolved", f.resolved_at >= period.start,
                  f.resolved_at < period.end, *_about(f.partner_id, practice, partner_id)]
    query = (select(f.partner_id, _count(f.outcome_kind == "stayed"), _count(f.outcome_kind == "moved"),
                    _count(f.outcome_kind == "left"), func.count())
             .where(*conditions).group_by(f.partner_id))
    minimum = practice.score_min_responses
    found: dict[int, Outcomes] = {}
    for pid, stayed, moved, left, resolved in session.execute(query):
        stayed, moved, left = int(stayed), int(moved), int(left)
        found[pid] = Outcomes(minimum, stayed, moved, left, int(resolved) - stayed - moved - left)
    return found


def _check_in_groups(session: Session, practice: Practice, period: Period, partner_id: int | None
                     ) -> list[tuple[int, str, int | None, int, int, int]]:
    """(partner id, reached rung, assignee id, yes, partly, no) of the check-ins answered in ``period``."""
    c = RecoveryCheckIn
    conditions = [c.practice_id == practice.id, c.status == "answered", c.answered_at >= period.start,
                  c.answered_at < period.end, *_about(c.partner_id, practice, partner_id)]
    query = (select(c.partner_id, c.reached_rung, c.assignee_id, _count(c.answer == "yes"),
                    _count(c.answer == "partly"), _count(c.answer == "no"))
             .where(*conditions).group_by(c.partner_id, c.reached_rung, c.assignee_id))
    return [(pid, rung, assignee, int(yes), int(partly), int(no))
            for pid, rung, assignee, yes, partly, no in session.execute(query)]


def _advisers(session: Session, practice: Practice, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    # Filtered by practice as well: an id from another practice (there should be none) names nobody here.
    rows = session.execute(select(User.id, User.name, User.email)
                           .where(User.practice_id == practice.id, User.id.in_(wanted)))
    return {uid: (name or email) for uid, name, email in rows}


def measure(session: Session, practice: Practice, period: Period, *, partner_id: int | None = None,
            with_advisers: bool = False) -> Loop:
    """The closing-the-loop measures of ``period`` (module docstring); by adviser only with ``with_advisers``
    (the caller decides: owners only)."""
    minimum = practice.score_min_responses
    loop = Loop(period, minimum, outcome_counts(session, practice, period, partner_id=partner_id))
    by_rung = {rung: Recovery(minimum) for rung in RUNGS}
    by_adviser: dict[int | None, Recovery] = {}
    for pid, rung, assignee, yes, partly, no in _check_in_groups(session, practice, period, partner_id):
        counts = Recovery(minimum, yes, partly, no)
        loop.recovery_by_partner[pid] = loop.recovery_of(pid) + counts
        # A rung this version does not know (none yet) would still count in the totals, just not by rung.
        if rung in by_rung:
            by_rung[rung] = by_rung[rung] + counts
        by_adviser[assignee] = by_adviser.get(assignee, Recovery(minimum)) + counts
    loop.by_rung = [(rung, by_rung[rung]) for rung in RUNGS]
    if with_advisers:
        names = _advisers(session, practice, (uid for uid in by_adviser if uid is not None))
        rows = [AdviserRecovery(uid if uid in names else None, names.get(uid, "Nobody assigned") if uid else
                                "Nobody assigned", recovery) for uid, recovery in by_adviser.items()]
        merged: dict[tuple[int | None, str], Recovery] = {}
        for row in rows:   # check-ins of removed users fold into "Nobody assigned"
            merged[(row.user_id, row.name)] = merged.get((row.user_id, row.name), Recovery(minimum)) + row.recovery
        loop.by_adviser = sorted((AdviserRecovery(uid, name, r) for (uid, name), r in merged.items()),
                                 key=lambda a: (a.user_id is None, a.name.lower()))
    return loop


def rung_label(rung: str) -> str:
    return RUNG_LABELS.get(rung, rung)


# --- in plain words: the same sentences on the pages, the home page and the report -----------------------

def _plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"


def loss_sentence(outcomes: Outcomes, period: Period, partner_name: str | None = None) -> str:
    """"In 2026, 2 clients left the practice after a bad moment with Northgate Mutual and 1 moved to another
    partner, of 40 follow-ups resolved with a known outcome." Counts only: the shares are in the tables."""
    about = f"with {partner_name}" if partner_name else "with a partner"
    if not outcomes.resolved:
        return f"No follow-up about a bad moment {about} was resolved in {period.label}."
    if outcomes.left:
        text = f"In {period.label}, {_plural(outcomes.left, 'client')} left the practice after a bad moment {about}"
    else:
        text = f"In {period.label}, no client left the practice after a bad moment {about}"
    if outcomes.moved:
        text += f" and {outcomes.moved:,} moved to another partner"
    text += f", of {_plural(outcomes.n, 'follow-up')} resolved with a known outcome"
    if outcomes.unknown:
        text += f" ({outcomes.unknown:,} more with the outcome not known)"
    return text + "."


def recovery_sentence(recovery: Recovery, period: Period) -> str:
    """"In 2026, 73 % (63–81 %) of the 94 clients who answered a check-in said the practice put things right.", or why
    there is no rate yet."""
    rate = recovery.rate
    if not recovery.n:
        return f"No client answered a recovery check-in in {period.label}."
    if not rate.shown:
        return (f"Too few clients answered a recovery check-in in {period.label} to give a recovery rate: "
                f"{rate.not_enough()}.")
    return (f"In {period.label}, {rate.estimate.shown()} % ({rate.estimate.bounds()} %) of the {recovery.n:,} clients "
            f"who answered a check-in said the practice put things right.")


def partner_names(session: Session, practice: Practice, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return dict(session.execute(select(Partner.id, Partner.name)
                                .where(Partner.practice_id == practice.id, Partner.id.in_(wanted))).all())
