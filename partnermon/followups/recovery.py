"""Recovery check-ins (issue 19, "closing the loop, measured"): a set time after a follow-up is resolved, the
client gets one short personal link — "Did {practice} put things right?" yes / partly / no, and a comment.

- ``schedule`` when a follow-up is resolved: due ``recovery_check_in_days`` after it (0 asks nobody). A client
  without an email address, or whose address came unverified through the open link, or any client of a demo
  practice, is not asked: the check-in is recorded as skipped, with why, so the follow-up page can say so.
- ``withdraw`` when the follow-up is reopened: a check-in still waiting, or sent and unanswered, is closed
  (and its email held back if it has not gone yet) — the question no longer fits.
- ``send_due_check_ins`` (the periodic job): makes the token (only now, so no link exists before it is due),
  stores its SHA-256 and expiry, and queues the email, in one transaction. The link works
  ``min(feedback_link_days, MAX_LINK_DAYS)`` days: one click is all it asks, and an answer weeks later says
  little about whether this follow-up put things right.
- ``answer`` (the client's POST): the first answer is final. The same answer posted again changes nothing
  (a double click, a retried request); another answer is refused and the first one shown — so "no" can
  reopen the follow-up only once, and the recovery measures read answers that do not move. "no" reopens the
  follow-up one rung up the ladder (``ladder.step_up``); on the top rung it stays there, with a new deadline,
  the owners told as the ladder tells them (once per follow-up) and the assignee alerted.

The throttle, so that a client is not pestered and yet the check-in is not lost to its own cause: within the
practice's ``feedback_throttle_days`` a client gets at most one check-in, and no check-in within that time of
another feedback request to them — except the request whose answers opened this follow-up, which is why we
are asking at all. A new feedback request is likewise held back by a recent check-in
(``feedback.lookups``). A check-in held back is skipped, with the reason; it is not retried later, as a
late question would be a worse one.

Like feedback links (DESIGN.md §8) a GET records nothing (mail scanners follow links), so ``opened_at`` stays
empty. Services take ``(session, now)``, commit nothing and know nothing of Flask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from partnermon import validators as v
from partnermon.accounts import audit
from partnermon.accounts.security import new_token, same, token_hash
from partnermon.followups import emails, ladder, rules
from partnermon.followups.timeline import CLIENT, SYSTEM, active_owners, can_work_follow_ups, record_event
from partnermon.mail import outbox
from partnermon.models import FeedbackRequest, OutboxEmail
from partnermon.models.followups import CHECK_IN_ANSWERS, FollowUp, RecoveryCheckIn

# The email's dedupe key: this prefix and the token's hash (so delivery can find the link to forget).
KEY_PREFIX = "check-in:"
MAX_LINK_DAYS = 14
MAX_COMMENT = 4000
BATCH = 200
ANSWER_LABELS = {"yes": "Yes", "partly": "Partly", "no": "No"}
NOT_PUT_RIGHT = "The client said in the recovery check-in that things were not put right"
NO_EMAIL = "The client gave no email address"
UNVERIFIED = "The client's address came through the open link and was never confirmed"
# A demo practice's clients are invented (partnermon demo), but their addresses may be real people's.
DEMO = "Demo practice: nothing is sent"

# What a link's page shows: the question, the client's answer (thank you), or "cannot be used".
OPEN, ANSWERED, GONE = "open", "answered", "gone"


class AlreadyAnswered(Exception):
    """The client answered this check-in before, differently: the first answer stands."""


@dataclass
class CheckInReport:
    sent: int = 0
    skipped: int = 0
    expired: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.skipped or self.expired)


def link_for(base_url: str, token: str) -> str:
    return f"{base_url}/check-in/{token}"


def local_date(check_in: RecoveryCheckIn, moment: datetime) -> str:
    """A date as the practice writes it, in its time zone."""
    return moment.astimezone(ZoneInfo(check_in.follow_up.practice.timezone)).strftime("%-d %B %Y")


# --- scheduling and withdrawing -----------------------------------------------------------------------------

def schedule(session: Session, now: datetime, follow_up: FollowUp) -> RecoveryCheckIn | None:
    """The check-in for a follow-up just resolved (None when the practice asks nobody). The rung and the
    assignee are copied now: the ones on which it was resolved, whatever happens to the follow-up later."""
    days = follow_up.practice.recovery_check_in_days
    if days <= 0:
        return None
    client = emails.client_of(follow_up)
    last_round = session.scalar(select(func.max(RecoveryCheckIn.round))
                                .where(RecoveryCheckIn.follow_up_id == follow_up.id)) or 0
    skipped = (DEMO if follow_up.practice.is_demo else NO_EMAIL if not client.email
               else UNVERIFIED if not client.verified else "")
    check_in = RecoveryCheckIn(
        practice_id=follow_up.practice_id, follow_up_id=follow_up.id, round=last_round + 1,
        partner_id=follow_up.partner_id, reached_rung=follow_up.rung, assignee_id=follow_up.assignee_id,
        client_name=client.name[:200], client_email=client.email, status="skipped" if skipped else "scheduled",
        skipped_reason=skipped, created_at=now, due_at=(follow_up.resolved_at or now) + timedelta(days=days),
        comment="")
    session.add(check_in)
    return check_in


def withdraw(session: Session, now: datetime, follow_up: FollowUp) -> int:
    """The follow-up was reopened: close its waiting or unanswered check-ins. An email not yet handed to a
    sender is not sent (it would ask about something no longer settled); one already sent leads to the
    "cannot be used" page. How many were withdrawn."""
    pending = list(session.scalars(select(RecoveryCheckIn).where(
        RecoveryCheckIn.follow_up_id == follow_up.id, RecoveryCheckIn.status.in_(("scheduled", "sent")))))
    for check_in in pending:
        if check_in.token_hash is not None:
            key = KEY_PREFIX + check_in.token_hash
            session.execute(
                update(OutboxEmail).where(OutboxEmail.dedupe_key == key, OutboxEmail.status == "queued",
                                          OutboxEmail.claimed_by.is_(None))
                .values(status="failed", last_error="Not sent: the follow-up was reopened first.")
                .execution_options(synchronize_session=False))
            forget_link(session, key)
        check_in.status = "withdrawn"
    return len(pending)


def check_ins_of(session: Session, follow_up: FollowUp) -> list[RecoveryCheckIn]:
    """A follow-up's check-ins, one per time it was resolved, the first first (for its page)."""
    return list(session.scalars(select(RecoveryCheckIn).where(RecoveryCheckIn.follow_up_id == follow_up.id)
                                .order_by(RecoveryCheckIn.round)))


# --- sending ------------------------------------------------------------------------------------------------

def _held_back_because(session: Session, check_in: RecoveryCheckIn, now: datetime) -> str:
    """Why the throttle holds this check-in back ("" when it does not): see the module's docstring."""
    follow_up = check_in.follow_up
    practice = follow_up.practice
    days = practice.feedback_throttle_days
    if days <= 0:
        return ""
    since = now - timedelta(days=days)
    email = check_in.client_email.lower()
    asked = session.scalar(
        select(FeedbackRequest.created_at).where(
            FeedbackRequest.practice_id == practice.id, func.lower(FeedbackRequest.client_email) == email,
            FeedbackRequest.created_at > since, FeedbackRequest.revoked_at.is_(None),
            FeedbackRequest.id != (follow_up.request_id or 0))
        .order_by(FeedbackRequest.created_at.desc()).limit(1))
    if asked is not None:
        return (f"The client was asked for feedback on {local_date(check_in, asked)}; {practice.name} waits "
                f"{days} days between requests to one client")[:200]
    checked = session.scalar(
        select(RecoveryCheckIn.sent_at).where(
            RecoveryCheckIn.practice_id == practice.id, func.lower(RecoveryCheckIn.client_email) == email,
            RecoveryCheckIn.sent_at > since, RecoveryCheckIn.id != check_in.id)
        .order_by(RecoveryCheckIn.sent_at.desc()).limit(1))
    if checked is not None:
        return (f"The client was sent another check-in on {local_date(check_in, checked)}; {practice.name} "
                f"waits {days} days between requests to one client")[:200]
    return ""


def send_check_in(session: Session, now: datetime, check_in: RecoveryCheckIn, base_url: str) -> str | None:
    """Send one scheduled check-in now, or skip it (the throttle, a demo practice). The link, or None when it was
    not sent (skipped, or no longer scheduled: claimed by a conditional UPDATE, so a second run sends nothing)."""
    follow_up = check_in.follow_up
    practice = follow_up.practice
    # A demo practice's check-in scheduled before this rule (or before the practice was a demo) is not sent either.
    reason = ("" if follow_up.status != "resolved" else DEMO if practice.is_demo
              else _held_back_because(session, check_in, now))
    if follow_up.status != "resolved":
        status, values = "withdrawn", {}
    elif reason:
        status, values = "skipped", {"skipped_reason": reason}
    else:
        token = new_token()
        status, values = "sent", {"token_hash": token_hash(token), "sent_at": now,
                                  "expires_at": now + timedelta(days=min(practice.feedback_link_days, MAX_LINK_DAYS))}
    claimed = session.execute(
        update(RecoveryCheckIn).where(RecoveryCheckIn.id == check_in.id, RecoveryCheckIn.status == "scheduled")
        .values(status=status, **values).execution_options(synchronize_session=False)).rowcount == 1
    if not claimed:
        return None
    session.refresh(check_in)
    if status != "sent":
        return None
    link = link_for(base_url, token)
    adviser = check_in.assignee if can_work_follow_ups(check_in.assignee) else None
    outbox.enqueue(session, now, template="recovery_check_in", to=check_in.client_email,
                   dedupe_key=KEY_PREFIX + check_in.token_hash, base_url=base_url,   # type: ignore[operator]
                   practice_id=practice.id, context={
                       "practice": practice, "check_in": check_in, "partner": check_in.partner, "link": link,
                       "adviser": adviser, "expires_text": local_date(check_in, check_in.expires_at),  # type: ignore[arg-type]
                       "answers": ANSWER_LABELS})
    audit.record(session, now, practice.id, SYSTEM, "follow_up.check_in_sent", "follow_up", follow_up.id,
                 f"Asked {check_in.client_email} whether things were put right (follow-up #{follow_up.id})")
    return link


def send_due_check_ins(session: Session, now: datetime, base_url: str, *, limit: int = BATCH) -> CheckInReport:
    """The periodic job: expire unanswered links past their time, then send (or skip) the check-ins due, the
    earliest first. One client with two due at once gets the first; the throttle skips the second."""
    report = CheckInReport()
    report.expired = session.execute(
        update(RecoveryCheckIn).where(RecoveryCheckIn.status == "sent", RecoveryCheckIn.expires_at <= now)
        .values(status="expired").execution_options(synchronize_session=False)).rowcount or 0
    due = list(session.scalars(select(RecoveryCheckIn).where(
        RecoveryCheckIn.status == "scheduled", RecoveryCheckIn.due_at <= now)
        .order_by(RecoveryCheckIn.due_at, RecoveryCheckIn.id).limit(limit)))
    for check_in in due:
        if send_check_in(session, now, check_in, base_url) is not None:
            report.sent += 1
        elif check_in.status == "skipped":
            report.skipped += 1
        session.flush()   # the next client's throttle sees this one
    return report


_LINK_IN_EMAIL = re.compile(r"/check-in/[A-Za-z0-9_-]{20,100}")


def forget_link(session: Session, dedupe_key: str) -> None:
    """Take the live link out of a stored check-in email once it has gone out (or was withdrawn): only the
    token's hash is kept (DESIGN.md §8)."""
    email = session.scalar(select(OutboxEmail).where(OutboxEmail.dedupe_key == dedupe_key))
    if email is not None:
        email.text_body = _LINK_IN_EMAIL.sub("/check-in/[link removed once sent]", email.text_body)
        email.html_body = _LINK_IN_EMAIL.sub("/check-in/[link removed once sent]", email.html_body)


# --- the client's link --------------------------------------------------------------------------------------

def find_by_token(session: Session, token: str) -> RecoveryCheckIn | None:
    """The check-in behind a link, whatever its state; None for a token that was never issued."""
    if not token or len(token) > 100:
        return None
    digest = token_hash(token)
    check_in = session.scalar(select(RecoveryCheckIn).where(RecoveryCheckIn.token_hash == digest)
                              .execution_options(populate_existing=True))
    if check_in is None or check_in.token_hash is None or not same(check_in.token_hash, digest):
        return None
    return check_in


def state_of(check_in: RecoveryCheckIn, now: datetime) -> str:
    """OPEN for the question, ANSWERED for the thank-you (until the link's time is over), else GONE."""
    if check_in.expires_at is None or check_in.expires_at <= now:
        return GONE
    return {"sent": OPEN, "answered": ANSWERED}.get(check_in.status, GONE)


@dataclass(frozen=True)
class CheckInAnswer:
    answer: str
    comment: str


def parse_answer(data: Mapping[str, Any]) -> CheckInAnswer:
    form = v.Form()
    chosen = str(data.get("answer") or "").strip()
    if chosen not in CHECK_IN_ANSWERS:
        form.add("answer", "Choose yes, partly or no.")
    comment = form.check(v.text, "comment", data.get("comment"), required=False, max_length=MAX_COMMENT,
                         label="Your comment", multiline=True) or ""
    form.raise_if_errors()
    return CheckInAnswer(chosen, comment)


def answer(session: Session, now: datetime, token: str, data: Mapping[str, Any],
           base_url: str) -> RecoveryCheckIn | None:
    """Record the client's answer (ValidationError for a bad form); None when the link takes no answers.
    The same answer again changes nothing; a different one raises ``AlreadyAnswered``."""
    given = parse_answer(data)
    check_in = find_by_token(session, token)
    if check_in is None or state_of(check_in, now) == GONE:
        return None
    # Claimed with a conditional UPDATE: of two posts at once (a double click) one records the answer and
    # reopens; the other finds it answered.
    claimed = check_in.status == "sent" and session.execute(
        update(RecoveryCheckIn).where(RecoveryCheckIn.id == check_in.id, RecoveryCheckIn.status == "sent")
        .values(status="answered", answer=given.answer, comment=given.comment, answered_at=now)
        .execution_options(synchronize_session=False)).rowcount == 1
    session.refresh(check_in)
    if not claimed:
        if check_in.status == "answered" and (check_in.answer, check_in.comment) == (given.answer, given.comment):
            return check_in
        if check_in.status == "answered":
            raise AlreadyAnswered()
        return None
    _on_answer(session, now, check_in, base_url)
    return check_in


def describe(check_in: RecoveryCheckIn) -> str:
    """The answer as the follow-up's history and the page say it: 'Partly: “comment”'."""
    said = ANSWER_LABELS.get(check_in.answer or "", check_in.answer or "")
    return said + (f": “{check_in.comment}”" if check_in.comment else "")


def _on_answer(session: Session, now: datetime, check_in: RecoveryCheckIn, base_url: str) -> None:
    follow_up = check_in.follow_up
    practice = follow_up.practice
    record_event(follow_up, now, CLIENT, "checked_in",
                 note=f"Did {practice.name} put things right? {describe(check_in)}")
    audit.record(session, now, practice.id, CLIENT, "follow_up.checked_in", "follow_up", follow_up.id,
                 f"Follow-up #{follow_up.id}: the client answered the check-in “{check_in.answer}”")
    if check_in.answer == "no" and follow_up.status == "resolved":
        _reopen_one_rung_up(session, now, follow_up, base_url, check_in)


def _reopen_one_rung_up(session: Session, now: datetime, follow_up: FollowUp, base_url: str,
                        check_in: RecoveryCheckIn) -> None:
    # Open again as service.reopen leaves it (its history and the ladder's top_told_at stay), then one rung up.
    follow_up.contacted_at = follow_up.contacted_channel = follow_up.resolved_at = None
    follow_up.outcome_kind = follow_up.moved_to_partner_id = None
    record_event(follow_up, now, CLIENT, "reopened", note=NOT_PUT_RIGHT)
    if ladder.step_up(session, now, follow_up, CLIENT, NOT_PUT_RIGHT, base_url):
        return
    # Already on the top rung: it stays there and needs someone again by a new deadline. The owners hear as the
    # ladder tells them (once per follow-up); the assignee (or, with nobody, the owners) gets the alert.
    practice = follow_up.practice
    follow_up.status = "open"
    follow_up.contact_due_at = rules.due_at(practice, now, follow_up.urgent)
    follow_up.escalated_at = follow_up.assignee_reminded_at = None
    session.flush()
    ladder.tell_owners_at_top(session, now, follow_up, base_url)
    recipients = [follow_up.assignee] if can_work_follow_ups(follow_up.assignee) else active_owners(session, practice.id)
    for recipient in recipients:
        assert recipient is not None
        emails.send_alert(session, now, follow_up, recipient, base_url, intro=f"{NOT_PUT_RIGHT}: {describe(check_in)}.",
                          key=f"followup-check-in:{check_in.id}:{recipient.id}")
