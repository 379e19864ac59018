"""Values a hostile user sends, one class each (issue 16, items 2–6): ids out of range, unreadable web
addresses, digits of other scripts and huge numbers, NUL and other control characters, months at the end of
the calendar. Each is refused as "not found" or with a message on its field, never a 500 or a traceback;
tests/test_fuzz_web.py then throws generated values at every surface.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest
from sqlalchemy import func, select

from partnermon.models import MaintenanceWindow, MomentOfTruth, Partner, Touchpoint
from tests.conftest import NOW, text_of
from tests.factories import Cast

TOO_BIG = "2147483648"   # 2³¹: one past the largest id a PostgreSQL INTEGER column holds
HUGE = "9" * 5_000       # more digits than int() will read


def arabic_indic(number: int) -> str:
    """``12`` as "١٢": digits Python's int() reads, which no id or number field should take."""
    return "".join(chr(0x0660 + int(d)) for d in str(number))


def one_line_refusal(result: Any, code: int = 1) -> str:
    """A command's refusal: the exit code, no traceback, and one line naming the problem."""
    assert not isinstance(result.exception, Exception), repr(result.exception)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def alice(browser, cast: Cast):  # type: ignore[no-untyped-def]
    return browser.sign_in("alice@harbour.test")


# --- 2. ids out of range ---------------------------------------------------------------------------

def test_it_answers_404_for_a_url_id_too_big_for_the_database(alice, cast: Cast) -> None:  # type: ignore[no-untyped-def]
    for path in (f"/partners/{TOO_BIG}", f"/partners/{TOO_BIG}/experience", f"/partners/{TOO_BIG}/edit",
                 f"/partners/{cast.acme.id}/touchpoints/{TOO_BIG}", f"/moments/{TOO_BIG}/edit",
                 f"/feedback/requests/{TOO_BIG}", f"/follow-ups/{TOO_BIG}", f"/users/{TOO_BIG}/edit",
                 f"/partners/{HUGE}"):
        assert alice.get(path).status_code == 404, path
    assert alice.post(f"/partners/{TOO_BIG}/delete").status_code == 404


def test_it_answers_404_for_a_url_id_in_another_scripts_digits(alice, cast: Cast) -> None:  # type: ignore[no-untyped-def]
    assert alice.get(f"/partners/{cast.acme.id}").status_code == 200
    assert alice.get(f"/partners/{arabic_indic(cast.acme.id)}").status_code == 404


def test_it_names_the_field_when_a_form_or_filter_sends_an_id_too_big(alice, cast: Cast, session) -> None:  # type: ignore[no-untyped-def]
    asked = alice.post("/feedback/requests/new", {"client_email": "dana@client.test", "partner": TOO_BIG,
                                                  "touchpoint": "", "adviser": ""})
    assert asked.status_code == 422
    # Named in words on the partner field, not by the id that was sent (errors name things, never ids).
    assert "The partner you chose is no longer one of your partners" in text_of(asked) and TOO_BIG not in text_of(asked)
    assert 'href="#f-partner"' in asked.get_data(as_text=True)
    touchpoint = alice.post(f"/partners/{cast.acme.id}/touchpoints/new", {"name": "Portal", "moment": TOO_BIG})
    assert touchpoint.status_code == 422
    assert "is not one of this practice's moments of truth" in text_of(touchpoint)
    window = alice.post(f"/partners/{cast.acme.id}/maintenance", {"starts_at": "2030-01-01T09:00",
                                                                   "ends_at": "2030-01-01T10:00",
                                                                   "touchpoint": TOO_BIG})
    assert window.status_code == 422
    assert "Choose one of Acme Insurance's touchpoints" in text_of(window)
    for path in (f"/feedback/requests?partner={TOO_BIG}", f"/feedback/responses?moment={TOO_BIG}&page={HUGE[:30]}",
                 f"/follow-ups/?page={TOO_BIG}"):
        assert alice.get(path).status_code == 200, path
    assert session.scalar(select(func.count()).select_from(MaintenanceWindow)) == 0


def test_the_api_answers_404_for_a_partner_id_too_big(app, cast: Cast, session, runtime) -> None:  # type: ignore[no-untyped-def]
    from partnermon.feedback import api_keys
    key = api_keys.create_key(session, NOW, cast.harbour, cast.alice, "CRM").plaintext
    session.commit()
    client = app.test_client()
    for partner in (int(TOO_BIG), TOO_BIG, 2**70):
        response = client.post("/api/v1/feedback-requests", headers={"Authorization": f"Bearer {key}"},
                               json={"client_email": "dana@client.test", "partner": partner})
        assert response.status_code == 404, (partner, response.get_data(as_text=True))
        assert "partner" in response.get_json()["fields"]
    response = client.post("/api/v1/feedback-requests", headers={"Authorization": f"Bearer {key}"},
                           json={"client_email": "dana@client.test", "partner": cast.acme.id, "touchpoint": 2**40})
    assert response.status_code == 422
    assert "touchpoint" in response.get_json()["fields"]


def test_a_csv_row_with_an_id_too_big_is_a_problem_row(alice, cast: Cast) -> None:  # type: ignore[no-untyped-def]
    csv = f"client_email,partner,touchpoint\ndana@client.test,{TOO_BIG},\nerin@client.test,{cast.acme.id},{TOO_BIG}\n"
    response = alice.post("/feedback/import", {"csv": csv})
    assert response.status_code in (200, 422)
    page = text_of(response)
    assert f"“{TOO_BIG}” is not one of your partners" in page
    assert f"“{TOO_BIG}” is neither a touchpoint of Acme Insurance nor a moment of truth" in page


def test_feedback_link_with_a_partner_id_too_big_is_one_line(cli: Callable[..., Any], cast: Cast) -> None:
    result = cli("feedback-link", "--practice", "harbour", "--partner", TOO_BIG, "--client-email", "d@client.test")
    assert f"--partner: “{TOO_BIG}” is not one of your partners." in one_line_refusal(result)


# --- 3. web addresses that cannot be read -----------------------------------------------------------

UNREADABLE = "http://[::1"


def test_partner_and_touchpoint_forms_name_an_unreadable_address(alice, cast: Cast) -> None:  # type: ignore[no-untyped-def]
    for url in (UNREADABLE, "http://x.test:99999/", "http://x.test:port/"):
        partner = alice.post("/partners/new", {"name": "Bracket Bank", "category": "lender", "website": url})
        assert partner.status_code == 422, url
        assert "is not a web address that can be read" in text_of(partner)
        touchpoint = alice.post(f"/partners/{cast.acme.id}/touchpoints/new",
                                {"name": "Portal", "moment": "claim", "url": url})
        assert touchpoint.status_code == 422, url
        assert "is not a web address that can be read" in text_of(touchpoint)


def test_commands_refuse_an_unreadable_address_in_one_line(cli: Callable[..., Any], cast: Cast) -> None:
    line = one_line_refusal(cli("create-partner", "--practice", "harbour", "--name", "Bracket Bank",
                                "--website", UNREADABLE))
    assert "is not a web address that can be read" in line
    line = one_line_refusal(cli("add-touchpoint", "--practice", "harbour", "--partner", "Acme Insurance",
                                "--name", "Portal", "--moment", "claim", "--url", UNREADABLE))
    assert "is not a web address that can be read" in line
    line = one_line_refusal(cli("probe", UNREADABLE), code=64)
    assert "is not a web address that can be read" in line


# --- 4. digits of other scripts, and numbers too long to read ----------------------------------------

def test_number_fields_refuse_other_scripts_digits_and_huge_numbers(alice, cast: Cast, session) -> None:  # type: ignore[no-untyped-def]
    for days in (["²"], [arabic_indic(1)], [HUGE]):
        response = alice.post("/settings/", {"name": "Harbour Advice", "timezone": "Europe/London",
                                             "business_start": "09:00", "business_end": "17:00",
                                             "business_days": days, "brand_colour": "#1f4e79"})
        assert response.status_code == 422, days
        assert "Choose weekdays from the list." in text_of(response)
    for ref in ("²", arabic_indic(cast.acme_claims.id), HUGE):
        window = alice.post(f"/partners/{cast.acme.id}/maintenance", {"starts_at": "2030-01-01T09:00",
                                                                       "ends_at": "2030-01-01T10:00",
                                                                       "touchpoint": ref})
        assert window.status_code == 422, ref[:10]
        assert "Choose one of Acme Insurance's touchpoints" in text_of(window)
    claim = session.scalar(select(MomentOfTruth).where(MomentOfTruth.practice_id == cast.harbour.id,
                                                       MomentOfTruth.key == "claim"))
    for ref, says in (("²", "is not one of this practice's moments of truth"),
                      (arabic_indic(claim.id), "is not one of this practice's moments of truth"),
                      (HUGE[:100], "is not one of this practice's moments of truth"),
                      (HUGE, "Moment of truth must be at most 120 characters")):
        touchpoint = alice.post(f"/partners/{cast.acme.id}/touchpoints/new", {"name": "Portal", "moment": ref})
        assert touchpoint.status_code == 422, ref[:10]
        assert says in text_of(touchpoint)
    exposure = alice.post("/partners/new", {"name": "Digit Bank", "category": "lender", "exposure": arabic_indic(12)})
    assert exposure.status_code == 422
    assert "must be a whole number written with the digits 0–9" in text_of(exposure)
    minimum = alice.post("/settings/thresholds", {"score_min_responses": HUGE})
    assert minimum.status_code == 422
    assert "Minimum responses: enter a whole number from 3 to 1,000." in text_of(minimum)
    schedule = alice.post("/reports/schedule", {"report_day": HUGE, "report_hour": "²"})
    assert schedule.status_code == 422
    assert "enter a whole number from 1 to 28" in text_of(schedule)
    assert session.scalar(select(func.count()).select_from(Touchpoint)) == 1
    assert session.scalar(select(func.count()).select_from(Partner).where(Partner.name == "Digit Bank")) == 0


def test_add_touchpoint_refuses_a_moment_in_other_digits_in_one_line(cli: Callable[..., Any], cast: Cast) -> None:
    line = one_line_refusal(cli("add-touchpoint", "--practice", "harbour", "--partner", "Acme Insurance",
                                "--name", "Portal", "--moment", "²"))
    assert "“²” is not one of this practice's moments of truth" in line


# --- 5. NUL and other control characters ---------------------------------------------------------------

def test_a_nul_in_a_lookup_field_is_a_field_message(alice, cast: Cast) -> None:  # type: ignore[no-untyped-def]
    touchpoint = alice.post(f"/partners/{cast.acme.id}/touchpoints/new", {"name": "Portal", "moment": "claim\x00"})
    assert touchpoint.status_code == 422
    assert "Moment of truth contains control characters." in text_of(touchpoint)


def test_a_nul_in_a_url_or_its_query_is_refused(alice, cast: Cast, new_browser) -> None:  # type: ignore[no-untyped-def]
    for path in ("/admin/emails?to=%00", "/feedback/requests?status=%00", "/?period=2026-11%00"):
        response = alice.get(path)
        assert response.status_code == 400, path
        assert "control characters" in text_of(response)
    assert new_browser().get("/p/harb%00our/feedback").status_code == 404
    assert alice.get("/reports/2026-1%00.pdf").status_code == 404


def test_signing_in_with_a_nul_in_the_email_is_refused_like_a_wrong_password(new_browser, cast: Cast) -> None:  # type: ignore[no-untyped-def]
    response = new_browser().post("/sign-in", {"email": "alice@harbour.test\x00", "password": "x"})
    assert response.status_code == 401
    assert "do not match an active account" in text_of(response)


# --- 6. months at the end of the calendar --------------------------------------------------------------

def test_month_9999_12_is_a_message_on_every_page_that_takes_a_month(alice, cast: Cast) -> None:  # type: ignore[no-untyped-def]
    made = alice.post("/reports/", {"month": "9999-12"})
    assert made.status_code == 422
    assert "choose a month from 2000-01 to 9998-12" in text_of(made)
    for path in ("/?period=9999-12", f"/partners/{cast.acme.id}/experience?period=9999-12"):
        page = alice.get(path)
        assert page.status_code == 200, path
        assert "choose a month from 2000-01 to 9998-12" in text_of(page), path
    export = alice.get("/scores.csv?period=9999-12")
    assert export.status_code == 302
    assert "choose a month from 2000-01 to 9998-12" in text_of(alice.get(export.headers["Location"]))
    assert alice.get("/reports/9999-12/preview").status_code == 404
    assert alice.get("/reports/9999-12.pdf").status_code == 404


def test_report_and_export_refuse_month_9999_12_in_one_line(cli: Callable[..., Any], cast: Cast) -> None:
    line = one_line_refusal(cli("report", "--practice", "harbour", "--month", "9999-12"))
    assert "choose a month from 2000-01 to 9998-12" in line
    line = one_line_refusal(cli("export", "--practice", "harbour", "--what", "requests", "--month", "9999-12"))
    assert "choose a month from 2000-01 to 9998-12" in line
