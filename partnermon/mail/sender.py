"""Drains the outbox: claim due emails, send them over SMTP, record what happened.

Each step is a small function the tests call directly. A claim is committed before anything is
sent and a success is committed right after, so a sender that dies between claim and send leaves
the email to be re-sent once its lease expires, and an email marked sent is never sent again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from partnermon import claims
from partnermon.feedback import requests as feedback_requests
from partnermon.mail.smtp import PermanentFailure, TemporaryFailure, build_message
from partnermon.models import OutboxEmail

log = logging.getLogger(__name__)

# Retries back off 1, 2, 4 … minutes up to an hour; after this many attempts (about two days) we give up.
MAX_ATTEMPTS = 60
MAX_BACKOFF = timedelta(hours=1)


class Transport(Protocol):
    def __enter__(self) -> "Transport": ...
    def __exit__(self, *exc: object) -> None: ...
    def send(self, message: object) -> None: ...


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    logged: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.retried or self.failed or self.logged)


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


def _finish(session: Session, email_id: int, worker_id: str, *, also: Callable[[], None] | None = None,
            **values: object) -> bool:
    """Record an outcome, but only while we still hold the claim, with ``also`` in the same transaction. Commits."""
    result = session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == email_id, OutboxEmail.claimed_by == worker_id, OutboxEmail.status == "queued")
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
        if dedupe_key.startswith(feedback_requests.INVITATION_KEY_PREFIX):
            feedback_requests.invitation_delivered(session, now, dedupe_key)

    # A sent email's attachment (a report's PDF) is in the archive already: the outbox need not keep a copy.
    return _finish(session, email_id, worker_id, status="sent", sent_at=now, last_error=None, attachment=None,
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
                 *, worker_id: str, mail_from: str) -> SendReport:
    report = SendReport()
    if not email_ids:
        return report
    emails = session.scalars(
        select(OutboxEmail).where(OutboxEmail.id.in_(email_ids)).order_by(OutboxEmail.id)
        .execution_options(populate_existing=True)
    ).all()
    try:
        with transport:
            for email in emails:
                try:
                    transport.send(build_message(email, mail_from))
                except TemporaryFailure as exc:
                    _retry(session, now, email, worker_id, str(exc), report)
                except PermanentFailure as exc:
                    mark_failed(session, now, email.id, worker_id, str(exc))
                    report.failed += 1
                else:
                    mark_sent(session, now, email.id, worker_id, email.dedupe_key)
                    report.sent += 1
    except TemporaryFailure as exc:
        # Could not connect at all: every claimed email not yet handled waits and retries.
        handled = report.sent + report.retried + report.failed
        for email in emails[handled:]:
            _retry(session, now, email, worker_id, str(exc), report)
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
             worker_id: str, mail_from: str, lease_seconds: int = 120, batch: int = 20) -> SendReport:
    """One pass of the sender: claim a batch of due emails and send them, or log them if SMTP is unset."""
    if transport_factory is None:
        return SendReport(logged=log_unsent(session, now))
    ids = claim_due(session, now, worker_id=worker_id, lease_seconds=lease_seconds, limit=batch)
    return send_claimed(session, now, ids, transport_factory(), worker_id=worker_id, mail_from=mail_from)
