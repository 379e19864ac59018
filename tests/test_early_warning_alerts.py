"""Early-warning alerts: owners are emailed once about each new significant worsening (never advisers,
never a demo practice), a warning lasts while the change does, and a cleared one that comes back is news.
Delivered through the outbox to a real SMTP server like every alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from partnermon.alerts.early_warnings import CLEAR_AFTER, notify_early_warnings
from partnermon.models import EarlyWarning, FeedbackResponse, OutboxEmail
from partnermon.runtime import Runtime
from tests.conftest import NOW
from tests.factories import Cast
from tests.smtp_server import SmtpServer, make_smtp_server, smtp_server  # noqa: F401 - fixtures
from tests.test_outbox import with_smtp
from tests.test_scores_pages import answers
from partnermon import jobs


def worsening(session: Session, cast: Cast, *, now: datetime = NOW) -> None:
    """Acme's claims: 2 of 40 dissatisfied in the 30 days before, 20 of 40 in the last 30 days."""
    answers(session, cast.harbour, cast.acme, "claim", [1] * 2 + [5] * 38, at=now - timedelta(days=40))
    answers(session, cast.harbour, cast.acme, "claim", [1] * 20 + [5] * 20, at=now - timedelta(days=5))


def run(session: Session, at: datetime = NOW) -> None:
    notify_early_warnings(session, at, "http://partnermon.test", "test-secret-key")
    session.commit()


def test_a_significant_worsening_emails_each_owner_once_with_the_test(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer) -> None:
    worsening(session, cast)
    jobs.early_warning_alerts(runtime, NOW)
    jobs.early_warning_alerts(runtime, NOW + timedelta(hours=1))       # the next hourly run: still the same warning
    emails = session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "early_warning")).all()
    assert [e.to_addr for e in emails] == ["alice@harbour.test"]            # owners only, once
    warning = session.scalars(select(EarlyWarning)).one()
    assert (warning.measure, warning.direction) == ("dissatisfaction", "worse")
    assert warning.previous_value == 0.05 and warning.current_value == 0.5
    jobs.send_emails(with_smtp(runtime, smtp_server.url()), NOW)
    message = smtp_server.wait_for(1)[0].message
    assert "Getting worse: dissatisfied clients at Acme Insurance – Claims and hardship" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "5 % before, 50 % now" in body and "two-proportion z-test" in body
    # Plain words first, the statistics after.
    assert body.index("Dissatisfied clients rose from 5 % to 50 % — unlikely to be chance") < body.index("How we know:")
    assert "http://partnermon.test/partners/" in body and message["List-Unsubscribe"]


def test_a_warning_is_cleared_only_after_days_unseen_and_a_return_is_told_again(session: Session, cast: Cast) -> None:
    worsening(session, cast)
    run(session)
    # The answers behind it go (erased on a client's request): the change is no longer there ...
    session.execute(delete(FeedbackResponse))
    session.commit()
    run(session, NOW + timedelta(hours=1))
    assert session.scalars(select(EarlyWarning)).one().cleared_at is None     # ... but one quiet hour is not news
    cleared = NOW + CLEAR_AFTER + timedelta(minutes=1)
    run(session, cleared)
    assert session.scalars(select(EarlyWarning)).one().cleared_at == cleared
    worsening(session, cast, now=cleared)
    run(session, cleared)
    assert len(session.scalars(select(EarlyWarning)).all()) == 2
    assert len(session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "early_warning")).all()) == 2


def test_nothing_is_told_without_a_significant_change(session: Session, cast: Cast) -> None:
    answers(session, cast.harbour, cast.acme, "claim", [1] * 4 + [5] * 36, at=NOW - timedelta(days=40))
    answers(session, cast.harbour, cast.acme, "claim", [1] * 6 + [5] * 34, at=NOW - timedelta(days=5))
    run(session)
    assert session.scalars(select(EarlyWarning)).all() == []


def test_an_improvement_is_kept_but_not_emailed(session: Session, cast: Cast) -> None:
    answers(session, cast.harbour, cast.acme, "claim", [1] * 20 + [5] * 20, at=NOW - timedelta(days=40))
    answers(session, cast.harbour, cast.acme, "claim", [1] * 2 + [5] * 38, at=NOW - timedelta(days=5))
    run(session)
    assert session.scalars(select(EarlyWarning)).one().direction == "better"
    assert session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "early_warning")).all() == []


def test_demo_practices_are_never_emailed(session: Session, cast: Cast) -> None:
    cast.harbour.is_demo = True
    session.commit()
    worsening(session, cast)
    run(session)
    assert session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "early_warning")).all() == []
