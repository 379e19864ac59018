"""Alert delivery (issue 5): each user chooses per alert type immediate, daily digest or off, and quiet hours;
non-essential emails carry a signed one-click unsubscribe link and RFC 8058 List-Unsubscribe headers;
essential alerts (follow-ups) ignore "off".

The alert used is a real one: a certificate about to expire on Acme's claims page, found by the health job.
Alice (owner) follows Acme by default; her practice, Harbour Advice, is in Europe/London (UTC in November).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon import jobs
from partnermon.alerts import delivery
from partnermon.alerts.digests import DigestReport
from partnermon.mail.sender import SendReport
from partnermon.models import AlertPreference, DigestItem, OutboxEmail, Probe, Touchpoint, User
from partnermon.partners import probe_settings
from partnermon.runtime import Runtime
from tests.conftest import NOW, Browser, text_of
from tests.factories import Cast, touchpoint
from tests.smtp_server import SmtpServer, make_smtp_server, smtp_server  # noqa: F401 - fixtures
from tests.test_followups import UNHAPPY, answer
from tests.test_outbox import with_smtp

UTC = timezone.utc
HOUR = timedelta(hours=1)


# --- helpers ------------------------------------------------------------------------------------

def utc(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def expiring(session: Session, cast: Cast, name: str = "Claims help", *, in_days: int = 5) -> Touchpoint:
    """A probed touchpoint at Acme whose certificate expires in ``in_days`` (as a TLS probe would record)."""
    point = touchpoint(session, NOW, cast.acme, name, "claim", f"https://{name.lower().replace(' ', '-')}.acme.test/")
    probe_settings.save_probe(session, NOW, point, "test", {"kind": "http", "interval_seconds": "60"},
                              rng=random.Random(1))
    session.flush()
    probe = session.scalars(select(Probe).where(Probe.touchpoint_id == point.id)).one()
    probe.certificate_expires_at = NOW + timedelta(days=in_days)
    session.commit()
    return point


def outbox_rows(session: Session) -> list[OutboxEmail]:
    return list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.id).execution_options(populate_existing=True)))


def digest_items(session: Session) -> list[DigestItem]:
    return list(session.scalars(select(DigestItem).order_by(DigestItem.id).execution_options(populate_existing=True)))


def choose(session: Session, user: User, kind: str, mode: str) -> None:
    delivery.set_mode(session, NOW, user, kind, mode)
    session.commit()


def quiet(session: Session, user: User, start: str, end: str) -> None:
    delivery.save_preferences(session, NOW, user, {}, start, end)
    session.commit()


def token_link(runtime: Runtime, user: User, kind: str = "certificate_expiring") -> str:
    return f"/unsubscribe/{delivery.unsubscribe_token(runtime.settings.secret_key, user, kind)}"


# --- immediate, digest, off ---------------------------------------------------------------------

def test_an_immediate_alert_is_queued_at_once_with_a_signed_unsubscribe_link(
        session: Session, runtime: Runtime, cast: Cast) -> None:
    expiring(session, cast)
    jobs.touchpoint_health_alerts(runtime, NOW)

    [email] = outbox_rows(session)
    assert (email.kind, email.to_addr, email.next_attempt_at) == ("certificate_expiring", "alice@harbour.test", NOW)
    assert email.list_unsubscribe == runtime.settings.base_url + token_link(runtime, cast.alice)
    assert email.list_unsubscribe in email.text_body and email.list_unsubscribe in email.html_body
    assert digest_items(session) == []


def test_an_alert_turned_off_sends_nothing_and_holds_nothing(session: Session, runtime: Runtime, cast: Cast) -> None:
    choose(session, cast.alice, "certificate_expiring", "off")
    expiring(session, cast)
    jobs.touchpoint_health_alerts(runtime, NOW)

    assert outbox_rows(session) == [] and digest_items(session) == []


def test_a_digest_alert_is_held_and_sent_once_a_day_at_eight_with_every_item(
        session: Session, runtime: Runtime, cast: Cast) -> None:
    choose(session, cast.alice, "certificate_expiring", "digest")
    early = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)              # 06:00 in London
    expiring(session, cast, "Claims help")
    expiring(session, cast, "Quote form", in_days=3)
    jobs.touchpoint_health_alerts(runtime, early)

    assert outbox_rows(session) == []
    held = digest_items(session)
    assert [(i.user_id, i.kind, i.sent_at) for i in held] == [(cast.alice.id, "certificate_expiring", None)] * 2
    assert "Claims help" in held[0].summary and held[0].link.endswith(f"/touchpoints/{held[0].link.split('/')[-1]}")

    assert jobs.alert_digests(runtime, early + HOUR) == DigestReport()       # 07:00: not yet
    assert jobs.alert_digests(runtime, early + 2 * HOUR + timedelta(minutes=5)) == DigestReport(digests=1, items=2)
    assert jobs.alert_digests(runtime, early + 3 * HOUR) == DigestReport()   # once a day

    [digest] = outbox_rows(session)
    assert (digest.kind, digest.to_addr, digest.dedupe_key) == ("alert_digest", "alice@harbour.test",
                                                                f"digest:{cast.alice.id}:2026-11-23")
    assert "Claims help" in digest.text_body and "Quote form" in digest.text_body
    assert digest.subject == "Your daily alerts: 2 since the last digest"
    assert all(i.sent_at is not None for i in digest_items(session))

    # An alert after today's digest waits for tomorrow's.
    expiring(session, cast, "Pension page", in_days=4)
    jobs.touchpoint_health_alerts(runtime, early + 4 * HOUR)
    assert jobs.alert_digests(runtime, early + 5 * HOUR) == DigestReport()
    assert jobs.alert_digests(runtime, early + 26 * HOUR) == DigestReport(digests=1, items=1)
    tomorrow = outbox_rows(session)[-1]
    assert tomorrow.dedupe_key == f"digest:{cast.alice.id}:2026-11-24" and "Pension page" in tomorrow.text_body


def test_essential_alerts_ignore_off_and_carry_no_unsubscribe_link(session: Session, runtime: Runtime,
                                                                    cast: Cast) -> None:
    with pytest.raises(ValueError):
        delivery.set_mode(session, NOW, cast.bob, "followup_alert", "off")
    # Even a row written some other way changes nothing.
    session.add(AlertPreference(user_id=cast.bob.id, alert_type="followup_alert", mode="off", updated_at=NOW))
    session.commit()

    answer(session, cast, UNHAPPY)

    [alert] = [e for e in outbox_rows(session) if e.kind == "followup_alert"]
    assert alert.to_addr == "bob@harbour.test" and alert.list_unsubscribe is None
    assert "/unsubscribe/" not in alert.text_body


# --- quiet hours --------------------------------------------------------------------------------

@pytest.mark.parametrize("zone, start, end, at, until", [
    ("Europe/London", "22:00", "07:00", datetime(2026, 11, 23, 23, 30, tzinfo=UTC), utc(24, 7)),
    ("Europe/London", "22:00", "07:00", utc(24, 3), utc(24, 7)),
    ("Europe/London", "22:00", "07:00", utc(24, 7), None),
    ("Europe/London", "22:00", "07:00", utc(23, 12), None),
    ("Europe/London", "12:00", "14:00", utc(23, 13), utc(23, 14)),
    # 23:00 in New York (EST, UTC-5) is 04:00 UTC; quiet hours end at 07:00 New York time, 12:00 UTC.
    ("America/New_York", "22:00", "07:00", utc(24, 4), utc(24, 12)),
    ("Europe/London", "", "", datetime(2026, 11, 23, 23, 30, tzinfo=UTC), None),
], ids=["evening", "after-midnight", "at-the-end", "daytime", "same-day", "practice-zone", "none"])
def test_quiet_hours_end_at_the_users_local_time(session: Session, cast: Cast, zone: str, start: str, end: str,
                                                  at: datetime, until: datetime | None) -> None:
    cast.harbour.timezone = zone
    quiet(session, cast.alice, start, end)
    assert delivery.quiet_until(cast.alice, at) == until


def test_an_alert_in_quiet_hours_waits_until_they_end(session: Session, runtime: Runtime, cast: Cast,
                                                       smtp_server: SmtpServer) -> None:
    quiet(session, cast.alice, "22:00", "07:00")
    expiring(session, cast)
    late = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    jobs.touchpoint_health_alerts(runtime, late)
    [email] = outbox_rows(session)
    assert email.next_attempt_at == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)

    live = with_smtp(runtime, smtp_server.url())
    assert jobs.send_emails(live, late + HOUR, worker="w1") == SendReport()
    assert jobs.send_emails(live, datetime(2026, 11, 24, 7, 0, tzinfo=UTC), worker="w1") == SendReport(sent=1)


def test_quiet_hours_need_both_times(session: Session, cast: Cast) -> None:
    with pytest.raises(delivery.ValidationError) as caught:
        delivery.save_preferences(session, NOW, cast.alice, {}, "22:00", "")
    assert set(caught.value.errors) == {"quiet_to"}
    with pytest.raises(delivery.ValidationError) as caught:
        delivery.save_preferences(session, NOW, cast.alice, {"incident_opened": "loud"}, "25:00", "07:00")
    assert set(caught.value.errors) == {"incident_opened", "quiet_from"}


# --- one-click unsubscribe ----------------------------------------------------------------------

def test_an_unsubscribe_link_we_did_not_sign_is_not_found(runtime: Runtime, cast: Cast, client: FlaskClient) -> None:
    good = token_link(runtime, cast.alice)
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    assert client.get(forged).status_code == 404
    assert client.post(forged).status_code == 404
    other_key = delivery.unsubscribe_token("not-our-secret", cast.alice, "certificate_expiring")
    assert client.post(f"/unsubscribe/{other_key}").status_code == 404
    essential = delivery.unsubscribe_token(runtime.settings.secret_key, cast.alice, "followup_alert")
    assert client.post(f"/unsubscribe/{essential}").status_code == 404


def test_opening_the_unsubscribe_link_changes_nothing_and_its_button_turns_the_alert_off(
        session: Session, runtime: Runtime, cast: Cast, client: FlaskClient) -> None:
    link = token_link(runtime, cast.alice)
    page = client.get(link)
    assert page.status_code == 200 and "Stop these emails" in text_of(page)
    assert delivery.mode_for(session, cast.alice, "certificate_expiring") == "immediate"

    # As a mail client posts it (RFC 8058): no session, no CSRF token.
    done = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "will no longer get emails" in text_of(done)
    session.expire_all()
    assert delivery.mode_for(session, cast.alice, "certificate_expiring") == "off"
    assert delivery.mode_for(session, cast.alice, "incident_opened") == "immediate"

    expiring(session, cast)
    jobs.touchpoint_health_alerts(runtime, NOW)
    assert outbox_rows(session) == []


def test_the_mail_server_receives_the_list_unsubscribe_headers(session: Session, runtime: Runtime, cast: Cast,
                                                               smtp_server: SmtpServer) -> None:
    expiring(session, cast)
    jobs.touchpoint_health_alerts(runtime, NOW)
    assert jobs.send_emails(with_smtp(runtime, smtp_server.url()), NOW, worker="w1") == SendReport(sent=1)

    [received] = smtp_server.wait_for(1)
    url = runtime.settings.base_url + token_link(runtime, cast.alice)
    assert received.message["List-Unsubscribe"] == f"<{url}>"
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


# --- the preferences page -----------------------------------------------------------------------

def test_a_user_chooses_their_alerts_and_quiet_hours_on_their_page(session: Session, cast: Cast,
                                                                   browser: Browser) -> None:
    browser.sign_in("bob@harbour.test")
    page = browser.get("/account/alerts")
    assert page.status_code == 200 and "A certificate is about to expire" in text_of(page)

    saved = browser.post("/account/alerts", {"certificate_expiring": "digest", "incident_resolved": "off",
                                             "quiet_from": "22:00", "quiet_to": "07:00"})
    assert saved.status_code == 302
    session.expire_all()
    assert delivery.modes_of(session, cast.bob) == {**dict.fromkeys(delivery.OPTIONAL_LABELS, "immediate"),
                                                   "certificate_expiring": "digest", "incident_resolved": "off"}
    bob = session.get(User, cast.bob.id)
    assert bob is not None and (bob.quiet_start_minute, bob.quiet_end_minute) == (22 * 60, 7 * 60)

    refused = browser.post("/account/alerts", {"quiet_from": "22:00"})
    assert refused.status_code == 422 and "Give both times" in text_of(refused)


# --- the alert log ------------------------------------------------------------------------------

def test_the_alert_log_filters_by_kind_and_recipient_and_shows_what_waits_for_quiet_hours(
        session: Session, runtime: Runtime, cast: Cast, browser: Browser) -> None:
    quiet(session, cast.alice, "22:00", "07:00")
    expiring(session, cast)
    jobs.touchpoint_health_alerts(runtime, datetime(2026, 11, 23, 23, 30, tzinfo=UTC))
    answer(session, cast, UNHAPPY)     # a follow-up alert to Bob
    browser.sign_in("alice@harbour.test")

    everything = text_of(browser.get("/admin/emails"))
    assert "certificate expiring" in everything and "followup alert" in everything
    assert "held for quiet hours until" in everything

    certificates = text_of(browser.get("/admin/emails?kind=certificate_expiring"))
    assert "Certificate expires in 4 days" in certificates and "bob@harbour.test" not in certificates
    to_bob = text_of(browser.get("/admin/emails?to=BOB%40"))
    assert "bob@harbour.test" in to_bob and "Certificate expires" not in to_bob
    assert "No emails that match." in text_of(browser.get("/admin/emails?to=50%25_off"))
