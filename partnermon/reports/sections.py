"""One partner's section of the monthly report, and the sentences the summary says about a partner: the
heat map's cells, the month's outages with their business-hours time, a few representative comments with
the client's name taken out, and why a partner is doing the damage it does.

Reads what ``content.gather`` hands it (a board's scores, rows loaded once for the whole practice); runs no
query of its own, so a report with 60 partners costs the same handful of queries as one with 3. Numbers are
the board's own, so the report and the dashboard agree for the same month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from partnermon.monitoring.status import describe_duration
from partnermon.scoring import thresholds
from partnermon.scoring.attribution import MomentScore, PartnerScore
from partnermon.scoring.measures import FeedbackCounts
from partnermon.scoring.partner_page import Trends
from partnermon.scoring.thresholds import Breach
from partnermon.scoring.warnings import Change

COMMENTS_SHOWN = 4
INCIDENTS_SHOWN = 12
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d ()-]{7,}\d")
REDACTED = "[name removed]"


@dataclass
class IncidentRow:
    touchpoint: str
    moment: str
    started: str          # local, e.g. "12 Nov 2026 11:04"
    seconds: int
    bh_seconds: int
    first_error: str
    still_open: bool
    in_maintenance: bool


@dataclass
class Comment:
    text: str             # the client's words with their name, email and phone number taken out
    moment: str
    satisfaction: int | None
    recommend: int | None
    brand_effect: str | None
    day: str              # local date
    why_chosen: str       # "most negative", "most positive", "also said"


@dataclass
class PartnerSection:
    rank: int | None                   # place in the league table; None when too little data to rank
    score: PartnerScore
    anchor: str                        # the section's id, for the contents' links
    trend: str | None
    index_change: float | None
    trends: Trends
    breaches: list[Breach]
    changes: list[Change]
    actions: list[str]
    incidents: list[IncidentRow]
    incidents_total: int
    comments: list[Comment]
    unverified: FeedbackCounts | None
    cells: dict[tuple[int, str], str] = field(default_factory=dict)   # (moment index, measure) → status
    cell_digits: dict[tuple[int, str], int] = field(default_factory=dict)   # … → digits its comparison needs

    @property
    def name(self) -> str:
        return self.score.partner.name

    def status(self, moment_index: int, key: str) -> str:
        return self.cells.get((moment_index, key), "unknown")

    def digits(self, moment_index: int, key: str) -> int:
        return self.cell_digits.get((moment_index, key), thresholds.MEASURES[key].digits)


# --- the heat map -------------------------------------------------------------------------------------------

HEAT_KEYS = ("dissatisfaction", "brand_harm", "bh_availability", "p95_ms", "harm")


def heat_cells(limits: thresholds.Limits, score: PartnerScore) -> dict[tuple[int, str], str]:
    return {(i, key): thresholds.cell_status(limits, m, key) for i, m in enumerate(score.moments) for key in HEAT_KEYS}


def heat_digits(limits: thresholds.Limits, score: PartnerScore) -> dict[tuple[int, str], int]:
    """The digits each thresholded cell needs so that its number agrees with its colour."""
    return {(i, key): thresholds.cell_digits(limits, m, key) for i, m in enumerate(score.moments)
            for key in thresholds.MEASURES}


# --- why a partner does damage ------------------------------------------------------------------------------

def _pct(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f} %"


def worst_moment(score: PartnerScore) -> MomentScore | None:
    """The moment that adds most to the partner's harm: its harm rate times its stake."""
    measured = [m for m in score.moments if m.harm is not None]
    if not measured:
        return None
    return max(measured, key=lambda m: (m.weight * m.harm.value, m.feedback.n))  # type: ignore[union-attr]


def what_went_wrong(moment: MomentScore) -> str:
    """The measure behind a moment's harm, in words with its n and interval."""
    feedback = moment.feedback_harm.value if moment.feedback_harm else 0.0
    probes = moment.probe_harm.value if moment.probe_harm else 0.0
    fb, pr = moment.feedback, moment.probes
    if moment.feedback_harm is not None and feedback >= probes:
        rate = fb.dissatisfaction
        text = f"{_pct(rate.value)} of {fb.n:,} clients dissatisfied (95 % interval {rate.bounds()} %)"
        if fb.brand_harm and moment.readings.brand_harm.shown:
            text += (f", {fb.brand_harm:,} of the {fb.brand_n:,} who answered the brand question saying your "
                     "practice now looks worse")
        return text
    parts = []
    if moment.health.contact_missing:
        parts.append("no way to reach a person on the page")
    availability = pr.bh_availability
    if availability.value is not None and (pr.bh_down or pr.incidents):
        text = f"available {availability.shown(2)} % of business hours ({availability.bounds(2)} %)"
        if pr.incidents:
            text += (f", {pr.incidents} outage{'s' if pr.incidents != 1 else ''}"
                     f"{f' ({describe_duration(pr.bh_incident_seconds)} in business hours)' if pr.bh_incident_seconds else ''}")
        parts.append(text)
    if pr.slow and pr.p95_ms is not None and pr.answered:
        parts.append(f"slow pages: p95 {pr.p95_ms / 1000:.1f} s, {min(pr.slow, pr.answered):,} of {pr.answered:,} "
                     "answered checks over 3 s")
    if not parts and moment.readings.dissatisfaction.shown:
        parts.append(f"{_pct(fb.dissatisfaction.value)} of {fb.n:,} clients dissatisfied")
    return "; ".join(parts) or "small problems across its checks"


def damage_sentence(score: PartnerScore) -> str:
    """One sentence on why a partner is near the top of the damage ranking."""
    moment = worst_moment(score)
    if moment is None:
        return "Nothing measured."
    return f"Worst at {moment.name} ({moment.stake} stake): {what_went_wrong(moment)}."


# --- outages ------------------------------------------------------------------------------------------------

def incident_rows(found: list[tuple[object, str, int, int]], zone: ZoneInfo) -> list[IncidentRow]:
    """(incident, moment name, seconds, business-hours seconds) → rows, most business-hours time first."""
    rows = []
    for incident, moment, seconds, bh_seconds in found:
        rows.append(IncidentRow(
            incident.touchpoint.name, moment,  # type: ignore[attr-defined]
            incident.started_at.astimezone(zone).strftime("%d %b %Y %H:%M"),  # type: ignore[attr-defined]
            seconds, bh_seconds, incident.first_error or "", incident.is_open,  # type: ignore[attr-defined]
            incident.in_maintenance))  # type: ignore[attr-defined]
    return sorted(rows, key=lambda r: (r.in_maintenance, -r.bh_seconds, -r.seconds, r.started))


# --- comments -----------------------------------------------------------------------------------------------

@dataclass
class CommentRow:
    """A response with a comment, as loaded for the whole practice (``content._comment_rows``)."""

    partner_id: int
    moment: str | None
    satisfaction: int | None
    recommend: int | None
    brand_effect: str | None
    comment: str
    created_at: datetime
    names: tuple[str, ...]     # what identifies the client: their name(s) and email address(es)


def redact(text: str, names: tuple[str, ...]) -> str:
    """The comment without the client's name (each part of it), email addresses and phone numbers."""
    words = set()
    for name in names:
        if not name:
            continue
        if "@" in name:
            words.add(name)
            words.add(name.split("@", 1)[0])
        else:
            words.update(part for part in re.split(r"[\s,]+", name) if len(part) >= 3)
    for word in sorted(words, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", REDACTED, text, flags=re.I)
    text = _EMAIL.sub("[email removed]", text)
    return _PHONE.sub("[phone removed]", text)


def _badness(row: CommentRow) -> tuple[int, int, int]:
    """Lower is worse: satisfaction, then thinking less of the practice, then the recommend score."""
    return (row.satisfaction if row.satisfaction is not None else 3, 0 if row.brand_effect == "worse" else 1,
            row.recommend if row.recommend is not None else 5)


def representative_comments(rows: list[CommentRow], zone: ZoneInfo, limit: int = COMMENTS_SHOWN) -> list[Comment]:
    """The most negative comment, the most positive, then the most recent from moments not yet shown."""
    if not rows:
        return []
    chosen: list[tuple[CommentRow, str]] = []
    by_badness = sorted(rows, key=lambda r: (_badness(r), -r.created_at.timestamp()))
    chosen.append((by_badness[0], "most negative"))
    best = by_badness[-1]
    if best is not by_badness[0] and (best.satisfaction or 0) >= 4:
        chosen.append((best, "most positive"))
    shown_moments = {r.moment for r, _ in chosen}
    rest = [r for r in sorted(rows, key=lambda r: r.created_at, reverse=True) if all(r is not c for c, _ in chosen)]
    rest.sort(key=lambda r: r.moment in shown_moments)   # stable: recent first, new moments before seen ones
    for row in rest[: max(0, limit - len(chosen))]:
        chosen.append((row, "also said"))
    return [Comment(redact(r.comment, r.names), r.moment or "moment not given", r.satisfaction, r.recommend,
                    r.brand_effect, r.created_at.astimezone(zone).strftime("%d %b %Y"), why) for r, why in chosen]
