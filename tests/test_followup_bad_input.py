"""Issue 19's bad input through the follow-up page, as a person would type it: resolving without saying what
became of the client, or "moved" to a partner that is not one of this practice's (unknown, malformed, another
practice's, or the very one they were unhappy with). Each is a 422 with the message tied to its field, what was
typed kept, and nothing half-saved. The service's own checks are in test_followup_ladder.py; closure dates (page
and command line) in test_closure_settings.py.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from partnermon.models import FollowUp
from partnermon.partners import service as partners
from tests.conftest import text_of
from tests.factories import Cast
from tests.test_followup_pages import page_of, state
from tests.test_followups import answer, clock, the_follow_up  # noqa: F401 - clock


@pytest.fixture
def mild(session: Session, cast: Cast, clock: Callable[..., None]) -> FollowUp:
    """Bob's mild follow-up about Acme's everyday service; Harbour also recommends Beacon Life."""
    partners.create_partner(session, cast.harbour.created_at, cast.harbour.id, "test",
                            {"name": "Beacon Life", "category": "insurer"})
    answer(session, cast, {"satisfaction": "2"}, about="service")
    return the_follow_up(session)


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"outcome_kind": ""}, "outcome_kind", "Choose what became of the client: stayed, moved to another partner, "
                                           "left the practice, or not known yet."),
    ({"outcome_kind": "vanished"}, "outcome_kind", "Choose what became of the client"),
    ({"outcome_kind": "moved"}, "moved_to", "Choose the partner of this practice the client moved to."),
    ({"outcome_kind": "moved", "moved_to": "99999"}, "moved_to", "Choose the partner of this practice the client "
                                                                 "moved to."),
    ({"outcome_kind": "moved", "moved_to": "99999999999999999999"}, "moved_to", "Choose the partner of this practice"),
    ({"outcome_kind": "moved", "moved_to": "beacon"}, "moved_to", "Choose the partner of this practice"),
    ({"outcome_kind": "moved", "moved_to": "-1"}, "moved_to", "Choose the partner of this practice"),
    ({"outcome_kind": "moved", "moved_to": "zenith"}, "moved_to", "Choose the partner of this practice"),  # Quay's
    ({"outcome_kind": "moved", "moved_to": "acme"}, "moved_to", "Choose another partner than Acme Insurance, the one "
                                                                "they were unhappy with."),
    ({"outcome_kind": "stayed", "outcome": "  "}, "outcome", "Say how it ended: an outcome note is needed"),
], ids=["no-outcome", "unknown-outcome", "moved-nowhere", "unknown-partner", "huge-id", "not-an-id", "negative-id",
        "another-practices-partner", "same-partner", "no-note"])
def test_a_bad_resolve_comes_back_with_a_field_message_and_nothing_is_saved(
        cast: Cast, mild: FollowUp, browser: Any, engine: Engine, fields: dict[str, str], field: str,
        message: str) -> None:
    ids = {"zenith": str(cast.zenith.id), "acme": str(cast.acme.id)}
    data = {"outcome": "Moved her policy.", **fields}
    data["moved_to"] = ids.get(data.get("moved_to", ""), data.get("moved_to", ""))
    browser.sign_in("bob@harbour.test")
    before = state(engine)
    response = browser.post(page_of(mild) + "/resolve", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in text_of(response)
    assert f'id="f-{field}-error"' in html
    if data["outcome"].strip():
        assert ">Moved her policy.</textarea>" in html   # what was typed is kept
    assert state(engine) == before
    assert "Resolved" not in text_of(browser.get(page_of(mild))).split("History")[1]


def test_the_practices_own_row_is_not_offered_nor_taken_as_moved_to(
        session: Session, cast: Cast, mild: FollowUp, browser: Any, engine: Engine) -> None:
    from partnermon.partners.own import ensure_own_partner

    own = ensure_own_partner(session, cast.harbour.created_at, cast.harbour, cast.alice)
    session.commit()
    browser.sign_in("bob@harbour.test")
    html = browser.get(page_of(mild)).get_data(as_text=True)
    assert "Beacon Life</option>" in html and "Harbour Advice</option>" not in html
    before = state(engine)
    response = browser.post(page_of(mild) + "/resolve", {"outcome": "Moved her policy.", "outcome_kind": "moved",
                                                         "moved_to": str(own.id)})
    assert response.status_code == 422
    assert ("Harbour Advice holds the practice's own touchpoints and is not a partner: choose the partner the client "
            "moved to, or “stayed” if they stayed with the practice.") in text_of(response)
    assert 'id="f-moved_to-error"' in response.get_data(as_text=True)
    assert state(engine) == before
