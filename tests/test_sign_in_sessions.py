"""Sign-ins live on the server: sign-out, a password change and deactivation end them for every copy of
the cookie, and an idle or old sign-in ends by itself. Time is the app's clock, set by each test."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon import jobs
from partnermon.accounts import sign_ins
from partnermon.accounts.security import token_hash
from partnermon.models import SignInSession
from partnermon.runtime import Runtime
from tests.conftest import NOW, PASSWORD, Browser, text_of
from tests.factories import Cast

COOKIE = "partnermon_session"


@pytest.fixture
def set_clock(app: Flask):  # type: ignore[no-untyped-def]
    app.config["PARTNERMON_CLOCK"] = lambda: NOW

    def set_to(moment: datetime) -> None:
        app.config["PARTNERMON_CLOCK"] = lambda: moment

    return set_to


def copy_of_cookie(app: Flask, browser: Browser) -> Browser:
    """Another browser holding a copy of ``browser``'s session cookie, as a thief would."""
    cookie = browser.client.get_cookie(COOKIE)
    assert cookie is not None
    thief = Browser(app.test_client())
    thief.client.set_cookie(COOKIE, cookie.value)
    return thief


def cookie_token(app: Flask, browser: Browser) -> str:
    cookie = browser.client.get_cookie(COOKIE)
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return str(serializer.loads(cookie.value)["sid"])


def signed_in(browser: Browser) -> bool:
    response = browser.get("/partners/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_copy_of_the_cookie_taken_before_sign_out_no_longer_works_after_it(
        app: Flask, cast: Cast, browser: Browser, set_clock) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    thief = copy_of_cookie(app, browser)
    assert signed_in(thief)

    assert browser.post("/sign-out").status_code == 302

    assert not signed_in(thief)
    assert not signed_in(browser)


def test_signing_out_in_one_browser_leaves_another_signed_in(
        cast: Cast, browser: Browser, new_browser, set_clock) -> None:  # type: ignore[no-untyped-def]
    laptop = new_browser().sign_in("alice@harbour.test")
    browser.sign_in("alice@harbour.test")

    browser.post("/sign-out")

    assert signed_in(laptop)
    assert not signed_in(browser)


def test_the_database_keeps_only_a_hash_of_the_token_in_the_cookie(
        app: Flask, cast: Cast, browser: Browser, session: Session, set_clock) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    token = cookie_token(app, browser)

    [row] = session.scalars(select(SignInSession)).all()
    assert len(token) >= 43  # 256 bits, URL-safe base64
    assert (row.user_id, row.token_hash, row.created_at, row.ended_at) == (cast.alice.id, token_hash(token), NOW, None)
    assert token not in row.token_hash


def test_a_password_change_ends_the_other_sign_ins_on_the_server_but_not_this_one(
        app: Flask, cast: Cast, browser: Browser, new_browser, session: Session, set_clock) -> None:  # type: ignore[no-untyped-def]
    laptop = new_browser().sign_in("alice@harbour.test")
    browser.sign_in("alice@harbour.test")
    this_token = cookie_token(app, browser)
    bobs = new_browser().sign_in("bob@harbour.test")
    new_password = "a brand new passphrase"

    browser.post("/account/password", {"current": PASSWORD, "password": new_password, "confirm": new_password})

    assert signed_in(browser) and signed_in(copy_of_cookie(app, browser))
    assert not signed_in(laptop)
    assert signed_in(bobs)
    ended = {r.token_hash: r.ended_at for r in session.scalars(select(SignInSession).where(
        SignInSession.user_id == cast.alice.id))}
    assert ended.pop(token_hash(this_token)) is None
    assert list(ended.values()) == [NOW]


def test_a_sign_in_unused_for_the_idle_limit_ends(
        cast: Cast, browser: Browser, set_clock) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    set_clock(NOW + sign_ins.IDLE_LIMIT - timedelta(seconds=1))
    assert signed_in(browser)
    # That visit counts as use: the idle limit starts again from it.
    set_clock(NOW + 2 * sign_ins.IDLE_LIMIT - timedelta(seconds=2))
    assert signed_in(browser)
    set_clock(NOW + 3 * sign_ins.IDLE_LIMIT)
    assert not signed_in(browser)


def test_a_sign_in_in_daily_use_still_ends_at_its_maximum_age(
        cast: Cast, browser: Browser, set_clock) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    day = NOW
    while day < NOW + sign_ins.MAX_AGE - timedelta(days=1):
        day += timedelta(days=1)
        set_clock(day)
        assert signed_in(browser)
    set_clock(NOW + sign_ins.MAX_AGE)
    assert not signed_in(browser)


def test_prune_forgets_sign_ins_that_ended_or_expired(
        cast: Cast, session: Session, runtime: Runtime) -> None:
    live = sign_ins.start(session, NOW, cast.alice)
    ended = sign_ins.start(session, NOW, cast.alice)
    sign_ins.end(session, NOW, ended)
    sign_ins.start(session, NOW - sign_ins.IDLE_LIMIT, cast.bob)
    session.commit()

    assert jobs.prune(runtime, NOW) == 2

    assert session.scalars(select(SignInSession.token_hash)).all() == [token_hash(live)]


def test_signing_out_everywhere_else_ends_the_other_sign_ins_and_keeps_this_one(
        app: Flask, cast: Cast, browser: Browser, new_browser, set_clock) -> None:  # type: ignore[no-untyped-def]
    laptop = new_browser().sign_in("alice@harbour.test")
    phone = new_browser().sign_in("alice@harbour.test")
    browser.sign_in("alice@harbour.test")
    page = text_of(browser.get("/account/sign-ins", headers={"User-Agent": "Firefox on the office PC"}))
    assert page.count("Werkzeug/") == 3 and "(this browser)" in page

    response = browser.post("/account/sign-ins", follow_redirects=True)

    assert "Signed out of 2 other browsers" in text_of(response)
    assert signed_in(browser) and signed_in(copy_of_cookie(app, browser))
    assert not signed_in(laptop) and not signed_in(phone)
    assert text_of(browser.get("/account/sign-ins")).count("Werkzeug/") == 1


def test_a_browser_whose_user_agent_holds_control_characters_signs_in_and_keeps_only_printable_text(
        cast: Cast, browser: Browser, session: Session, set_clock) -> None:  # type: ignore[no-untyped-def]
    response = browser.post("/sign-in", {"email": "alice@harbour.test", "password": PASSWORD},
                            headers={"User-Agent": "Evil\x00Browser\x01/1.0"})
    assert response.status_code == 302  # PostgreSQL refuses a NUL in text: this was a 500 there
    [row] = session.scalars(select(SignInSession)).all()
    assert row.user_agent == "EvilBrowser/1.0"
