"""A client's answers (DESIGN.md §4): checking them, and recording the one response a link may have with
the follow-up it calls for (``answer``: all the client's POST calls).

Only a POST reaches these functions; a GET of the form never records anything, because mail scanners
follow links. A personal link holds one response: a retried or doubled POST, or a later visit within
the edit window, changes that response instead of adding one. Answers through a practice's open link
are stored unverified and kept apart in scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import ColumnElement, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from partnermon import followups
from partnermon import validators as v
from partnermon.accounts.security import same, token_hash
from partnermon.db import UTCDateTime
from partnermon.feedback.questions import SCALES
from partnermon.promises import durations
from partnermon.models import FeedbackRequest, FeedbackResponse, FollowUp, MomentOfTruth, Partner, Practice
from partnermon.models.feedback import BRAND_EFFECTS, CONTACT_CHANNELS, harms_brand, is_dissatisfied
from partnermon.webhooks import events as webhook_events

EDIT_WINDOW = timedelta(days=7)
MAX_COMMENT = 4000
_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,30}$")

# What a link's page shows: the form, the form with the client's answers to change, the answers
# read-only (edit window over), or the "cannot be used" page (unknown, expired or revoked: not said which).
OPEN, EDITABLE, CLOSED, GONE = "open", "editable", "closed", "gone"


@dataclass(frozen=True)
class Answers:
    satisfaction: int
    recommend: int | None
    effort: int | None
    brand_effect: str | None
    comment: str
    wants_contact: bool
    contact_channel: str | None
    contact_phone: str
    moment_id: int | None
    client_name: str | None = None    # open link only
    client_email: str | None = None   # open link only
    duration_seconds: int | None = None   # "How long did it take?", where the moment asks it
    duration_text: str = ""

    # As for a stored response (FeedbackResponse), so the follow-up rules can look at answers before any is built.
    @property
    def is_dissatisfied(self) -> bool:
        return is_dissatisfied(self.satisfaction, self.recommend)

    @property
    def harms_brand(self) -> bool:
        return harms_brand(self.brand_effect)


def _scale(form: v.Form, data: Mapping[str, Any], name: str, label: str, *, required: bool) -> int | None:
    low, high = SCALES[name]
    raw = str(data.get(name) or "").strip()
    if not raw:
        if required:
            form.add(name, f"Choose {label}, from {low} to {high}.")
        return None
    # ASCII digits only: str.isdigit() also accepts "²" and "৩", which int() refuses or misreads.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 2) or not low <= int(raw) <= high:
        form.add(name, f"{label[0].upper() + label[1:]} must be a whole number from {low} to {high}.")
        return None
    return int(raw)


def _truthy(value: Any) -> bool:
    return str(value or "").strip().lower() in ("1", "yes", "on", "true")


def parse_answers(data: Mapping[str, Any], moments: list[MomentOfTruth] | None, *, open_link: bool = False) -> Answers:
    """The answers from a submitted form, or ValidationError naming each field that needs fixing.

    ``moments`` are the interactions the client may choose from when the link is not about one already
    (None when it is)."""
    form = v.Form()
    satisfaction = _scale(form, data, "satisfaction", "how satisfied you were", required=True)
    recommend = _scale(form, data, "recommend", "how likely you are to recommend them", required=False)
    effort = _scale(form, data, "effort", "how easy it was", required=False)
    brand_effect = str(data.get("brand_effect") or "").strip() or None
    if brand_effect is not None and brand_effect not in BRAND_EFFECTS:
        form.add("brand_effect", "Choose better, no change or worse.")
        brand_effect = None
    comment = form.check(v.text, "comment", data.get("comment"), required=False, max_length=MAX_COMMENT,
                         label="Your comment", multiline=True) or ""
    moment_id = None
    if moments is not None:
        raw = str(data.get("moment") or "").strip()
        if raw:
            chosen = next((m for m in moments if str(m.id) == raw), None)
            if chosen is None:
                form.add("moment", "Choose one of the listed kinds of interaction.")
            else:
                moment_id = chosen.id
    # Asked only where the moment asks it (MomentOfTruth.ask_duration); read whenever it is given, so an
    # answer is never dropped because the client chose the moment on the same form.
    duration_text = " ".join(str(data.get("duration") or "").split())
    duration_seconds = form.check(durations.parse, "duration", duration_text, label="How long it took")
    wants_contact = _truthy(data.get("wants_contact"))
    channel = phone = None
    client_name = client_email = None
    if open_link:
        client_name = form.check(v.text, "client_name", data.get("client_name"), required=False, label="Your name")
        client_email = form.check(v.email, "client_email", data.get("client_email"), required=False) or None
    if wants_contact:
        channel = str(data.get("contact_channel") or "").strip()
        if channel not in CONTACT_CHANNELS:
            form.add("contact_channel", "Choose whether we should phone or email you.")
            channel = None
        if channel == "phone":
            phone = " ".join(str(data.get("contact_phone") or "").split())
            if not phone:
                form.add("contact_phone", "Enter the phone number we should call.")
            elif not _PHONE.match(phone) or not 6 <= sum(c.isdigit() for c in phone) <= 20:
                form.add("contact_phone", "Enter a phone number using digits, spaces and + only, e.g. +44 20 7946 0000.")
        if open_link and channel == "email" and not client_email and "client_email" not in form.errors:
            form.add("client_email", "Enter your email address so we can reply.")
    form.raise_if_errors()
    assert satisfaction is not None
    return Answers(satisfaction, recommend, effort, brand_effect, comment, wants_contact, channel,
                   phone or "", moment_id, client_name, client_email, duration_seconds,
                   duration_text[:durations.MAX_TEXT] if duration_seconds is not None else "")


def response_of(session: Session, request: FeedbackRequest) -> FeedbackResponse | None:
    """The link's response as stored now (not as this session last saw it)."""
    return session.scalar(_RESPONSE_OF, {"request_id": request.id})


def link_state(request: FeedbackRequest, response: FeedbackResponse | None, now: datetime) -> str:
    if request.revoked_at is not None:
        return GONE
    if response is None:
        return OPEN if request.expires_at > now else GONE
    if now < editable_until(response):
        return EDITABLE
    # Answered and the edit window is over: the client may still see what they said until the link expires.
    return CLOSED if request.expires_at > now else GONE


def editable_until(response: FeedbackResponse) -> datetime:
    return response.created_at + EDIT_WINDOW


class LinkClosed(Exception):
    """The link can no longer take answers (expired, revoked or past the edit window)."""


def _apply(response: FeedbackResponse, answers: Answers, now: datetime, *, keep_moment: bool) -> None:
    """The client's answers onto the response (its moment only when the link names none)."""
    response.satisfaction, response.recommend, response.effort = answers.satisfaction, answers.recommend, answers.effort
    response.brand_effect, response.comment = answers.brand_effect, answers.comment
    response.wants_contact, response.contact_channel = answers.wants_contact, answers.contact_channel
    response.contact_phone, response.updated_at = answers.contact_phone, now
    response.duration_seconds, response.duration_text = answers.duration_seconds, answers.duration_text
    if not keep_moment:
        response.moment_id = answers.moment_id


# The client's POST is the busiest write in the product: its statements are built once, so that SQLAlchemy
# finds their compiled form in its cache without building them again (about a third of their cost).
_NOW = bindparam("now", type_=UTCDateTime())
_CLAIM = (update(FeedbackRequest)
          .where(FeedbackRequest.revoked_at.is_(None),
                 or_(FeedbackRequest.expires_at > _NOW, FeedbackRequest.answered_at.is_not(None)))
          # An answer is a person's act (scanners only GET), so the link was opened then at the latest: the
          # page's "seen" post may land after its quick rating, or never (no script).
          .values(status="answered", answered_at=func.coalesce(FeedbackRequest.answered_at, _NOW),
                  opened_at=func.coalesce(FeedbackRequest.opened_at, _NOW))
          .returning(FeedbackRequest)
          .execution_options(synchronize_session=False, populate_existing=True))
_CLAIM_BY_TOKEN = _CLAIM.where(FeedbackRequest.token_hash == bindparam("digest"))
_RESPONSE_OF = (select(FeedbackResponse).where(FeedbackResponse.request_id == bindparam("request_id"))
                .execution_options(populate_existing=True))


@dataclass(frozen=True)
class Answered:
    """What a client's post did: the link's response and whether this post created it, and the follow-up the
    answers opened or added to (None when they call for none)."""

    response: FeedbackResponse
    created: bool
    follow_up: FollowUp | None


def answer(session: Session, now: datetime, token: str, data: Mapping[str, Any], *, base_url: str) -> Answered | None:
    """The client's POST of the form: their answers stored as the link's one response (or changing it while
    the edit window lasts), and any follow-up they call for opened or added to, in the caller's transaction.

    None when the token is not a link that takes answers (unknown, revoked, expired): the caller tells those
    apart as on every route. Raises ValidationError naming each field to fix, and LinkClosed after the edit
    window. Unless it commits the answers, the caller rolls back: the link was already marked answered."""
    # Most posts name no interaction: then the answers do not depend on the link and are checked first.
    answers = None if data.get("moment") else parse_answers(data, None)
    link = _claim_by_token(session, now, token)
    if link is None:
        return None
    if answers is None:   # an interaction was chosen: one of the link's practice's, unless the link names one
        answers = parse_answers(data, None if link.moment_id else choosable_moments(session, link.practice_id))
    recorded = _record(session, now, link, answers)
    if recorded is None:
        return None
    response, created = recorded
    return Answered(response, created, followups.open_for_response(session, now, response, base_url, new=created))


def rate(session: Session, now: datetime, token: str, satisfaction: int, *, base_url: str) -> Answered | None:
    """The rating a client chose from the email, posted by the form's script once the page was seen: it starts
    the link's response, and never changes one the client already gave (that one comes back, ``created``
    False). None as for ``answer``. A 1- or 2-star rating is already dissatisfied: the follow-up opens now."""
    link = _claim_by_token(session, now, token)
    if link is None:
        return None
    response = response_of(session, link)
    if response is not None:
        return Answered(response, False, None)
    recorded = _record(session, now, link, Answers(satisfaction, None, None, None, "", False, None, "", None))
    if recorded is None:
        return None
    response, _created = recorded
    return Answered(response, True, followups.open_for_response(session, now, response, base_url, new=True))


def record_response(session: Session, now: datetime, request: FeedbackRequest, answers: Answers
                    ) -> tuple[FeedbackResponse, bool]:
    """``answer`` for answers already checked, by the request rather than its token, opening no follow-up: the
    response and whether it is new. Raises LinkClosed when the link takes no answers."""
    link = _claim(session, now, FeedbackRequest.id == request.id)
    recorded = None if link is None else _record(session, now, link, answers)
    if recorded is None:
        raise LinkClosed
    return recorded


def _claim_by_token(session: Session, now: datetime, token: str) -> FeedbackRequest | None:
    if not token or len(token) > 100:   # a token the product could never have made
        return None
    digest = token_hash(token)
    link = session.scalar(_CLAIM_BY_TOKEN, {"now": now, "digest": digest})
    # As in links.find_by_token: the lookup is by hash, and tokens are only ever compared with `same`.
    return link if link is not None and same(link.token_hash, digest) else None


def _claim(session: Session, now: datetime, which: ColumnElement[bool]) -> FeedbackRequest | None:
    """The link, marked answered, if it may take answers: not revoked, and live or answered already (an
    expired link's response may change while its edit window lasts). The UPDATE locks the link's row (on
    SQLite, the database) until the caller's transaction ends, so a second post for the same link waits for
    this one, then finds its response and changes it instead of adding another. (The response's unique
    request id would refuse a second one anyway.)"""
    return session.scalar(_CLAIM.where(which), {"now": now})


def _record(session: Session, now: datetime, link: FeedbackRequest, answers: Answers
            ) -> tuple[FeedbackResponse, bool] | None:
    """The claimed link's response with these answers, and whether it is new; None when the link is gone (see
    link_state), LinkClosed when its answers can no longer change."""
    response = response_of(session, link)
    state = link_state(link, response, now)
    if state == GONE:
        return None
    if state == CLOSED:
        raise LinkClosed
    created = response is None
    if response is None:
        response = FeedbackResponse(practice_id=link.practice_id, request_id=link.id, partner_id=link.partner_id,
                                    moment_id=link.moment_id, verified=True, created_at=now)
        session.add(response)
    _apply(response, answers, now, keep_moment=link.moment_id is not None)
    session.flush()
    if created:
        webhook_events.response_created(session, now, response)
    return response, created


def mark_opened(session: Session, now: datetime, request: FeedbackRequest) -> bool:
    """Note that a person (not a mail scanner) has the form open: the page's script posts this."""
    result = session.execute(
        update(FeedbackRequest)
        .where(FeedbackRequest.id == request.id, FeedbackRequest.status.in_(("queued", "sent")),
               FeedbackRequest.revoked_at.is_(None))
        .values(status="opened", opened_at=func.coalesce(FeedbackRequest.opened_at, now))
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def open_submission_seen(session: Session, practice_id: int, submission_key: str) -> bool:
    """Whether the open-link form with this one-time key was already stored (a double click, a retry)."""
    return session.scalar(select(FeedbackResponse.id).where(FeedbackResponse.practice_id == practice_id,
                                                            FeedbackResponse.submission_key == submission_key)) is not None


def record_open_response(session: Session, now: datetime, practice: Practice, partner: Partner, answers: Answers,
                         submission_key: str | None = None, *, base_url: str) -> Answered:
    """An answer through the practice's open link, and any follow-up it calls for: not tied to a personal link,
    so marked unverified. A concurrent post of the same form fails on the unique ``submission_key``
    (IntegrityError at flush, before anything else is written)."""
    response = FeedbackResponse(practice_id=practice.id, request_id=None, partner_id=partner.id, verified=False,
                                created_at=now, client_name=answers.client_name or None,
                                client_email=answers.client_email, submission_key=submission_key)
    _apply(response, answers, now, keep_moment=False)
    session.add(response)
    session.flush()
    webhook_events.response_created(session, now, response)
    return Answered(response, True, followups.open_for_response(session, now, response, base_url, new=True))


def answered_form(response: FeedbackResponse) -> dict[str, str]:
    """A stored response as form values, so the edit form shows what the client said."""
    values = {
        "satisfaction": str(response.satisfaction),
        "recommend": "" if response.recommend is None else str(response.recommend),
        "effort": "" if response.effort is None else str(response.effort),
        "brand_effect": response.brand_effect or "",
        "comment": response.comment,
        "wants_contact": "1" if response.wants_contact else "",
        "contact_channel": response.contact_channel or "",
        "contact_phone": response.contact_phone,
        "moment": "" if response.moment_id is None else str(response.moment_id),
        "duration": response.duration_text,
    }
    return values


def choosable_moments(session: Session, practice_id: int) -> list[MomentOfTruth]:
    return list(session.scalars(select(MomentOfTruth).where(
        MomentOfTruth.practice_id == practice_id, MomentOfTruth.retired.is_(False)).order_by(MomentOfTruth.position)))
