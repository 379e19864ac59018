"""Inviting users: the email goes through the outbox with the change; the link works once, then expires."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from partnermon.accounts import service as accounts
from partnermon.accounts.security import token_hash
from partnermon.errors import NotFound, ValidationError
from partnermon.models import Invitation, OutboxEmail, User
from tests.conftest import NOW, PASSWORD, text_of

import pytest


def invitation_link(session, email: str) -> str:  # type: ignore[no-untyped-def]
    row = session.scalars(select(OutboxEmail).where(OutboxEmail.to_addr == email).order_by(OutboxEmail.id.desc())).first()
    match = re.search(r"http://partnermon\.test(/invitation/[A-Za-z0-9_-]+)", row.text_body)
    assert match, row.text_body
    return match[1]


def test_alice_invites_bob2_and_the_email_waits_in_the_outbox(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    response = browser.post("/users/new", {"email": "Dana@Harbour.test", "name": "Dana", "role": "adviser"}, follow_redirects=True)
    assert "Invited dana@harbour.test" in text_of(response)
    dana = session.scalar(select(User).where(User.email == "dana@harbour.test"))
    assert dana.password_hash is None and dana.role == "adviser" and dana.practice_id == cast.harbour.id
    email = session.scalar(select(OutboxEmail).where(OutboxEmail.to_addr == "dana@harbour.test"))
    assert email.status == "queued" and email.kind == "invitation"
    assert "Harbour Advice" in email.subject
    assert "alice@harbour.test" in email.subject or "Alice" in email.subject
    assert "/invitation/" in email.text_body and "/invitation/" in email.html_body
    # Only the hash of the token is stored.
    token = invitation_link(session, "dana@harbour.test").rsplit("/", 1)[1]
    assert session.scalar(select(Invitation.token_hash).where(Invitation.user_id == dana.id)) == token_hash(token)
    assert token not in session.scalar(select(Invitation.token_hash).where(Invitation.user_id == dana.id))
    assert "Invited" in text_of(browser.get("/users/"))


def test_an_invitation_email_escapes_what_the_owner_typed(cast, session):
    accounts.invite_user(session, NOW, cast.harbour, email="eve@harbour.test", role="viewer",
                         name="<b>Eve</b>", actor=cast.alice, base_url="http://partnermon.test")
    session.commit()
    email = session.scalar(select(OutboxEmail).where(OutboxEmail.to_addr == "eve@harbour.test"))
    assert "<b>Eve</b>" not in email.html_body and "&lt;b&gt;Eve&lt;/b&gt;" in email.html_body
    assert "<b>Eve</b>" in email.text_body  # plain text is not HTML and is not escaped


def test_a_failed_invitation_leaves_no_user_and_no_email(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    response = browser.post("/users/new", {"email": "bob@harbour.test", "role": "adviser"})
    assert response.status_code == 422 and "already has a partnermon account" in text_of(response)
    bad_role = browser.post("/users/new", {"email": "new@harbour.test", "role": "admin"})
    assert bad_role.status_code == 422 and "Role must be one of" in text_of(bad_role)
    assert session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
    assert session.scalar(select(User).where(User.email == "new@harbour.test")) is None


def test_opening_the_link_records_nothing_and_posting_sets_the_password_once(cast, browser, new_browser, session):
    browser.sign_in("alice@harbour.test")
    browser.post("/users/new", {"email": "dana@harbour.test", "role": "viewer"})
    link = invitation_link(session, "dana@harbour.test")

    dana = new_browser()
    # A mail scanner (or Dana) opening the link twice changes nothing.
    assert dana.get(link).status_code == 200
    assert "Join Harbour Advice" in text_of(dana.get(link))
    assert session.scalar(select(Invitation.used_at)) is None

    weak = dana.post(link, {"password": "short", "confirm": "short"})
    assert weak.status_code == 422 and "at least 10 characters" in text_of(weak)

    response = dana.post(link, {"password": "dana's long passphrase", "confirm": "dana's long passphrase"})
    assert response.status_code == 302
    assert dana.get("/partners/").status_code == 200  # signed in

    # Single use: the link is gone for everyone now.
    again = new_browser().post(link, {"password": "another passphrase", "confirm": "another passphrase"})
    assert again.status_code == 410 and "can no longer be used" in text_of(again)
    new_browser().sign_in("dana@harbour.test", "dana's long passphrase")


def test_an_invitation_expires_after_seven_days(cast, session):
    invitation = accounts.invite_user(session, NOW, cast.harbour, email="late@harbour.test", role="viewer",
                                      actor=cast.alice, base_url="http://partnermon.test")
    session.commit()
    token = invitation.link.rsplit("/", 1)[1]
    assert accounts.open_invitation(session, NOW + timedelta(days=6, hours=23), token) is not None
    assert accounts.open_invitation(session, NOW + timedelta(days=7), token) is None
    with pytest.raises(NotFound):
        accounts.accept_invitation(session, NOW + timedelta(days=8), token, "long enough pw", "long enough pw")


def test_an_unknown_invitation_link_gets_the_same_friendly_page(cast, browser):
    response = browser.get("/invitation/not-a-real-token")
    assert response.status_code == 410 and "can no longer be used" in text_of(response)


def test_resending_an_invitation_makes_older_links_stop_working(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    browser.post("/users/new", {"email": "dana@harbour.test", "role": "viewer"})
    first = invitation_link(session, "dana@harbour.test")
    dana = session.scalar(select(User).where(User.email == "dana@harbour.test"))
    response = browser.post(f"/users/{dana.id}/resend", follow_redirects=True)
    assert "earlier links no longer work" in text_of(response)
    second = invitation_link(session, "dana@harbour.test")
    assert first != second
    assert browser.get(first).status_code == 410
    assert browser.get(second).status_code == 200


def test_a_practice_keeps_at_least_one_active_owner(cast, session, browser):
    with pytest.raises(ValidationError, match="at least one active owner"):
        accounts.update_user(session, NOW, cast.alice, cast.alice, role="adviser", name="", active=True,
                             base_url="http://partnermon.test")
    session.rollback()
    browser.sign_in("alice@harbour.test")
    response = browser.post(f"/users/{cast.alice.id}/edit", {"role": "owner", "name": "Alice"})  # unticked "active"
    assert response.status_code == 422
    session.refresh(cast.alice)
    assert cast.alice.is_active


def test_alice_changes_bobs_role(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    browser.post(f"/users/{cast.bob.id}/edit", {"role": "viewer", "name": "Bob", "active": "1"})
    session.refresh(cast.bob)
    assert cast.bob.role == "viewer" and cast.bob.is_active
