"""One-off alerts about touchpoints that still work but are about to let clients down, found by real probes
against real servers on loopback: a certificate that expires within 14 days (one warning per certificate),
and a page that stops offering a way to reach a person (one alert per loss; a recovery re-arms it).

The probes run with a controlled clock (``run_at``); the certificate's days left are counted from it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon import jobs
from partnermon.alerts.subscriptions import set_subscription
from partnermon.alerts.touchpoint_health import HealthAlertReport
from partnermon.db import utcnow
from partnermon.mail.sender import SendReport
from partnermon.models import OutboxEmail, Probe, Touchpoint
from partnermon.monitoring import maintenance
from partnermon.monitoring.runs import FinishedRun, claim_due, record, run_due
from partnermon.partners import probe_settings
from partnermon.runtime import Runtime
from probes.fetch import FetchPolicy
from probes.spec import Finding
from tests.conftest import NOW
from tests.factories import Cast, touchpoint
from tests.probe_servers import (  # noqa: F401 - fixtures
    ProbeServer, https_server, make_probe_server, policy, probe_certs, probe_server,
)
from tests.smtp_server import SmtpServer, make_smtp_server, smtp_server  # noqa: F401 - fixtures
from tests.test_outbox import with_smtp

MINUTE = timedelta(minutes=1)
HTML = {"Content-Type": "text/html; charset=utf-8"}
WITH_PHONE = "<h1>Claims</h1><p>Call us on 0800 123 4567</p>"
WITHOUT = "<h1>Claims</h1><p>Lodge your claim online.</p>"


@pytest.fixture
def followers(session: Session, cast: Cast) -> Cast:
    """Alice (owner) is told by default; Bob (adviser) opts in; Acme has an account manager."""
    set_subscription(session, NOW, cast.bob, cast.acme, True)
    cast.acme.account_manager_name, cast.acme.account_manager_email = "Sam Shaw", "sam.shaw@acme.test"
    session.commit()
    return cast


def probed(session: Session, cast: Cast, url: str, kind: str, **options: str) -> Touchpoint:
    point = touchpoint(session, NOW, cast.acme, "Claims help", "claim", url)
    probe_settings.save_probe(session, NOW, point, "test", {"kind": kind, "interval_seconds": "60", **options},
                              rng=random.Random(1))
    session.commit()
    return point


def run_at(runtime: Runtime, policy: FetchPolicy, at: datetime) -> Probe:
    """Run the probe now, as a worker whose clock says ``at``; returns the probe as stored."""
    with runtime.session_factory() as s:
        s.scalars(select(Probe)).one().next_due_at = at
        s.commit()
    assert run_due(runtime.session_factory, lambda: at, policy, worker_id="w1").recorded == 1
    with runtime.session_factory() as s:
        return s.scalars(select(Probe)).one()


def health(runtime: Runtime, at: datetime) -> HealthAlertReport:
    return jobs.touchpoint_health_alerts(runtime, at)


def emails(runtime: Runtime) -> list[OutboxEmail]:
    with runtime.session_factory() as s:
        return list(s.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


# --- human contact ------------------------------------------------------------------------------

def test_a_page_that_stops_offering_a_way_to_reach_a_person_alerts_once_per_loss(
        session: Session, runtime: Runtime, followers: Cast, probe_server: ProbeServer, policy: FetchPolicy,
        smtp_server: SmtpServer) -> None:
    probe_server.route("/claims", body=WITH_PHONE, headers=HTML)
    point = probed(session, followers, probe_server.url("/claims"), "content")
    assert run_at(runtime, policy, NOW).contact_missing_run == 0

    probe_server.route("/claims", body=WITHOUT, headers=HTML)
    assert run_at(runtime, policy, NOW + MINUTE).contact_missing_since == NOW + MINUTE
    assert not health(runtime, NOW + MINUTE)              # one odd page is not news (failure threshold 2)
    run_at(runtime, policy, NOW + 2 * MINUTE)
    assert health(runtime, NOW + 2 * MINUTE) == HealthAlertReport(contacts_lost=1, emails=2)

    assert jobs.send_emails(with_smtp(runtime, smtp_server.url()), NOW + 2 * MINUTE, worker="w1") == SendReport(sent=2)
    received = smtp_server.wait_for(2)
    assert sorted(r.rcpt_tos[0] for r in received) == ["alice@harbour.test", "bob@harbour.test"]
    message = received[0].message
    assert message["Subject"] == "No way to reach a person: Acme Insurance – Claims help"
    text = message.get_body(("plain",)).get_content()
    assert "None found since: Monday 23 November 2026 at 10:01 GMT (2 checks in a row)" in text
    assert "Before that it offered: phone 0800 123 4567" in text
    assert "Suggested: raise it with Acme Insurance's account manager, Sam Shaw <sam.shaw@acme.test>." in text
    assert f"http://partnermon.test/partners/{point.partner_id}/touchpoints/{point.id}" in text
    assert "mailto:sam.shaw@acme.test" in message.get_body(("html",)).get_content()

    # Still missing: told once.
    run_at(runtime, policy, NOW + 3 * MINUTE)
    assert not health(runtime, NOW + 3 * MINUTE)

    # Back, then lost again: that is news again.
    probe_server.route("/claims", body=WITH_PHONE, headers=HTML)
    assert run_at(runtime, policy, NOW + 4 * MINUTE).contact_missing_since is None
    probe_server.route("/claims", body=WITHOUT, headers=HTML)
    run_at(runtime, policy, NOW + 5 * MINUTE)
    run_at(runtime, policy, NOW + 6 * MINUTE)
    assert health(runtime, NOW + 6 * MINUTE).contacts_lost == 1
    keys = [e.dedupe_key for e in emails(runtime)]
    assert len(keys) == len(set(keys)) == 4
    assert keys[2].startswith(f"human-contact-lost:{point.id}:{int((NOW + 5 * MINUTE).timestamp())}:")


def test_an_error_page_or_a_page_during_maintenance_does_not_count_as_lost_contact(
        session: Session, runtime: Runtime, followers: Cast, probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/claims", status=500, body=WITHOUT, headers=HTML)
    probed(session, followers, probe_server.url("/claims"), "content")
    run_at(runtime, policy, NOW)
    assert run_at(runtime, policy, NOW + MINUTE).contact_missing_run == 0   # an outage: the incident alerts say so

    maintenance.create_window(session, NOW, followers.acme, followers.alice,
                              {"starts_at": "2026-11-23 10:00", "ends_at": "2026-11-23 12:00", "touchpoint": ""})
    session.commit()
    probe_server.route("/claims", body=WITHOUT, headers=HTML)
    run_at(runtime, policy, NOW + 2 * MINUTE)
    assert run_at(runtime, policy, NOW + 3 * MINUTE).contact_missing_run == 0
    assert not health(runtime, NOW + 3 * MINUTE)
    assert emails(runtime) == []


def test_a_page_without_the_human_contact_check_is_never_alerted_about(
        session: Session, runtime: Runtime, followers: Cast, probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/claims", body=WITHOUT, headers=HTML)
    probed(session, followers, probe_server.url("/claims"), "content", human_contact="off")
    for minute in range(3):
        assert run_at(runtime, policy, NOW + minute * MINUTE).contact_missing_run == 0
    assert not health(runtime, NOW + 3 * MINUTE)


# --- certificates -------------------------------------------------------------------------------

def test_a_certificate_that_expires_within_14_days_is_warned_about_once(
        session: Session, runtime: Runtime, followers: Cast, https_server: ProbeServer, policy: FetchPolicy) -> None:
    point = probed(session, followers, https_server.url("/"), "tls")
    today = utcnow()
    expires = run_at(runtime, policy, today).certificate_expires_at
    assert expires is not None and expires - today > timedelta(days=29)   # the test certificate lasts 30 days
    assert not health(runtime, today)

    ten_days_before = expires - timedelta(days=10)
    run_at(runtime, policy, ten_days_before)
    assert health(runtime, ten_days_before) == HealthAlertReport(certificates=1, emails=2)
    email = emails(runtime)[0]
    assert email.subject == "Certificate expires in 10 days: Acme Insurance – Claims help"
    assert f"Address: {https_server.url('/')}" in email.text_body
    assert email.dedupe_key == f"certificate-expiring:{point.id}:{expires:%Y-%m-%d}:{followers.alice.id}"
    assert "Suggested: raise it with Acme Insurance's account manager, Sam Shaw" in email.text_body

    for later in (ten_days_before + timedelta(hours=1), ten_days_before + timedelta(days=5)):
        run_at(runtime, policy, later)
        assert not health(runtime, later)
    assert len(emails(runtime)) == 2


def test_a_renewed_certificate_that_is_itself_about_to_expire_is_news_again(
        session: Session, runtime: Runtime, followers: Cast) -> None:
    probed(session, followers, "https://claims.acme.test/", "tls")

    def certificate(at: datetime, expires: datetime) -> None:
        """A tls result as the probe reports it, recorded by the real path."""
        with runtime.session_factory() as s:
            s.scalars(select(Probe)).one().next_due_at = at
            s.commit()
            (claim,) = claim_due(s, at, worker_id="w1", limit=1)
            record(s, at, "w1", [FinishedRun(claim, at, Finding(outcome="degraded", details={
                "certificate_days_left": round((expires - at).total_seconds() / 86400, 1),
                "certificate_expires": expires.isoformat()}))])

    certificate(NOW, NOW + timedelta(days=7))
    assert health(runtime, NOW).certificates == 1
    certificate(NOW + timedelta(days=1), NOW + timedelta(days=12))
    assert health(runtime, NOW + timedelta(days=1)).certificates == 1
    assert not health(runtime, NOW + timedelta(days=2))
    assert len(emails(runtime)) == 4


def test_an_expired_certificate_is_left_to_the_outage_alerts(
        session: Session, runtime: Runtime, followers: Cast, make_probe_server, policy: FetchPolicy) -> None:  # type: ignore[no-untyped-def]
    server = make_probe_server("expired")
    probed(session, followers, server.url("/"), "tls")
    probe = run_at(runtime, policy, utcnow())
    assert probe.state == "down" and probe.certificate_expires_at is not None
    assert not health(runtime, utcnow())
    assert emails(runtime) == []


def test_a_paused_probe_is_not_alerted_about(session: Session, runtime: Runtime, followers: Cast) -> None:
    point = probed(session, followers, "https://claims.acme.test/", "tls")
    probe = session.scalars(select(Probe)).one()
    probe.certificate_expires_at = NOW + timedelta(days=3)
    session.commit()
    probe_settings.save_probe(session, NOW, point, "test", {"kind": "tls", "interval_seconds": "60", "enabled": "0"})
    session.commit()
    assert not health(runtime, NOW)
