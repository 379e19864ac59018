"""Drains the outbox: claim due emails, send them over SMTP, record what happened.

Each step is a small function the tests call directly. A batch is claimed and committed before anything
is sent; then, right before each message, the sender renews that one message's lease, and only if the
claim is still its own (``hold``), and records the outcome as soon as the server answers. So a slow
server cannot make a batch outlive its lease and have another sender send the rest again: a message
whose claim was taken over is skipped, and one being sent is leased for longer than a send may take
(the transport gives up on a message after half the lease). An email marked sent is never sent again.

A duplicate is only possible when partnermon does not learn that the server accepted a message: the
process dies (or its connection drops) after the server accepted it and before it was recorded as sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from partnermon import claims
from partnermon.feedback import links
from partnermon.followups import recovery
from partnermon.mail.smtp import PermanentFailure, TemporaryFailure, build_message
from partnermon.models import OutboxEmail

log = logging.getLogger(__name__)

# Retries back off 1, 2, 4 … minutes up to an hour; after this many attempts (about two days) we give up.
MAX_ATTEMPTS = 60
MAX_BACKOFF = timedelta(hours=1)


class Transport(Protocol):
    def __enter__(self) -> "Transport": ...
    def __exit__(self, *exc: object) -> None: ...

    def send(self, message: object, *, within: float) -> None:
        """Hand one message to the server; raise TemporaryFailure if it was not accepted within
        ``within`` seconds (or for any other temporary reason), PermanentFailure if it was refused."""


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    logged: int = 0
    # Claimed by this sender but taken over by another before it got to them (its lease had expired).
    taken_over: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.retried or self.failed or self.logged or self.taken_over)


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return (OutboxEmail.status == "queued") & (OutboxEmail.next_attempt_at <= now)


def claim_due(session: Session, now: datetime, *, worker_id: str, lease_seconds: int, limit: int = 20) -> list[int]:
    claimed = claims.claim(
        session, OutboxEmail, now, worker_id=worker_id, lease_seconds=lease_seconds, due=_due(now),
        order_by=OutboxEmail.next_attempt_at, limit=limit,
        extra_values={"attempts": OutboxEmail.attempts + 1},
    )
    session.commit()
    return claimed


def hold(session: Session, now: datetime, email_id: int, worker_id: str, lease_seconds: int) -> bool:
    """Renew the lease on one claimed email just before sending it; False if another sender took it over
    (or it is no longer queued), and then it must not be sent. Commits, so others see the new lease."""
    result = session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == email_id, OutboxEmail.claimed_by == worker_id, OutboxEmail.status == "queued")
        .values(lease_until=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def _finish(session: Session, email_id: int, worker_id: str | None, *, also: Callable[[], None] | None = None,
            **values: object) -> bool:
    """Record an outcome, but only while we still hold the claim (``worker_id``; None: whoever holds it),
    with ``also`` in the same transaction. Commits."""
    conditions = [OutboxEmail.id == email_id, OutboxEmail.status == "queued"]
    if worker_id is not None:
        conditions.append(OutboxEmail.claimed_by == worker_id)
    result = session.execute(
        update(OutboxEmail)
        .where(*conditions)
        .values(claimed_by=None, lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1 and also is not None:
        also()
    session.commit()
    if result.rowcount != 1:
        log.warning("outbox email %s: our claim had expired before we recorded the outcome", email_id)
    return result.rowcount == 1


def mark_sent(session: Session, now: datetime, email_id: int, worker_id: str, dedupe_key: str = "") -> bool:
    def delivered() -> None:
        # What the email was about learns it went out, in the same transaction as the outbox row.
        if dedupe_key.startswith(links.INVITATION_KEY_PREFIX):
            links.invitation_delivered(session, now, dedupe_key)
        elif dedupe_key.startswith(recovery.KEY_PREFIX):
            recovery.forget_link(session, dedupe_key)

    # The server accepted it, so it is sent whoever holds the claim now: a sender that took it over after our
    # lease ran out then finds it sent and does not send it again. A sent email's attachment (a report's
    # PDF) is in the archive already: the outbox need not keep a copy.
    return _finish(session, email_id, None, status="sent", sent_at=now, last_error=None, attachment=None,
                   also=delivered)


def mark_retry(session: Session, now: datetime, email_id: int, worker_id: str, attempts: int, error: str) -> bool:
    if attempts >= MAX_ATTEMPTS:
        return mark_failed(session, now, email_id, worker_id, f"Gave up after {attempts} attempts: {error}")
    delay = min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    return _finish(session, email_id, worker_id, next_attempt_at=now + delay, last_error=error[:500])


def mark_failed(session: Session, now: datetime, email_id: int, worker_id: str, error: str) -> bool:
    return _finish(session, email_id, worker_id, status="failed", last_error=error[:500])


def _retry(session: Session, now: datetime, email: OutboxEmail, worker_id: str, error: str,
           report: SendReport) -> None:
    """Retry later, counted as a failure when this was the last attempt (mark_retry gives up then)."""
    mark_retry(session, now, email.id, worker_id, email.attempts, error)
    if email.attempts >= MAX_ATTEMPTS:
        report.failed += 1
    else:
        report.retried += 1


def send_claimed(session: Session, now: datetime, email_ids: list[int], transport: Transport,
                 *, worker_id: str, mail_from: str, lease_seconds: int = 120,
                 clock: Callable[[], datetime] | None = None) -> SendReport:
    """Send the emails this sender claimed, one at a time, each only while its claim is still ours.

    ``clock`` tells the time as the batch goes on (a slow server makes a batch long); without one the whole
    batch happens at ``now``."""
    clock = clock or (lambda: now)
    report = SendReport()
    if not email_ids:
        return report
    emails = session.scalars(
        select(OutboxEmail).where(OutboxEmail.id.in_(email_ids)).order_by(OutboxEmail.id)
        .execution_options(populate_existing=True)
    ).all()
    # At most half the lease for one message, so its outcome is recorded well before anyone may take it over.
    within = lease_seconds / 2
    handled = 0
    try:
        with transport:
            for email in emails:
                if not hold(session, clock(), email.id, worker_id, lease_seconds):
                    report.taken_over += 1
                    handled += 1
                    continue
                try:
                    transport.send(build_message(email, mail_from), within=within)
                except TemporaryFailure as exc:
                    _retry(session, clock(), email, worker_id, str(exc), report)
                except PermanentFailure as exc:
                    mark_failed(session, clock(), email.id, worker_id, str(exc))
                    report.failed += 1
                else:
                    mark_sent(session, clock(), email.id, worker_id, email.dedupe_key)
                    report.sent += 1
                handled += 1
    except TemporaryFailure as exc:
        # Could not connect at all: every claimed email not yet handled waits and retries.
        for email in emails[handled:]:
            _retry(session, clock(), email, worker_id, str(exc), report)
        log.warning("mail server unavailable, %d emails will be retried: %s", len(emails) - handled, exc)
    return report


def log_unsent(session: Session, now: datetime) -> int:
    """With no SMTP configured, write each new queued email to the log once; they stay queued."""
    emails = session.scalars(
        select(OutboxEmail).where(OutboxEmail.status == "queued", OutboxEmail.logged_at.is_(None)).order_by(OutboxEmail.id)
    ).all()
    for email in emails:
        log.warning(
            "PARTNERMON_SMTP_URL is not set, so this email stays queued in the outbox.\n"
            "To: %s\nSubject: %s\n\n%s", email.to_addr, email.subject, email.text_body,
        )
        email.logged_at = now
    session.commit()
    return len(emails)


def send_due(session: Session, now: datetime, transport_factory: Callable[[], Transport] | None, *,
             worker_id: str, mail_from: str, lease_seconds: int = 120, batch: int = 20,
             clock: Callable[[], datetime] | None = None) -> SendReport:
    """One pass of the sender: claim a batch of due emails and send them, or log them if SMTP is unset.
    ``clock`` (the real one in production) dates each message's lease and outcome as the batch goes on."""
    if transport_factory is None:
        return SendReport(logged=log_unsent(session, now))
    ids = claim_due(session, now, worker_id=worker_id, lease_seconds=lease_seconds, limit=batch)
    return send_claimed(session, now, ids, transport_factory(), worker_id=worker_id, mail_from=mail_from,
                        lease_seconds=lease_seconds, clock=clock)
