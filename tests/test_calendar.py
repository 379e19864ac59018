"""Business hours that know the calendar (issue 19): public holidays of the practice's country and region,
and its own closure days, are outside business hours, so follow-up deadlines, business-hours durations and
business-hours availability skip them. Harbour is in Europe/London (GB, Mon–Fri 09:00–17:30); in December
2026 Christmas is on a Friday and Boxing Day on the Saturday, taken on Monday 28th.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from partnermon import jobs
from partnermon.alerts.digests import DigestReport
from partnermon.errors import ValidationError
from partnermon.models import AuditEvent, HourlyRollup, PracticeClosure, Probe, ProbeResult
from partnermon.monitoring import rollups
from partnermon.monitoring.runs import FinishedRun, claim_due as claim_probes, record
from partnermon.partners import probe_settings
from partnermon.practices import closures, public_holidays
from partnermon.practices.business_hours import BusinessHours
from partnermon import validators
from probes.spec import Finding, Timings
from tests.conftest import NOW
from tests.factories import Cast
from tests.test_alert_delivery import choose, expiring
from tests.test_followups import answer, the_follow_up

UTC = timezone.utc
LONDON = BusinessHours("Europe/London", 9 * 60, 17 * 60 + 30, 0b0011111, "GB")
AUCKLAND = BusinessHours("Pacific/Auckland", 9 * 60, 17 * 60, 0b0011111, "NZ")
URGENT = "Claims form"   # a claim: high stake, 4 business hours
NORMAL = "service"       # one business day


def utc(y: int, m: int, d: int, hour: int, minute: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=UTC)


# --- the arithmetic --------------------------------------------------------------------------------------

def test_christmas_and_the_boxing_day_taken_on_monday_are_outside_business_hours() -> None:
    assert not LONDON.contains(utc(2026, 12, 25, 11))    # Christmas Day, a Friday
    assert not LONDON.contains(utc(2026, 12, 28, 11))    # Boxing Day (observed), a Monday
    assert LONDON.contains(utc(2026, 12, 29, 11))
    no_calendar = BusinessHours("Europe/London", 9 * 60, 17 * 60 + 30, 0b0011111)
    assert no_calendar.contains(utc(2026, 12, 25, 11))   # no country: no public holidays, as before


def test_one_business_day_from_christmas_eve_lands_after_the_holidays_in_gb_and_nz() -> None:
    # London: Thursday 24th 11:00 → the next business day is Tuesday 29th.
    assert LONDON.deadline_after(utc(2026, 12, 24, 11), LONDON.day_seconds) == utc(2026, 12, 29, 11)
    # Auckland (UTC+13 in summer): Thursday 24th 11:00 local; Christmas Friday, Boxing Day taken on Monday 28th.
    start = datetime(2026, 12, 24, 11, 0, tzinfo=AUCKLAND.zone)
    assert AUCKLAND.deadline_after(start, AUCKLAND.day_seconds) == datetime(2026, 12, 29, 11, 0, tzinfo=AUCKLAND.zone)


def test_a_holiday_counts_no_business_seconds() -> None:
    # Thursday 24th to Tuesday 29th, midnight to midnight: only Thursday's 8.5 hours count.
    assert LONDON.seconds_within(utc(2026, 12, 24, 0), utc(2026, 12, 29, 0)) == int(8.5 * 3600)


def test_a_region_adds_its_own_holidays() -> None:
    st_andrews_day = utc(2026, 11, 30, 11)   # a Monday; a bank holiday in Scotland only
    assert LONDON.contains(st_andrews_day)
    scotland = BusinessHours("Europe/London", 9 * 60, 17 * 60 + 30, 0b0011111, "GB", "SCT")
    assert not scotland.contains(st_andrews_day)


def test_a_closure_day_is_outside_business_hours_and_a_deadline_skips_it() -> None:
    closed = BusinessHours("Europe/London", 9 * 60, 17 * 60 + 30, 0b0011111, "GB",
                           closures=frozenset({date(2026, 11, 24)}))
    assert not closed.contains(utc(2026, 11, 24, 11))
    # Monday 16:00, 4 business hours: 1.5 on Monday, Tuesday closed, 2.5 on Wednesday.
    assert closed.deadline_after(utc(2026, 11, 23, 16), 4 * 3600) == utc(2026, 11, 25, 11, 30)


def test_an_unknown_country_or_region_means_no_public_holidays_rather_than_an_error() -> None:
    assert BusinessHours("UTC", 9 * 60, 17 * 60, 0b0011111, "ZZ").contains(utc(2026, 12, 25, 11))
    # A region the package does not know (renamed since it was chosen): the national holidays still count.
    assert not BusinessHours("Europe/London", 540, 1050, 0b0011111, "GB", "XYZ").contains(utc(2026, 12, 25, 11))


# --- follow-up deadlines, through the real path ----------------------------------------------------------

def test_a_follow_up_opened_the_day_before_christmas_is_due_after_the_holidays(session: Session, cast: Cast) -> None:
    assert cast.harbour.country == "GB"
    answer(session, cast, {"satisfaction": "2"}, about=NORMAL, at=utc(2026, 12, 24, 10))
    assert the_follow_up(session).contact_due_at == utc(2026, 12, 29, 10)


def test_a_follow_up_deadline_skips_a_closure_day(session: Session, cast: Cast) -> None:
    closures.add_closure(session, NOW, cast.harbour, cast.alice, day="2026-11-24", note="Staff training")
    session.commit()
    # Monday 23rd 16:00, urgent: 1.5 h on Monday, none on the closed Tuesday, 2.5 h on Wednesday.
    answer(session, cast, {"satisfaction": "2"}, about=URGENT, at=utc(2026, 11, 23, 16))
    assert the_follow_up(session).contact_due_at == utc(2026, 11, 25, 11, 30)


def test_business_hours_of_a_practice_read_its_closures_once(session: Session, cast: Cast) -> None:
    closures.add_closure(session, NOW, cast.harbour, cast.alice, day="2026-12-31")
    closures.add_closure(session, NOW, cast.quay, cast.charlie, day="2026-12-30")
    session.commit()
    cast.harbour.name   # loaded, as a page or a job has it
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, …)
    event.listen(session.get_bind(), "before_cursor_execute", listen)
    try:
        hours = BusinessHours.of(cast.harbour)
        checked = [hours.contains(utc(2026, 12, 31, 0) + timedelta(hours=n)) for n in range(24 * 7)]
        hours.seconds_within(utc(2026, 12, 1, 0), utc(2027, 1, 31, 0))
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listen)
    assert len(statements) == 1 and "practice_closure" in statements[0]   # one query, however much is asked
    assert (hours.country, hours.closures) == ("GB", frozenset({date(2026, 12, 31)}))   # not Quay's
    assert not any(checked[:24]) and any(checked)


# --- business-hours availability -------------------------------------------------------------------------

def _check(session: Session, at: datetime, outcome: str) -> None:
    """One run of Acme's claims-form probe at ``at``, claimed and recorded as a worker does."""
    probe = session.scalars(select(Probe)).one()
    probe.next_due_at = at
    session.commit()
    (claim,) = claim_probes(session, at, worker_id="w1", limit=10)
    finding = Finding(outcome=outcome, status=503 if outcome == "down" else 200,   # type: ignore[arg-type]
                      error=None if outcome == "up" else "HTTP 503", timings=Timings(total_ms=120.0))
    record(session, at, "w1", [FinishedRun(claim, at, finding)])


def test_results_on_a_holiday_or_closure_day_are_not_in_business_hours_availability(session: Session,
                                                                                  cast: Cast) -> None:
    probe_settings.save_probe(session, NOW, cast.acme_claims, "test", {"kind": "http", "interval_seconds": "60"})
    closures.add_closure(session, NOW, cast.harbour, cast.alice, day="2026-12-31")
    session.commit()
    for at in (utc(2026, 12, 24, 11), utc(2026, 12, 25, 11), utc(2026, 12, 31, 11)):  # open, Christmas, closed
        _check(session, at, "down")
    assert [r.in_business_hours for r in session.scalars(select(ProbeResult).order_by(ProbeResult.started_at))] \
        == [True, False, False]
    rollups.roll_up(session, utc(2027, 1, 1, 0))
    hours = {h.hour: h for h in session.scalars(select(HourlyRollup))}
    assert (hours[utc(2026, 12, 24, 11)].down, hours[utc(2026, 12, 24, 11)].bh_down) == (1, 1)
    assert (hours[utc(2026, 12, 25, 11)].down, hours[utc(2026, 12, 25, 11)].bh_down) == (1, 0)
    assert (hours[utc(2026, 12, 31, 11)].down, hours[utc(2026, 12, 31, 11)].bh_down) == (1, 0)


# --- digests ----------------------------------------------------------------------------------------------

def test_no_digest_goes_out_on_a_closure_day_its_alerts_wait_for_the_next_open_day(
        session: Session, runtime, cast: Cast) -> None:  # type: ignore[no-untyped-def]
    closures.add_closure(session, NOW, cast.harbour, cast.alice, day="2026-11-23")
    session.commit()
    choose(session, cast.alice, "certificate_expiring", "digest")
    expiring(session, cast, "Claims help")
    jobs.touchpoint_health_alerts(runtime, utc(2026, 11, 23, 6))
    assert jobs.alert_digests(runtime, utc(2026, 11, 23, 8, 5)) == DigestReport()          # closed today
    assert jobs.alert_digests(runtime, utc(2026, 11, 24, 8, 5)) == DigestReport(digests=1, items=1)


# --- closure days and regions: the service ---------------------------------------------------------------

@pytest.mark.parametrize("typed, message", [
    ("2026-11-20", "2026-11-20 has passed"),
    ("24/12/2026", "is not a date; write it as YYYY-MM-DD"),
    ("2026-02-30", "is not a day of the calendar"),
    ("", "Closure date is required"),
    ("0000-01-01", "out of range"),
    ("２０２６-12-24", "is not a date"),          # full-width digits are not ASCII digits
])
def test_a_past_or_malformed_closure_date_is_a_field_message_and_nothing_is_saved(
        session: Session, cast: Cast, typed: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        closures.add_closure(session, NOW, cast.harbour, cast.alice, day=typed, note="x")
    assert list(caught.value.errors) == ["day"]
    assert message in caught.value.errors["day"]
    session.rollback()
    assert session.scalars(select(PracticeClosure)).all() == []
    assert session.scalars(select(AuditEvent).where(AuditEvent.action.like("practice.closure%"))).all() == []


def test_today_may_be_closed_in_the_practices_own_calendar(session: Session, cast: Cast) -> None:
    cast.harbour.timezone = "Pacific/Auckland"   # NOW (Monday 10:00 UTC) is Monday 23:00 there
    closures.add_closure(session, NOW, cast.harbour, cast.alice, day="2026-11-23")
    with pytest.raises(ValidationError, match="2026-11-22 has passed"):
        closures.add_closure(session, NOW, cast.harbour, cast.alice, day="2026-11-22")


def test_the_same_day_twice_is_a_clear_message(session: Session, cast: Cast) -> None:
    closures.add_closure(session, NOW, cast.harbour, cast.alice, day="2026-12-31")
    with pytest.raises(ValidationError, match="already closed on 2026-12-31"):
        closures.add_closure(session, NOW, cast.harbour, cast.alice, day="2026-12-31")
    closures.add_closure(session, NOW, cast.quay, cast.charlie, day="2026-12-31")   # another practice may
    session.commit()
    assert len(session.scalars(select(PracticeClosure)).all()) == 2


def test_a_note_that_is_too_long_is_named_with_the_date_checked_too(session: Session, cast: Cast) -> None:
    with pytest.raises(ValidationError) as caught:
        closures.add_closure(session, NOW, cast.harbour, cast.alice, day="yesterday", note="n" * 201)
    assert set(caught.value.errors) == {"day", "note"}


def test_a_past_closure_day_stays(session: Session, cast: Cast) -> None:
    closure = closures.add_closure(session, NOW, cast.harbour, cast.alice, day="2026-11-24")
    with pytest.raises(ValidationError, match="has passed"):
        closures.remove_closure(session, NOW + timedelta(days=2), closure, cast.alice)
    closures.remove_closure(session, NOW, closure, cast.alice)
    assert session.scalars(select(PracticeClosure)).all() == []


def test_the_day_check_is_shared() -> None:
    assert validators.day("day", " 2026-12-24 ") == date(2026, 12, 24)


def test_regions_come_from_the_holidays_package_for_the_country() -> None:
    assert ("SCT", "Scotland") in public_holidays.regions("GB")
    assert ("AUK", "Auckland") in public_holidays.regions("NZ")
    assert public_holidays.regions("") == ()
    assert public_holidays.clean_region("sct", "GB") == "SCT"
    with pytest.raises(ValidationError) as caught:
        public_holidays.clean_region("NSW", "GB")
    assert list(caught.value.errors) == ["region"]


def test_changing_country_starts_from_its_national_holidays(session: Session, cast: Cast) -> None:
    from partnermon.practices import service as practices

    closures.set_region(session, NOW, cast.harbour, cast.alice, "SCT")
    practices.update_settings(session, NOW, cast.harbour, cast.alice, name="Harbour Advice",
                              timezone="Pacific/Auckland", business_start="09:00", business_end="17:30",
                              business_days=["0", "1", "2", "3", "4"], brand_colour="#1f4e79", country="NZ")
    assert (cast.harbour.country, cast.harbour.region) == ("NZ", "")
