"""Working a follow-up: open → contacted → resolved (each step with who, when, channel and note), reopening,
reassigning; bad input gets a field message, another practice's follow-up does not exist; a user who can no
longer work follow-ups hands theirs to the owners, who are told once; ``partnermon export --what followups``.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any, Callable

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.accounts import service as accounts
from partnermon.cli import main
from partnermon.errors import NotFound, ValidationError
from partnermon.followups import service
from partnermon.models import AuditEvent, FollowUp
from partnermon.runtime import Runtime
from tests.conftest import NOW, PASSWORD
from tests.factories import Cast, user
from tests.test_followups import BASE, UNHAPPY, all_follow_ups, answer, ask, emails, reanswer, the_follow_up

LATER = NOW + timedelta(hours=1)


@pytest.fixture
def follow_up(session: Session, cast: Cast) -> FollowUp:
    """Bob's open follow-up: Dana is unhappy with Acme's claims form."""
    answer(session, cast, UNHAPPY)
    return the_follow_up(session)


def test_contacted_then_resolved_records_who_when_how_and_what_at_each_step(
        session: Session, cast: Cast, follow_up: FollowUp) -> None:
    service.record_contacted(session, LATER, follow_up, cast.bob, channel="phone", note="Left a voicemail.")
    service.record_contacted(session, LATER + timedelta(hours=1), follow_up, cast.bob, channel="meeting",
                             note="Met at the office.")
    service.record_resolved(session, LATER + timedelta(hours=2), follow_up, cast.bob, outcome="stayed", note="Claim escalated with Acme.")
    session.commit()
    follow_up = the_follow_up(session)
    assert (follow_up.status, follow_up.contacted_at, follow_up.contacted_channel) == ("resolved", LATER, "phone")
    assert (follow_up.resolved_at, follow_up.outcome) == (LATER + timedelta(hours=2), "Claim escalated with Acme.")
    steps = [(e.action, e.actor, e.actor_id, e.channel, e.note, e.at) for e in follow_up.events]
    assert steps[1:] == [
        ("contacted", "bob@harbour.test", cast.bob.id, "phone", "Left a voicemail.", LATER),
        ("contacted", "bob@harbour.test", cast.bob.id, "meeting", "Met at the office.", LATER + timedelta(hours=1)),
        ("resolved", "bob@harbour.test", cast.bob.id, None, "Claim escalated with Acme.", LATER + timedelta(hours=2)),
    ]
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "follow_up")).all()
    assert actions == ["follow_up.opened", "follow_up.contacted", "follow_up.contacted", "follow_up.resolved"]


def test_resolving_without_an_outcome_note_asks_for_one_and_changes_nothing(
        session: Session, cast: Cast, follow_up: FollowUp) -> None:
    with pytest.raises(ValidationError) as caught:
        service.record_resolved(session, LATER, follow_up, cast.bob, outcome="stayed", note="   ")
    assert set(caught.value.errors) == {"note"} and "outcome note" in caught.value.errors["note"]
    assert follow_up.status == "open" and len(follow_up.events) == 1


def test_resolving_an_open_one_with_a_channel_counts_as_the_contact(
        session: Session, cast: Cast, follow_up: FollowUp) -> None:
    service.record_resolved(session, LATER, follow_up, cast.bob, outcome="stayed", note="Sorted on the phone.", channel="phone")
    assert (follow_up.contacted_at, follow_up.contacted_channel, follow_up.status) == (LATER, "phone", "resolved")


def test_steps_that_make_no_sense_are_refused_with_a_field_message(
        session: Session, cast: Cast, follow_up: FollowUp) -> None:
    with pytest.raises(ValidationError, match="phone, email, meeting or other"):
        service.record_contacted(session, LATER, follow_up, cast.bob, channel="pigeon")
    with pytest.raises(ValidationError, match="Only a resolved follow-up can be reopened"):
        service.reopen(session, LATER, follow_up, cast.bob)
    service.record_resolved(session, LATER, follow_up, cast.bob, outcome="stayed", note="Done.")
    with pytest.raises(ValidationError, match="already resolved"):
        service.record_resolved(session, LATER, follow_up, cast.bob, outcome="stayed", note="Done again.")
    with pytest.raises(ValidationError, match="reopen it"):
        service.record_contacted(session, LATER, follow_up, cast.bob, channel="email")
    with pytest.raises(ValidationError, match="at most 4,000"):
        service.reopen(session, LATER, follow_up, cast.bob, note="x" * 4001)


def test_reopening_starts_again_with_a_new_deadline_and_keeps_the_history(
        session: Session, cast: Cast, follow_up: FollowUp) -> None:
    # A phone call on the meeting rung (the client says the practice looks worse) needs a reason (issue 19).
    service.record_contacted(session, LATER, follow_up, cast.bob, channel="phone", note="Dana preferred a call.")
    service.record_resolved(session, LATER, follow_up, cast.bob, outcome="stayed", note="Fine now.")
    friday = NOW + timedelta(days=4)   # Friday 27 November, 10:00
    service.reopen(session, friday, follow_up, cast.alice, note="Dana rang again.")
    session.commit()
    follow_up = the_follow_up(session)
    assert (follow_up.status, follow_up.contacted_at, follow_up.resolved_at) == ("open", None, None)
    assert follow_up.contact_due_at == friday + timedelta(hours=4)   # urgent: 4 business hours
    assert follow_up.outcome == "Fine now."   # the last outcome stays until it is resolved again
    assert [e.action for e in follow_up.events] == ["opened", "contacted", "resolved", "reopened"]
    assert follow_up.events[-1].actor == "alice@harbour.test" and follow_up.events[-1].note == "Dana rang again."


def test_a_client_who_asks_for_contact_after_it_was_resolved_reopens_it(session: Session, cast: Cast) -> None:
    request, _ = ask(session, cast, about="service")
    reanswer(session, request, {"satisfaction": "2"})
    service.record_resolved(session, LATER, the_follow_up(session), cast.bob, outcome="stayed", note="Emailed; fine.", channel="email")
    session.commit()
    wednesday = NOW + timedelta(days=2)
    reanswer(session, request, {"satisfaction": "2", "wants_contact": "1", "contact_channel": "email"}, at=wednesday)
    follow_up = the_follow_up(session)
    assert (follow_up.status, follow_up.resolved_at) == ("open", None)
    assert follow_up.contact_due_at == wednesday + timedelta(days=1)
    assert [(e.action, e.actor) for e in follow_up.events][-1] == ("reopened", "the client")
    assert len(emails(session, "followup_alert")) == 2


# --- tenancy ------------------------------------------------------------------------------------------------

def test_another_practices_follow_up_does_not_exist_for_charlie(
        session: Session, cast: Cast, follow_up: FollowUp) -> None:
    with pytest.raises(NotFound):
        service.get_follow_up(session, cast.quay.id, follow_up.id)
    with pytest.raises(NotFound):
        service.get_follow_up(session, cast.harbour.id, follow_up.id + 1000)
    assert service.get_follow_up(session, cast.harbour.id, follow_up.id) is follow_up
    assert session.scalars(service.list_follow_ups(cast.quay.id)).all() == []
    for step in (lambda: service.record_contacted(session, LATER, follow_up, cast.charlie, channel="phone"),
                 lambda: service.record_resolved(session, LATER, follow_up, cast.charlie, outcome="stayed", note="Mine now."),
                 lambda: service.reopen(session, LATER, follow_up, cast.charlie),
                 lambda: service.reassign(session, LATER, follow_up, cast.charlie, cast.charlie.id, BASE)):
        with pytest.raises(NotFound):
            step()
    assert follow_up.status == "open" and len(follow_up.events) == 1


def test_a_follow_up_goes_only_to_an_active_owner_or_adviser_of_its_practice(
        session: Session, cast: Cast, follow_up: FollowUp) -> None:
    for someone in (cast.charlie, cast.vera):   # another practice's owner; a viewer
        with pytest.raises(ValidationError, match="active owner or adviser of this practice"):
            service.reassign(session, LATER, follow_up, cast.alice, someone.id, BASE)
    service.reassign(session, LATER, follow_up, cast.bob, cast.alice.id, BASE, note="You know Dana.")
    session.commit()
    follow_up = the_follow_up(session)
    assert follow_up.assignee_id == cast.alice.id
    assert (follow_up.events[-1].action, follow_up.events[-1].note) == ("reassigned",
                                                                        "To alice@harbour.test: You know Dana.")
    alerts = emails(session, "followup_alert")
    assert [a.to_addr for a in alerts] == ["bob@harbour.test", "alice@harbour.test"]
    assert "bob@harbour.test gave you this follow-up." in alerts[-1].text_body


def test_lists_narrow_by_status_assignee_and_overdue(session: Session, cast: Cast, follow_up: FollowUp) -> None:
    answer(session, cast, {"satisfaction": "1"}, about="service", client_email="erin@client.test", adviser_email="")
    mine = session.scalars(service.list_follow_ups(cast.harbour.id, assignee_id=cast.bob.id)).all()
    assert [f.id for f in mine] == [follow_up.id]
    late = session.scalars(service.list_follow_ups(cast.harbour.id, overdue_at=NOW + timedelta(hours=5))).all()
    assert [f.id for f in late] == [follow_up.id]   # urgent: due at 14:00; Erin's is due tomorrow
    assert len(session.scalars(service.list_follow_ups(cast.harbour.id, status="open")).all()) == 2


# --- a user who can no longer work follow-ups ------------------------------------------------------------------

def test_deactivating_an_adviser_gives_their_open_follow_ups_to_an_owner_and_tells_every_owner_once(
        session: Session, cast: Cast, follow_up: FollowUp, browser: Any) -> None:
    olive = user(session, NOW, cast.harbour, "olive@harbour.test", "owner", PASSWORD)
    answer(session, cast, {"satisfaction": "1"}, about="service", client_email="erin@client.test")
    done = answer(session, cast, {"satisfaction": "1"}, client_email="finn@client.test")
    finished = session.scalar(select(FollowUp).where(FollowUp.response_id == done.id))
    assert finished is not None
    service.record_resolved(session, NOW, finished, cast.bob, outcome="stayed", note="Done.")
    session.commit()

    browser.sign_in("alice@harbour.test")
    response = browser.post(f"/users/{cast.bob.id}/edit", {"role": "adviser", "name": "Bob"})  # unticked "active"
    assert response.status_code == 302

    by_status = {f.status: f for f in all_follow_ups(session)}
    assignees = [(f.status, f.assignee_id) for f in all_follow_ups(session)]
    assert sorted(assignees) == sorted([("open", cast.alice.id), ("open", cast.alice.id), ("resolved", cast.bob.id)])
    assert by_status["open"].events[-1].action == "reassigned"
    assert by_status["open"].events[-1].actor == "alice@harbour.test"
    notices = emails(session, "followup_reassigned")
    assert sorted(n.to_addr for n in notices) == ["alice@harbour.test", olive.email]
    assert notices[0].subject == "2 follow-ups from Bob now with the owners"
    assert "given to alice@harbour.test" in notices[0].text_body and "/follow-ups/" in notices[0].text_body

    # Saving him again as inactive moves nothing and tells nobody again.
    browser.post(f"/users/{cast.bob.id}/edit", {"role": "adviser", "name": "Bob B."})
    assert len(emails(session, "followup_reassigned")) == 2


def test_making_an_adviser_a_viewer_hands_over_their_follow_ups_too(
        session: Session, cast: Cast, follow_up: FollowUp) -> None:
    accounts.update_user(session, NOW, cast.bob, cast.alice, role="viewer", name="Bob", active=True, base_url=BASE)
    session.commit()
    assert the_follow_up(session).assignee_id == cast.alice.id
    [notice] = emails(session, "followup_reassigned")
    assert notice.to_addr == "alice@harbour.test"


def test_a_departing_owners_follow_ups_go_to_another_owner(session: Session, cast: Cast) -> None:
    olive = user(session, NOW, cast.harbour, "olive@harbour.test", "owner", PASSWORD)
    answer(session, cast, {"satisfaction": "1"}, adviser_email="")   # goes to Alice, the first owner
    accounts.update_user(session, NOW, cast.alice, olive, role="owner", name="", active=False, base_url=BASE)
    session.commit()
    assert the_follow_up(session).assignee_id == olive.id
    assert [n.to_addr for n in emails(session, "followup_reassigned")] == ["olive@harbour.test"]


# --- export ---------------------------------------------------------------------------------------------------

@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setenv("PARTNERMON_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("PARTNERMON_INSTANCE_DIR", str(runtime.settings.instance_dir))
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args))


def test_export_followups_as_csv_and_json_with_typed_text_neutralised_and_only_the_practices_own(
        session: Session, cast: Cast, follow_up: FollowUp, cli: Callable[..., Result]) -> None:
    service.record_resolved(session, LATER, follow_up, cast.bob, outcome="stayed", note='=HYPERLINK("http://evil.test/","x")',
                            channel="phone")
    session.commit()
    result = cli("export", "--practice", "harbour", "--what", "followups", "--format", "csv", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(result.output)))
    assert row["outcome"] == "'=HYPERLINK(\"http://evil.test/\",\"x\")"
    assert (row["client_email"], row["partner"], row["assignee"]) == ("dana@client.test", "Acme Insurance",
                                                                      "bob@harbour.test")
    assert (row["status"], row["urgent"], row["severity"], row["late"]) == ("resolved", "True", "brand", "False")
    assert row["reasons"] == "dissatisfied; brand_harm; contact_request"

    [item] = json.loads(cli("export", "--practice", "harbour", "--what", "followups", "--format", "json",
                            "--month", "2026-11").output)
    assert item["reasons"] == ["dissatisfied", "brand_harm", "contact_request"] and item["contacted_channel"] == "phone"
    assert json.loads(cli("export", "--practice", "quay", "--what", "followups", "--format", "json",
                          "--month", "2026-11").output) == []
    assert json.loads(cli("export", "--practice", "harbour", "--what", "followups", "--format", "json",
                          "--month", "2026-10").output) == []
