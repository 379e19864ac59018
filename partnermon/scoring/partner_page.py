"""What one partner's experience page (and its section of the monthly report) shows beyond its score: twelve
months of trends, incidents, recent comments, open follow-ups, and a summary a practice could send to the
partner's account manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from partnermon.models import FeedbackResponse, FollowUp, Incident, Partner, Practice, Touchpoint
from partnermon.monitoring.status import describe_duration
from partnermon.practices.business_hours import BusinessHours
from partnermon.scoring import periods as periods_
from partnermon.scoring.attribution import PartnerScore
from partnermon.scoring.board import Board, score_periods
from partnermon.scoring.charts import line_chart
from partnermon.scoring.periods import Period
from partnermon.scoring.stats import Estimate

RECENT_COMMENTS = 8
RECENT_INCIDENTS = 20


@dataclass
class Trends:
    periods: list[Period]
    scores: list[PartnerScore]
    min_responses: int

    @property
    def labels(self) -> list[str]:
        return [p.short_label for p in self.periods]

    def series(self, what: str) -> list[float | None]:
        values: list[float | None] = []
        for score in self.scores:
            if what == "p95_s":
                p95 = score.probes.p95_ms
                values.append(p95 / 1000 if p95 is not None else None)
                continue
            estimate = self._estimate(score, what)
            values.append(None if estimate is None or estimate.value is None
                          else estimate.value * (1 if what == "index" else 100))
        return values

    def intervals(self, what: str) -> list[tuple[float, float] | None]:
        """Each month's 95 % interval of a series, on the series' own scale (None where it has no value):
        what a chart's error bars draw. Not for "p95_s", which has none."""
        found: list[tuple[float, float] | None] = []
        scale = 1 if what == "index" else 100
        for score in self.scores:
            estimate = self._estimate(score, what)
            found.append(None if estimate is None or estimate.value is None
                         else (estimate.low * scale, estimate.high * scale))
        return found

    @staticmethod
    def _estimate(score: PartnerScore, what: str) -> Estimate | None:
        if what == "index":
            return score.index
        if what == "dissatisfaction":
            # Months under the minimum of answers have no value (DESIGN.md §5): the chart leaves them out.
            reading = score.readings.dissatisfaction
            return reading.estimate if reading.shown else None
        if what == "bh_availability":
            return score.probes.bh_availability
        raise KeyError(what)


# The four trend charts, the measure each draws (Trends.series) and what it says: the partner page and the
# report's partner sections draw exactly these.
TREND_CHARTS: dict[str, tuple[str, str, str, str]] = {
    "index": ("index", "Experience index", "{:.0f}", "{name}'s experience index (0–100) month by month."),
    "feedback": ("dissatisfaction", "Dissatisfied clients (%)", "{:.0f} %",
                 "The share of responses that were dissatisfied, month by month (months with too few responses "
                 "are left out)."),
    "availability": ("bh_availability", "Availability in business hours (%)", "{:.2f} %",
                     "The share of business-hours checks that found the partner's touchpoints working, month by month."),
    "speed": ("p95_s", "p95 response time (s)", "{:.1f} s",
              "95 % of checks were answered within this many seconds, month by month."),
}


def trend_charts(trends: Trends, name: str, *, brand: str | None, width: int = 640, height: int = 260,
                 min_months: int = 0, label_every: int = 1, show_titles: bool = True) -> dict[str, Markup]:
    """A partner's twelve-month charts; a chart with fewer than ``min_months`` months of values is left out.
    With ``show_titles=False`` the caller captions each chart with ``trend_chart_title``."""
    axis = [p.month_label for p in trends.periods]
    charts: dict[str, Markup] = {}
    for key, (series, _, value_format, description) in TREND_CHARTS.items():
        values = trends.series(series)
        if sum(v is not None for v in values) < min_months:
            continue
        title = trend_chart_title(trends, key)
        charts[key] = line_chart(title, axis, {name if key == "index" else title: values}, brand=brand,
                                 value_format=value_format, description=description.format(name=name),
                                 y_range=(0, 100) if key == "index" else None, width=width, height=height,
                                 label_every=label_every, show_title=show_titles)
    return charts


def trend_chart_title(trends: Trends, key: str) -> str:
    title = TREND_CHARTS[key][1]
    return f"{title}, {trends.labels[0]} to {trends.labels[-1]}" if key == "index" else title


def trends(session: Session, now: datetime, practice: Practice, partner: Partner, months: int = 12) -> Trends:
    months_ = periods_.last_months(now, practice.timezone, months)
    by_period = score_periods(session, now, practice, months_, partner_id=partner.id)
    return Trends(months_, [scores[partner.id] for scores in by_period], practice.score_min_responses)


def incidents(session: Session, partner: Partner, period: Period) -> list[Incident]:
    return list(session.scalars(
        select(Incident).join(Touchpoint, Touchpoint.id == Incident.touchpoint_id)
        .options(joinedload(Incident.touchpoint))
        .where(Incident.practice_id == partner.practice_id, Touchpoint.partner_id == partner.id,
               Incident.kind == "down", Incident.started_at >= period.start, Incident.started_at < period.end)
        .order_by(Incident.started_at.desc()).limit(RECENT_INCIDENTS)))


def incident_seconds(incident: Incident, now: datetime, hours: BusinessHours) -> tuple[int, int]:
    """(all, business-hours) seconds of an incident; an open one up to now."""
    if incident.resolved_at is not None and incident.seconds_total is not None:
        return incident.seconds_total, incident.seconds_in_business_hours or 0
    end = incident.resolved_at or now
    return int((end - incident.started_at).total_seconds()), hours.seconds_within(incident.started_at, end)


def recent_comments(session: Session, partner: Partner, period: Period, limit: int = RECENT_COMMENTS
                    ) -> list[FeedbackResponse]:
    return list(session.scalars(
        select(FeedbackResponse).options(joinedload(FeedbackResponse.moment))
        .where(FeedbackResponse.practice_id == partner.practice_id, FeedbackResponse.partner_id == partner.id,
               FeedbackResponse.comment != "", FeedbackResponse.created_at >= period.start,
               FeedbackResponse.created_at < period.end)
        .order_by(FeedbackResponse.created_at.desc()).limit(limit)))


def open_follow_ups(session: Session, partner: Partner) -> list[FollowUp]:
    return list(session.scalars(
        select(FollowUp).options(joinedload(FollowUp.assignee), joinedload(FollowUp.moment))
        .where(FollowUp.practice_id == partner.practice_id, FollowUp.partner_id == partner.id,
               FollowUp.status != "resolved")
        .order_by(FollowUp.contact_due_at)))


def account_manager_summary(board: Board, score: PartnerScore, actions: list[str]) -> str:
    """Plain text a practice could paste into an email to the partner's account manager. Names no client."""
    practice, partner, period = board.practice, score.partner, board.period
    lines = [f"{partner.name}: how our clients experienced you in {period.label}", ""]
    fb, readings = score.feedback, score.readings
    if readings.dissatisfaction.shown:
        line = (f"{fb.n} of our clients answered our feedback request: {_pct(readings.csat.value)} satisfied, "
                f"{_pct(readings.dissatisfaction.value)} dissatisfied")
        if readings.nps.shown:
            line += f", NPS {readings.nps.estimate.shown(0, 1, signed=True)} (of {readings.nps.n} who answered)"
        lines.append(line + ".")
    elif fb.n:
        lines.append(f"{fb.n} of our clients answered our feedback request (too few to draw conclusions yet).")
    for moment in score.moments:
        parts = []
        if moment.readings.dissatisfaction.shown:
            parts.append(f"{_pct(moment.feedback.dissatisfaction.value)} dissatisfied of {moment.feedback.n}")
        availability = moment.probes.bh_availability
        if availability.value is not None:
            parts.append(f"available {availability.shown(2)} % of business hours")
        if moment.probes.incidents:
            parts.append(f"{moment.probes.incidents} outage{'s' if moment.probes.incidents != 1 else ''}, "
                         f"{describe_duration(moment.probes.bh_incident_seconds)} in business hours")
        if moment.probes.p95_ms is not None:
            parts.append(f"95 % of pages answered within {moment.probes.p95_ms / 1000:.1f} s")
        if moment.health.contact_missing:
            parts.append("no way to reach a person on the page")
        if parts:
            lines.append(f"- {moment.name}: " + "; ".join(parts) + ".")
    if actions:
        lines += ["", "What we would like to discuss:"] + [f"- {a}" for a in actions]
    lines += ["", f"— {practice.name}"]
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"
