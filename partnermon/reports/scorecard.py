"""The partner scorecard (issue 21): one partner's month as a PDF for that partner's account manager — its
moments of truth in plain words with n and intervals, its promises kept and broken with their evidence, its
outages in business hours, a few anonymised comments and a twelve-month trend of its main measure.

It leaves the practice's house: it names no other partner and no client. So it is built from one partner's
rows only (the partner page's own functions: ``board.build(partner_id=…)``, ``score_periods(partner_id=…)``,
``partner_page.incidents``), leaves out what only makes sense beside other partners (rank, brand damage,
the league table), and takes out of every comment the names of the practice's clients and of its other
partners, email addresses and phone numbers (``anonymise``). The figures are the partner page's for the same
month, so the two always agree. Nothing is written and nothing is committed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select, union
from sqlalchemy.orm import Session

from partnermon.errors import NotFound
from partnermon.mail import rendering
from partnermon.models import FeedbackRequest, FeedbackResponse, MomentOfTruth, Partner, Practice
from partnermon.monitoring.status import describe_duration
from partnermon.promises import service as promises_, verdicts as verdicts_
from partnermon.practices.business_hours import BusinessHours
from partnermon.reports import render, sections
from partnermon.reports.content import accent_of, in_business_hours, logo_uri, months_ending, outages_by_partner
from partnermon.reports.sections import Comment, CommentRow, IncidentRow
from partnermon.scoring import board as board_, partner_page
from partnermon.scoring.attribution import MomentScore, PartnerScore
from partnermon.scoring.charts import line_chart
from partnermon.scoring.measures import Reading
from partnermon.scoring.periods import MONTH_NAMES, Period
from partnermon.scoring.stats import Estimate
from partnermon.scoring.thresholds import Breach
from partnermon.scoring.warnings import Change

COMMENTS_SHOWN = 6
PARTNER_REMOVED = "[partner removed]"
# A word as a name is written: letters, with the apostrophes and hyphens of O'Brien and Smith-Jones.
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_NAME_PARTS = re.compile(r"[\s,;/()]+")


@dataclass
class MomentLine:
    """One moment of truth in plain words ("Claims and hardship: 3 in 10 clients unhappy (n=10)"), the
    statistics behind it in the table."""

    score: MomentScore
    words: str

    @property
    def name(self) -> str:
        return self.score.name


@dataclass
class PromiseLine:
    """One of the partner's promises and whether it was kept in the month, in words only: no database row
    reaches the template, so nothing but what is here (names of others already taken out) can be shown."""

    target: str                    # "at least 90 % of clients satisfied"
    about: str                     # its touchpoint, moment, or "All touchpoints"
    kind: str                      # "explicit" (the partner's own words) or "tacit" (what clients expect)
    quote: str                     # the partner's words, for an explicit promise; "" for a tacit one
    state: str                     # verdicts.KEPT, BROKEN, UNCLEAR or NOT_MEASURED
    label: str                     # "Kept", "Broken", "Too close to call", "Not measured"
    evidence: str                  # "46.2 % (23.2–70.9 %) of clients satisfied, n = 13"


@dataclass
class TrendMonth:
    label: str                     # "Nov 2026"
    value: float | None            # on the measure's scale (percent); None: no value or below the minimum n
    interval: str | None           # "19–62"
    n: int                         # answers (or business-hours checks) behind it
    enough: bool                   # the month reached the minimum n (a month without any is not "not enough")


@dataclass
class Trend:
    measure: str                   # what is drawn, e.g. "Dissatisfied clients (%)"
    unit: str                      # "answers" or "checks in business hours"
    months: list[TrendMonth]

    @property
    def anything(self) -> bool:
        return any(m.value is not None for m in self.months)


@dataclass
class Scorecard:
    practice_name: str
    partner_name: str
    category: str
    account_manager: str
    period: Period
    generated_at: datetime          # in the practice's time zone
    accent: str
    logo_uri: str | None
    business_hours: str
    min_responses: int
    score: PartnerScore             # the partner page's score for the month
    overall: str                    # the partner across its moments, in words
    moments: list[MomentLine]
    changes: list[Change]           # early warnings of the month, the partner page's
    breaches: list[Breach]          # over the practice's limits
    outages: int                    # down incidents that began in the month, outside maintenance
    bh_outages: int                 # of those, how many reached into business hours
    bh_incident_seconds: int
    incidents: list[IncidentRow]    # the partner page's list less maintenance, most business-hours time first
    comments: list[Comment]
    comments_total: int
    trend: Trend
    # The partner's promises with the month's verdicts (``promise_results``): broken first.
    promises: list[PromiseLine] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.partner_name}: scorecard from {self.practice_name}, {self.period.label}"

    @property
    def generated_label(self) -> str:
        at = self.generated_at
        return f"{at.day} {MONTH_NAMES[at.month - 1]} {at.year}"

    @property
    def nothing_measured(self) -> bool:
        return not self.score.feedback.n and not self.score.probes.checks


# --- finding the partner ------------------------------------------------------------------------------------

def find_partner(session: Session, practice_id: int, text: str) -> Partner:
    """A partner of the practice by its id or by its name, whatever the letters' case (also beyond ASCII,
    which SQL's lower() leaves alone). Raises NotFound naming what was asked for."""
    wanted = text.strip()
    partners = list(session.scalars(select(Partner).where(Partner.practice_id == practice_id)))
    if wanted.isascii() and wanted.isdigit():
        found = next((p for p in partners if p.id == int(wanted)), None)
        if found is not None:
            return found
    folded = " ".join(wanted.split()).casefold()
    found = next((p for p in partners if " ".join(p.name.split()).casefold() == folded), None)
    if found is None:
        raise NotFound(f"This practice has no partner named “{wanted}”." if wanted else "Name a partner.")
    return found


# --- gathering ----------------------------------------------------------------------------------------------

def gather(session: Session, now: datetime, practice: Practice, partner: Partner, period: Period) -> Scorecard:
    """Everything the scorecard of ``partner`` for ``period`` (a calendar month) shows."""
    if period.kind != "month":
        raise ValueError(f"A scorecard covers a calendar month, not {period.label}.")
    if partner.practice_id != practice.id:
        raise NotFound("No such partner.")
    board = board_.build(session, now, practice, period, partner_id=partner.id)
    score = board.scores[0]
    months = months_ending(period)
    history = board_.score_periods(session, now, practice, months, partner_id=partner.id)
    trends = partner_page.Trends(months, [scores[partner.id] for scores in history], practice.score_min_responses)

    hours = BusinessHours.of(practice)
    found = [(i, i.touchpoint.moment.name, *partner_page.incident_seconds(i, now, hours))
             for i in partner_page.incidents(session, partner, period)]
    rows = sections.incident_rows(found, period.zone)
    counted = [r for r in rows if not r.in_maintenance]

    comment_rows = _comment_rows(session, partner, period)
    comments = sections.representative_comments(comment_rows, period.zone, limit=COMMENTS_SHOWN)
    promise_verdicts = verdicts_.verdicts(session, practice, promises_.list_promises(session, partner), period)
    known = known_names(session, practice, partner) if comments or counted or promise_verdicts else None
    if known is not None:
        # A probe's error is the partner's page talking, but it may quote a link to another partner's site.
        for comment in comments:
            comment.text = anonymise(comment.text, known)
        for row in counted:
            row.first_error = anonymise(row.first_error, known, clients=False)

    minimum = practice.score_min_responses
    return Scorecard(
        practice_name=practice.name, partner_name=partner.name, category=partner.category_label,
        account_manager=partner.account_manager_name or "", period=period, generated_at=now.astimezone(period.zone),
        accent=accent_of(practice), logo_uri=logo_uri(session, practice), business_hours=practice.describe_business_hours(),
        min_responses=minimum, score=score, overall=overall_words(score),
        moments=[MomentLine(m, moment_words(m)) for m in score.moments],
        changes=board.warnings_of(partner.id), breaches=board.breaches_of(partner.id),
        # Counted over all the month's outages as the monthly report counts them; the list above is capped.
        outages=score.probes.incidents, bh_outages=in_business_hours(
            outages_by_partner(session, now, practice, period, hours, partner.id).get(partner.id, [])),
        bh_incident_seconds=score.probes.bh_incident_seconds,
        incidents=sorted(counted, key=lambda r: (-r.bh_seconds, -r.seconds, r.started)),
        comments=comments, comments_total=len(comment_rows),
        trend=trend_of(trends), promises=promise_results(promise_verdicts, known))


_STATE_ORDER = {verdicts_.BROKEN: 0, verdicts_.UNCLEAR: 1, verdicts_.KEPT: 2, verdicts_.NOT_MEASURED: 3}


def promise_results(found: list[verdicts_.Verdict], known: KnownNames | None) -> list[PromiseLine]:
    """The partner's promises for the month, the verdicts the partner page and the monthly report give: broken
    first, then too close to call, kept and not measured; the partner's own words before what clients expect.

    A quote is the partner's own text and a touchpoint's name the practice's, but either may mention another
    partner ("faster than Beacon") or a client, so both are anonymised as comments are."""
    lines = []
    for v in sorted(found, key=lambda v: (_STATE_ORDER[v.state], v.promise.kind != "explicit", v.promise.id)):
        p = v.promise
        quote = p.quote if p.kind == "explicit" else ""
        about = verdicts_.scope_label(p)
        if known is not None:
            quote, about = anonymise(quote, known), anonymise(about, known)
        lines.append(PromiseLine(verdicts_.describe_target(p), about, p.kind, quote, v.state, v.label, v.evidence()))
    return lines


def _comment_rows(session: Session, partner: Partner, period: Period) -> list[CommentRow]:
    """The month's verified comments on this partner, with what identifies each client (to take it out)."""
    r, q = FeedbackResponse, FeedbackRequest
    query = (select(MomentOfTruth.name, r.satisfaction, r.recommend, r.brand_effect, r.comment, r.created_at,
                    r.client_name, r.client_email, q.client_name, q.client_email)
             .outerjoin(MomentOfTruth, MomentOfTruth.id == r.moment_id)
             .outerjoin(q, q.id == r.request_id)
             .where(r.practice_id == partner.practice_id, r.partner_id == partner.id, r.verified.is_(True),
                    r.comment != "", r.created_at >= period.start, r.created_at < period.end))
    return [CommentRow(partner.id, moment, satisfaction, recommend, brand, comment, at, tuple(n for n in names if n))
            for moment, satisfaction, recommend, brand, comment, at, *names in session.execute(query)]


# --- anonymising ----------------------------------------------------------------------------------------------

@dataclass
class KnownNames:
    """Words that would identify someone to a reader outside the practice: parts of its clients' names, and of
    its other partners' names (less the words this partner's own name uses, like "Insurance")."""

    clients: set[str]               # casefolded name parts
    partners: set[str]              # casefolded name words
    partner_names: list[str]        # whole names, longest first
    brands: set[str] = field(default_factory=set)   # casefolded first words ("beacon" of Beacon Platform)


def known_names(session: Session, practice: Practice, partner: Partner) -> KnownNames:
    r, q = FeedbackResponse, FeedbackRequest
    names = session.scalars(union(
        select(q.client_name).where(q.practice_id == practice.id, q.client_name.is_not(None), q.client_name != ""),
        select(r.client_name).where(r.practice_id == practice.id, r.client_name.is_not(None), r.client_name != "")))
    clients = {part.casefold() for name in names for part in _name_parts(name) if len(part) >= 2}
    others = [p.name for p in session.scalars(select(Partner).where(Partner.practice_id == practice.id,
                                                                      Partner.id != partner.id))]
    own = {part.casefold() for part in _name_parts(partner.name)}
    words = {part.casefold() for name in others for part in _name_parts(name) if len(part) >= 3} - own
    brands = {parts[0].casefold() for name in others if (parts := _name_parts(name)) and len(parts[0]) >= 3} - own
    return KnownNames(clients, words, sorted(others, key=len, reverse=True), brands)


def _name_parts(name: str) -> list[str]:
    """"Mary-Ann O'Brien" → Mary-Ann, Mary, Ann, O'Brien."""
    parts = [p for p in _NAME_PARTS.split(name) if p]
    return parts + [piece for p in parts if "-" in p for piece in p.split("-") if piece]


def anonymise(text: str, known: KnownNames, *, clients: bool = True) -> str:
    """A comment (the client's own name, email and phone already taken out by ``sections.redact``) without any
    other client's name, any other partner's name, email address or phone number; with ``clients=False`` (a
    probe's error message) without other partners' names only.

    Other partners' whole names go whatever their case, and so does the first word of each, which is where a
    brand's own word sits ("beacon" of Beacon Platform, also in "beacon-platform.test"). Other single words go
    where they are written as names are, with a capital ("Will" but not "will"): a client called Will must not
    turn every "I will" into a gap, nor a partner called Beacon Platform every "platform"."""
    for name in known.partner_names:
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", PARTNER_REMOVED, text, flags=re.I)

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        folded = word.casefold().rstrip("'’")
        candidates = (folded, re.sub(r"['’]s$", "", folded))
        if any(c in known.brands for c in (*candidates, *folded.split("-"))):
            return PARTNER_REMOVED
        if not word[0].isupper():
            return word
        for candidate in candidates:
            if clients and candidate in known.clients:
                return sections.REDACTED
            if candidate in known.partners:
                return PARTNER_REMOVED
        return word

    text = _WORD.sub(replace, text)
    if clients:
        text = sections.redact(text, ())   # emails and phone numbers by their pattern
    for mark in (sections.REDACTED, PARTNER_REMOVED):   # "Dana Whitlock" is one name taken out, not two
        text = re.sub(rf"{re.escape(mark)}(?:[ \t]+{re.escape(mark)})+", mark, text)
    return text


# --- plain words --------------------------------------------------------------------------------------------

def in_ten(reading: Reading, what: str) -> str:
    """A share in words a reader can picture: "3 in 10 clients unhappy (n=10)"; below the minimum n, no number."""
    if not reading.shown:
        return "not enough answers yet"
    share = reading.estimate.value or 0.0
    k = round(share * reading.n)
    if k == 0:
        return f"no client {what} (n={reading.n:,})"
    tenths = share * 10
    if tenths < 0.5:
        return f"fewer than 1 in 10 clients {what} (n={reading.n:,})"
    about = "" if abs(tenths - round(tenths)) < 1e-9 else "about "
    return f"{about}{round(tenths)} in 10 clients {what} (n={reading.n:,})"


def moment_words(moment: MomentScore) -> str:
    """What clients met at one moment, in words, each figure with its n."""
    parts = []
    fb = moment.feedback
    if fb.n:
        parts.append(in_ten(moment.readings.dissatisfaction, "unhappy"))
        if moment.readings.brand_harm.shown and fb.brand_harm:
            parts.append(in_ten(moment.readings.brand_harm, "thinking less of us for it"))
    availability = moment.probes.bh_availability
    if availability.value is not None:
        parts.append(f"working {availability.shown(2)} % of business hours "
                     f"({moment.probes.bh_checks:,} checks)")
    if moment.probes.incidents:
        parts.append(f"{moment.probes.incidents} outage{'s' if moment.probes.incidents != 1 else ''}")
    if moment.health.contact_missing:
        parts.append("no way to reach a person on the page")
    return "; ".join(parts) or "nothing measured this month"


def overall_words(score: PartnerScore) -> str:
    if not score.feedback.n and not score.probes.checks:
        return "Nothing was measured this month: no client answered and no page was checked."
    parts = []
    if score.feedback.n:
        parts.append(f"Across all moments, {in_ten(score.readings.dissatisfaction, 'unhappy')}")
    if score.probes.bh_checks:
        parts.append(f"your pages worked {score.probes.bh_availability.shown(2)} % of our business hours "
                     f"({score.probes.bh_checks:,} checks)")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


# --- the trend ----------------------------------------------------------------------------------------------

def trend_of(trends: partner_page.Trends) -> Trend:
    """Twelve months of the partner's main measure: dissatisfied clients when any month has answers, else
    availability in business hours (a partner only probed). Months below the minimum n are gaps."""
    answered = any(s.feedback.n for s in trends.scores)
    months: list[TrendMonth] = []
    for period, score in zip(trends.periods, trends.scores):
        if answered:
            reading = score.readings.dissatisfaction
            estimate: Estimate | None = reading.estimate if reading.shown else None
            n, enough = reading.n, reading.shown
        else:
            estimate = score.probes.bh_availability if score.probes.bh_checks else None
            n, enough = score.probes.bh_checks, estimate is not None and estimate.value is not None
        if estimate is None or estimate.value is None:
            months.append(TrendMonth(period.short_label, None, None, n, enough))
        else:
            digits = 0 if answered else 2
            months.append(TrendMonth(period.short_label, round(estimate.value * 100, 2), estimate.bounds(digits), n,
                                     enough))
    if answered:
        return Trend("Dissatisfied clients (%)", "answers", months)
    return Trend("Available in business hours (%)", "checks in business hours", months)



# --- rendering ----------------------------------------------------------------------------------------------

TEMPLATE = "reports/scorecard.html"
STYLESHEETS = (render.PDF_STYLESHEET, render.ASSET_SCHEME + "scorecard.css")


def render_html(card: Scorecard) -> str:
    """The scorecard as one HTML document for WeasyPrint (the report's stylesheet and the scorecard's own)."""
    return rendering.render(TEMPLATE, card=card, chart=trend_chart(card), stylesheets=STYLESHEETS,
                            describe_duration=describe_duration, plural=render.plural)


def render_scorecard(card: Scorecard) -> render.RenderedPdf:
    """The scorecard's PDF, laid out as the monthly report is: one WeasyPrint document that loads nothing but
    its own assets (``render.ReportURLFetcher``)."""
    return render.render_pdf(render_html(card))


def trend_chart(card: Scorecard) -> Markup | None:
    """The trend as an image of its SVG line chart (gaps where a month has no value), or None with nothing to draw."""
    trend = card.trend
    if sum(m.value is not None for m in trend.months) < 2:
        return None   # one point is no line: the table says it
    answers = trend.unit == "answers"
    chart = line_chart(trend.measure, [m.label.split()[0] for m in trend.months], {trend.measure: [m.value for m in trend.months]},
                       brand=card.accent, value_format="{:.0f} %" if answers else "{:.2f} %",
                       description=f"{card.partner_name}: {trend.measure.lower()} month by month; months with too few "
                                   "answers are gaps.",
                       y_range=(0, 100) if answers else None, width=640, height=200, label_every=1, show_title=False)
    return render.as_image(chart)


def file_name(practice_slug: str, partner: Partner, month: str) -> str:
    """``scorecard-harbour-acme-insurance-2026-11.pdf``; a name with no ASCII letters goes by its id."""
    words = re.sub(r"[^a-z0-9]+", "-", partner.name.casefold()).strip("-")[:40].strip("-")
    return f"scorecard-{practice_slug}-{words or f'partner-{partner.id}'}-{month}.pdf"
