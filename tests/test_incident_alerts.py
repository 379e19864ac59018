"""Incident alerts end to end, with a controlled clock and a real SMTP server on loopback: results recorded
through the probe's real path open and resolve incidents, the alerts job queues one email per subscriber,
the sender delivers them. Reminders every 4 business hours (never over a night or a weekend), the
resolution, maintenance muting, a mail server that is down for a while, and a sender that dies mid-send.

The audience for Acme: Alice (owner) is told by default and Bob (adviser) opted in; Olive (owner) opted
out, Dora (owner) was deactivated, Vera is a viewer; Charlie owns Quay and never hears of Harbour's partners.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon import jobs
from partnermon.alerts.incidents import IncidentAlertReport, notify_incidents
from partnermon.alerts.subscriptions import set_subscription
from partnermon.mail.sender import SendReport, claim_due, send_claimed
from partnermon.mail.smtp import build_message
from partnermon.models import Incident, OutboxEmail, PartnerSubscription, Probe
from partnermon.monitoring import maintenance
from partnermon.monitoring.runs import FinishedRun, claim_due as claim_probes, record
from partnermon.partners import probe_settings
from partnermon.runtime import Runtime
from probes.spec import Finding, Timings
from tests import factories
from tests.conftest import NOW, PASSWORD, sessions_waiting_on_a_lock
from tests.factories import Cast
from tests.smtp_server import SmtpServer, make_smtp_server, smtp_server  # noqa: F401 - fixtures
from tests.test_outbox import MAIL_FROM, transport_factory, with_smtp

MINUTE = timedelta(minutes=1)
ERROR = "The page answered HTTP 503 Service Unavailable"
FRIDAY_4PM = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)   # London is on GMT: local time = UTC
TOLD = ["alice@harbour.test", "bob@harbour.test"]


@pytest.fixture
def audience(session: Session, cast: Cast) -> Cast:
    olive = factories.user(session, NOW, cast.harbour, "olive@harbour.test", "owner", PASSWORD)
    dora = factories.user(session, NOW, cast.harbour, "dora@harbour.test", "owner", PASSWORD)
    dora.is_active = False
    set_subscription(session, NOW, cast.bob, cast.acme, True)
    set_subscription(session, NOW, olive, cast.acme, False)
    # A row left from when Vera was an adviser does not make a viewer a subscriber.
    session.add(PartnerSubscription(practice_id=cast.harbour.id, user_id=cast.vera.id, partner_id=cast.acme.id,
                                    subscribed=True, updated_at=NOW))
    probe_settings.save_probe(session, NOW, cast.acme_claims, "test", {"kind": "http", "interval_seconds": "60"},
                              rng=random.Random(1))
    session.commit()
    return cast


@pytest.fixture
def live(runtime: Runtime, smtp_server: SmtpServer) -> Runtime:
    return with_smtp(runtime, smtp_server.url())


def check(session: Session, at: datetime, outcome: str, error: str | None = ERROR) -> None:
    """One run of Acme's claims-form probe at ``at``, claimed and recorded as a worker does."""
    probe = session.scalars(select(Probe)).one()
    probe.next_due_at = at
    session.commit()
    (claim,) = claim_probes(session, at, worker_id="w1", limit=10)
    finding = Finding(outcome=outcome, error=None if outcome == "up" else error,  # type: ignore[arg-type]
                      status=503 if outcome == "down" else 200, timings=Timings(total_ms=120.0))
    record(session, at, "w1", [FinishedRun(claim, at, finding)])


def outage(session: Session, start: datetime, error: str = ERROR) -> None:
    check(session, start, "down", error)
    check(session, start + MINUTE, "down", error)   # the second down in a row opens the incident


def recovery(session: Session, at: datetime) -> None:
    check(session, at, "up")
    check(session, at + MINUTE, "up")


def alerts(runtime: Runtime, at: datetime) -> IncidentAlertReport:
    return jobs.incident_alerts(runtime, at)


def emails(runtime: Runtime, kind: str | None = None) -> list[OutboxEmail]:
    with runtime.session_factory() as s:
        query = select(OutboxEmail).order_by(OutboxEmail.id)
        return list(s.scalars(query.where(OutboxEmail.kind == kind) if kind else query))


def incident(runtime: Runtime) -> Incident:
    with runtime.session_factory() as s:
        return s.scalars(select(Incident)).one()


# --- opening ------------------------------------------------------------------------------------

def test_an_outage_emails_each_subscriber_once_with_what_failed_since_when_and_a_link(
        session: Session, runtime: Runtime, audience: Cast, live: Runtime, smtp_server: SmtpServer) -> None:
    outage(session, NOW)
    assert alerts(runtime, NOW + 2 * MINUTE) == IncidentAlertReport(opened=1, emails=2)

    assert jobs.send_emails(live, NOW + 2 * MINUTE, worker="w1") == SendReport(sent=2)
    received = smtp_server.wait_for(2)
    assert sorted(r.rcpt_tos[0] for r in received) == TOLD
    message = received[0].message
    assert message["Subject"] == "Down: Acme Insurance – Claims form"
    text = message.get_body(("plain",)).get_content()
    assert f"What failed: {ERROR}" in text
    assert "Down since: Monday 23 November 2026 at 10:00 GMT" in text
    assert "So far: 2 min, of which 2 min in business hours" in text
    assert "Moment of truth: Claims and hardship (high stake)" in text
    assert "reminded every 4 business hours" in text
    point = audience.acme_claims
    assert f"http://partnermon.test/partners/{point.partner_id}/touchpoints/{point.id}" in text
    assert "Harbour Advice" in message.get_body(("html",)).get_content()

    # Running the job again, or the sender again, tells nobody anything more.
    assert not alerts(runtime, NOW + 3 * MINUTE)
    assert jobs.send_emails(live, NOW + 3 * MINUTE, worker="w2") == SendReport()
    assert len(smtp_server.messages) == 2


def test_each_email_has_a_dedupe_key_so_a_notice_handled_twice_queues_nothing_new(
        session: Session, runtime: Runtime, audience: Cast) -> None:
    outage(session, NOW)
    alerts(runtime, NOW + 2 * MINUTE)
    assert [e.dedupe_key for e in emails(runtime)] == [
        f"incident-open:{incident(runtime).id}:{audience.alice.id}", f"incident-open:{incident(runtime).id}:{audience.bob.id}"]
    # As if the notice had never been marked (a crash between queueing and marking, were they not one transaction).
    found = session.get(Incident, incident(runtime).id)
    assert found is not None
    found.opened_notice_at, found.notice_due_at = None, NOW
    session.commit()
    assert alerts(runtime, NOW + 3 * MINUTE).opened == 1
    assert len(emails(runtime)) == 2


def test_a_job_run_that_dies_before_committing_leaves_its_notices_to_the_next_run(
        session: Session, runtime: Runtime, audience: Cast) -> None:
    outage(session, NOW)
    with runtime.session_factory() as dying:
        assert notify_incidents(dying, NOW + 2 * MINUTE, runtime.settings.base_url, runtime.settings.secret_key).emails == 2
        dying.rollback()
    assert emails(runtime) == []
    assert alerts(runtime, NOW + 3 * MINUTE) == IncidentAlertReport(opened=1, emails=2)


def test_two_alert_runs_at_once_tell_each_subscriber_once(session: Session, runtime: Runtime, audience: Cast) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes the write lock at BEGIN (IMMEDIATE), so two runs cannot overlap")
    outage(session, NOW)
    with runtime.session_factory() as first:
        assert notify_incidents(first, NOW + 2 * MINUTE, runtime.settings.base_url, runtime.settings.secret_key).opened == 1   # not committed
        with ThreadPoolExecutor(1) as pool:
            second = pool.submit(alerts, runtime, NOW + 2 * MINUTE)
            sessions_waiting_on_a_lock(runtime.engine, second)
            waited = not second.done()
            first.commit()   # before any assert: a failed one must not leave the other waiting forever
            assert waited, "the second run never waited on the first one's claim"
            assert second.result(timeout=10) == IncidentAlertReport()
    assert len(emails(runtime)) == 2


def test_degraded_periods_are_not_emailed(session: Session, runtime: Runtime, audience: Cast) -> None:
    check(session, NOW, "degraded", "Slower than 1,000 ms (took 4,000 ms)")
    check(session, NOW + MINUTE, "degraded", "Slower than 1,000 ms (took 4,000 ms)")
    assert incident(runtime).kind == "degraded"
    assert not alerts(runtime, NOW + 2 * MINUTE)
    assert emails(runtime) == [] and incident(runtime).notice_due_at is None


# --- reminders ----------------------------------------------------------------------------------

def test_a_reminder_comes_after_four_business_hours_then_after_four_more_counted_past_the_night(
        session: Session, runtime: Runtime, audience: Cast) -> None:
    outage(session, NOW)
    alerts(runtime, NOW + 2 * MINUTE)
    assert not alerts(runtime, NOW + timedelta(hours=4) - timedelta(seconds=1))
    assert alerts(runtime, NOW + timedelta(hours=4)) == IncidentAlertReport(reminded=1, emails=2)
    [first, _] = emails(runtime, "incident_reminder")
    assert first.dedupe_key == f"incident-reminder:{incident(runtime).id}:1:{audience.alice.id}"
    assert first.subject == "Still down after 4 h 00 min: Acme Insurance – Claims form"
    assert "So far: 4 h 00 min, of which 4 h 00 min in business hours" in first.text_body

    # 3.5 business hours are left on Monday (to 17:30), so the second falls due at 09:30 on Tuesday.
    tuesday = NOW + timedelta(days=1)
    for quiet in (NOW + timedelta(hours=13), tuesday - timedelta(minutes=31)):
        assert not alerts(runtime, quiet)
    assert alerts(runtime, tuesday - timedelta(minutes=30)).reminded == 1
    assert len(emails(runtime, "incident_reminder")) == 4


def test_no_reminder_falls_due_over_a_weekend(session: Session, runtime: Runtime, audience: Cast) -> None:
    outage(session, FRIDAY_4PM)
    assert alerts(runtime, FRIDAY_4PM + 2 * MINUTE).opened == 1
    # 1.5 business hours on Friday, 2.5 more on Monday: due at 11:30 on Monday.
    monday_1130 = datetime(2026, 11, 30, 11, 30, tzinfo=timezone.utc)
    for quiet in (FRIDAY_4PM + timedelta(hours=4), FRIDAY_4PM + timedelta(days=1), FRIDAY_4PM + timedelta(days=2),
                  monday_1130 - timedelta(seconds=1)):
        assert not alerts(runtime, quiet), quiet
    assert alerts(runtime, monday_1130).reminded == 1
    assert "So far: 2 days 19 h, of which 4 h 00 min in business hours" in emails(runtime, "incident_reminder")[0].text_body


def test_no_reminders_are_sent_when_the_practice_turns_them_off(
        session: Session, runtime: Runtime, audience: Cast) -> None:
    audience.harbour.incident_reminder_hours = 0
    session.commit()
    outage(session, NOW)
    alerts(runtime, NOW + 2 * MINUTE)
    assert incident(runtime).notice_due_at is None
    assert not alerts(runtime, NOW + timedelta(days=3))
    assert "You will be told when it is back." in emails(runtime)[0].text_body


# --- resolution ---------------------------------------------------------------------------------

def test_the_resolution_is_emailed_with_how_long_it_lasted_in_business_hours(
        session: Session, runtime: Runtime, audience: Cast, live: Runtime, smtp_server: SmtpServer) -> None:
    outage(session, NOW)
    alerts(runtime, NOW + 2 * MINUTE)
    recovery(session, NOW + timedelta(hours=1))
    assert alerts(runtime, NOW + timedelta(hours=1, minutes=2)) == IncidentAlertReport(resolved=1, emails=2)
    [resolved, _] = emails(runtime, "incident_resolved")
    assert resolved.subject == "Back up: Acme Insurance – Claims form (down 1 h 00 min)"
    assert "Until: Monday 23 November 2026 at 11:00 GMT" in resolved.text_body
    assert "In all: 1 h 00 min, of which 1 h 00 min in business hours" in resolved.text_body
    # No reminder is left behind for an outage that is over.
    assert incident(runtime).notice_due_at is None and not alerts(runtime, NOW + timedelta(days=2))
    assert jobs.send_emails(live, NOW + timedelta(hours=2), worker="w1") == SendReport(sent=4)
    assert len(smtp_server.wait_for(4)) == 4


def test_pausing_the_probe_of_a_touchpoint_that_is_down_says_it_is_no_longer_checked(
        session: Session, runtime: Runtime, audience: Cast) -> None:
    outage(session, NOW)
    alerts(runtime, NOW + 2 * MINUTE)
    probe_settings.save_probe(session, NOW + 5 * MINUTE, audience.acme_claims, "test",
                              {"kind": "http", "interval_seconds": "60", "enabled": "0"})
    session.commit()
    assert alerts(runtime, NOW + 6 * MINUTE).resolved == 1
    [stopped, _] = emails(runtime, "incident_resolved")
    assert stopped.subject.startswith("No longer checked: Acme Insurance – Claims form")
    assert "paused or removed while it was down" in stopped.text_body


# --- maintenance --------------------------------------------------------------------------------

def plan(session: Session, cast: Cast, starts: str, ends: str) -> None:
    maintenance.create_window(session, NOW - timedelta(hours=2), cast.acme, cast.alice,
                              {"starts_at": starts, "ends_at": ends, "touchpoint": "", "note": "Upgrade"})
    session.commit()


def test_an_outage_that_begins_and_ends_inside_a_maintenance_window_is_never_mentioned(
        session: Session, runtime: Runtime, audience: Cast) -> None:
    plan(session, audience, "2026-11-23 09:00", "2026-11-23 12:00")
    outage(session, NOW)
    assert alerts(runtime, NOW + 2 * MINUTE) == IncidentAlertReport(muted=1)
    assert not alerts(runtime, NOW + timedelta(hours=1))           # looked at again when the window ends
    recovery(session, NOW + timedelta(minutes=90))
    assert alerts(runtime, NOW + timedelta(minutes=92)) == IncidentAlertReport(muted=1)
    assert not alerts(runtime, NOW + timedelta(days=1))
    assert emails(runtime) == []


def test_an_outage_that_outlasts_its_maintenance_window_is_announced_once_when_the_window_ends(
        session: Session, runtime: Runtime, audience: Cast) -> None:
    plan(session, audience, "2026-11-23 09:00", "2026-11-23 11:00")
    outage(session, NOW)
    assert alerts(runtime, NOW + 2 * MINUTE).muted == 1
    assert not alerts(runtime, NOW + timedelta(minutes=59))
    assert alerts(runtime, NOW + timedelta(hours=1)) == IncidentAlertReport(opened=1, emails=2)
    assert "during planned maintenance, which has ended" in emails(runtime)[0].text_body
    # The first reminder is 4 business hours into the outage, as usual.
    assert not alerts(runtime, NOW + timedelta(hours=4) - MINUTE)
    assert alerts(runtime, NOW + timedelta(hours=4)).reminded == 1


def test_reminders_that_fall_inside_a_maintenance_window_are_skipped_not_sent_in_a_burst_after_it(
        session: Session, runtime: Runtime, audience: Cast) -> None:
    outage(session, NOW)
    alerts(runtime, NOW + 2 * MINUTE)
    plan(session, audience, "2026-11-23 13:00", "2026-11-23 16:00")
    assert alerts(runtime, NOW + timedelta(hours=4)) == IncidentAlertReport(muted=1)
    assert alerts(runtime, NOW + timedelta(hours=6)) == IncidentAlertReport(reminded=1, emails=2)
    assert not alerts(runtime, NOW + timedelta(hours=6, minutes=1))
    assert len(emails(runtime, "incident_reminder")) == 2
    # The next one is 8 business hours into the outage: 09:30 on Tuesday.
    assert not alerts(runtime, NOW + timedelta(hours=23, minutes=29))
    assert alerts(runtime, NOW + timedelta(hours=23, minutes=30)).reminded == 1


# --- delivery -----------------------------------------------------------------------------------

def test_with_the_mail_server_down_alerts_wait_and_are_delivered_exactly_once_when_it_is_back(
        session: Session, runtime: Runtime, audience: Cast, live: Runtime, smtp_server: SmtpServer) -> None:
    outage(session, NOW)
    alerts(runtime, NOW + 2 * MINUTE)
    smtp_server.stop()
    assert jobs.send_emails(live, NOW + 2 * MINUTE, worker="w1") == SendReport(retried=2)
    assert not alerts(runtime, NOW + 3 * MINUTE)
    assert jobs.send_emails(live, NOW + 3 * MINUTE, worker="w1") == SendReport(retried=2)   # next try at +2 min

    smtp_server.start()
    assert jobs.send_emails(live, NOW + 4 * MINUTE, worker="w1") == SendReport()
    assert jobs.send_emails(live, NOW + 5 * MINUTE, worker="w2") == SendReport(sent=2)
    received = smtp_server.wait_for(2)
    assert sorted(r.rcpt_tos[0] for r in received) == TOLD
    for later in (NOW + 6 * MINUTE, NOW + timedelta(hours=1)):
        assert jobs.send_emails(live, later, worker="w3") == SendReport()
    assert len(smtp_server.messages) == 2


def test_an_alert_whose_sender_died_after_claiming_it_is_delivered_once_after_the_lease(
        session: Session, runtime: Runtime, audience: Cast, live: Runtime, smtp_server: SmtpServer) -> None:
    outage(session, NOW)
    alerts(runtime, NOW + 2 * MINUTE)
    claimed = claim_due(session, NOW + 2 * MINUTE, worker_id="dead", lease_seconds=120)
    assert len(claimed) == 2
    # "dead" is killed here: nothing was sent, nothing recorded.
    assert jobs.send_emails(live, NOW + 3 * MINUTE, worker="w2") == SendReport()
    assert jobs.send_emails(live, NOW + 4 * MINUTE + timedelta(seconds=1), worker="w2") == SendReport(sent=2)
    assert sorted(r.rcpt_tos[0] for r in smtp_server.wait_for(2)) == TOLD
    assert jobs.send_emails(live, NOW + timedelta(hours=1), worker="w3") == SendReport()
    assert len(smtp_server.messages) == 2


def test_a_sender_killed_after_the_server_took_an_alert_but_before_recording_it_resends_the_same_message_id(
        session: Session, runtime: Runtime, audience: Cast, smtp_server: SmtpServer) -> None:
    """SMTP has no way to ask "did you get it?", so this one window is at-least-once. The repeat carries the
    same Message-ID, which mail clients use to show it once."""
    outage(session, NOW)
    alerts(runtime, NOW + 2 * MINUTE)
    [first, _] = claim_due(session, NOW + 2 * MINUTE, worker_id="dead", lease_seconds=120)
    email = session.get(OutboxEmail, first)
    assert email is not None
    with transport_factory(smtp_server)() as transport:
        transport.send(build_message(email, MAIL_FROM), within=60)  # accepted; then "dead" is killed
    taken_over = NOW + 4 * MINUTE + timedelta(seconds=1)
    ids = claim_due(session, taken_over, worker_id="w2", lease_seconds=120)
    assert send_claimed(session, taken_over, ids, transport_factory(smtp_server)(), worker_id="w2",
                        mail_from=MAIL_FROM) == SendReport(sent=2)
    received = smtp_server.wait_for(3)
    assert [r.message["Message-ID"] for r in received].count(email.message_id) == 2


# --- escaping -----------------------------------------------------------------------------------

def test_what_a_partner_site_said_is_escaped_in_the_html_email(session: Session, runtime: Runtime,
                                                                audience: Cast) -> None:
    outage(session, NOW, error="<script>alert(1)</script> & more")
    alerts(runtime, NOW + 2 * MINUTE)
    email = emails(runtime)[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in email.html_body
    assert "<script>" not in email.html_body
    assert "What failed: <script>alert(1)</script> & more" in email.text_body   # plain text is not HTML
