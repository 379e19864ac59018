"""What goes into one practice's monthly report (issue 7): every number, sentence and row the template shows,
gathered for one month, so that rendering does no arithmetic and asks the database nothing.

The league table and every partner's figures for the month are the month's ``Board`` — the very object the
dashboard shows for that month — so the two always agree. The twelve-month trends come from one
``score_periods`` call over all partners; outages, comments and follow-ups from one query each for the whole
practice. Nothing is written and nothing is committed: the caller decides what to do with the report.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable

from markupsafe import Markup
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from partnermon.followups import measures as loop_measures
from partnermon.partners import own as own_
from partnermon.promises import service as promises_, verdicts as verdicts_
from partnermon.feedback.themes import Theme, latest_run, themes_of
from partnermon.models import (FeedbackRequest, FeedbackResponse, FollowUp, Incident, MomentOfTruth, Practice, ThemeRun,
                               Touchpoint)
from partnermon.practices.business_hours import BusinessHours
from partnermon.reports import sections
from partnermon.reports.sections import CommentRow, PartnerSection
from partnermon.scoring import board as board_, thresholds
from partnermon.scoring.actions import suggested_actions
from partnermon.scoring.attribution import PartnerScore
from partnermon.scoring.board import Board
from partnermon.scoring.methodology import methodology_html
from partnermon.scoring.partner_page import Trends, incident_seconds
from partnermon.scoring.periods import MONTH_NAMES, Period, month_of, shift_month, year_to
from partnermon.scoring.warnings import Change

TREND_MONTHS = 12
TOP_DAMAGE = 5
SUMMARY_CHANGES = 8
DEFAULT_ACCENT = "#1f4e79"
# What a practice may upload (partnermon.practices.service.set_logo); anything else in the column is not shown.
LOGO_TYPES = ("image/png", "image/jpeg")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# A month's report shows the themes found last before this long after the month ended (the daily job runs first).
THEMES_AFTER_MONTH = timedelta(days=7)


@dataclass
class DamageLine:
    score: PartnerScore
    rank: int
    anchor: str
    why: str


@dataclass
class FollowUpCounts:
    opened: int = 0        # opened in the month
    closed: int = 0        # resolved in the month
    overdue: int = 0       # whose contact deadline fell in the month and passed with no contact


@dataclass
class IncidentSummary:
    outages: int = 0             # down incidents that began in the month, outside maintenance
    in_business_hours: int = 0   # of those, how many reached into business hours
    bh_seconds: int = 0          # business-hours time of all of them (open ones up to when the report was made)
    partners: int = 0            # partners with at least one

    @property
    def bh_minutes(self) -> int:
        return round(self.bh_seconds / 60)


@dataclass
class MonthlyReport:
    practice: Practice
    practice_name: str
    period: Period
    generated_at: datetime            # in the practice's time zone
    accent: str                       # the practice's colour, checked to be #rrggbb
    logo_uri: str | None              # data: URI, PNG or JPEG only
    business_hours: str               # "Mon, Tue, … 09:00–17:30 (Europe/London)"
    board: Board                      # the month as the dashboard shows it: ranking, breaches, early warnings
    top_damage: list[DamageLine]
    changes: list[Change]             # early warnings of the month, worse first
    follow_ups: FollowUpCounts
    incidents: IncidentSummary
    sections: list[PartnerSection]    # one per partner, in league-table order
    months: list[Period]              # the twelve months the trend charts cover, oldest first
    methodology: Markup
    closing: loop_measures.Loop       # closing the loop in the month (issue 19) …
    closing_year: loop_measures.Loop  # … and from January to the month's end; no adviser table (viewers read it)
    promises: list[verdicts_.Verdict] = field(default_factory=list)   # every promise's verdict for the month
    own: PartnerScore | None = None   # the practice's own moments, scored by themselves (never ranked)

    @property
    def broken_promises(self) -> list[verdicts_.Verdict]:
        """The month's broken promises, the partners' own words (explicit) first."""
        return sorted((v for v in self.promises if v.broken), key=lambda v: (v.promise.kind != "explicit",
                                                                              v.promise.partner.name.lower()))
    weights_note: str = "weights: the owner's"   # which moment weights the scores used (scoring.learned)
    theme_run: ThemeRun | None = None  # the themes in comments found last before the report (feedback.themes)
    themes: list[Theme] = field(default_factory=list)

    @property
    def themes_period(self) -> str:
        """The days the themes' comments were written, in the practice's zone: "7 Sep 2026 to 6 Dec 2026"."""
        run = self.theme_run
        if run is None:
            return ""
        zone = self.generated_at.tzinfo
        return (f"{run.period_start.astimezone(zone).strftime('%-d %b %Y')} to "
                f"{run.period_end.astimezone(zone).strftime('%-d %b %Y')}")

    @property
    def title(self) -> str:
        return f"{self.practice_name}: partner experience report, {self.period.label}"

    @property
    def empty(self) -> bool:
        """Nothing measured at all this month: the report says how to start instead."""
        return not self.board.anything_measured

    @property
    def min_responses(self) -> int:
        return self.board.min_responses

    @property
    def generated_label(self) -> str:
        at = self.generated_at
        return f"{at.day} {MONTH_NAMES[at.month - 1]} {at.year}, {at:%H:%M} ({self.practice.timezone})"

    def closing_rows(self) -> list[tuple[str, "loop_measures.Outcomes", "loop_measures.Outcomes",
                                         "loop_measures.Recovery", "loop_measures.Recovery"]]:
        """(partner, month's outcomes, year's outcomes, month's recovery, year's recovery) of the partners with
        anything to show this year, in league-table order."""
        rows = []
        for section in self.sections:
            pid = section.score.partner.id
            year_outcomes, year_recovery = self.closing_year.outcomes_of(pid), self.closing_year.recovery_of(pid)
            if year_outcomes.resolved or year_recovery.n:
                rows.append((section.name, self.closing.outcomes_of(pid), year_outcomes,
                             self.closing.recovery_of(pid), year_recovery))
        return rows

    @property
    def unranked(self) -> list[PartnerScore]:
        """Partners with feedback or checks but not enough of either to score."""
        return [s for s in self.board.scores if not s.has_data and (s.feedback.n or s.probes.checks)]


def months_ending(period: Period, count: int = TREND_MONTHS) -> list[Period]:
    """The ``count`` calendar months ending with ``period`` (a month), oldest first."""
    return [month_of(shift_month(period.first_day, -offset), period.zone_name) for offset in range(count - 1, -1, -1)]


def gather(session: Session, now: datetime, practice: Practice, period: Period) -> MonthlyReport:
    """Everything the monthly report for ``period`` (a calendar month) shows."""
    if period.kind != "month":
        raise ValueError(f"A monthly report covers a calendar month, not {period.label}.")
    zone = period.zone
    board = board_.build(session, now, practice, period)
    months = months_ending(period)
    history = board_.score_periods(session, now, practice, months)
    limits = thresholds.limits_of(session, practice.id)
    hours = BusinessHours.of(practice)
    # Partners' outages only: the practice's own touchpoints are not among the partners (partners.own).
    ranked_ids = {s.partner.id for s in board.scores}
    outages = {pid: rows for pid, rows in outages_by_partner(session, now, practice, period, hours).items() if pid in ranked_ids}
    comments = _comment_rows(session, practice, period)
    # The themes as they stood when the month's report is due (the daily job's run after the month, if any).
    theme_run = latest_run(session, practice.id, before=period.end + THEMES_AFTER_MONTH)

    sections_: list[PartnerSection] = []
    rank = 0
    for score in board.scores:
        pid = score.partner.id
        if score.has_data:
            rank += 1
        breaches, changes = board.breaches_of(pid), board.warnings_of(pid)
        found = outages.get(pid, [])
        sections_.append(PartnerSection(
            rank=rank if score.has_data else None, score=score, anchor=f"partner-{pid}",
            trend=board.trend(score), index_change=board.index_change(score),
            trends=Trends(months, [scores[pid] for scores in history], practice.score_min_responses),
            breaches=breaches, changes=changes, actions=suggested_actions(score, breaches, changes),
            incidents=sections.incident_rows(found, zone)[: sections.INCIDENTS_SHOWN], incidents_total=len(found),
            comments=sections.representative_comments(comments.get(pid, []), zone),
            unverified=board.unverified.get(pid), cells=sections.heat_cells(limits, score),
            cell_digits=sections.heat_digits(limits, score)))

    counted = [(i, s, bh) for rows in outages.values() for i, _m, s, bh in rows if not i.in_maintenance]
    summary = IncidentSummary(
        outages=len(counted), in_business_hours=in_business_hours(row for rows in outages.values() for row in rows),
        bh_seconds=sum(bh for _i, _s, bh in counted),
        partners=sum(1 for rows in outages.values() if any(not i.in_maintenance for i, *_ in rows)))
    top = [DamageLine(s.score, s.rank or 0, s.anchor, sections.damage_sentence(s.score)) for s in sections_
           if s.score.damage is not None and s.score.damage.value and s.score.damage.value > 0][:TOP_DAMAGE]
    return MonthlyReport(
        practice=practice, practice_name=practice.name, period=period, generated_at=now.astimezone(zone),
        accent=accent_of(practice), logo_uri=logo_uri(session, practice), business_hours=practice.describe_business_hours(), board=board,
        top_damage=top, changes=board.warnings, follow_ups=_follow_up_counts(session, now, practice, period),
        incidents=summary, sections=sections_, months=months, methodology=methodology_html(),
        closing=loop_measures.measure(session, practice, period),
        closing_year=loop_measures.measure(session, practice, year_to(period)),
        promises=verdicts_.verdicts(session, practice, promises_.practice_promises(session, practice.id), period),
        own=own_.own_score(session, now, practice, period),

        weights_note=board.weights_note, theme_run=theme_run, themes=themes_of(theme_run))


def accent_of(practice: Practice) -> str:
    """The practice's colour if it is one (#rrggbb), else the default: it is written into the PDF's CSS."""
    return practice.brand_colour if _COLOUR.match(practice.brand_colour or "") else DEFAULT_ACCENT


def logo_uri(session: Session, practice: Practice) -> str | None:
    # The logo is a deferred column: read it only here, and only as one of the types an upload may have.
    if practice.logo_mime not in LOGO_TYPES:
        return None
    data = session.scalar(select(Practice.logo).where(Practice.id == practice.id))
    if not data:
        return None
    return f"data:{practice.logo_mime};base64,{base64.b64encode(data).decode('ascii')}"


def in_business_hours(outages: Iterable[tuple[Incident, str, int, int]]) -> int:
    """How many of ``outages`` (rows of ``outages_by_partner``), maintenance left out, reached into business hours: the
    report's count and the scorecard's, so the two documents agree."""
    return sum(1 for incident, _moment, _seconds, bh_seconds in outages if not incident.in_maintenance and bh_seconds > 0)


def outages_by_partner(session: Session, now: datetime, practice: Practice, period: Period, hours: BusinessHours,
               partner_id: int | None = None) -> dict[int, list[tuple[Incident, str, int, int]]]:
    """The month's outages by partner (only ``partner_id``'s when given): (incident, moment name, seconds,
    business-hours seconds). Every one of them: lists shown may be capped, counts are not."""
    query = (select(Incident, Touchpoint.partner_id, MomentOfTruth.name)
             .join(Touchpoint, Touchpoint.id == Incident.touchpoint_id)
             .join(MomentOfTruth, MomentOfTruth.id == Touchpoint.moment_id)
             .options(joinedload(Incident.touchpoint))
             .where(Incident.practice_id == practice.id, Incident.kind == "down",
                    Incident.started_at >= period.start, Incident.started_at < period.end,
                    *([] if partner_id is None else [Touchpoint.partner_id == partner_id]))
             .order_by(Incident.started_at))
    found: dict[int, list[tuple[Incident, str, int, int]]] = {}
    for incident, partner_id, moment in session.execute(query):
        seconds, bh_seconds = incident_seconds(incident, now, hours)
        found.setdefault(partner_id, []).append((incident, moment, seconds, bh_seconds))
    return found


def _comment_rows(session: Session, practice: Practice, period: Period) -> dict[int, list[CommentRow]]:
    """The month's verified comments by partner, with what would identify the client (to take it out)."""
    r, q = FeedbackResponse, FeedbackRequest
    query = (select(r.partner_id, MomentOfTruth.name, r.satisfaction, r.recommend, r.brand_effect, r.comment,
                    r.created_at, r.client_name, r.client_email, q.client_name, q.client_email)
             .outerjoin(MomentOfTruth, MomentOfTruth.id == r.moment_id)
             .outerjoin(q, q.id == r.request_id)
             .where(r.practice_id == practice.id, r.verified.is_(True), r.comment != "",
                    r.created_at >= period.start, r.created_at < period.end))
    found: dict[int, list[CommentRow]] = {}
    for pid, moment, satisfaction, recommend, brand, comment, at, *names in session.execute(query):
        found.setdefault(pid, []).append(CommentRow(pid, moment, satisfaction, recommend, brand, comment, at,
                                                    tuple(n for n in names if n)))
    return found


def _follow_up_counts(session: Session, now: datetime, practice: Practice, period: Period) -> FollowUpCounts:
    f = FollowUp
    start, end = period.start, min(period.end, now)

    def count(*conditions: object) -> int:
        return int(session.scalar(select(func.count()).select_from(f).where(f.practice_id == practice.id,
                                                                            *conditions)) or 0)

    missed = and_(f.contact_due_at >= start, f.contact_due_at < end,
                  or_(f.contacted_at.is_(None), f.contacted_at > f.contact_due_at),
                  or_(f.resolved_at.is_(None), f.resolved_at > f.contact_due_at))
    return FollowUpCounts(opened=count(f.opened_at >= period.start, f.opened_at < period.end),
                          closed=count(f.resolved_at >= period.start, f.resolved_at < period.end),
                          overdue=count(missed))
