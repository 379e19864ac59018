"""Feedback requests: personal links with hashed tokens, the invitation email, throttle, idempotent refs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon.accounts.security import token_hash
from partnermon.errors import ValidationError
from partnermon.feedback import links
from partnermon.models import FeedbackRequest, OutboxEmail
from tests.conftest import NOW
from tests.factories import Cast

BASE = "http://partnermon.test"


def ask(session: Session, cast: Cast, **data: Any) -> links.NewRequest:
    values = {"partner": "Acme Insurance", "client_email": "dana@client.test", "client_name": "Dana", **data}
    made = links.create_request(session, NOW, cast.harbour, values, actor=cast.bob, source="form",
                                   base_url=BASE, adviser=cast.bob, override_throttle=data.pop("override", False))
    session.commit()
    return made


def test_it_stores_only_a_hash_of_a_long_random_token_and_binds_the_request(session: Session, cast: Cast) -> None:
    made = ask(session, cast, touchpoint="Claims form")
    token = made.link.rsplit("/", 1)[1]
    assert len(token) >= 22   # ≥ 128 bits of URL-safe base64
    stored = session.scalars(select(FeedbackRequest)).one()
    assert stored.token_hash == token_hash(token) and token not in stored.token_hash
    assert (stored.partner_id, stored.touchpoint_id, stored.moment.key) == (cast.acme.id, cast.acme_claims.id, "claim")
    assert (stored.status, stored.adviser_id, stored.expires_at) == ("queued", cast.bob.id, NOW + timedelta(days=30))
    assert links.find_by_token(session, token).id == stored.id
    assert links.find_by_token(session, token + "x") is None


def test_the_invitation_email_names_the_partner_and_offers_the_scale_as_links(session: Session, cast: Cast) -> None:
    made = ask(session, cast, touchpoint="claim")
    email = session.scalars(select(OutboxEmail)).one()
    assert email.to_addr == "dana@client.test"
    assert "Acme Insurance" in email.subject and "Harbour Advice" in email.subject
    for rating in range(1, 6):
        assert f"{made.link}?rating={rating}" in email.text_body
        assert f"{made.link}?rating={rating}" in email.html_body
    assert "claims and hardship" in email.text_body


def test_html_in_a_client_name_is_escaped_in_the_email(session: Session, cast: Cast) -> None:
    ask(session, cast, client_name="<script>alert(1)</script>")
    email = session.scalars(select(OutboxEmail)).one()
    assert "<script>alert(1)</script>" not in email.html_body
    assert "&lt;script&gt;" in email.html_body


def test_a_client_asked_recently_is_held_back_with_the_reason_unless_overridden(session: Session, cast: Cast) -> None:
    ask(session, cast)
    with pytest.raises(ValidationError) as held:
        ask(session, cast, client_email="DANA@client.test")
    assert "waits 30 days" in held.value.errors["client_email"]
    session.rollback()
    made = ask(session, cast, override=True)
    assert made.request.throttle_overridden
    assert session.scalar(select(func.count()).select_from(FeedbackRequest)) == 2


def test_the_same_external_ref_returns_the_same_request(session: Session, cast: Cast) -> None:
    first = ask(session, cast, external_ref="CLM-1001")
    again = ask(session, cast, external_ref="CLM-1001")
    assert first.created and not again.created and again.request.id == first.request.id
    assert session.scalar(select(func.count()).select_from(OutboxEmail)) == 1


@pytest.mark.parametrize("field, value, words", [
    ("client_email", "not-an-email", "not an email address"),
    ("partner", "Zenith Platform", "not one of your partners"),   # Quay's partner: another tenant's is unknown
    ("touchpoint", "Portal", "neither a touchpoint"),
    ("adviser_email", "charlie@quay.test", "not an active user"),
])
def test_bad_fields_are_named_and_nothing_is_created(session: Session, cast: Cast, field: str, value: str,
                                                     words: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ask(session, cast, **{field: value})
    assert words in refused.value.errors[field]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(FeedbackRequest)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


@pytest.mark.parametrize("field, value, words", [
    ("partner", "Acme\x00Insurance", "Partner contains control characters"),
    ("touchpoint", "claim\x00", "Touchpoint contains control characters"),
    ("adviser_email", "bob\x00@harbour.test", "Email address contains control characters"),
    ("adviser_email", "bob", "is not an email address"),
    ("client_email", "dana\x00@client.test", "Email address contains control characters"),
    ("partner", "Acme Insurance" * 20, "at most 200 characters"),
])
def test_control_characters_and_overlong_references_are_named_not_a_server_error(
        session: Session, cast: Cast, field: str, value: str, words: str) -> None:
    # A NUL reached PostgreSQL in a lookup, which refuses it: on that database this was a 500.
    with pytest.raises(ValidationError) as refused:
        ask(session, cast, **{field: value})
    assert words in refused.value.errors[field]
    assert list(refused.value.errors) == [field]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(FeedbackRequest)) == 0
