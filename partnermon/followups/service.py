"""Follow-ups: opening one when a client's answers call for it (and alerting the assignee at once), and the
steps people take: contacted, resolved, reopened, reassigned. Overdue ones: ``followups.deadlines``.

Services take ``(session, now)``, commit nothing and know nothing of Flask. Every lookup is scoped to a
practice: another practice's follow-up is ``NotFound``, exactly like one that does not exist. Who may act
(a viewer may not) is the caller's check, as for every other service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session

from partnermon import validators as v
from partnermon.accounts import audit
from partnermon.errors import NotFound
from partnermon.followups import emails, ladder, recovery, rules
from partnermon.followups.timeline import (CLIENT, SYSTEM, active_owners, can_work_follow_ups, check_actor, note_of,
                                           record_event)
from partnermon.models import FeedbackRequest, FeedbackResponse, MomentOfTruth, Partner, Practice, User
from partnermon.models.followups import FOLLOW_UP_CHANNELS, OUTCOMES, REASONS, RUNGS, FollowUp
from partnermon.webhooks import events as webhook_events

# Whether a recorded attempt reached the client: one that did not steps the follow-up up the ladder.
ATTEMPT_RESULTS = ("reached", "no_answer", "left_message")
ATTEMPT_LABELS = {"reached": "Reached the client", "no_answer": "No answer", "left_message": "Left a message"}
OUTCOME_LABELS = {"stayed": "Stayed, and satisfied", "moved": "Stayed, moved to another partner",
                  "left": "Left the practice", "unknown": "Not known yet"}


class Answered(Protocol):
    """What ``may_open`` reads: a stored response, or answers not yet stored (feedback.responses.Answers)."""

    @property
    def is_dissatisfied(self) -> bool: ...

    @property
    def harms_brand(self) -> bool: ...

    @property
    def wants_contact(self) -> bool: ...


def may_open(answers: Answered) -> bool:
    """Whether any rule could fire on these answers, whatever the practice's settings. Most cannot (satisfied
    clients), and then a response needs nothing read, and no follow-up, not even an existing one, changes."""
    return answers.is_dissatisfied or answers.harms_brand or answers.wants_contact


# Built once (SQLAlchemy then finds it compiled in its cache): a client's unhappy answer reads it on their POST.
_PRACTICE_AND_OWNERS = (
    select(Practice, User).outerjoin(User, and_(User.practice_id == Practice.id, User.role == "owner",
                                                User.is_active.is_(True)))
    .where(Practice.id == bindparam("practice_id")).order_by(User.created_at, User.id)
    .execution_options(populate_existing=True))


def _practice_and_owners(session: Session, practice_id: int) -> tuple[Practice, list[User]]:
    """The practice (read afresh: its owners may have changed its rules since this session saw it) and its
    active owners as ``active_owners`` has them, in one query: one row per owner, or one with no user."""
    rows = session.execute(_PRACTICE_AND_OWNERS, {"practice_id": practice_id}).all()
    return rows[0][0], [owner for _practice, owner in rows if owner is not None]


def _default_assignee(practice_id: int, request: FeedbackRequest | None, owners: list[User]) -> User | None:
    """Who gets a new follow-up: the request's adviser, or else the longest-standing active owner."""
    adviser = request.adviser if request is not None else None
    if can_work_follow_ups(adviser) and adviser is not None and adviser.practice_id == practice_id:
        return adviser
    # Nobody asked on the practice's behalf (the open link), or they can no longer act: a named owner,
    # so the follow-up is someone's rather than everyone's.
    return owners[0] if owners else None


def _alert_recipients(follow_up: FollowUp, owners: list[User]) -> list[User]:
    """The assignee, or every active owner when nobody who can act has it."""
    if can_work_follow_ups(follow_up.assignee):
        assert follow_up.assignee is not None
        return [follow_up.assignee]
    return owners


def _describe(reasons: list[str] | tuple[str, ...]) -> str:
    return ", ".join(rules.REASON_LABELS[reason].lower() for reason in reasons)


# --- opening ------------------------------------------------------------------------------------------

def open_for_response(session: Session, now: datetime, response: FeedbackResponse, base_url: str, *,
                      new: bool = False) -> FollowUp | None:
    """Apply the rules to a response just recorded or changed, in the caller's transaction.

    Opens a follow-up and queues the alert when the rules call for one. A response has at most one: when the
    client changes their answers, a follow-up that exists gains the rules that now fire too (and the
    assignee hears what changed); one that did not exist opens if the answers now qualify. Answers that
    no longer qualify leave an existing follow-up alone: someone was already told, and closes it.
    ``new``: the response was created in this transaction, so no follow-up can be about it yet."""
    if not may_open(response):
        # Skip the reads on the client's busiest path: an existing follow-up would be left alone anyway.
        return None
    practice, owners = _practice_and_owners(session, response.practice_id)
    moment = session.get(MomentOfTruth, response.moment_id) if response.moment_id is not None else None
    decision = rules.decide(response, practice, moment)
    existing = None if new else session.scalar(select(FollowUp).where(FollowUp.response_id == response.id))
    if existing is not None:
        _step_up_if_still_unhappy(session, now, existing, response, base_url)
        return _add_reasons(session, now, existing, decision, practice, owners, base_url)
    if not decision.opens:
        return None
    request = session.get(FeedbackRequest, response.request_id) if response.request_id is not None else None
    assignee = _default_assignee(practice.id, request, owners)
    reasons = _describe(decision.reasons)
    follow_up = FollowUp(practice_id=practice.id, response_id=response.id, request_id=response.request_id,
                         partner_id=response.partner_id, moment_id=response.moment_id, assignee=assignee,
                         urgent=decision.urgent, severity=decision.severity, reasons=list(decision.reasons),
                         status="open", opened_at=now, contact_due_at=rules.due_at(practice, now, decision.urgent),
                         rung=rules.suggested_channel(decision.severity,
                                                      response.contact_channel if response.wants_contact else None))
    session.add(follow_up)
    record_event(follow_up, now, SYSTEM, "opened", note=reasons.capitalize())
    session.flush()   # its id, for the audit row and the alert's key
    audit.record(session, now, practice.id, SYSTEM, "follow_up.opened", "follow_up", follow_up.id,
                 f"Opened follow-up #{follow_up.id} ({reasons})" + (f" for {assignee.email}" if assignee else ""))
    webhook_events.follow_up_opened(session, now, follow_up)
    for recipient in _alert_recipients(follow_up, owners):
        emails.send_alert(session, now, follow_up, recipient, base_url,
                          key=f"followup-alert:{follow_up.id}:{'+'.join(follow_up.reasons)}:{recipient.id}")
    return follow_up


def _step_up_if_still_unhappy(session: Session, now: datetime, follow_up: FollowUp, response: FeedbackResponse,
                              base_url: str) -> None:
    """The client was contacted and their answers, changed since, are still unhappy: the contact did not put
    things right, so the next attempt is more personal."""
    if follow_up.status != "contacted" or not (response.is_dissatisfied or response.harms_brand):
        return
    if not ladder.step_up(session, now, follow_up, CLIENT, ladder.STILL_UNHAPPY, base_url):
        # Already on the top rung: it still needs someone again, by a new deadline.
        follow_up.status = "open"
        follow_up.contact_due_at = rules.due_at(follow_up.practice, now, follow_up.urgent)
        follow_up.escalated_at = follow_up.assignee_reminded_at = None


def _add_reasons(session: Session, now: datetime, follow_up: FollowUp, decision: rules.Decision, practice: Practice,
                 owners: list[User], base_url: str) -> FollowUp:
    new = [reason for reason in decision.reasons if reason not in follow_up.reasons]
    if not new:
        return follow_up
    # A new list (not an in-place append) so that the JSON column is seen to change.
    follow_up.reasons = [reason for reason in REASONS if reason in follow_up.reasons or reason in new]
    follow_up.severity = rules.graver(follow_up.severity, decision.severity)
    became_urgent = decision.urgent and not follow_up.urgent
    follow_up.urgent = follow_up.urgent or decision.urgent
    note = f"The client changed their answers: now also {_describe(new)}"
    if follow_up.status == "resolved":
        # The client asks for something new after it was closed: it needs someone again.
        _reopen(session, follow_up, practice, now)
        record_event(follow_up, now, CLIENT, "reopened", note=note)
    else:
        if became_urgent and follow_up.status == "open":
            # Counted from now, not from opening: nobody could have known it was urgent before.
            follow_up.contact_due_at = min(follow_up.contact_due_at, rules.due_at(practice, now, True))
        record_event(follow_up, now, CLIENT, "updated", note=note)
    session.flush()
    audit.record(session, now, practice.id, CLIENT, "follow_up.updated", "follow_up", follow_up.id,
                 f"Follow-up #{follow_up.id}: the client's answers now also fire {_describe(new)}")
    for recipient in _alert_recipients(follow_up, owners):
        emails.send_alert(session, now, follow_up, recipient, base_url, intro=note + ".",
                          key=f"followup-alert:{follow_up.id}:{'+'.join(follow_up.reasons)}:{recipient.id}")
    return follow_up


# --- reading ------------------------------------------------------------------------------------------

def get_follow_up(session: Session, practice_id: int, follow_up_id: int) -> FollowUp:
    follow_up = session.scalar(select(FollowUp).where(FollowUp.id == follow_up_id,
                                                      FollowUp.practice_id == practice_id))
    if follow_up is None:
        raise NotFound("No such follow-up in this practice.")
    return follow_up


def list_follow_ups(practice_id: int, *, status: str | None = None, assignee_id: int | None = None,
                    overdue_at: datetime | None = None) -> Select[tuple[FollowUp]]:
    """A practice's follow-ups, soonest deadline first; narrowed by status, assignee or overdue at a time."""
    query = select(FollowUp).where(FollowUp.practice_id == practice_id)
    if status is not None:
        query = query.where(FollowUp.status == status)
    if assignee_id is not None:
        query = query.where(FollowUp.assignee_id == assignee_id)
    if overdue_at is not None:
        query = query.where(FollowUp.status == "open", FollowUp.contact_due_at <= overdue_at)
    return query.order_by(FollowUp.contact_due_at, FollowUp.id)


# --- steps people take --------------------------------------------------------------------------------

def _channel(form: v.Form, value: str | None, *, required: bool) -> str | None:
    value = (value or "").strip()
    if not value and not required:
        return None
    if value not in FOLLOW_UP_CHANNELS:
        form.add("channel", "Choose how you contacted the client: phone, email, meeting or other.")
        return None
    return value


def record_contacted(session: Session, now: datetime, follow_up: FollowUp, actor: User, *, channel: str,
                     note: str = "", result: str = "reached", base_url: str = "") -> FollowUp:
    """Someone contacted the client, or tried to (``result``). A later contact is recorded too; the first one
    meets the deadline. An attempt that did not reach the client steps the follow-up up the ladder; a contact
    less personal than its rung needs a reason (the note)."""
    check_actor(follow_up, actor)
    form = v.Form()
    chosen = _channel(form, channel, required=True)
    lower = chosen in RUNGS and follow_up.rung in RUNGS and RUNGS.index(chosen) < RUNGS.index(follow_up.rung)
    text = note_of(form, note, required=lower, message=(
        f"This follow-up calls for {follow_up.rung}: say why you used {chosen} instead."))
    outcome = (result or "").strip() or "reached"
    if outcome not in ATTEMPT_RESULTS:
        form.add("result", "Choose whether you reached the client: reached, no answer or left a message.")
    if follow_up.status == "resolved":
        form.add("status", "This follow-up is resolved; reopen it to record another contact.")
    form.raise_if_errors()
    if outcome != "reached":
        record_event(follow_up, now, actor, "attempted", channel=chosen,
                     note=ATTEMPT_LABELS[outcome] + (f": {text}" if text else ""))
        audit.record(session, now, follow_up.practice_id, actor, "follow_up.attempted", "follow_up", follow_up.id,
                     f"Follow-up #{follow_up.id}: tried {chosen}, {ATTEMPT_LABELS[outcome].lower()}")
        ladder.step_up(session, now, follow_up, actor, ladder.NOT_REACHED + f" ({ATTEMPT_LABELS[outcome].lower()})",
                       base_url)
        return follow_up
    if follow_up.contacted_at is None:
        follow_up.contacted_at, follow_up.contacted_channel = now, chosen
    follow_up.status = "contacted"
    record_event(follow_up, now, actor, "contacted", channel=chosen, note=text)
    audit.record(session, now, follow_up.practice_id, actor, "follow_up.contacted", "follow_up", follow_up.id,
                 f"Follow-up #{follow_up.id}: contacted the client by {chosen}")
    return follow_up


def moved_to_options(session: Session, follow_up: FollowUp) -> list[Partner]:
    """The partners a client may have moved to: this practice's others, less the one they were unhappy with and
    the practice's own row (partners.own: a client who stayed with the practice "stayed")."""
    return list(session.scalars(select(Partner).where(
        Partner.practice_id == follow_up.practice_id, Partner.id != follow_up.partner_id,
        Partner.is_own_practice.is_(False)).order_by(Partner.name)))


def record_resolved(session: Session, now: datetime, follow_up: FollowUp, actor: User, *, outcome: str | None,
                    note: str, channel: str | None = None, moved_to: int | str | None = None) -> FollowUp:
    """Close a follow-up with what became of the client (``outcome``, one of OUTCOMES; "moved" names the
    partner of this practice they moved to) and a note, both required. Resolving one still open with a
    channel also counts as the contact: the call in which it was sorted out."""
    check_actor(follow_up, actor)
    form = v.Form()
    chosen = _channel(form, channel, required=False)
    text = note_of(form, note, required=True,
                 message="Say how it ended: an outcome note is needed to resolve a follow-up.")
    kind = (outcome or "").strip()
    partner = None
    if kind not in OUTCOMES:
        form.add("outcome_kind", "Choose what became of the client: stayed, moved to another partner, left the "
                                 "practice, or not known yet.")
    elif kind == "moved":
        # Another practice's partner is no partner at all here: the same message as an unknown id.
        partner_id = v.as_row_id(moved_to)
        partner = None if partner_id is None else session.scalar(
            select(Partner).where(Partner.id == partner_id, Partner.practice_id == follow_up.practice_id))
        if partner is None:
            form.add("moved_to", "Choose the partner of this practice the client moved to.")
        elif partner.id == follow_up.partner_id:
            form.add("moved_to", f"Choose another partner than {partner.name}, the one they were unhappy with.")
        elif partner.is_own_practice:
            form.add("moved_to", f"{partner.name} holds the practice's own touchpoints and is not a partner: choose "
                                 "the partner the client moved to, or “stayed” if they stayed with the practice.")
    if follow_up.status == "resolved":
        form.add("status", "This follow-up is already resolved.")
    form.raise_if_errors()
    if follow_up.contacted_at is None and chosen is not None:
        follow_up.contacted_at, follow_up.contacted_channel = now, chosen
    follow_up.status, follow_up.resolved_at, follow_up.outcome = "resolved", now, text
    follow_up.outcome_kind = kind
    follow_up.moved_to_partner_id = partner.id if partner is not None else None
    record_event(follow_up, now, actor, "resolved", channel=chosen, note=text)
    recovery.schedule(session, now, follow_up)
    audit.record(session, now, follow_up.practice_id, actor, "follow_up.resolved", "follow_up", follow_up.id,
                 f"Resolved follow-up #{follow_up.id}: {OUTCOME_LABELS[kind].lower()}"
                 + (f" ({partner.name})" if partner is not None else ""))
    webhook_events.follow_up_resolved(session, now, follow_up)
    return follow_up


def _reopen(session: Session, follow_up: FollowUp, practice: Practice, now: datetime) -> None:
    # A new deadline from now, so escalation and the reminder may happen again (once) for it; a check-in not
    # yet answered no longer fits.
    recovery.withdraw(session, now, follow_up)
    follow_up.status = "open"
    follow_up.contact_due_at = rules.due_at(practice, now, follow_up.urgent)
    follow_up.contacted_at = follow_up.contacted_channel = follow_up.resolved_at = None
    follow_up.outcome_kind = follow_up.moved_to_partner_id = None
    follow_up.escalated_at = follow_up.assignee_reminded_at = None


def reopen(session: Session, now: datetime, follow_up: FollowUp, actor: User, *, note: str = "") -> FollowUp:
    """A resolved follow-up needs someone again: it is open with a new deadline; its history stays."""
    check_actor(follow_up, actor)
    form = v.Form()
    text = note_of(form, note, required=False)
    if follow_up.status != "resolved":
        form.add("status", "Only a resolved follow-up can be reopened.")
    form.raise_if_errors()
    _reopen(session, follow_up, follow_up.practice, now)
    record_event(follow_up, now, actor, "reopened", note=text)
    audit.record(session, now, follow_up.practice_id, actor, "follow_up.reopened", "follow_up", follow_up.id,
                 f"Reopened follow-up #{follow_up.id}")
    return follow_up


def reassign(session: Session, now: datetime, follow_up: FollowUp, actor: User, assignee_id: int, base_url: str, *,
             note: str = "") -> FollowUp:
    """Give a follow-up to another owner or adviser of the practice, who gets the alert (unless resolved)."""
    check_actor(follow_up, actor)
    form = v.Form()
    text = note_of(form, note, required=False)
    assignee = session.scalar(select(User).where(User.id == assignee_id, User.practice_id == follow_up.practice_id))
    if not can_work_follow_ups(assignee):
        form.add("assignee", "Choose an active owner or adviser of this practice.")
    form.raise_if_errors()
    assert assignee is not None
    if assignee.id == follow_up.assignee_id:
        return follow_up
    follow_up.assignee_id = assignee.id
    follow_up.assignee = assignee
    event = record_event(follow_up, now, actor, "reassigned",
                         note=f"To {assignee.email}" + (f": {text}" if text else ""))
    session.flush()
    audit.record(session, now, follow_up.practice_id, actor, "follow_up.reassigned", "follow_up", follow_up.id,
                 f"Gave follow-up #{follow_up.id} to {assignee.email}")
    if follow_up.status != "resolved":
        emails.send_alert(session, now, follow_up, assignee, base_url, intro=f"{actor.display_name} gave you this follow-up.",
                          key=f"followup-assigned:{event.id}:{assignee.id}")
    return follow_up


def reassign_from_user(session: Session, now: datetime, departed: User, actor: User | str,
                       base_url: str) -> list[FollowUp]:
    """``departed`` can no longer work follow-ups (deactivated, or now a viewer): their unresolved ones go to
    the longest-standing other active owner, and every active owner is told once, in one email listing them."""
    moved = list(session.scalars(select(FollowUp).where(
        FollowUp.practice_id == departed.practice_id, FollowUp.assignee_id == departed.id,
        FollowUp.status != "resolved").order_by(FollowUp.contact_due_at, FollowUp.id)))
    if not moved:
        return []
    owners = [owner for owner in active_owners(session, departed.practice_id) if owner.id != departed.id]
    new_assignee = owners[0] if owners else None
    events = []
    for follow_up in moved:
        follow_up.assignee_id = new_assignee.id if new_assignee else None
        follow_up.assignee = new_assignee
        events.append(record_event(follow_up, now, actor, "reassigned", note=(
            f"{departed.email} can no longer work follow-ups; "
            + (f"given to {new_assignee.email}" if new_assignee else "left to the owners"))))
    session.flush()
    audit.record(session, now, departed.practice_id, actor, "follow_up.reassigned", "user", departed.id,
                 f"Moved {len(moved)} follow-up(s) from {departed.email} to "
                 + (new_assignee.email if new_assignee else "the owners"))
    # The first event of this move names it: the same move can never notify twice.
    for owner in owners:
        emails.send_reassigned(session, now, owner, departed, moved, new_assignee, base_url,
                               key=f"followup-reassigned:{events[0].id}")
    return moved
