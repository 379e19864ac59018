"""The touchpoint page (state, availability, incidents, checks, probe settings with "Test now"), the partner
page's states and maintenance windows, and the home page's summary — through the Flask test client.

The app's clock is fixed at NOW (a Monday, 10:00 in London, inside Harbour's business hours) so durations
and maintenance times read the same on every run. "Test now" reaches a real HTTP server on loopback,
which the probe policy of this module allows (``probe_allow_cidrs``).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon.config import Settings
from partnermon.errors import ValidationError
from partnermon.models import AuditEvent, HourlyRollup, Incident, MaintenanceWindow, Probe, ProbeResult
from partnermon.monitoring import maintenance, rollups
from partnermon.partners import probe_settings
from partnermon.practices.business_hours import BusinessHours
from tests import factories
from tests.conftest import NOW, text_of
from tests.factories import Cast
from tests.probe_servers import ProbeServer

CLAIMS_PAGE = (b"<!doctype html><html><body><h1>Lodge a claim</h1>"
               b"<p>Call us on <a href=\"tel:+441234567890\">01234 567890</a></p></body></html>")


# --- fixtures -------------------------------------------------------------------------------------------

@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """As conftest's, but probes may reach the loopback server below."""
    return Settings(instance_dir=tmp_path, database_url=database_url, secret_key="test-secret-key",
                    base_url="http://partnermon.test", probe_allow_cidrs=("127.0.0.1/32",))


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("partnermon.web.context.utcnow", lambda: NOW)


@pytest.fixture
def claims_site() -> Iterator[ProbeServer]:
    """A real HTTP server on 127.0.0.1 serving Acme's claims page at /claims."""
    with ProbeServer() as server:
        server.route("/claims", body=CLAIMS_PAGE, headers={"Content-Type": "text/html; charset=utf-8"})
        yield server


def page_of(cast: Cast) -> str:
    return f"/partners/{cast.acme.id}/touchpoints/{cast.acme_claims.id}"


def count(session: Session, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def save(session: Session, cast: Cast, **fields: Any) -> Probe:
    data = {"kind": "http", "interval_seconds": "300", **fields}
    probe = probe_settings.save_probe(session, NOW, cast.acme_claims, "test", data, rng=random.Random(3))
    session.commit()
    return probe


def result(session: Session, cast: Cast, minutes_ago: int, outcome: str = "up", **fields: Any) -> ProbeResult:
    at = NOW - timedelta(minutes=minutes_ago)
    row = ProbeResult(practice_id=cast.harbour.id, touchpoint_id=cast.acme_claims.id, due_at=at, started_at=at,
                      outcome=outcome, in_business_hours=BusinessHours.of(cast.harbour).contains(at),
                      **{"status_code": 200, "total_ms": 180.0, "latency_bucket": 5, **fields})
    session.add(row)
    session.commit()
    return row


SAVE = {"action": "save", "kind": "http", "checks": "[STATUS] == 200", "interval_seconds": "300",
        "timeout_seconds": "10", "failure_threshold": "2", "success_threshold": "2", "enabled": "1"}


# --- probe settings -------------------------------------------------------------------------------------

def test_alice_saves_a_valid_probe_and_is_told_when_the_first_result_comes(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    response = browser.post(page_of(cast) + "/probe", {**SAVE, "soft_checks": "[RESPONSE_TIME] < 1500\n\n"},
                            follow_redirects=True)
    assert response.status_code == 200
    page = text_of(response)
    assert "Probe saved: checks every 5 minutes; first result within" in page
    probe = session.scalars(select(Probe)).one()
    assert probe.touchpoint_id == cast.acme_claims.id and probe.checks == ["[STATUS] == 200"]
    assert probe.soft_checks == ["[RESPONSE_TIME] < 1500"] and probe.enabled
    assert NOW <= probe.next_due_at <= NOW + timedelta(minutes=5)
    assert session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "probe.saved")) == "alice@harbour.test"
    # The saved settings fill the form again.
    assert "[STATUS] == 200</textarea>" in response.get_data(as_text=True)


def test_a_malformed_check_is_shown_with_its_position_and_nothing_is_stored(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    audit_before = count(session, AuditEvent)
    for action in ("save", "test"):
        response = browser.post(page_of(cast) + "/probe", {**SAVE, "action": action, "checks": "[STATUS] === 200"})
        assert response.status_code == 422
        page = text_of(response)
        assert "Please fix this first" in page and "at position" in page
        assert "[STATUS] === 200</textarea>" in response.get_data(as_text=True)  # what was typed is kept
        assert "Test result" not in page
    assert count(session, Probe) == 0 and count(session, AuditEvent) == audit_before


@pytest.mark.parametrize(("pattern", "feature"), [(r"(a)\1", r"a backreference (\1)"), ("(?=x)", "a look-ahead")])
def test_a_pattern_re2_cannot_run_is_named_at_the_checks_field_and_nothing_is_stored(  # type: ignore[no-untyped-def]
        cast: Cast, browser, session, pattern: str, feature: str) -> None:
    browser.sign_in("alice@harbour.test")
    response = browser.post(page_of(cast) + "/probe", {**SAVE, "checks": f'[BODY] matches "{pattern}"'})
    assert response.status_code == 422
    assert 'id="f-checks-error"' in response.get_data(as_text=True)
    assert f"uses {feature}" in text_of(response) and "which partnermon does not support" in text_of(response)
    assert count(session, Probe) == 0


def test_every_bad_setting_is_named_at_its_field(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    response = browser.post(page_of(cast) + "/probe", {
        **SAVE, "kind": "journey", "interval_seconds": "5", "timeout_seconds": "lots", "steps": "[{nope",
    })
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in ("interval_seconds", "timeout_seconds", "steps"):
        assert f'id="f-{field}-error"' in html, field
    assert "Steps must be JSON" in text_of(response)
    assert count(session, Probe) == 0


def test_test_now_runs_the_probe_once_and_saves_nothing(cast: Cast, browser, session, claims_site) -> None:  # type: ignore[no-untyped-def]
    cast.acme_claims.url = claims_site.url("/claims")
    session.commit()
    audit_before = count(session, AuditEvent)
    browser.sign_in("alice@harbour.test")
    response = browser.post(page_of(cast) + "/probe", {
        **SAVE, "action": "test", "kind": "content", "expect_text": "Lodge a claim", "human_contact": "soft",
        "checks": '[STATUS] == 200\n[BODY] contains "Lodge a claim"'})
    assert response.status_code == 200, text_of(response)[:600]
    page = text_of(response)
    assert "Test result: Up" in page and "Nothing was saved" in page
    assert "Status 200" in page
    assert "Human contact summary" in page  # the content kind's findings are shown
    assert count(session, Probe) == 0 and count(session, ProbeResult) == 0
    assert count(session, AuditEvent) == audit_before
    assert claims_site.hits("/claims") == 1
    # The form keeps the settings that were tested, ready to save.
    html = response.get_data(as_text=True)
    assert '<option value="content" selected>' in html and "Lodge a claim</textarea>" in html


def test_test_now_shows_which_check_failed(cast: Cast, browser, session, claims_site) -> None:  # type: ignore[no-untyped-def]
    cast.acme_claims.url = claims_site.url("/claims")
    session.commit()
    save(session, cast, checks="[STATUS] == 200")
    browser.sign_in("alice@harbour.test")
    response = browser.post(page_of(cast) + "/probe", {**SAVE, "action": "test",
                                                       "checks": '[BODY] contains "Make a payment"'})
    assert response.status_code == 200
    page = text_of(response)
    assert "Test result: Down" in page and "Failed checks" in page and "Make a payment" in page
    session.expire_all()
    assert session.scalars(select(Probe)).one().checks == ["[STATUS] == 200"]  # the saved probe is untouched
    assert count(session, ProbeResult) == 0


def test_test_now_explains_an_address_partnermon_will_not_probe(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    cast.acme_claims.url = "http://127.0.0.2:9/claims"  # loopback, but outside this module's allowed 127.0.0.1/32
    session.commit()
    browser.sign_in("alice@harbour.test")
    response = browser.post(page_of(cast) + "/probe", {**SAVE, "action": "test"})
    assert response.status_code == 200
    page = text_of(response)
    assert "Test result: Down" in page and "not on the public internet" in page
    assert count(session, Probe) == 0 and count(session, ProbeResult) == 0


def test_pausing_a_probe_says_it_will_not_run(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    data = {k: v for k, v in SAVE.items() if k != "enabled"}  # an unticked checkbox is not sent
    page = text_of(browser.post(page_of(cast) + "/probe", data, follow_redirects=True))
    assert "Probe saved but paused" in page
    assert session.scalars(select(Probe)).one().enabled is False
    assert "Paused" in page


def test_removing_a_probe_asks_first_and_keeps_its_history(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    save(session, cast)
    result(session, cast, 5)
    browser.sign_in("alice@harbour.test")
    confirm = browser.get(page_of(cast) + "/probe/delete")
    assert confirm.status_code == 200 and "Remove the probe of Claims form?" in text_of(confirm)
    assert count(session, Probe) == 1
    page = text_of(browser.post(page_of(cast) + "/probe/delete", follow_redirects=True))
    assert "Removed the probe of Claims form" in page
    assert count(session, Probe) == 0 and count(session, ProbeResult) == 1
    again = browser.post(page_of(cast) + "/probe/delete", follow_redirects=True)
    assert "has no probe to remove" in text_of(again)


# --- who sees what --------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["vera@harbour.test", "bob@harbour.test"])
def test_staff_see_the_page_and_the_probe_but_not_the_form(cast: Cast, browser, session, who) -> None:  # type: ignore[no-untyped-def]
    save(session, cast, checks='[BODY] contains "Lodge a claim"')
    browser.sign_in(who)
    response = browser.get(page_of(cast))
    assert response.status_code == 200
    html, page = response.get_data(as_text=True), text_of(response)
    assert "Probe settings" in page and '[BODY] contains "Lodge a claim"' in page
    assert "Save probe" not in page and "Test now" not in page and "Remove probe" not in page
    assert "/probe" not in html.replace(f"{page_of(cast)}#", "")  # no form action, no remove link
    assert "/edit" not in html
    for action in ("save", "test"):
        assert browser.post(page_of(cast) + "/probe", {**SAVE, "action": action}).status_code == 403
    assert browser.post(page_of(cast) + "/probe/delete").status_code == 403
    assert count(session, Probe) == 1


def test_form_fields_carry_their_extra_attributes_as_real_attributes(cast: Cast, browser, client) -> None:  # type: ignore[no-untyped-def]
    assert 'autocomplete="username" autofocus=""' in client.get("/sign-in").get_data(as_text=True)
    html = browser.sign_in("alice@harbour.test").get(page_of(cast)).get_data(as_text=True)
    assert 'name="interval_seconds" type="number"' in html and 'min="30" max="86400" inputmode="numeric"' in html
    assert "=&#34;" not in html  # what an escaped attribute string used to look like: min=&#34;30&#34;


def test_another_practice_cannot_see_or_change_the_probe(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    save(session, cast)
    browser.sign_in("charlie@quay.test")
    assert browser.get(page_of(cast)).status_code == 404
    # Charlie's own partner with Harbour's touchpoint id is no way in either.
    crossed = f"/partners/{cast.zenith.id}/touchpoints/{cast.acme_claims.id}"
    assert browser.get(crossed).status_code == 404
    assert browser.post(crossed + "/probe", {**SAVE, "interval_seconds": "60"}).status_code == 404
    assert browser.post(crossed + "/probe/delete").status_code == 404
    assert session.scalars(select(Probe)).one().interval_seconds == 300


# --- empty states ---------------------------------------------------------------------------------------

def test_a_touchpoint_without_a_web_address_explains_that_feedback_measures_it(cast: Cast, browser, session, new_browser) -> None:  # type: ignore[no-untyped-def]
    phone = factories.touchpoint(session, NOW, cast.acme, "Claims phone line", "claim", "")
    session.commit()
    path = f"/partners/{cast.acme.id}/touchpoints/{phone.id}"
    owner = browser.sign_in("alice@harbour.test").get(path)
    page = text_of(owner)
    assert "Measured by client feedback only" in page and "has no web address" in page
    assert "offline" not in page.lower()        # it is not down: it has no page to check
    assert f'href="{path}/edit"' in owner.get_data(as_text=True) and "Add a web address" in page
    assert "Save probe" not in page and "Availability" not in page
    viewer = new_browser().sign_in("vera@harbour.test").get(path)
    assert "measured by client feedback" in text_of(viewer) and f"{path}/edit" not in viewer.get_data(as_text=True)


def test_a_touchpoint_without_a_probe_says_there_are_no_checks_yet(cast: Cast, browser) -> None:  # type: ignore[no-untyped-def]
    page = text_of(browser.sign_in("alice@harbour.test").get(page_of(cast)))
    assert "Not probed" in page and "Set up a probe" in page
    assert page.count("No checks yet") >= 3  # the 24 h, 7 d and 30 d rows, and the checks list
    assert "No incidents" in page
    for example in ("[STATUS] == 200", '[BODY] contains "Lodge a claim"', "[RESPONSE_TIME] < 1500",
                    "[CERTIFICATE_EXPIRATION] > 14d", '[BODY].status == "UP"'):
        assert example in page


def test_the_url_is_a_link_that_gives_the_partner_nothing(cast: Cast, browser) -> None:  # type: ignore[no-untyped-def]
    html = browser.sign_in("vera@harbour.test").get(page_of(cast)).get_data(as_text=True)
    assert '<a href="https://claims.acme.test/" rel="noopener noreferrer nofollow">' in html


# --- results, incidents, availability -------------------------------------------------------------------

def test_checks_incidents_and_availability_are_shown(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    save(session, cast)
    for minutes in (50, 40, 30):
        result(session, cast, minutes, dns_ms=12.0, connect_ms=30.4, first_byte_ms=120.0,
               details={"human_contact_summary": "phone 01234 567890"})
    result(session, cast, 20, "down", status_code=503, total_ms=90.0, latency_bucket=None,
           error="The page answered HTTP 503 Service Unavailable", failed_checks=["[STATUS] == 200 (was 503)"])
    rollups.roll_up(session, NOW)
    monday = datetime(2026, 11, 23, tzinfo=timezone.utc)  # London is on UTC in November
    session.add_all([
        # 08:00–10:00: one hour before business hours open (09:00), one inside them.
        Incident(practice_id=cast.harbour.id, touchpoint_id=cast.acme_claims.id, kind="down",
                 started_at=monday.replace(hour=8) - timedelta(days=7), resolved_at=monday.replace(hour=10) - timedelta(days=7),
                 first_error="Connection refused", last_error="Connection refused", seconds_total=7200,
                 seconds_in_business_hours=3600),
        Incident(practice_id=cast.harbour.id, touchpoint_id=cast.acme_claims.id, kind="degraded",
                 started_at=NOW - timedelta(days=3), resolved_at=NOW - timedelta(days=3) + timedelta(minutes=5),
                 first_error="Slow", seconds_total=300, seconds_in_business_hours=0, in_maintenance=True),
        Incident(practice_id=cast.harbour.id, touchpoint_id=cast.acme_claims.id, kind="down",
                 started_at=NOW - timedelta(minutes=20), first_error="The page answered HTTP 503 Service Unavailable"),
    ])
    probe = session.scalars(select(Probe)).one()
    probe.state, probe.last_checked_at = "down", NOW - timedelta(minutes=20)
    probe.last_error = "The page answered HTTP 503 Service Unavailable"
    session.commit()

    response = browser.sign_in("bob@harbour.test").get(page_of(cast))
    html, page = response.get_data(as_text=True), text_of(response)
    # State and the open incident, up to now.
    assert "Claims form Down" in page and "Down since 23 Nov 2026 09:40" in page
    rows = page.split("Incidents", 1)[1]
    assert rows.index("ongoing 20 min so far 20 min 0 s") < rows.index("2 h 1 h 1 h Connection refused")
    assert "5 min 0 s 5 min Slow" in rows and "in maintenance" in rows
    # Availability from rollups: 3 of 4 checks answered; 4 checks in the last 24 hours.
    assert "Last 24 hours 75.00% 75.00%" in page
    # Latest checks, newest first, with the timing split and the human contact found.
    checks = page.split("Latest checks", 1)[1]
    assert checks.index("09:40:00 Down 503 90 ms [STATUS] == 200 (was 503)") < checks.index("09:30:00 Up 200 180 ms")
    assert 'title="DNS 12 ms · connect 30 ms · first byte 120 ms"' in html
    assert "phone 01234 567890" in checks


def test_the_partner_page_shows_each_touchpoints_state_and_links_to_it(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    probe = save(session, cast)
    probe.state, probe.last_checked_at, probe.last_error = "degraded", NOW - timedelta(minutes=3), "Slower than 1,500 ms"
    offline = factories.touchpoint(session, NOW, cast.acme, "Adviser hotline", "service", "")
    factories.touchpoint(session, NOW, cast.acme, "Portal login", "service", "https://portal.acme.test/")
    session.commit()
    response = browser.sign_in("vera@harbour.test").get(f"/partners/{cast.acme.id}")
    page, html = text_of(response), response.get_data(as_text=True)
    assert "Adviser hotline Feedback only" in page and "Portal login Not probed" in page
    assert "Offline" not in page
    assert "Claims form Degraded Slower than 1,500 ms 23 Nov 2026 09:57" in page
    assert f'href="{page_of(cast)}"' in html
    assert f'href="/partners/{cast.acme.id}/touchpoints/{offline.id}"' in html


def test_the_home_page_counts_touchpoints_by_state_and_lists_the_broken_ones(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    probe = save(session, cast)
    probe.state, probe.last_error = "down", "DNS lookup failed for claims.acme.test"
    factories.touchpoint(session, NOW, cast.acme, "Portal login", "service", "https://portal.acme.test/")
    session.commit()
    page = text_of(browser.sign_in("vera@harbour.test").get("/"))
    assert "Touchpoints right now 1 Down 1 Not probed" in page
    assert "Needs attention Down Acme Insurance — Claims form DNS lookup failed for claims.acme.test" in page


# --- maintenance windows --------------------------------------------------------------------------------

def test_alice_plans_maintenance_in_local_time_and_removes_it(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    response = browser.post(f"/partners/{cast.acme.id}/maintenance", {
        "starts_at": "2027-06-01T10:00", "ends_at": "2027-06-01T12:30", "touchpoint": "", "note": "Portal upgrade"},
        follow_redirects=True)
    page = text_of(response)
    assert "Maintenance planned for all of Acme Insurance's touchpoints from 01 Jun 2027 10:00 to 01 Jun 2027 12:30" in page
    assert "01 Jun 2027 10:00 01 Jun 2027 12:30 All touchpoints Portal upgrade Planned" in page
    window = session.scalars(select(MaintenanceWindow)).one()
    assert window.starts_at == datetime(2027, 6, 1, 9, 0, tzinfo=timezone.utc)  # London is UTC+1 in June
    assert window.touchpoint_id is None and window.partner_id == cast.acme.id
    assert session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "maintenance.created",
                                                         AuditEvent.object_id == window.id)) == "alice@harbour.test"

    response = browser.post(f"/partners/{cast.acme.id}/maintenance/{window.id}/delete", follow_redirects=True)
    assert "Removed the maintenance window" in text_of(response)
    assert count(session, MaintenanceWindow) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "maintenance.deleted")) == 1


def test_maintenance_of_one_touchpoint_shows_on_its_page_while_it_runs(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    response = browser.post(f"/partners/{cast.acme.id}/maintenance", {
        "starts_at": "2026-11-23T09:00", "ends_at": "2026-11-23T11:00", "touchpoint": str(cast.acme_claims.id)})
    assert response.status_code == 302
    assert session.scalars(select(MaintenanceWindow)).one().touchpoint_id == cast.acme_claims.id
    page = text_of(browser.get(page_of(cast)))
    assert "A maintenance window covers Claims form now" in page and "in maintenance" in page
    partner_page = text_of(browser.get(f"/partners/{cast.acme.id}"))
    assert "Claims form Not probed in maintenance" in partner_page and "Claims form — Now" in partner_page


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"starts_at": "2026-12-01T12:00", "ends_at": "2026-12-01T11:00"}, "ends_at", "The end must be after the start."),
    ({"starts_at": "2026-12-01T12:00", "ends_at": "2028-01-01T11:00"}, "ends_at", "at most a year"),
    ({"starts_at": "2026-11-01T12:00", "ends_at": "2026-11-02T11:00"}, "ends_at", "already ended"),
    ({"starts_at": "tomorrow", "ends_at": "2026-12-01T11:00"}, "starts_at", "must be a date and time"),
    ({"starts_at": "", "ends_at": "2026-12-01T11:00"}, "starts_at", "Start is required."),
    ({"starts_at": "2027-03-28T01:30", "ends_at": "2027-03-28T05:00"}, "starts_at", "does not exist in Europe/London"),
    ({"note": "x" * 301}, "note", "at most 300 characters"),
    ({"touchpoint": "999999"}, "touchpoint", "Choose one of Acme Insurance's touchpoints"),
])
def test_a_bad_maintenance_window_is_explained_and_not_stored(cast: Cast, browser, session, data, field,
                                                             message) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    form = {"starts_at": "2026-12-01T09:00", "ends_at": "2026-12-01T11:00", "touchpoint": "", "note": "", **data}
    response = browser.post(f"/partners/{cast.acme.id}/maintenance", form)
    assert response.status_code == 422
    assert message in text_of(response)
    assert f'id="f-{field}-error"' in response.get_data(as_text=True)
    assert count(session, MaintenanceWindow) == 0


@pytest.mark.parametrize(("zone", "data", "field"), [
    ("Australia/Sydney", {"starts_at": "0001-01-01T00:00"}, "starts_at"),
    ("America/New_York", {"ends_at": "9999-12-31T23:59"}, "ends_at"),
])
def test_a_time_at_the_edge_of_the_calendar_is_explained_not_a_server_error(cast: Cast, browser, session, zone, data,
                                                                              field) -> None:  # type: ignore[no-untyped-def]
    cast.harbour.timezone = zone  # in UTC these fall before year 1 or after year 9999
    session.commit()
    browser.sign_in("alice@harbour.test")
    form = {"starts_at": "2026-12-01T09:00", "ends_at": "2026-12-01T11:00", "touchpoint": "", "note": "", **data}
    response = browser.post(f"/partners/{cast.acme.id}/maintenance", form)
    assert response.status_code == 422
    assert f'id="f-{field}-error"' in response.get_data(as_text=True)
    assert count(session, MaintenanceWindow) == 0


def test_a_window_cannot_cover_another_practices_touchpoint(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    theirs = factories.touchpoint(session, NOW, cast.zenith, "Zenith login", "service", "https://zenith.test/")
    session.commit()
    browser.sign_in("alice@harbour.test")
    response = browser.post(f"/partners/{cast.acme.id}/maintenance", {
        "starts_at": "2026-12-01T09:00", "ends_at": "2026-12-01T11:00", "touchpoint": str(theirs.id)})
    assert response.status_code == 422 and "Zenith" not in text_of(response)
    assert count(session, MaintenanceWindow) == 0


def test_staff_see_maintenance_but_cannot_plan_or_remove_it(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    window = maintenance.create_window(session, NOW, cast.acme, "test", {
        "starts_at": "2026-12-01T09:00", "ends_at": "2026-12-01T11:00", "note": "Planned outage"})
    session.commit()
    browser.sign_in("vera@harbour.test")
    response = browser.get(f"/partners/{cast.acme.id}")
    assert "Planned outage" in text_of(response) and "Plan maintenance" not in text_of(response)
    assert "/maintenance" not in response.get_data(as_text=True).replace('id="maintenance"', "")
    assert browser.post(f"/partners/{cast.acme.id}/maintenance/{window.id}/delete").status_code == 403
    assert browser.post(f"/partners/{cast.acme.id}/maintenance", {
        "starts_at": "2026-12-01T09:00", "ends_at": "2026-12-01T11:00"}).status_code == 403
    assert count(session, MaintenanceWindow) == 1


def test_another_practice_cannot_remove_a_window_through_its_own_partner(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    window = maintenance.create_window(session, NOW, cast.acme, "test", {
        "starts_at": "2026-12-01T09:00", "ends_at": "2026-12-01T11:00"})
    session.commit()
    browser.sign_in("charlie@quay.test")
    assert browser.post(f"/partners/{cast.zenith.id}/maintenance/{window.id}/delete").status_code == 404
    assert browser.post(f"/partners/{cast.acme.id}/maintenance/{window.id}/delete").status_code == 404
    assert count(session, MaintenanceWindow) == 1


def test_running_and_planned_windows_are_listed_before_ended_ones(cast: Cast, session) -> None:
    def plan(at: datetime, starts: str, ends: str) -> MaintenanceWindow:
        return maintenance.create_window(session, at, cast.acme, "test", {"starts_at": starts, "ends_at": ends})

    ended = plan(NOW - timedelta(days=10), "2026-11-14T09:00", "2026-11-14T10:00")
    planned = plan(NOW, "2026-12-01T09:00", "2026-12-01T10:00")
    running = plan(NOW, "2026-11-23T09:00", "2026-11-23T11:00")
    plan(NOW - timedelta(days=45), "2026-10-10T09:00", "2026-10-10T10:00")  # long over: not listed
    windows = maintenance.list_windows(session, NOW, cast.acme)
    assert [w.id for w in windows] == [running.id, planned.id, ended.id]
    assert [maintenance.window_state(w, NOW) for w in windows] == ["now", "planned", "ended"]


def test_the_service_refuses_a_touchpoint_of_another_partner(cast: Cast, session) -> None:
    other = factories.partner(session, NOW, cast.harbour, "Other Insurer")
    with pytest.raises(ValidationError) as caught:
        maintenance.create_window(session, NOW, other, "test", {
            "starts_at": "2026-12-01T09:00", "ends_at": "2026-12-01T11:00", "touchpoint": str(cast.acme_claims.id)})
    assert set(caught.value.errors) == {"touchpoint"}


# --- escaping -------------------------------------------------------------------------------------------

def test_names_and_errors_from_people_and_partner_sites_are_escaped(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    cast.acme.name = "<script>alert('partner')</script>"
    save(session, cast)
    probe = session.scalars(select(Probe)).one()
    probe.state, probe.last_error = "down", "<script>alert('error')</script>"
    result(session, cast, 5, "down", error="<script>alert('result')</script>")
    result(session, cast, 4, "degraded", error="Check failed", failed_checks=["<img src=x onerror=alert(1)>"],
           details={"human_contact_summary": "<b>bold</b>"})
    maintenance.create_window(session, NOW, cast.acme, "test", {
        "starts_at": "2026-12-01T09:00", "ends_at": "2026-12-01T11:00", "note": "<script>alert('note')</script>"})
    session.commit()
    browser.sign_in("alice@harbour.test")
    for path in (page_of(cast), f"/partners/{cast.acme.id}", "/"):
        html = browser.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold" not in html, path
    html = browser.get(page_of(cast)).get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;result&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(&#39;note&#39;)&lt;/script&gt;" in browser.get(f"/partners/{cast.acme.id}").get_data(as_text=True)


def test_parse_local_reads_wall_clock_time_in_the_practices_zone() -> None:
    assert maintenance.parse_local("starts_at", "2027-01-15T09:30", "Australia/Sydney", "Start") == \
        datetime(2027, 1, 14, 22, 30, tzinfo=timezone.utc)
    assert maintenance.parse_local("starts_at", "2027-01-15 09:30:00", "Europe/London", "Start") == \
        datetime(2027, 1, 15, 9, 30, tzinfo=timezone.utc)


# --- pages that agree with themselves (issue 14) ---------------------------------------------------------

def hourly(session: Session, cast: Cast, hours_ago: int, *, up: int = 12) -> None:
    """An hour of counts with no raw results behind it (as after retention, or in a demo's history)."""
    session.add(HourlyRollup(practice_id=cast.harbour.id, touchpoint_id=cast.acme_claims.id,
                             hour=NOW.replace(minute=0) - timedelta(hours=hours_ago), up=up, bh_up=up,
                             histogram=[0] * 5 + [up] + [0] * 15, bh_histogram=[0] * 5 + [up] + [0] * 15))
    session.commit()


def test_counts_without_raw_results_say_why_there_are_no_checks_to_list(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    probe = save(session, cast)
    probe.last_checked_at = NOW - timedelta(minutes=5)
    for hours_ago in (1, 2, 3):
        hourly(session, cast, hours_ago)
    page = text_of(browser.sign_in("bob@harbour.test").get(page_of(cast)))
    assert "Last 24 hours 100% 100%" in page and " 36 Last 7 days" in page     # 3 × 12 checks counted …
    checks = page.split("Latest checks", 1)[1]
    assert "No checks yet" not in checks                 # … so the list must not say there were none
    assert "The 36 checks counted above come from hourly and daily summaries" in checks
    assert "kept 90 days" in checks


def test_the_home_page_does_not_call_paused_probes_working_and_names_them(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    probe = save(session, cast)
    probe.state, probe.last_checked_at, probe.enabled = "up", NOW - timedelta(minutes=5), False
    phone = factories.touchpoint(session, NOW, cast.acme, "Claims phone line", "claim", "")
    session.commit()
    response = browser.sign_in("vera@harbour.test").get("/")
    page, html = text_of(response), response.get_data(as_text=True)
    assert "Every probed touchpoint is working" not in page and "and working" not in page
    assert "No touchpoint is being checked right now" in page
    assert "Paused 1 probe is paused, so nobody is checking this page: Acme Insurance — Claims form ." in page
    assert ("Feedback only 1 touchpoint has no web address and is measured by client feedback only: "
            "Acme Insurance — Claims phone line .") in page
    assert f'href="{page_of(cast)}"' in html and f'href="/partners/{cast.acme.id}/touchpoints/{phone.id}"' in html


def test_a_probe_that_stopped_running_is_not_counted_as_working(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    probe = save(session, cast)
    # Found the page up, then nothing for two days: its next check is long overdue.
    probe.state, probe.last_checked_at, probe.next_due_at = "up", NOW - timedelta(days=2), NOW - timedelta(days=2)
    factories.touchpoint(session, NOW, cast.acme, "Portal login", "service", "https://portal.acme.test/")
    session.commit()
    page = text_of(browser.sign_in("vera@harbour.test").get("/"))
    now_part = page.split("Touchpoints right now", 1)[1]
    assert now_part.startswith(" 1 Not checked on schedule 1 Not probed")
    assert "is working" not in now_part and "and working" not in now_part
    assert "1 probe has not run on schedule (is the worker running?)" in now_part
    assert text_of(browser.get(page_of(cast))).count("Claims form Not checked on schedule") == 1


def test_probes_running_on_schedule_are_counted_against_every_touchpoint(cast: Cast, browser, session) -> None:  # type: ignore[no-untyped-def]
    probe = save(session, cast)
    probe.state, probe.last_checked_at = "up", NOW - timedelta(minutes=2)
    factories.touchpoint(session, NOW, cast.acme, "Claims phone line", "claim", "")
    session.commit()
    page = text_of(browser.sign_in("vera@harbour.test").get("/"))
    assert "1 of 2 touchpoints is checked on schedule, and it is working; the rest are listed below." in page
