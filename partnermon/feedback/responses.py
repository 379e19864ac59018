"""A client's answers (DESIGN.md §4): checking them, and recording the one response a link may have.

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

from sqlalchemy import Integer, Row, bindparam, column, func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from partnermon import validators as v
from partnermon.accounts.security import same, token_hash
from partnermon.db import UTCDateTime, as_loaded
from partnermon.models import FeedbackRequest, FeedbackResponse, MomentOfTruth, Partner, Practice
from partnermon.models.feedback import BRAND_EFFECTS, CONTACT_CHANNELS, harms_brand, is_dissatisfied

EDIT_WINDOW = timedelta(days=7)
MAX_COMMENT = 4000
SCALES = {"satisfaction": (1, 5), "recommend": (0, 10), "effort": (1, 7)}
BRAND_EFFECT_LABELS = {"better": "Better", "same": "No change", "worse": "Worse"}
# Each question's choices as (value, label), in the order the form offers them.
OPTIONS: dict[str, list[tuple[object, str]]] = {
    "satisfaction": [(1, "1 Very dissatisfied"), (2, "2 Dissatisfied"), (3, "3 Neutral"), (4, "4 Satisfied"),
                     (5, "5 Very satisfied")],
    "recommend": [(n, str(n)) for n in range(0, 11)],
    "effort": [(1, "Strongly disagree"), (2, "Disagree"), (3, "Somewhat disagree"), (4, "Neither agree nor disagree"),
               (5, "Somewhat agree"), (6, "Agree"), (7, "Strongly agree")],
    "brand_effect": list(BRAND_EFFECT_LABELS.items()),
    "contact_channel": [("phone", "Phone"), ("email", "Email")],
}
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
                   phone or "", moment_id, client_name, client_email)


def response_of(session: Session, request: FeedbackRequest) -> FeedbackResponse | None:
    """The link's response as stored now (not as this session last saw it)."""
    return session.scalar(select(FeedbackResponse).where(FeedbackResponse.request_id == request.id)
                          .execution_options(populate_existing=True))


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
    for name, value in _answer_values(answers, now, keep_moment=keep_moment).items():
        setattr(response, name, value)


def _answer_values(answers: Answers, now: datetime, *, keep_moment: bool) -> dict[str, Any]:
    """The response's columns that the client's answers set (its moment only when the link names none)."""
    values: dict[str, Any] = {
        "satisfaction": answers.satisfaction, "recommend": answers.recommend, "effort": answers.effort,
        "brand_effect": answers.brand_effect, "comment": answers.comment, "wants_contact": answers.wants_contact,
        "contact_channel": answers.contact_channel, "contact_phone": answers.contact_phone, "updated_at": now}
    if not keep_moment:
        values["moment_id"] = answers.moment_id
    return values


# The client's POST is the busiest write in the product, so its statements are Core, built once (SQLAlchemy
# then reuses their compiled form) and each returns the row it wrote instead of a second query reading it.
_REQUEST = FeedbackRequest.__table__
_RESPONSE = FeedbackResponse.__table__
_NOW = bindparam("now_", type_=UTCDateTime())
# Marks a live link answered and locks its row in one statement: see claim_live_link.
_CLAIM = (update(_REQUEST)
          .where(_REQUEST.c.token_hash == bindparam("digest_"), _REQUEST.c.revoked_at.is_(None),
                 _REQUEST.c.expires_at > _NOW)
          .values(status="answered", answered_at=func.coalesce(_REQUEST.c.answered_at, _NOW))
          .returning(*_REQUEST.c))
# A link's first response; a link that has one already (the unique request_id) inserts nothing. Written out
# rather than built with the dialects' insert().on_conflict_do_nothing(): SQLAlchemy never caches those
# (their Insert sets inherit_cache = False), so each POST would compile it again. PostgreSQL and SQLite
# (3.35+) both take this SQL as it is. It returns only the new id: every other column is what was sent.
_INSERTED = [column for column in _RESPONSE.c if column.name != "id"]
_ADD = (text(f"INSERT INTO {_RESPONSE.name} ({', '.join(c.name for c in _INSERTED)}) "
             f"VALUES ({', '.join(':' + c.name for c in _INSERTED)}) ON CONFLICT (request_id) DO NOTHING "
             f"RETURNING {_RESPONSE.c.id.name}")
        .bindparams(*(bindparam(c.name, type_=c.type) for c in _INSERTED))
        .columns(_RESPONSE.c.id))
# The link's response changed, only while its edit window lasts (created after the cut-off).
_EDIT = (update(_RESPONSE)
         .where(_RESPONSE.c.request_id == bindparam("request_id_"), _RESPONSE.c.created_at > bindparam(
             "cutoff_", type_=UTCDateTime()))
         .returning(*_RESPONSE.c))


# PostgreSQL claims a live link and adds its first response in one statement (data-modifying CTEs), so one
# round trip for the answers of most posts: see answer_live_link. The response takes the link's practice,
# partner and moment (else the one chosen); a link that has a response already adds none (response_id NULL).
_FROM_LINK = {"practice_id": "practice_id", "request_id": "id", "partner_id": "partner_id",
              "moment_id": "coalesce(moment_id, :moment_id)"}
_CLAIM_AND_ADD = (text(
    f"WITH claimed AS (UPDATE {_REQUEST.name} SET status = 'answered', answered_at = coalesce(answered_at, :now_) "
    "WHERE token_hash = :digest_ AND revoked_at IS NULL AND expires_at > :now_ RETURNING *), "
    f"added AS (INSERT INTO {_RESPONSE.name} ({', '.join(c.name for c in _INSERTED)}) "
    f"SELECT {', '.join(_FROM_LINK.get(c.name, ':' + c.name) for c in _INSERTED)} FROM claimed "
    "ON CONFLICT (request_id) DO NOTHING RETURNING id) "
    f"SELECT {', '.join(c.name for c in _REQUEST.c)}, (SELECT id FROM added) AS response_id FROM claimed")
    .bindparams(_NOW, *(bindparam(c.name, type_=c.type) for c in _INSERTED if c.name not in _FROM_LINK),
                bindparam("moment_id", type_=_RESPONSE.c.moment_id.type))
    .columns(*_REQUEST.c, column("response_id", Integer)))

# What recording answers reads of a link: its FeedbackRequest, or the row claim_live_link returned (every
# column of the request, read the same way: ``link.expires_at``).
Link = FeedbackRequest | Row[Any]


def claim_live_link(session: Session, now: datetime, token: str) -> Row[Any] | None:
    """For a POST of the client's answers: the request behind a live link (not revoked, not expired), already
    marked answered in the caller's transaction, its row locked until that ends; None for anything else
    (unknown, expired or revoked: the caller then takes the path that tells those apart, and writes nothing
    here). The caller must roll back if it does not go on to record a response.

    The request comes back as its row (as the UPDATE left it), not as the ORM object: most answers need only
    its columns, and building the object costs about as much CPU as the statement (``Recorded.load`` builds
    it when a follow-up may open). After a rollback the row is stale: read the request again."""
    if not _plausible(token):
        return None
    digest = token_hash(token)
    return _checked(session.connection().execute(_CLAIM, {"digest_": digest, "now_": now}).first(), digest)


def _plausible(token: str) -> bool:
    return bool(token) and len(token) <= 100


def _checked(row: Row[Any] | None, digest: str) -> Row[Any] | None:
    # As in find_by_token: tokens are only ever compared with `same`.
    return row if row is not None and same(row.token_hash, digest) else None


@dataclass(frozen=True)
class Recorded:
    """The response that ``record_answers`` stored or changed, as its values (every column): most answers need
    nothing more. ``load`` makes the session's ORM objects for code that does (opening a follow-up)."""

    values: Mapping[str, Any]
    created: bool    # a new response (not a change to the one the link had)
    link: Link
    answers: Answers

    def load(self, session: Session) -> FeedbackResponse:
        """The response as the session's object, with its request (from the claim's row, if that was all there
        was) as its ``request``: reading that, or getting the request from the session, asks the database
        nothing. (The response holds it: a session holds unchanged objects only weakly.)"""
        response: FeedbackResponse = as_loaded(session, FeedbackResponse, self.values)
        request = self.link if isinstance(self.link, FeedbackRequest) else as_loaded(session, FeedbackRequest,
                                                                                     self.link)
        set_committed_value(response, "request", request)
        return response


def record_response(session: Session, now: datetime, request: Link, answers: Answers, *,
                    claimed: bool = False) -> tuple[FeedbackResponse, bool]:
    """``record_answers``, with the response as the session's object: it and whether it is new."""
    recorded = record_answers(session, now, request, answers, claimed=claimed)
    return recorded.load(session), recorded.created


def record_answers(session: Session, now: datetime, request: Link, answers: Answers, *,
                   claimed: bool = False) -> Recorded:
    """Store the link's response, or change it if it has one.

    The request row is updated first (unless ``claim_live_link`` already did: ``claimed``): that write makes
    a second POST for the same link wait for this one (a row lock on PostgreSQL, the write lock on SQLite),
    so it then finds the response and edits it instead of adding another; the unique request id would
    refuse a second one anyway. Raises LinkClosed when the link cannot take answers any more; the caller
    then rolls back (the request's row was already written)."""
    if request.revoked_at is not None:
        raise LinkClosed
    if not claimed:
        assert isinstance(request, FeedbackRequest), "only claim_live_link returns a link as its row"
        session.execute(
            update(FeedbackRequest).where(FeedbackRequest.id == request.id)
            .values(status="answered", answered_at=func.coalesce(FeedbackRequest.answered_at, now))
            .execution_options(synchronize_session=False))
        # What the UPDATE wrote, without reading the row back.
        set_committed_value(request, "status", "answered")
        set_committed_value(request, "answered_at", request.answered_at or now)
    if request.expires_at > now:   # only a live link takes a first response (link_state: OPEN)
        first = _first_response(request, answers, now)
        added = session.connection().execute(_ADD, first).first()
        if added is not None:
            return Recorded({**first, "id": added.id}, True, request, answers)
    return _change_response(session, now, request, answers)


def answer_live_link(session: Session, now: datetime, token: str, answers: Answers) -> Recorded | None:
    """``claim_live_link`` and then ``record_answers`` for answers already checked for this link (so with no
    interaction chosen, or one of its practice's), in one statement on PostgreSQL. None when the link is not
    live: nothing was written, and the caller takes the path that tells the other states apart."""
    if not _plausible(token):
        return None
    connection = session.connection()
    if connection.dialect.name != "postgresql":   # SQLite has no data-modifying CTEs
        claimed = claim_live_link(session, now, token)
        return None if claimed is None else record_answers(session, now, claimed, answers, claimed=True)
    digest = token_hash(token)
    first = _first_response(None, answers, now)
    link = _checked(connection.execute(_CLAIM_AND_ADD, {**first, "digest_": digest, "now_": now}).first(), digest)
    if link is None:
        return None
    if link.response_id is None:   # the link had its response already: a retried post, or a change
        return _change_response(session, now, link, answers)
    return Recorded({**_first_response(link, answers, now), "id": link.response_id}, True, link, answers)


def _first_response(link: Link | None, answers: Answers, now: datetime) -> dict[str, Any]:
    """Every column of a link's first response but its id (those the link gives only when it is known)."""
    values = {**_answer_values(answers, now, keep_moment=False), "verified": True, "client_name": None,
              "client_email": None, "submission_key": None, "created_at": now}
    if link is not None:
        values.update(practice_id=link.practice_id, request_id=link.id, partner_id=link.partner_id,
                      moment_id=link.moment_id if link.moment_id is not None else answers.moment_id)
    return values


def _change_response(session: Session, now: datetime, link: Link, answers: Answers) -> Recorded:
    """The link has a response: its answers change while the edit window lasts (EDITABLE); else LinkClosed."""
    values = _answer_values(answers, now, keep_moment=link.moment_id is not None)
    edited = session.connection().execute(_EDIT, {**values, "request_id_": link.id,
                                                  "cutoff_": now - EDIT_WINDOW}).first()
    if edited is None:
        raise LinkClosed
    return Recorded(edited._mapping, False, link, answers)


def record_rating(session: Session, now: datetime, request: FeedbackRequest, satisfaction: int
                  ) -> FeedbackResponse | None:
    """The rating a client chose from the email, posted by the form's script once the page was seen.

    It starts a response when there is none; it never overwrites answers the client already gave."""
    if response_of(session, request) is not None:
        return None
    answers = Answers(satisfaction, None, None, None, "", False, None, "", None)
    try:
        response, created = record_response(session, now, request, answers)
    except LinkClosed:
        return None
    return response if created else None


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


def record_open_response(session: Session, now: datetime, practice: Practice, partner: Partner,
                         answers: Answers, submission_key: str | None = None) -> FeedbackResponse:
    """An answer through the practice's open link: not tied to a personal link, so marked unverified.
    A concurrent post of the same form fails on the unique ``submission_key`` (IntegrityError at flush)."""
    response = FeedbackResponse(practice_id=practice.id, request_id=None, partner_id=partner.id, verified=False,
                                created_at=now, client_name=answers.client_name or None,
                                client_email=answers.client_email, submission_key=submission_key)
    _apply(response, answers, now, keep_moment=False)
    session.add(response)
    session.flush()
    return response


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
    }
    return values


def choosable_moments(session: Session, practice_id: int) -> list[MomentOfTruth]:
    return list(session.scalars(select(MomentOfTruth).where(
        MomentOfTruth.practice_id == practice_id, MomentOfTruth.retired.is_(False)).order_by(MomentOfTruth.position)))
