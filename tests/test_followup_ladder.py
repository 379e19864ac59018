"""The ladder and outcomes (issue 19): a follow-up stands on a rung (email, phone call, meeting), starts where
its severity calls for, and steps up when the deadline passes without a contact, when an attempt does not
reach the client, or when the client is still unhappy after being contacted; owners step it up or down with a
reason; a contact less personal than the rung needs a reason; resolving records what became of the client.

Harbour: Europe/London, Mon–Fri 09:00–17:30. NOW is Monday 23 November 2026, 10:00 GMT.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
from sqlalchemy.orm import Session

from partnermon import jobs
from partnermon.errors import ValidationError
from partnermon.followups import deadlines, ladder, service
from partnermon.followups.deadlines import DeadlineReport
from partnermon.followups.exports import follow_up_rows
from partnermon.models import FollowUp
from partnermon.runtime import Runtime
from tests.conftest import NOW, text_of
from tests.factories import Cast, partner
from tests.test_followup_pages import page_of, state
from tests.test_followups import BASE, UNHAPPY, answer, clock, emails, reanswer, the_follow_up  # noqa: F401 - clock

UTC = timezone.utc
MILD = {"satisfaction": "2"}      # about everyday service (low stake): an email will do
SERIOUS = {"satisfaction": "1"}   # very dissatisfied: phone them
NORMAL = "service"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def steps(follow_up: FollowUp) -> list[tuple[str, str, str | None, str]]:
    return [(e.action, e.actor, e.channel, e.note) for e in follow_up.events
            if e.action in ("stepped_up", "stepped_down", "top_told", "attempted")]


@pytest.fixture
def mild(session: Session, cast: Cast) -> FollowUp:
    """Bob's follow-up on the email rung, due Tuesday 24 November 10:00."""
    answer(session, cast, MILD, about=NORMAL)
    return the_follow_up(session)


# --- where it starts ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("answers, rung", [
    (MILD, "email"), (SERIOUS, "phone"), (UNHAPPY, "meeting"),
    ({**MILD, "wants_contact": "1", "contact_channel": "phone", "contact_phone": "+44 20 7946 0000"}, "phone"),
], ids=["mild-email", "serious-phone", "brand-meeting", "asked-to-be-phoned"])
def test_a_follow_up_starts_on_the_rung_its_severity_or_the_client_calls_for(
        session: Session, cast: Cast, answers: dict[str, str], rung: str) -> None:
    answer(session, cast, answers, about=NORMAL)
    assert the_follow_up(session).rung == rung


# --- stepping up by itself ----------------------------------------------------------------------------------

def test_a_missed_deadline_steps_up_each_rung_with_a_new_deadline_and_tells_an_owner_at_the_top_once(
        session: Session, runtime: Runtime, cast: Cast, mild: FollowUp) -> None:
    assert jobs.follow_up_deadlines(runtime, at(24, 9, 59)).stepped == 0
    assert jobs.follow_up_deadlines(runtime, at(24, 10)) == DeadlineReport(escalated=1, reminded=1, stepped=1)
    assert jobs.follow_up_deadlines(runtime, at(24, 10, 1)) == DeadlineReport()   # the same deadline: once
    follow_up = the_follow_up(session)
    assert (follow_up.rung, follow_up.status, follow_up.contact_due_at) == ("phone", "open", at(25, 10))
    [stepped] = emails(session, "followup_stepped")
    assert stepped.to_addr == "bob@harbour.test" and stepped.subject.startswith("Now phone them:")
    assert "The deadline passed without a recorded contact" in stepped.text_body
    assert emails(session, "followup_top_rung") == []

    assert jobs.follow_up_deadlines(runtime, at(25, 10)).stepped == 1             # phone → meeting
    assert jobs.follow_up_deadlines(runtime, at(25, 10)) == DeadlineReport()      # run twice
    assert jobs.follow_up_deadlines(runtime, at(26, 10)).stepped == 0             # nowhere further to go
    follow_up = the_follow_up(session)
    assert (follow_up.rung, follow_up.top_told_at) == ("meeting", at(25, 10))
    [top] = emails(session, "followup_top_rung")
    assert top.to_addr == "alice@harbour.test" and top.subject.startswith("A meeting is now needed:")
    assert steps(follow_up) == [
        ("stepped_up", "partnermon", "phone", "Email → Phone call: The deadline passed without a recorded contact"),
        ("stepped_up", "partnermon", "meeting",
         "Phone call → Meeting: The deadline passed without a recorded contact"),
        ("top_told", "partnermon", "meeting", "On the top rung: told alice@harbour.test"),
    ]


def test_two_workers_with_the_same_overdue_follow_up_step_it_up_once(
        session: Session, runtime: Runtime, cast: Cast, mild: FollowUp) -> None:
    with runtime.session_factory() as first, runtime.session_factory() as second:
        seen_first, seen_second = first.get(FollowUp, mild.id), second.get(FollowUp, mild.id)
        assert seen_first is not None and seen_second is not None
        second.commit()   # ends its read, keeping the object as it read it (the worker's stale view)
        assert ladder.step_up_overdue(first, at(24, 10), seen_first, BASE)
        first.commit()
        assert not ladder.step_up_overdue(second, at(24, 10, 1), seen_second, BASE)
        second.commit()
    follow_up = the_follow_up(session)
    assert follow_up.rung == "phone" and [s[0] for s in steps(follow_up)] == ["stepped_up"]
    assert len(emails(session, "followup_stepped")) == 1


@pytest.mark.parametrize("result, said", [("no_answer", "no answer"), ("left_message", "left a message")])
def test_an_attempt_that_did_not_reach_the_client_steps_up_and_is_not_a_contact(
        session: Session, cast: Cast, mild: FollowUp, result: str, said: str) -> None:
    later = NOW + timedelta(hours=1)
    service.record_contacted(session, later, mild, cast.alice, channel="email", result=result, base_url=BASE)
    session.commit()
    follow_up = the_follow_up(session)
    assert (follow_up.rung, follow_up.status, follow_up.contacted_at) == ("phone", "open", None)
    assert follow_up.contact_due_at == at(24, 11)   # a new deadline for the new rung, from the attempt
    assert steps(follow_up) == [
        ("attempted", "alice@harbour.test", "email", said.capitalize()),
        ("stepped_up", "alice@harbour.test", "phone", f"Email → Phone call: The attempt did not reach the client "
                                                     f"({said})"),
    ]
    [stepped] = emails(session, "followup_stepped")   # Alice tried; Bob, whose it is, is told
    assert stepped.to_addr == "bob@harbour.test"


def test_a_client_still_unhappy_after_being_contacted_steps_it_up(
        session: Session, cast: Cast) -> None:
    response = answer(session, cast, MILD, about=NORMAL)
    follow_up = the_follow_up(session)
    service.record_contacted(session, NOW + timedelta(hours=1), follow_up, cast.bob, channel="email")
    session.commit()
    assert response.request is not None
    reanswer(session, response.request, {"satisfaction": "2", "comment": "Still nothing from Acme."},
             at=NOW + timedelta(hours=3))
    follow_up = the_follow_up(session)
    assert (follow_up.rung, follow_up.status, follow_up.contact_due_at) == ("phone", "open", at(24, 13))
    assert steps(follow_up) == [("stepped_up", "the client", "phone",
                                 f"Email → Phone call: {ladder.STILL_UNHAPPY}")]
    assert [e.to_addr for e in emails(session, "followup_stepped")] == ["bob@harbour.test"]


# --- owners move it; lower-rung contacts -------------------------------------------------------------------

def test_an_owner_steps_a_follow_up_up_and_down_with_a_reason(session: Session, cast: Cast, mild: FollowUp) -> None:
    with pytest.raises(ValidationError) as refused:
        ladder.owner_step(session, NOW, mild, cast.alice, direction="up", reason="  ", base_url=BASE)
    assert refused.value.errors == {"note": "Say why you are moving it on the ladder."}
    with pytest.raises(ValidationError) as refused:
        ladder.owner_step(session, NOW, mild, cast.alice, direction="down", reason="Too much.", base_url=BASE)
    assert "bottom rung" in refused.value.errors["direction"]
    with pytest.raises(ValidationError):
        ladder.owner_step(session, NOW, mild, cast.bob, direction="up", reason="I'd like to.", base_url=BASE)
    later = NOW + timedelta(hours=2)
    ladder.owner_step(session, later, mild, cast.alice, direction="up", reason="A big client: phone her.",
                      base_url=BASE)
    ladder.owner_step(session, later, mild, cast.alice, direction="down", reason="She prefers email.",
                      base_url=BASE)
    session.commit()
    follow_up = the_follow_up(session)
    assert (follow_up.rung, follow_up.contact_due_at) == ("email", at(24, 12))
    assert steps(follow_up) == [
        ("stepped_up", "alice@harbour.test", "phone", "Email → Phone call: A big client: phone her."),
        ("stepped_down", "alice@harbour.test", "email", "Phone call → Email: She prefers email."),
    ]
    assert len(emails(session, "followup_stepped")) == 2 and emails(session, "followup_top_rung") == []


def test_a_contact_less_personal_than_the_rung_needs_a_reason(session: Session, cast: Cast, engine: Any) -> None:
    answer(session, cast, SERIOUS, about=NORMAL)   # the phone rung
    follow_up = the_follow_up(session)
    before = state(engine)
    with pytest.raises(ValidationError) as refused:
        service.record_contacted(session, NOW, follow_up, cast.bob, channel="email")
    assert refused.value.errors == {"note": "This follow-up calls for phone: say why you used email instead."}
    session.rollback()
    assert state(engine) == before
    service.record_contacted(session, NOW, follow_up, cast.bob, channel="email", note="No phone number on file.")
    service.record_contacted(session, NOW, follow_up, cast.bob, channel="meeting")   # more personal: no reason
    session.commit()
    assert the_follow_up(session).status == "contacted"


# --- outcomes ----------------------------------------------------------------------------------------------

def test_resolving_records_what_became_of_the_client(session: Session, cast: Cast, mild: FollowUp) -> None:
    beacon = partner(session, NOW, cast.harbour, "Beacon Life")
    session.commit()
    service.record_resolved(session, NOW, mild, cast.bob, outcome="moved", moved_to=str(beacon.id),
                            note="Moved her policy to Beacon.")
    session.commit()
    follow_up = the_follow_up(session)
    assert (follow_up.outcome_kind, follow_up.moved_to_partner_id, follow_up.outcome) == (
        "moved", beacon.id, "Moved her policy to Beacon.")
    [row] = follow_up_rows(session, NOW, cast.harbour.id, NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert (row["rung"], row["outcome_kind"], row["moved_to_partner"]) == ("email", "moved", "Beacon Life")


@pytest.mark.parametrize("outcome, moved_to, field, message", [
    ("", None, "outcome_kind", "Choose what became of the client"),
    ("gone", None, "outcome_kind", "Choose what became of the client"),
    ("moved", None, "moved_to", "Choose the partner of this practice the client moved to."),
    ("moved", "99999", "moved_to", "Choose the partner of this practice the client moved to."),
    ("moved", "zenith", "moved_to", "Choose the partner of this practice the client moved to."),   # Quay's
    ("moved", "acme", "moved_to", "Choose another partner than Acme Insurance"),
], ids=["none", "unknown-kind", "moved-nowhere", "unknown-partner", "another-practices-partner", "same-partner"])
def test_a_bad_outcome_is_a_field_message_and_nothing_is_saved(
        session: Session, cast: Cast, mild: FollowUp, engine: Any, outcome: str, moved_to: str | None, field: str,
        message: str) -> None:
    ids = {"zenith": str(cast.zenith.id), "acme": str(cast.acme.id)}
    before = state(engine)
    with pytest.raises(ValidationError) as refused:
        service.record_resolved(session, NOW, mild, cast.bob, outcome=outcome, moved_to=ids.get(moved_to or "", moved_to),
                                note="Done.")
    assert refused.value.errors[field].startswith(message)
    session.rollback()
    assert state(engine) == before


# --- the pages ---------------------------------------------------------------------------------------------

def test_the_pages_show_the_rung_and_take_the_steps(
        session: Session, cast: Cast, mild: FollowUp, browser: Any, engine: Any, clock: Callable[..., None]) -> None:
    browser.sign_in("alice@harbour.test")
    assert "Mild Email Dissatisfied" in text_of(browser.get("/follow-ups/?tab=all"))
    page = text_of(browser.post(page_of(mild) + "/step", {"step_direction": "up", "step_reason": "VIP client."},
                                follow_redirects=True))
    assert "Moved the follow-up to the phone call rung" in page and "Email → Phone call: VIP client." in page

    before = state(engine)
    response = browser.post(page_of(mild) + "/resolve", {"outcome": "Left us.", "outcome_kind": "moved",
                                                         "moved_to": str(cast.zenith.id)})
    assert response.status_code == 422
    assert "Choose the partner of this practice the client moved to." in text_of(response)
    assert ">Left us.</textarea>" in response.get_data(as_text=True)
    assert state(engine) == before

    page = text_of(browser.post(page_of(mild) + "/resolve", {"outcome": "Closed her account.", "outcome_kind": "left"},
                                follow_redirects=True))
    assert "Outcome Closed her account. Left the practice" in page
    assert the_follow_up(session).outcome_kind == "left"


def test_an_adviser_may_not_move_it_and_another_practices_follow_up_is_not_found(
        session: Session, cast: Cast, mild: FollowUp, browser: Any) -> None:
    browser.sign_in("bob@harbour.test")
    assert browser.post(page_of(mild) + "/step", {"step_direction": "up", "step_reason": "x"}).status_code == 403
    assert the_follow_up(session).rung == "email"


def test_another_practices_owner_finds_no_such_follow_up(
        session: Session, cast: Cast, mild: FollowUp, browser: Any) -> None:
    browser.sign_in("charlie@quay.test")
    assert browser.post(page_of(mild) + "/step", {"step_direction": "up", "step_reason": "x"}).status_code == 404
    assert the_follow_up(session).rung == "email"
