"""Sign-in, sign-out, first-run set-up, password changes and their session rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from partnermon.accounts import service as accounts
from partnermon.practices import service as practices
from partnermon.models import AuditEvent, MomentOfTruth, Practice, SignInFailure, User
from tests.conftest import NOW, PASSWORD, text_of


def test_first_visit_to_an_empty_database_leads_to_setup(runtime, client):
    response = client.get("/partners/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/setup")


def test_setup_creates_the_first_practice_its_owner_and_default_moments(runtime, browser, session):
    response = browser.post("/setup", {
        "practice_name": "Harbour Advice", "slug": "harbour", "timezone": "Europe/London",
        "name": "Alice", "email": "Alice@Harbour.test", "password": PASSWORD, "confirm": PASSWORD,
    })
    assert response.status_code == 302
    practice = session.scalar(select(Practice))
    assert practice is not None and practice.slug == "harbour"
    owner = session.scalar(select(User))
    assert owner.email == "alice@harbour.test" and owner.role == "owner"
    keys = session.scalars(select(MomentOfTruth.key).where(MomentOfTruth.practice_id == practice.id)).all()
    assert set(keys) == {"opening", "conversion", "service", "claim", "complaint", "renewal", "departure", "return", "advocacy"}
    # Signed in straight away.
    assert browser.get("/").status_code == 200


def test_setup_rerenders_with_field_messages_and_saves_nothing(runtime, browser, session):
    response = browser.post("/setup", {
        "practice_name": "", "slug": "Not A Slug!", "timezone": "Mars/Olympus",
        "email": "not-an-email", "password": "short", "confirm": "different",
    })
    assert response.status_code == 422
    page = text_of(response)
    assert "Practice name is required" in page
    assert "lowercase letters" in page
    assert "Mars/Olympus" in page and "not a time zone" in page
    assert "The two passwords are different" in page
    assert session.scalar(select(func.count()).select_from(Practice)) == 0


def test_setup_offers_the_time_zones_as_a_list(runtime, client):
    html = client.get("/setup").get_data(as_text=True)
    assert '<select id="f-timezone" name="timezone" required' in html
    assert '<option value="Europe/London" selected>London — Europe</option>' in html
    assert "partnermon has no practice yet" in html and "First run" in html


def test_beside_only_the_demo_practice_setup_says_so(runtime, session, client):
    demo = practices.create_practice(session, NOW, slug="demo", name="Demo Advice")
    demo.is_demo = True
    session.commit()
    page = text_of(client.get("/setup"))
    assert "Only the demo practice is here so far" in page and "no practice yet" not in page
    assert "This page disappears once your practice exists" in page


def test_setup_is_gone_once_a_practice_exists(cast, browser, session):
    assert browser.get("/setup").status_code == 404
    response = browser.post("/setup", {"practice_name": "Evil", "slug": "evil", "timezone": "Europe/London",
                                        "email": "evil@x.test", "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 404
    assert session.scalar(select(func.count()).select_from(Practice)) == 2


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(cast, browser):
    response = browser.post("/sign-in", {"email": "alice@harbour.test", "password": "wrong password"})
    assert response.status_code == 401
    assert "do not match an active account" in text_of(response)
    unknown = browser.post("/sign-in", {"email": "nobody@harbour.test", "password": "wrong password"})
    assert text_of(unknown).count("do not match an active account") == 1


def test_failed_sign_ins_are_rate_limited_per_email(cast, session):
    for _ in range(accounts.MAX_FAILURES_PER_EMAIL):
        with pytest.raises(accounts.SignInRefused):
            accounts.authenticate(session, NOW, "alice@harbour.test", "nope", "192.0.2.1")
    # Even the right password is refused while the limit holds, from any address.
    with pytest.raises(accounts.SignInRefused, match="Too many failed sign-ins"):
        accounts.authenticate(session, NOW + timedelta(minutes=1), "alice@harbour.test", PASSWORD, "192.0.2.99")
    # After the window it works again, and a success clears the record.
    user = accounts.authenticate(session, NOW + timedelta(minutes=16), "alice@harbour.test", PASSWORD, "192.0.2.1")
    assert user.email == "alice@harbour.test"
    session.commit()
    assert session.scalar(select(func.count()).select_from(SignInFailure).where(SignInFailure.email == "alice@harbour.test")) == 0


def test_failed_sign_ins_are_rate_limited_per_address(cast, session):
    for n in range(accounts.MAX_FAILURES_PER_IP):
        with pytest.raises(accounts.SignInRefused):
            accounts.authenticate(session, NOW, f"guess{n}@harbour.test", "nope", "198.51.100.7")
    with pytest.raises(accounts.SignInRefused, match="Too many"):
        accounts.authenticate(session, NOW, "alice@harbour.test", PASSWORD, "198.51.100.7")


def test_the_web_sign_in_stops_after_five_failures(cast, browser):
    for _ in range(accounts.MAX_FAILURES_PER_EMAIL):
        browser.post("/sign-in", {"email": "bob@harbour.test", "password": "nope"})
    response = browser.post("/sign-in", {"email": "bob@harbour.test", "password": PASSWORD})
    assert response.status_code == 401
    assert "Too many failed sign-ins" in text_of(response)


def test_a_deactivated_user_cannot_sign_in(cast, browser, session):
    cast.bob.is_active = False
    session.commit()
    response = browser.post("/sign-in", {"email": "bob@harbour.test", "password": PASSWORD})
    assert response.status_code == 401


@pytest.mark.parametrize("target, expected", [
    ("/partners/", "/partners/"),
    ("https://evil.test/phish", "/"),
    ("//evil.test/phish", "/"),
    ("/\\evil.test", "/"),
    ("javascript:alert(1)", "/"),
    ("", "/"),
])
def test_next_redirects_only_go_to_local_paths(cast, browser, target, expected):
    response = browser.post("/sign-in", {"email": "alice@harbour.test", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_sign_out_ends_the_session(cast, browser):
    browser.sign_in("alice@harbour.test")
    assert browser.post("/sign-out").status_code == 302
    assert browser.get("/partners/").headers["Location"].startswith("/sign-in")


def test_a_password_change_ends_other_sessions_but_keeps_this_one(cast, browser, new_browser, session):
    browser.sign_in("alice@harbour.test")
    laptop = new_browser().sign_in("alice@harbour.test")
    new_password = "a brand new passphrase"
    response = browser.post("/account/password", {"current": PASSWORD, "password": new_password, "confirm": new_password})
    assert response.status_code == 302
    assert browser.get("/partners/").status_code == 200
    assert laptop.get("/partners/").status_code == 302
    fresh = new_browser()
    assert fresh.post("/sign-in", {"email": "alice@harbour.test", "password": PASSWORD}).status_code == 401
    fresh.sign_in("alice@harbour.test", new_password)
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "user.password_changed")) is not None


def test_a_password_change_needs_the_current_password_and_a_good_new_one(cast, browser):
    browser.sign_in("alice@harbour.test")
    wrong = browser.post("/account/password", {"current": "nope", "password": "long enough pass", "confirm": "long enough pass"})
    assert wrong.status_code == 422 and "current password is not right" in text_of(wrong)
    weak = browser.post("/account/password", {"current": PASSWORD, "password": "short", "confirm": "short"})
    assert weak.status_code == 422 and "at least 10 characters" in text_of(weak)
    mismatch = browser.post("/account/password", {"current": PASSWORD, "password": "long enough pass", "confirm": "other pass!!"})
    assert mismatch.status_code == 422 and "different" in text_of(mismatch)


def test_deactivating_a_user_signs_them_out(cast, browser, new_browser):
    bobs = new_browser().sign_in("bob@harbour.test")
    browser.sign_in("alice@harbour.test")
    response = browser.post(f"/users/{cast.bob.id}/edit", {"role": "adviser", "name": "Bob"})  # "active" unticked
    assert response.status_code == 302
    assert bobs.get("/partners/").status_code == 302


def test_the_session_cookie_is_httponly_and_samesite_lax(cast, browser):
    response = browser.post("/sign-in", {"email": "alice@harbour.test", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # served over plain http in this test


def test_the_session_cookie_is_secure_when_served_over_https(cast, runtime):
    from partnermon.app import create_app
    from partnermon.runtime import Runtime
    from tests.conftest import Browser

    https = Runtime(runtime.settings.with_overrides(base_url="https://partnermon.example"), runtime.engine, runtime.session_factory)
    browser = Browser(create_app(runtime=https, TESTING=True).test_client())
    response = browser.post("/sign-in", {"email": "alice@harbour.test", "password": PASSWORD})
    assert "Secure" in response.headers["Set-Cookie"]


def test_passwords_are_stored_as_argon2id_hashes(cast, session):
    stored = session.scalar(select(User.password_hash).where(User.email == "alice@harbour.test"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert "m=19456" in stored and "t=2" in stored
