"""The follow-up emails, one function each: the alert to the assignee, the overdue notice to the owners,
the reminder to the assignee, and the notice to the owners that a departing user's follow-ups are theirs.

Every email goes into the outbox in the caller's transaction, with a dedupe key naming exactly what it is
about (the follow-up, its reasons or deadline, the recipient), so opening, a retried job or a restarted
worker can never send the same one twice. The alert carries everything the adviser needs without signing
in; the others are short and link to the follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from partnermon.feedback.links import RATING_LABELS
from partnermon.feedback.questions import BRAND_EFFECT_LABELS, OPTIONS
from partnermon.followups import rules
from partnermon.alerts.delivery import deliver
from partnermon.models import FeedbackRequest, FeedbackResponse, MomentOfTruth, Partner, Practice, Touchpoint, User
from partnermon.models.followups import FollowUp

EARLIER_SHOWN = 5
COMMENT_EXCERPT = 300
EFFORT_LABELS = dict(OPTIONS["effort"])
SEVERITY_ADVICE = {
    "mild": "An email is enough: the client is mildly unhappy or has a question.",
    "serious": "Phone them: the client is very dissatisfied, or dissatisfied about a moment that matters a great "
               "deal to them.",
    "brand": "Offer a meeting: the client says this has made {practice} look worse to them.",
}


@dataclass(frozen=True)
class Client:
    """Who the follow-up is about: the personal link's client, or whoever an open-link answer said it was."""

    name: str
    email: str
    phone: str
    verified: bool

    @property
    def label(self) -> str:
        return self.name or self.email or "A client"


@dataclass(frozen=True)
class EarlierAnswer:
    at: str
    partner: str
    moment: str
    satisfaction: str
    brand_effect: str
    comment: str
    follow_up: str


def link(base_url: str, follow_up: FollowUp) -> str:
    return f"{base_url}/follow-ups/{follow_up.id}"


def local_time(practice: Practice, moment: datetime) -> str:
    """A time as the practice's staff read it: "Tuesday 24 November 2026 at 10:00 GMT"."""
    local = moment.astimezone(ZoneInfo(practice.timezone))
    return f"{local:%A} {local.day} {local:%B %Y at %H:%M %Z}"


def client_of(follow_up: FollowUp) -> Client:
    response, request = follow_up.response, follow_up.request
    if request is not None:
        return Client(request.client_name, request.client_email, response.contact_phone, response.verified)
    return Client(response.client_name or "", response.client_email or "", response.contact_phone, response.verified)


def headline(follow_up: FollowUp, practice: Practice, client: Client) -> str:
    partner = follow_up.partner.name
    if "brand_harm" in follow_up.reasons:
        what = f"says {practice.name} looks worse after dealing with {partner}"
    elif "dissatisfied" in follow_up.reasons:
        what = f"is unhappy with {partner}"
    else:
        what = f"asks to be contacted about {partner}"
    return f"{client.label} {what}"


def earlier_feedback(session: Session, follow_up: FollowUp, client: Client) -> tuple[list[EarlierAnswer], int]:
    """The client's other answers to this practice before this one (newest first, at most EARLIER_SHOWN),
    and how many there are in all. Matched by email address, personal link or open link alike."""
    if not client.email:
        return [], 0
    response = follow_up.response
    email = client.email.lower()
    conditions = [
        FeedbackResponse.practice_id == follow_up.practice_id, FeedbackResponse.id != response.id,
        FeedbackResponse.created_at <= response.created_at,
        or_(func.lower(FeedbackRequest.client_email) == email, func.lower(FeedbackResponse.client_email) == email),
    ]
    base = select(FeedbackResponse).outerjoin(FeedbackRequest, FeedbackRequest.id == FeedbackResponse.request_id)
    total = session.scalar(select(func.count()).select_from(base.where(*conditions).subquery())) or 0
    query = (select(FeedbackResponse, Partner.name, MomentOfTruth.name, FollowUp.status)
             .outerjoin(FeedbackRequest, FeedbackRequest.id == FeedbackResponse.request_id)
             .join(Partner, Partner.id == FeedbackResponse.partner_id)
             .outerjoin(MomentOfTruth, MomentOfTruth.id == FeedbackResponse.moment_id)
             .outerjoin(FollowUp, FollowUp.response_id == FeedbackResponse.id)
             .where(*conditions)
             .order_by(FeedbackResponse.created_at.desc(), FeedbackResponse.id.desc()).limit(EARLIER_SHOWN))
    practice = follow_up.practice
    answers = []
    for earlier, partner, moment, follow_up_status in session.execute(query):
        comment = " ".join(earlier.comment.split())
        if len(comment) > COMMENT_EXCERPT:
            comment = comment[:COMMENT_EXCERPT] + "…"
        answers.append(EarlierAnswer(
            at=local_time(practice, earlier.created_at).split(" at ")[0], partner=partner, moment=moment or "",
            satisfaction=_satisfaction(earlier), brand_effect=BRAND_EFFECT_LABELS.get(earlier.brand_effect or "", ""),
            comment=comment, follow_up=follow_up_status or ""))
    return answers, total


def _satisfaction(response: FeedbackResponse) -> str:
    return f"{response.satisfaction}/5 ({RATING_LABELS.get(response.satisfaction, '')})"


def alert_context(session: Session, follow_up: FollowUp, base_url: str) -> dict[str, Any]:
    """Everything the alert shows: who, about what, what they said, what came before, what to do by when."""
    practice = follow_up.practice
    response = follow_up.response
    client = client_of(follow_up)
    earlier, earlier_total = earlier_feedback(session, follow_up, client)
    touchpoint = session.get(Touchpoint, follow_up.request.touchpoint_id) if (
        follow_up.request is not None and follow_up.request.touchpoint_id is not None) else None
    asked = response.contact_channel if response.wants_contact else None
    channel = rules.suggested_channel(follow_up.severity, asked)
    if channel == rules.SEVERITY_CHANNEL[follow_up.severity]:
        advice = SEVERITY_ADVICE[follow_up.severity].format(practice=practice.name)
    else:
        advice = f"They asked to be contacted by {asked}."
    return {
        "practice": practice, "follow_up": follow_up, "client": client, "partner": follow_up.partner,
        "moment": follow_up.moment, "touchpoint": touchpoint, "response": response,
        "headline": headline(follow_up, practice, client),
        "reasons": [rules.REASON_LABELS[reason] for reason in follow_up.reasons],
        "satisfaction": _satisfaction(response),
        "recommend": None if response.recommend is None else f"{response.recommend}/10",
        "effort": None if response.effort is None else f"{response.effort}/7 ({EFFORT_LABELS[response.effort]})",
        "brand_effect": BRAND_EFFECT_LABELS.get(response.brand_effect or ""),
        "earlier": earlier, "earlier_more": earlier_total - len(earlier),
        "channel": channel, "channel_advice": advice,
        "due_text": local_time(practice, follow_up.contact_due_at),
        "assignee": follow_up.assignee, "link": link(base_url, follow_up),
    }


def send_alert(session: Session, now: datetime, follow_up: FollowUp, to: User, base_url: str, *, key: str,
               intro: str = "") -> None:
    """The alert: to the assignee when a follow-up opens, again when the client adds to their answers
    (``intro`` says what changed) or when someone else is given it."""
    context = {**alert_context(session, follow_up, base_url), "recipient": to, "intro": intro}
    deliver(session, now, to, "followup_alert", dedupe_key=key, base_url=base_url,
            practice_id=follow_up.practice_id, context=context)


def _short_context(follow_up: FollowUp, base_url: str) -> dict[str, Any]:
    practice = follow_up.practice
    client = client_of(follow_up)
    return {"practice": practice, "follow_up": follow_up, "client": client, "partner": follow_up.partner,
            "moment": follow_up.moment, "headline": headline(follow_up, practice, client),
            "reasons": [rules.REASON_LABELS[reason] for reason in follow_up.reasons],
            "assignee": follow_up.assignee, "due_text": local_time(practice, follow_up.contact_due_at),
            "opened_text": local_time(practice, follow_up.opened_at), "link": link(base_url, follow_up)}


def _deadline_key(follow_up: FollowUp) -> str:
    # The deadline is part of the key: a reopened follow-up has a new one, and may be overdue again.
    return f"{follow_up.id}:{int(follow_up.contact_due_at.timestamp())}"


def send_overdue(session: Session, now: datetime, follow_up: FollowUp, owner: User, base_url: str) -> None:
    """To an owner: the client was not contacted in time."""
    deliver(session, now, owner, "followup_overdue",
            dedupe_key=f"followup-overdue:{_deadline_key(follow_up)}:{owner.id}", base_url=base_url,
            practice_id=follow_up.practice_id, context={**_short_context(follow_up, base_url), "recipient": owner})


def send_reminder(session: Session, now: datetime, follow_up: FollowUp, assignee: User, base_url: str) -> None:
    """To the assignee: the deadline has passed and the owners know."""
    deliver(session, now, assignee, "followup_reminder",
            dedupe_key=f"followup-reminder:{_deadline_key(follow_up)}:{assignee.id}", base_url=base_url,
            practice_id=follow_up.practice_id,
            context={**_short_context(follow_up, base_url), "recipient": assignee})


def send_reassigned(session: Session, now: datetime, owner: User, departed: User, moved: list[FollowUp],
                    new_assignee: User | None, base_url: str, *, key: str) -> None:
    """To an owner: a user who can no longer work follow-ups had these, and they now belong to the owners."""
    practice = owner.practice
    items = [{**_short_context(follow_up, base_url), "status": follow_up.status} for follow_up in moved]
    deliver(session, now, owner, "followup_reassigned", dedupe_key=f"{key}:{owner.id}", base_url=base_url,
            practice_id=practice.id,
            context={"practice": practice, "recipient": owner, "departed": departed, "items": items,
                     "new_assignee": new_assignee})


RUNG_PHRASES = {"email": "write to them", "phone": "phone them", "meeting": "offer them a meeting"}


def send_stepped(session: Session, now: datetime, follow_up: FollowUp, assignee: User, base_url: str, *,
                 before: str, reason: str, key: str) -> None:
    """To the assignee: the follow-up moved on the ladder (why, and how and by when to contact the client now)."""
    deliver(session, now, assignee, "followup_stepped", dedupe_key=key, base_url=base_url,
            practice_id=follow_up.practice_id,
            context={**_short_context(follow_up, base_url), "recipient": assignee, "before": before,
                     "reason": reason, "rung_phrase": RUNG_PHRASES.get(follow_up.rung, "contact them")})


def send_top_rung(session: Session, now: datetime, follow_up: FollowUp, owner: User, base_url: str, *,
                  key: str) -> None:
    """To an owner: a follow-up reached the top rung (a meeting); sent once per follow-up."""
    deliver(session, now, owner, "followup_top_rung", dedupe_key=key, base_url=base_url,
            practice_id=follow_up.practice_id, context={**_short_context(follow_up, base_url), "recipient": owner})
