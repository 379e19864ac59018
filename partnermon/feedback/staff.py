"""What practice staff do with feedback: list and filter requests and responses, look one up, ask one client,
and erase a client's feedback data on request.

Every function takes the practice id and filters by it: another practice's id is simply not found
(DESIGN.md §8). Nothing here commits; the view or command that calls it does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Mapping, TypeVar

from sqlalchemy import ColumnElement, Select, case, delete, func, literal, or_, select
from sqlalchemy.orm import Session, selectinload

from partnermon import validators as v
from partnermon.accounts import audit
from partnermon.errors import NotFound, ValidationError
from partnermon.feedback import links
from partnermon.models import AuditEvent, FeedbackRequest, FeedbackResponse, OutboxEmail, Practice, User

PAGE_SIZE = 50
# Stored statuses that no clock can change: everything else becomes "expired" once the link runs out.
FINAL_STATUSES = ("answered", "revoked", "expired")
ERASED_CLIENT = "an erased client"
# The outbox emails written to clients, which erasing a client deletes; staff emails are not theirs.
CLIENT_EMAIL_KINDS = ("feedback_invitation", "recovery_check_in")
CLIENT_ALERT_KINDS = ("followup_alert", "followup_overdue", "followup_reminder", "followup_stepped",
                      "followup_top_rung")

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def _page(session: Session, query: Select[Any], number: int, size: int) -> tuple[list[Any], int, int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    # A page past the end (an old bookmark, a filter that now matches less) shows the last page, not nothing.
    number = min(max(1, number), max(1, -(-total // size)))
    rows = list(session.execute(query.limit(size).offset((number - 1) * size)))
    return rows, number, total


# --- requests -----------------------------------------------------------------------------------------

def effective_status(now: datetime) -> ColumnElement[str]:
    """The status a person should see. Links that run out are only marked expired by the nightly job, so
    an unanswered, unrevoked link past its expiry already shows as expired here."""
    return case(
        (FeedbackRequest.status.in_(FINAL_STATUSES), FeedbackRequest.status),
        (FeedbackRequest.expires_at <= now, literal("expired")),
        else_=FeedbackRequest.status,
    )


def status_at(request: FeedbackRequest, now: datetime) -> str:
    """``effective_status`` for one loaded request."""
    if request.status not in FINAL_STATUSES and request.expires_at <= now:
        return "expired"
    return request.status


def request_conditions(practice_id: int, now: datetime, *, status: str | None = None, partner_id: int | None = None,
                       adviser_id: int | None = None, since: datetime | None = None,
                       until: datetime | None = None) -> list[ColumnElement[bool]]:
    """WHERE clauses for a practice's requests; ``since``/``until`` bound ``created_at`` as [since, until)."""
    conditions: list[ColumnElement[bool]] = [FeedbackRequest.practice_id == practice_id]
    if status:
        conditions.append(effective_status(now) == status)
    if partner_id is not None:
        conditions.append(FeedbackRequest.partner_id == partner_id)
    if adviser_id is not None:
        conditions.append(FeedbackRequest.adviser_id == adviser_id)
    if since is not None:
        conditions.append(FeedbackRequest.created_at >= since)
    if until is not None:
        conditions.append(FeedbackRequest.created_at < until)
    return conditions


def list_requests(session: Session, now: datetime, practice_id: int, *, status: str | None = None,
                  partner_id: int | None = None, adviser_id: int | None = None, page: int = 1,
                  size: int = PAGE_SIZE) -> Page[tuple[FeedbackRequest, str]]:
    """Newest first, each with its effective status."""
    query = (select(FeedbackRequest, effective_status(now))
             .where(*request_conditions(practice_id, now, status=status, partner_id=partner_id, adviser_id=adviser_id))
             .options(selectinload(FeedbackRequest.partner), selectinload(FeedbackRequest.touchpoint),
                      selectinload(FeedbackRequest.moment), selectinload(FeedbackRequest.adviser),
                      selectinload(FeedbackRequest.response))
             .order_by(FeedbackRequest.created_at.desc(), FeedbackRequest.id.desc()))
    rows, number, total = _page(session, query, page, size)
    return Page([(row[0], row[1]) for row in rows], number, total, size)


def get_request(session: Session, practice_id: int, request_id: int) -> FeedbackRequest:
    request = session.scalar(select(FeedbackRequest).where(FeedbackRequest.id == request_id,
                                                           FeedbackRequest.practice_id == practice_id))
    if request is None:
        raise NotFound("No such feedback request.")
    return request


def can_revoke(request: FeedbackRequest, now: datetime) -> bool:
    """Only a link that could still be answered is worth revoking."""
    return status_at(request, now) in ("queued", "sent", "opened")


def revoke_request(session: Session, now: datetime, request: FeedbackRequest, actor: User) -> bool:
    """Revoke an open link; False (and no change) when it was already answered, revoked or expired."""
    if not can_revoke(request, now):
        return False
    links.revoke(session, now, request, actor)
    return True


def staff_advisers(session: Session, practice_id: int, *, active_only: bool = True) -> list[User]:
    """The people a request can be assigned to: owners and advisers (viewers do not follow up)."""
    query = select(User).where(User.practice_id == practice_id, User.role.in_(("owner", "adviser")))
    if active_only:
        query = query.where(User.is_active.is_(True))
    return list(session.scalars(query.order_by(func.lower(User.name), func.lower(User.email))))


def ask_client(session: Session, now: datetime, practice: Practice, data: Mapping[str, Any], *, actor: User,
               base_url: str, override_throttle: bool = False) -> links.NewRequest:
    """The staff form's request: like ``links.create_request``, with the adviser chosen by id among the
    practice's active owners and advisers (the one asking, when none is chosen).

    Raises ``links.Throttled`` (a ValidationError) when the client was asked too recently."""
    adviser: User | None = actor
    chosen = str(data.get("adviser") or "").strip()
    if chosen:
        adviser = next((user for user in staff_advisers(session, practice.id) if str(user.id) == chosen), None)
        if adviser is None:
            raise ValidationError({"adviser": "Choose an owner or adviser of your practice."})
    fields = {name: data.get(name) for name in ("client_name", "client_email", "partner", "touchpoint", "external_ref")}
    return links.create_request(session, now, practice, fields, actor=actor, source="form", base_url=base_url,
                                   adviser=adviser, override_throttle=override_throttle)


# --- responses ----------------------------------------------------------------------------------------

def response_conditions(practice_id: int, *, partner_id: int | None = None, moment_id: int | None = None,
                        rating: int | None = None, since: datetime | None = None, until: datetime | None = None,
                        verified: bool | None = None) -> list[ColumnElement[bool]]:
    """WHERE clauses for a practice's responses; ``rating`` is the satisfaction score (1–5)."""
    conditions: list[ColumnElement[bool]] = [FeedbackResponse.practice_id == practice_id]
    if partner_id is not None:
        conditions.append(FeedbackResponse.partner_id == partner_id)
    if moment_id is not None:
        conditions.append(FeedbackResponse.moment_id == moment_id)
    if rating is not None:
        conditions.append(FeedbackResponse.satisfaction == rating)
    if since is not None:
        conditions.append(FeedbackResponse.created_at >= since)
    if until is not None:
        conditions.append(FeedbackResponse.created_at < until)
    if verified is not None:
        conditions.append(FeedbackResponse.verified.is_(verified))
    return conditions


def list_responses(session: Session, practice_id: int, *, partner_id: int | None = None, moment_id: int | None = None,
                   rating: int | None = None, since: datetime | None = None, until: datetime | None = None,
                   verified: bool | None = None, page: int = 1, size: int = PAGE_SIZE) -> Page[FeedbackResponse]:
    """Newest first."""
    query = (select(FeedbackResponse)
             .where(*response_conditions(practice_id, partner_id=partner_id, moment_id=moment_id, rating=rating,
                                         since=since, until=until, verified=verified))
             .options(selectinload(FeedbackResponse.partner), selectinload(FeedbackResponse.moment),
                      selectinload(FeedbackResponse.request))
             .order_by(FeedbackResponse.created_at.desc(), FeedbackResponse.id.desc()))
    rows, number, total = _page(session, query, page, size)
    return Page([row[0] for row in rows], number, total, size)


def get_response(session: Session, practice_id: int, response_id: int) -> FeedbackResponse:
    response = session.scalar(select(FeedbackResponse).where(FeedbackResponse.id == response_id,
                                                             FeedbackResponse.practice_id == practice_id))
    if response is None:
        raise NotFound("No such feedback response.")
    return response


# --- erasure ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Erasure:
    """What erasing a client removes (or, before confirming, would remove)."""

    requests: int
    responses: int
    emails: int
    audit_entries: int    # rewritten to say "an erased client", not deleted: the log must stay whole

    @property
    def nothing(self) -> bool:
        return not (self.requests or self.responses or self.emails or self.audit_entries)


@dataclass(frozen=True)
class _ClientRows:
    request_ids: list[int]
    response_ids: list[int]
    email_ids: list[int]
    audit_events: list[AuditEvent]
    names: list[str]


def _client_rows(session: Session, practice_id: int, email: str) -> _ClientRows:
    requests_held = session.execute(select(FeedbackRequest.id, FeedbackRequest.client_name).where(
        FeedbackRequest.practice_id == practice_id, func.lower(FeedbackRequest.client_email) == email)).all()
    request_ids = [row.id for row in requests_held]
    # Their personal links' responses, and any answer they gave through the open link with their address.
    response_ids = list(session.scalars(select(FeedbackResponse.id).where(
        FeedbackResponse.practice_id == practice_id,
        or_(FeedbackResponse.request_id.in_(request_ids), func.lower(FeedbackResponse.client_email) == email))))
    open_link_names = session.scalars(select(FeedbackResponse.client_name).where(
        FeedbackResponse.id.in_(response_ids), FeedbackResponse.client_name.is_not(None)))
    # Only emails written to clients: an address that also received, say, a staff invitation is not theirs
    # to erase here (and ``_client_email`` refuses the addresses of the practice's users anyway).
    email_ids = list(session.scalars(select(OutboxEmail.id).where(
        OutboxEmail.practice_id == practice_id, OutboxEmail.kind.in_(CLIENT_EMAIL_KINDS),
        func.lower(OutboxEmail.to_addr) == email)))
    # And the alerts about them that went to staff (a follow-up's alert, overdue notice and reminder each
    # concern one client and quote their answers); they go with the rest of the client's data.
    email_ids += [found.id for found in session.execute(select(OutboxEmail.id, OutboxEmail.text_body).where(
        OutboxEmail.practice_id == practice_id, OutboxEmail.kind.in_(CLIENT_ALERT_KINDS),
        func.lower(OutboxEmail.text_body).contains(email, autoescape=True))) if _address_pattern(email).search(found.text_body)]
    # Entries that name the client: by address anywhere, as the actor of something no user did, or about one
    # of their requests or responses (which may give only their name). A bare name elsewhere is left alone:
    # "Dana" may also be a colleague. SQL finds candidates by substring; the filter below keeps only those
    # where the address stands on its own ("na@example.com" is not in "dana@example.com").
    naming = [func.lower(AuditEvent.summary).contains(email, autoescape=True),
              AuditEvent.user_id.is_(None) & (func.lower(AuditEvent.actor) == email)]
    about = {("feedback_request", id_) for id_ in request_ids} | {("feedback_response", id_) for id_ in response_ids}
    for object_type, ids in (("feedback_request", request_ids), ("feedback_response", response_ids)):
        if ids:
            naming.append((AuditEvent.object_type == object_type) & AuditEvent.object_id.in_(ids))
    candidates = session.scalars(select(AuditEvent).where(AuditEvent.practice_id == practice_id, or_(*naming))
                                 .order_by(AuditEvent.id))
    address = _address_pattern(email)
    audit_events = [event for event in candidates
                    if (event.object_type, event.object_id) in about or address.search(event.summary)
                    or _acted_as_client(event, email)]
    names = sorted({name.strip() for name in [*(row.client_name for row in requests_held), *open_link_names]
                    if name and name.strip()}, key=len, reverse=True)
    return _ClientRows(request_ids, response_ids, email_ids, audit_events, names)


def _address(email: str) -> str:
    """A regular expression for the address on its own: not the tail of a longer one ("dana@example.com" for
    "na@example.com") nor the head of one with a longer domain ("na@example.com.au"). A full stop ending a
    sentence may follow it."""
    return rf"(?<![\w.!#$%&*+/=?^`{{|}}~-]){re.escape(email)}(?![\w-]|\.[\w-])"


def _address_pattern(email: str) -> re.Pattern[str]:
    return re.compile(_address(email), re.IGNORECASE)


def _acted_as_client(event: AuditEvent, email: str) -> bool:
    # Only an entry no user made: a user's own actions keep their name, whatever address is erased.
    return event.user_id is None and event.actor.lower() == email


def _client_email(session: Session, practice_id: int, client_email: str) -> str:
    email = v.email("client_email", client_email)
    assert email
    # Erasing a colleague's address would rewrite their actions in the audit log as a client's and delete
    # the emails sent to them: the log must not be laundered that way.
    if session.scalar(select(User.id).where(User.practice_id == practice_id, func.lower(User.email) == email)):
        raise ValidationError({"client_email": (
            f"{email} is the address of a user of your practice, not a client's, so it cannot be erased here. "
            "To stop them using partnermon, deactivate the user instead.")})
    return email


def preview_erasure(session: Session, practice_id: int, client_email: str) -> Erasure:
    """What ``erase_client`` would remove, for the confirmation page. Raises ValidationError for a bad address
    or the address of one of the practice's users."""
    rows = _client_rows(session, practice_id, _client_email(session, practice_id, client_email))
    return Erasure(len(rows.request_ids), len(rows.response_ids), len(rows.email_ids), len(rows.audit_events))


def _scrub(text: str, email: str, names: list[str]) -> str:
    # One pass over the text, so a name is never found inside a replacement ("An" in "an erased client").
    pattern = "|".join([_address(email), *(rf"(?<!\w){re.escape(name)}(?!\w)" for name in names)])
    return re.sub(pattern, ERASED_CLIENT, text, flags=re.IGNORECASE)


def erase_client(session: Session, now: datetime, practice: Practice, actor: User | str,
                 client_email: str) -> Erasure:
    """Delete one client's feedback requests, responses and emails in this practice, and take their address
    and name out of its audit log. Other clients and other practices are untouched.

    The audit entry recording the erasure does not contain the address: that would undo the erasure."""
    email = _client_email(session, practice.id, client_email)
    rows = _client_rows(session, practice.id, email)
    for event in rows.audit_events:
        event.summary = _scrub(event.summary, email, rows.names)[:500]
        if _acted_as_client(event, email):
            event.actor = ERASED_CLIENT
    # Bulk deletes, each also filtered by practice: the ids came from this practice, and the filter keeps
    # it so even if that ever changed. Responses go first (they point at requests).
    session.execute(delete(FeedbackResponse).where(FeedbackResponse.practice_id == practice.id,
                                                   FeedbackResponse.id.in_(rows.response_ids)))
    session.execute(delete(FeedbackRequest).where(FeedbackRequest.practice_id == practice.id,
                                                  FeedbackRequest.id.in_(rows.request_ids)))
    session.execute(delete(OutboxEmail).where(OutboxEmail.practice_id == practice.id,
                                              OutboxEmail.id.in_(rows.email_ids)))
    erased = Erasure(len(rows.request_ids), len(rows.response_ids), len(rows.email_ids), len(rows.audit_events))
    audit.record(session, now, practice.id, actor, "feedback.client_erased", "client", None,
                 f"Erased a client's feedback data on request: {describe(erased)}.")
    return erased


def describe(erasure: Erasure) -> str:
    """E.g. "2 requests, 1 response and 2 emails erased; 3 audit log entries anonymised"."""
    if erasure.nothing:
        return "nothing was held about them"
    erased = [_count(erasure.requests, "request"), _count(erasure.responses, "response"), _count(erasure.emails, "email")]
    return (", ".join(erased[:-1]) + " and " + erased[-1] + " erased; "
            + _count(erasure.audit_entries, "audit log entry", "audit log entries") + " anonymised")


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number:,} {one if number == 1 else (many or one + 's')}"
