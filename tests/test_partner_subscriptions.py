"""Who is emailed about a partner: owners by default, advisers who ask, never viewers, deactivated users or
another practice — and the "Notify me about this partner" switch on the partner page."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.alerts.subscriptions import is_subscribed, set_subscription, subscribers_for
from partnermon.errors import NotFound, ValidationError
from partnermon.models import PartnerSubscription
from tests import factories
from tests.conftest import NOW, PASSWORD, text_of
from tests.factories import Cast


def emails_of(session: Session, cast: Cast) -> list[str]:
    return [user.email for user in subscribers_for(session, cast.acme)]


def test_owners_are_subscribed_by_default_and_advisers_and_viewers_are_not(session: Session, cast: Cast) -> None:
    assert emails_of(session, cast) == ["alice@harbour.test"]
    assert [u.email for u in subscribers_for(session, cast.zenith)] == ["charlie@quay.test"]


def test_an_owner_may_opt_out_and_an_adviser_in_and_a_deactivated_user_is_never_told(
        session: Session, cast: Cast) -> None:
    dora = factories.user(session, NOW, cast.harbour, "dora@harbour.test", "owner", PASSWORD)
    set_subscription(session, NOW, cast.alice, cast.acme, False)
    set_subscription(session, NOW, cast.bob, cast.acme, True)
    set_subscription(session, NOW, cast.bob, cast.acme, True)          # twice: still one row
    session.commit()
    assert emails_of(session, cast) == ["bob@harbour.test", "dora@harbour.test"]
    dora.is_active = False
    session.commit()
    assert emails_of(session, cast) == ["bob@harbour.test"]
    assert session.scalar(select(PartnerSubscription).where(PartnerSubscription.user_id == cast.bob.id)).subscribed
    assert len(session.scalars(select(PartnerSubscription)).all()) == 2


def test_a_viewer_cannot_subscribe_and_nobody_can_for_another_practices_partner(session: Session, cast: Cast) -> None:
    with pytest.raises(ValidationError):
        set_subscription(session, NOW, cast.vera, cast.acme, True)
    with pytest.raises(NotFound):
        set_subscription(session, NOW, cast.charlie, cast.acme, True)
    assert not is_subscribed(session, cast.charlie, cast.acme)
    assert session.scalars(select(PartnerSubscription)).all() == []


def test_bob_turns_on_notifications_from_the_partner_page_and_off_again(session: Session, cast: Cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("bob@harbour.test")
    page = text_of(browser.get(f"/partners/{cast.acme.id}"))
    assert "You are not emailed about Acme Insurance" in page and "Notify me about this partner" in page

    response = browser.post(f"/partners/{cast.acme.id}/subscription", {"notify": "1"}, follow_redirects=True)
    assert "You will be emailed about Acme Insurance: when one of its touchpoints goes down" in text_of(response)
    assert "Stop notifying me about this partner" in text_of(response)
    assert emails_of(session, cast) == ["alice@harbour.test", "bob@harbour.test"]

    browser.post(f"/partners/{cast.acme.id}/subscription", {"notify": "0"})
    assert emails_of(session, cast) == ["alice@harbour.test"]


def test_alice_turns_off_the_default_for_one_partner(session: Session, cast: Cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    assert "Stop notifying me about this partner" in text_of(browser.get(f"/partners/{cast.acme.id}"))
    response = browser.post(f"/partners/{cast.acme.id}/subscription", {"notify": "0"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/partners/{cast.acme.id}#notify")
    assert emails_of(session, cast) == []


def test_vera_sees_no_switch_and_may_not_post_one(session: Session, cast: Cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("vera@harbour.test")
    assert "Notify me" not in text_of(browser.get(f"/partners/{cast.acme.id}"))
    assert browser.post(f"/partners/{cast.acme.id}/subscription", {"notify": "1"}).status_code == 403
    assert session.scalars(select(PartnerSubscription)).all() == []


def test_charlie_gets_404_for_harbours_partner_and_changes_nothing(session: Session, cast: Cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("charlie@quay.test")
    assert browser.post(f"/partners/{cast.acme.id}/subscription", {"notify": "0"}).status_code == 404
    assert session.scalars(select(PartnerSubscription)).all() == []
    assert emails_of(session, cast) == ["alice@harbour.test"]
