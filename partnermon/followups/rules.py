"""The follow-up rules: which answers open a follow-up, how severe and how urgent it is, which channel to
suggest, and by when the client must have been contacted. Each practice's owners may adjust them.

Defaults (DESIGN.md §1, §4):
- A follow-up opens when a response is **dissatisfied**, says the practice looks **worse** (brand harm), or
  **asks for contact**; each rule can be turned off.
- Only answers through a personal link open one by themselves. An answer through the open link is
  unverified (anyone can type anything there), so it opens a follow-up only when the client asks to be
  contacted — the form then insists on the phone number or email address to reach them by.
- **Urgent** when the moment of truth has a listed stake (default: high — claims and complaints).
- **Deadline** to contact the client, in the practice's business hours: one business day (a day as long as
  the practice's opening hours, so from Monday 11:00 it is Tuesday 11:00, and from Saturday it is Monday's
  closing time), urgent ones 4 business hours. A follow-up keeps the deadline it was given; changing the
  settings affects follow-ups opened afterwards.
- **Severity**: brand (says the practice looks worse) → suggest a meeting; serious (very dissatisfied, or
  dissatisfied about an urgent moment) → phone; otherwise mild → email. The suggestion is never less
  personal than what the client asked for (a client who asked to be phoned is phoned).

Decisions here are pure; only ``update_settings`` writes (and audits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from partnermon import validators as v
from partnermon.accounts import audit
from partnermon.models import STAKES, FeedbackResponse, MomentOfTruth, Practice, User
from partnermon.models.followups import REASONS, SEVERITIES
from partnermon.practices.business_hours import BusinessHours

REASON_LABELS = {"dissatisfied": "Dissatisfied", "brand_harm": "Says the practice looks worse",
                 "contact_request": "Asked to be contacted"}
SEVERITY_CHANNEL = {"mild": "email", "serious": "phone", "brand": "meeting"}
# From least to most personal (DESIGN.md §1: the more upset the client, the more personal the response).
CHANNEL_ORDER = ("email", "phone", "meeting")
MAX_DUE_DAYS = 10
# The recovery check-in (followups.recovery) may wait up to a quarter; later, few remember the follow-up.
MAX_CHECK_IN_DAYS = 90
MAX_URGENT_HOURS = 40


@dataclass(frozen=True)
class Decision:
    """What the rules make of one response: the rules that fired (none: no follow-up) and how to treat it."""

    reasons: tuple[str, ...]
    severity: str
    urgent: bool

    @property
    def opens(self) -> bool:
        return bool(self.reasons)


def urgent_stakes(practice: Practice) -> set[str]:
    return {stake for stake in practice.followup_urgent_stakes.split(",") if stake in STAKES}


def is_urgent(practice: Practice, moment: MomentOfTruth | None) -> bool:
    return moment is not None and moment.stake in urgent_stakes(practice)


def reasons_for(response: FeedbackResponse, practice: Practice) -> tuple[str, ...]:
    fired = []
    if practice.followup_on_dissatisfied and response.is_dissatisfied:
        fired.append("dissatisfied")
    if practice.followup_on_brand_harm and response.harms_brand:
        fired.append("brand_harm")
    if practice.followup_on_contact_request and response.wants_contact:
        fired.append("contact_request")
    if not response.verified and "contact_request" not in fired:
        # An open-link answer that does not ask for anyone: nobody to call, and nobody vouches for it.
        return ()
    return tuple(fired)


def severity_of(response: FeedbackResponse, urgent: bool) -> str:
    if response.harms_brand:
        return "brand"
    very_dissatisfied = response.satisfaction is not None and response.satisfaction <= 1
    if response.is_dissatisfied and (very_dissatisfied or urgent):
        return "serious"
    return "mild"


def decide(response: FeedbackResponse, practice: Practice, moment: MomentOfTruth | None) -> Decision:
    """The rules applied to a response about ``moment`` (passed in: the response's own relationship may
    still point at the moment it had before an edit)."""
    urgent = is_urgent(practice, moment)
    return Decision(reasons_for(response, practice), severity_of(response, urgent), urgent)


def graver(first: str, second: str) -> str:
    return max(first, second, key=SEVERITIES.index)


def suggested_channel(severity: str, contact_channel: str | None) -> str:
    by_severity = SEVERITY_CHANNEL[severity]
    asked = contact_channel if contact_channel in CHANNEL_ORDER else "email"
    return max(by_severity, asked, key=CHANNEL_ORDER.index)


def due_at(practice: Practice, start: datetime, urgent: bool) -> datetime:
    """When the client must have been contacted, for a follow-up opened (or reopened) at ``start``."""
    hours = BusinessHours.of(practice)
    if urgent:
        seconds = practice.followup_urgent_hours * 3600
    else:
        # A practice whose hours make no day at all still gets a deadline: days of 24 hours.
        seconds = practice.followup_due_days * (hours.day_seconds or 24 * 3600)
    return hours.deadline_after(start, seconds)


def update_settings(session: Session, now: datetime, practice: Practice, actor: User, *, on_dissatisfied: bool,
                    on_brand_harm: bool, on_contact_request: bool, due_days: str, urgent_hours: str,
                    urgent_stakes: list[str], check_in_days: str | None = None) -> Practice:
    """Change a practice's follow-up rules, or raise ValidationError naming each bad field. ``check_in_days``:
    how long after resolving the client is asked whether things were put right (0: never; None: unchanged)."""
    form = v.Form()
    days = form.check(v.whole_number, "followup_due_days", due_days, minimum=1, maximum=MAX_DUE_DAYS,
                      label="Business days to contact a client")
    hours = form.check(v.whole_number, "followup_urgent_hours", urgent_hours, minimum=1, maximum=MAX_URGENT_HOURS,
                       label="Business hours to contact a client about an urgent moment")
    check_in = practice.recovery_check_in_days if check_in_days is None else form.check(
        v.whole_number, "recovery_check_in_days", check_in_days, minimum=0, maximum=MAX_CHECK_IN_DAYS,
        label="Days after resolving to ask the client")
    unknown = [stake for stake in urgent_stakes if stake not in STAKES]
    if unknown:
        form.add("followup_urgent_stakes", "Choose stakes from the list: high, medium or low.")
    form.raise_if_errors()
    stakes = [stake for stake in STAKES if stake in urgent_stakes]
    practice.followup_on_dissatisfied = on_dissatisfied
    practice.followup_on_brand_harm = on_brand_harm
    practice.followup_on_contact_request = on_contact_request
    practice.followup_due_days = days
    practice.followup_urgent_hours = hours
    practice.followup_urgent_stakes = ",".join(stakes)
    practice.recovery_check_in_days = check_in
    rules = [reason.replace("_", " ") for reason, on in zip(REASONS, (on_dissatisfied, on_brand_harm,
                                                                       on_contact_request)) if on]
    audit.record(session, now, practice.id, actor, "practice.followup_settings", "practice", practice.id,
                 f"Follow-up rules: {', '.join(rules) or 'none'}; contact within {days} business day(s), "
                 f"urgent ({', '.join(stakes) or 'no'} stake) within {hours} business hour(s); "
                 + (f"check in {check_in} day(s) after resolving" if check_in else "no recovery check-in"))
    return practice
