"""The calendar's settings page (owners only) and ``partnermon closure``: closure days listed, added and
removed; the region whose public holidays count; bad input as field messages (web) or one line and a
non-zero exit (CLI), with nothing saved; another practice's closure is a 404.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.models import PracticeClosure
from partnermon.practices import closures
from tests.conftest import NOW, text_of
from tests.factories import Cast
from tests.test_followups import clock  # noqa: F401 - fixture: the app's clock is NOW (Monday 23 Nov 2026)


def _closures(session: Session) -> list[tuple[int, date, str]]:
    session.expire_all()
    return [(c.practice_id, c.day, c.note) for c in session.scalars(select(PracticeClosure).order_by(PracticeClosure.id))]


@pytest.mark.usefixtures("clock")
def test_alice_adds_and_removes_a_closure_day(cast: Cast, browser, session: Session) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    page = text_of(browser.get("/settings/closures"))
    assert "Christmas Day" in page and "Boxing Day" in page   # GB's coming public holidays
    response = browser.post("/settings/closures", {"day": "2026-12-24", "note": "Staff <party>"})
    assert response.status_code == 302
    assert _closures(session) == [(cast.harbour.id, date(2026, 12, 24), "Staff <party>")]
    page = browser.get("/settings/closures").get_data(as_text=True)
    assert "Staff &lt;party&gt;" in page and "Thu 24 Dec 2026" in page
    [closure] = session.scalars(select(PracticeClosure)).all()
    assert browser.post(f"/settings/closures/{closure.id}/delete").status_code == 302
    assert _closures(session) == []


@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize("typed, message", [
    ("2026-11-20", "2026-11-20 has passed; choose today (2026-11-23) or a later day"),
    ("20/12/2026", "is not a date; write it as YYYY-MM-DD"),
    ("2026-13-01", "is not a day of the calendar"),
    ("", "Closure date is required"),
])
def test_a_past_or_malformed_date_is_a_field_message_and_nothing_is_saved(
        cast: Cast, browser, session: Session, typed: str, message: str) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    response = browser.post("/settings/closures", {"day": typed, "note": "Kept"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in text_of(response)
    assert 'id="f-day-error"' in html and 'value="Kept"' in html   # tied to the field; the note is kept
    assert _closures(session) == []


@pytest.mark.usefixtures("clock")
def test_the_same_day_twice_says_so(cast: Cast, browser, session: Session) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    browser.post("/settings/closures", {"day": "2026-12-24"})
    response = browser.post("/settings/closures", {"day": "2026-12-24", "note": "again"})
    assert response.status_code == 422
    assert "Harbour Advice is already closed on 2026-12-24" in text_of(response)
    assert len(_closures(session)) == 1


@pytest.mark.usefixtures("clock")
def test_a_closure_that_has_passed_is_listed_but_stays(cast: Cast, browser, session: Session, app) -> None:  # type: ignore[no-untyped-def]
    closure = closures.add_closure(session, NOW, cast.harbour, cast.alice, day="2026-11-24")
    session.commit()
    app.config["PARTNERMON_CLOCK"] = lambda: NOW + timedelta(days=3)
    browser.sign_in("alice@harbour.test")
    assert "Passed" in text_of(browser.get("/settings/closures"))
    response = browser.post(f"/settings/closures/{closure.id}/delete")
    assert response.status_code == 422 and "has passed" in text_of(response)
    assert len(_closures(session)) == 1


@pytest.mark.usefixtures("clock")
def test_another_practices_closure_is_not_found_and_stays(cast: Cast, browser, session: Session) -> None:  # type: ignore[no-untyped-def]
    theirs = closures.add_closure(session, NOW, cast.quay, cast.charlie, day="2026-12-24")
    session.commit()
    browser.sign_in("alice@harbour.test")
    assert browser.post(f"/settings/closures/{theirs.id}/delete").status_code == 404
    assert "2026" not in text_of(browser.get("/settings/closures")).split("Closure days")[-1].split("Add a")[0]
    assert _closures(session) == [(cast.quay.id, date(2026, 12, 24), "")]


@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize("email", ["bob@harbour.test", "vera@harbour.test"])
def test_advisers_and_viewers_cannot_change_the_calendar(cast: Cast, browser, session: Session, email: str) -> None:  # type: ignore[no-untyped-def]
    mine = closures.add_closure(session, NOW, cast.harbour, cast.alice, day="2026-12-24")
    session.commit()
    browser.sign_in(email)
    assert browser.get("/settings/closures").status_code == 403
    assert browser.post("/settings/closures", {"day": "2026-12-31"}).status_code == 403
    assert browser.post(f"/settings/closures/{mine.id}/delete").status_code == 403
    assert browser.post("/settings/closures/region", {"region": "SCT"}).status_code == 403
    assert len(_closures(session)) == 1 and cast.harbour.region == ""


@pytest.mark.usefixtures("clock")
def test_alice_chooses_scotland_and_its_holidays_count(cast: Cast, browser, session: Session) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    assert "Saint Andrew" not in text_of(browser.get("/settings/closures"))
    assert browser.post("/settings/closures/region", {"region": "SCT"}).status_code == 302
    session.expire_all()
    assert cast.harbour.region == "SCT"
    assert "Saint Andrew's Day" in text_of(browser.get("/settings/closures"))
    response = browser.post("/settings/closures/region", {"region": "NSW"})
    assert response.status_code == 422 and "Choose a region from the list" in text_of(response)
    session.expire_all()
    assert cast.harbour.region == "SCT"


def test_the_settings_page_links_to_the_calendar(cast: Cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    assert 'href="/settings/closures"' in browser.get("/settings/").get_data(as_text=True)


# --- partnermon closure ----------------------------------------------------------------------------------

def _in(days: int) -> str:
    """A day this many days from today in Harbour's calendar (the command reads the real clock)."""
    return (datetime.now(timezone.utc).astimezone(ZoneInfo("Europe/London")).date() + timedelta(days=days)).isoformat()


def test_closure_days_from_the_command_line(cast: Cast, cli: Callable, session: Session) -> None:  # type: ignore[type-arg]
    added = cli("closure", "add", "--practice", "harbour", "--date", _in(3), "--note", "Staff training")
    assert added.exit_code == 0, added.output
    assert "Harbour Advice is closed on" in added.output
    assert cli("closure", "add", "--practice", "harbour", "--date", _in(5)).exit_code == 0
    listed = cli("closure", "list", "--practice", "harbour")
    assert listed.exit_code == 0
    assert listed.output.splitlines() == [f"{_in(3)}\tStaff training", _in(5)]
    removed = cli("closure", "remove", "--practice", "harbour", "--date", _in(5))
    assert removed.exit_code == 0 and "open again" in removed.output
    assert [day.isoformat() for _p, day, _n in _closures(session)] == [_in(3)]


@pytest.mark.parametrize("args, message", [
    (("add", "--practice", "harbour", "--date", "2020-01-01"), "--date: Closure date: 2020-01-01 has passed"),
    (("add", "--practice", "harbour", "--date", "24-12-2026"), "--date: Closure date: “24-12-2026” is not a date"),
    (("add", "--practice", "harbour", "--date", "2026-02-30"), "--date: Closure date: 2026-02-30 is not a day"),
    (("add", "--practice", "nowhere", "--date", "2099-01-01"), "No practice has the slug “nowhere”"),
    (("remove", "--practice", "harbour", "--date", "2099-01-01"), "Harbour Advice has no closure day on 2099-01-01"),
    (("remove", "--practice", "harbour", "--date", "soon"), "is not a date"),
])
def test_bad_closure_commands_are_one_line_and_save_nothing(cast: Cast, cli: Callable, session: Session,  # type: ignore[type-arg]
                                                            args: tuple[str, ...], message: str) -> None:
    result = cli("closure", *args)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert message in result.output
    assert _closures(session) == []


def test_the_same_day_twice_from_the_command_line(cast: Cast, cli: Callable, session: Session) -> None:  # type: ignore[type-arg]
    assert cli("closure", "add", "--practice", "harbour", "--date", _in(2)).exit_code == 0
    again = cli("closure", "add", "--practice", "harbour", "--date", _in(2))
    assert again.exit_code == 1 and f"already closed on {_in(2)}" in again.output
    assert len(_closures(session)) == 1
