"""Feedback requests: a personal link for one client about one partner (DESIGN.md §4, §8).

The token is shown once (in the email and to the caller) and only its SHA-256 is stored. A client who was
asked within the practice's throttle period is not asked again unless an adviser insists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from partnermon import validators as v
from partnermon.accounts import audit
from partnermon.accounts.security import new_token, same, token_hash
from partnermon.errors import ValidationError
from partnermon.feedback.lookups import Lookups
from partnermon.mail import outbox
from partnermon.models import FeedbackRequest, MomentOfTruth, OutboxEmail, Partner, Practice, Touchpoint, User

# The invitation email's dedupe key: this prefix and the link's token hash (so delivery can find the request).
INVITATION_KEY_PREFIX = "feedback:"
# How long a partner or touchpoint reference (a name or an id) may be.
REF_MAX_LENGTH = 200
# The end of the error for a partner the practice does not have (the API answers it with 404).
UNKNOWN_PARTNER = "is not one of your partners."
RATING_LABELS = {1: "Very dissatisfied", 2: "Dissatisfied", 3: "Neutral", 4: "Satisfied", 5: "Very satisfied"}


@dataclass(frozen=True)
class NewRequest:
    request: FeedbackRequest
    link: str | None        # None when an existing request was returned (its token is not kept)
    created: bool


class Throttled(ValidationError):
    """The client was asked recently (the practice's throttle period); an adviser or the API may insist."""


def link_for(base_url: str, token: str) -> str:
    return f"{base_url}/f/{token}"


def _resolve(lookups: Lookups, practice: Practice, data: Mapping[str, Any], form: v.Form
             ) -> tuple[Partner | None, Touchpoint | None, MomentOfTruth | None, User | None]:
    partner = touchpoint = moment = adviser = None
    # Checked like any typed text first: a NUL (which PostgreSQL refuses) or another control character is
    # the caller's mistake, named on its field, not a server error.
    partner_ref = form.check(v.text, "partner", str(data.get("partner") or ""), required=False,
                             max_length=REF_MAX_LENGTH)
    if partner_ref == "":
        form.add("partner", "Choose the partner this feedback is about.")
    elif partner_ref is not None:
        # A reference written in digits is an id (one out of range, such as 2147483648, finds nothing).
        partner = (lookups.partner_by_id(v.as_row_id(partner_ref)) if v.looks_like_id(partner_ref)
                   else lookups.partner_by_name(partner_ref))
        if partner is None:
            form.add("partner", f"“{partner_ref[:60]}” {UNKNOWN_PARTNER}")
    about = form.check(v.text, "touchpoint", str(data.get("touchpoint") or ""), required=False,
                       max_length=REF_MAX_LENGTH)
    if about and partner is not None:
        touchpoint = (lookups.touchpoint_by_id(partner, v.as_row_id(about)) if v.looks_like_id(about)
                      else lookups.touchpoint_by_name(partner, about))
        if touchpoint is None:
            # Not a touchpoint of this partner: perhaps a moment of truth (by key or name).
            moment = lookups.moment(about)
            if moment is None:
                form.add("touchpoint", f"“{about[:60]}” is neither a touchpoint of {partner.name} nor a moment of truth.")
        else:
            moment = touchpoint.moment
    adviser_email = form.check(v.email, "adviser_email", str(data.get("adviser_email") or ""), required=False)
    if adviser_email:
        adviser = lookups.adviser(adviser_email)
        if adviser is None:
            form.add("adviser_email", f"{adviser_email[:60]} is not an active user of {practice.name}.")
    return partner, touchpoint, moment, adviser


@dataclass(frozen=True)
class CheckedRequest:
    """What ``create_request`` would make of some data: its clean values, or the request that already has
    its external reference (``existing``, in which case the other fields were not checked)."""
    client_email: str
    client_name: str
    external_ref: str | None
    partner: Partner | None = None
    touchpoint: Touchpoint | None = None
    moment: MomentOfTruth | None = None
    adviser: User | None = None      # named in the data (``adviser_email``)
    existing: FeedbackRequest | None = None


def check_request(session: Session, now: datetime, practice: Practice, data: Mapping[str, Any], *,
                  override_throttle: bool = False, lookups: Lookups | None = None) -> CheckedRequest:
    """Every check ``create_request`` makes, writing nothing (a CSV preview uses it): ValidationError naming
    each bad field, ``Throttled`` for a client asked recently. Checking many requests, pass one ``Lookups``
    for them all (see feedback/lookups.py)."""
    lookups = lookups or Lookups(session, practice, now)
    form = v.Form()
    client_email = form.check(v.email, "client_email", data.get("client_email"))
    client_name = form.check(v.text, "client_name", data.get("client_name"), required=False, label="Client name")
    external_ref = form.check(v.text, "external_ref", data.get("external_ref"), required=False, max_length=100,
                              label="External reference") or None
    if external_ref:
        existing = lookups.by_external_ref(external_ref)
        if existing is not None:
            return CheckedRequest(client_email or "", client_name or "", external_ref, existing=existing)
    partner, touchpoint, moment, named_adviser = _resolve(lookups, practice, data, form)
    form.raise_if_errors()
    assert partner is not None and client_email
    if not override_throttle:
        earlier = lookups.recent_request(client_email)
        if earlier is not None:
            raise Throttled({"client_email": (
                f"{client_email} was asked for feedback on {earlier.created_at:%d %b %Y}; {practice.name} waits "
                f"{practice.feedback_throttle_days} days between requests to one client. An adviser can ask anyway.")})
        checked_in = lookups.recent_check_in(client_email)
        if checked_in is not None:
            raise Throttled({"client_email": (
                f"{client_email} was asked on {checked_in:%d %b %Y} whether {practice.name} put things right; "
                f"{practice.name} waits {practice.feedback_throttle_days} days between requests to one client. "
                "An adviser can ask anyway.")})
    return CheckedRequest(client_email, client_name or "", external_ref, partner, touchpoint, moment, named_adviser)


def create_request(session: Session, now: datetime, practice: Practice, data: Mapping[str, Any], *,
                   actor: User | str, source: str, base_url: str, adviser: User | None = None,
                   override_throttle: bool = False) -> NewRequest:
    """Create a request and queue its invitation email, or raise ValidationError naming each bad field.

    An ``external_ref`` already used by this practice returns that request (``created=False``)."""
    checked = check_request(session, now, practice, data, override_throttle=override_throttle)
    if checked.existing is not None:
        return NewRequest(checked.existing, None, False)
    [made] = create_checked(session, now, practice, [checked], actor=actor, source=source, base_url=base_url,
                            adviser=adviser, override_throttle=override_throttle)
    return made


def create_checked(session: Session, now: datetime, practice: Practice, checked: list[CheckedRequest], *,
                   actor: User | str, source: str, base_url: str, adviser: User | None = None,
                   override_throttle: bool = False) -> list[NewRequest]:
    """Create a request, its invitation email and its audit event for each request ``check_request`` passed
    (none with ``existing``), in order: three INSERTs however many there are (a CSV import has thousands)."""
    tokens = [new_token() for _ in checked]
    rows = []
    for token, ask in zip(tokens, checked):
        assert ask.partner is not None and ask.existing is None
        asked_by = ask.adviser or adviser
        rows.append(dict(
            practice_id=practice.id, partner_id=ask.partner.id, touchpoint_id=ask.touchpoint.id if ask.touchpoint else None,
            moment_id=ask.moment.id if ask.moment else None, adviser_id=asked_by.id if asked_by else None,
            client_name=ask.client_name or "", client_email=ask.client_email, external_ref=ask.external_ref,
            token_hash=token_hash(token), status="queued", source=source, created_at=now,
            expires_at=now + timedelta(days=practice.feedback_link_days), throttle_overridden=override_throttle))
    if not rows:
        return []
    # One ORM bulk INSERT (batched by SQLAlchemy) returning the new requests; render_nulls: every row the same
    # columns, so one batch. They are put back in order by their unique token hashes: asking the database for
    # its rows in order (sort_by_parameter_order) costs SQLite a statement a row.
    by_hash = {request.token_hash: request for request in session.scalars(
        insert(FeedbackRequest).returning(FeedbackRequest).execution_options(render_nulls=True), rows)}
    made = [by_hash[row["token_hash"]] for row in rows]
    links = [link_for(base_url, token) for token in tokens]
    outbox.enqueue_new(session, now, template="feedback_invitation", base_url=base_url, practice_id=practice.id, emails=[
        (request.client_email, INVITATION_KEY_PREFIX + request.token_hash,
         {"practice": practice, "request": request, "partner": ask.partner, "moment": ask.moment,
          "touchpoint": ask.touchpoint, "link": link, "ratings": RATING_LABELS, "adviser": ask.adviser or adviser})
        for request, ask, link in zip(made, checked, links)])
    audit.record_many(session, now, practice.id, actor, "feedback.requested", "feedback_request", [
        (request.id, f"Asked {request.client_email} about {ask.partner.name}"   # type: ignore[union-attr]
                     + (" (throttle overridden)" if override_throttle else "")) for request, ask in zip(made, checked)])
    return [NewRequest(request, link, True) for request, link in zip(made, links)]


def find_by_token(session: Session, token: str) -> FeedbackRequest | None:
    """The request behind a link, whatever its state; None for a token that was never issued."""
    if not token or len(token) > 100:
        return None
    digest = token_hash(token)
    request = session.scalar(select(FeedbackRequest).where(FeedbackRequest.token_hash == digest))
    # The lookup is by hash; comparing the digests again in constant time costs nothing and keeps the
    # rule simple to audit: tokens are only ever compared with `same`.
    if request is None or not same(request.token_hash, digest):
        return None
    return request


def revoke(session: Session, now: datetime, request: FeedbackRequest, actor: User) -> None:
    """Close the link. An invitation still waiting in the outbox is not sent: it would carry a dead link.
    (One a sender has already claimed may still go out; the link in it then shows the "cannot be used" page.)"""
    if request.revoked_at is None:
        request.revoked_at = now
        request.status = "revoked"
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.dedupe_key == INVITATION_KEY_PREFIX + request.token_hash,
                   OutboxEmail.status == "queued", OutboxEmail.claimed_by.is_(None))
            .values(status="failed", last_error="Not sent: the feedback link was revoked first.")
            .execution_options(synchronize_session=False))
        forget_link(session, INVITATION_KEY_PREFIX + request.token_hash)
        audit.record(session, now, request.practice_id, actor, "feedback.revoked", "feedback_request", request.id,
                     f"Revoked the feedback link for {request.client_email}")


def expire_links(session: Session, now: datetime) -> int:
    """Unanswered links past their expiry show as expired (answered and revoked ones keep their status)."""
    return session.execute(
        update(FeedbackRequest)
        .where(FeedbackRequest.expires_at <= now, FeedbackRequest.status.in_(("queued", "sent", "opened")))
        .values(status="expired").execution_options(synchronize_session=False)).rowcount or 0


_LINK_IN_EMAIL = re.compile(r"/f/[A-Za-z0-9_-]{20,100}")


def forget_link(session: Session, dedupe_key: str) -> None:
    """Take the live link out of a stored invitation: once it has gone out (or the link was revoked) the
    outbox need not keep a working token, which DESIGN.md §8 says is stored only as a hash."""
    email = session.scalar(select(OutboxEmail).where(OutboxEmail.dedupe_key == dedupe_key))
    if email is not None:
        email.text_body = _LINK_IN_EMAIL.sub("/f/[link removed once sent]", email.text_body)
        email.html_body = _LINK_IN_EMAIL.sub("/f/[link removed once sent]", email.html_body)


def invitation_delivered(session: Session, now: datetime, dedupe_key: str) -> None:
    """The outbox sent a request's invitation: a queued request becomes sent (a later status stays)."""
    token_digest = dedupe_key.removeprefix(INVITATION_KEY_PREFIX)
    session.execute(
        update(FeedbackRequest)
        .where(FeedbackRequest.token_hash == token_digest, FeedbackRequest.status == "queued")
        .values(status="sent", sent_at=now).execution_options(synchronize_session=False))
    forget_link(session, dedupe_key)
