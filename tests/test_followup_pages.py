"""The follow-up pages: the queue's tabs, one follow-up with the client's answers (escaped) and its history,
the steps through the forms (contact, resolve, reopen, reassign) with field messages that keep what was
typed, who may do what (viewers read, only owners reassign, another practice's follow-up does not exist),
the alert email's link, the home page's counts and the owners' rules.

The steps themselves are tested in test_followup_steps.py; here, what people see and send.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Callable
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from partnermon.followups import emails as followup_emails
from partnermon.followups import service
from partnermon.models import AuditEvent, FollowUp, FollowUpEvent, OutboxEmail, Practice
from tests.conftest import NOW, text_of
from tests.factories import Cast
from tests.test_followups import UNHAPPY, all_follow_ups, answer, clock, emails, the_follow_up  # noqa: F401 - clock

LATER = NOW + timedelta(hours=1)   # Monday 23 November 2026, 11:00 in London
STEPS = {
    "contacted": {"contacted_channel": "phone", "contacted_note": "Raised with the partner's account manager."},
    "resolve": {"outcome": "Acme reopened the claim; Dana is content.", "outcome_kind": "stayed"},
    "reopen": {"reopen_note": "Dana rang again."},
}


@pytest.fixture
def follow_up(session: Session, cast: Cast, clock: Callable[..., None]) -> FollowUp:
    """Bob's open, urgent follow-up: Dana is unhappy with Acme's claims form, says Harbour looks worse, and
    asks to be phoned (her comment holds markup)."""
    answer(session, cast, UNHAPPY)
    return the_follow_up(session)


def page_of(follow_up: FollowUp) -> str:
    return f"/follow-ups/{follow_up.id}"


def state(engine: Engine) -> list[Any]:
    """Every follow-up, its history, the audit log and the outbox: what a refused step must leave alone."""
    with engine.connect() as conn:
        return [conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                for table in (FollowUp.__table__, FollowUpEvent.__table__, AuditEvent.__table__, OutboxEmail.__table__)]


def resolve(session: Session, cast: Cast, follow_up: FollowUp) -> None:
    service.record_resolved(session, NOW, follow_up, cast.bob, outcome="stayed", note="Sorted.")
    session.commit()


# --- the queue -----------------------------------------------------------------------------------------------

def test_the_tabs_show_mine_all_open_overdue_and_resolved(session: Session, cast: Cast, browser: Any,
                                                          clock: Callable[..., None]) -> None:
    # Dana's (Bob's) was opened on Friday and is urgent: overdue since Friday 14:00.
    answer(session, cast, UNHAPPY, at=NOW - timedelta(days=3))
    # Erin's is Alice's, due tomorrow; Finn's was Bob's and is resolved.
    answer(session, cast, {"satisfaction": "2"}, about="service", client_email="erin@client.test",
           adviser_email="alice@harbour.test")
    finn = answer(session, cast, {"satisfaction": "1"}, about="service", client_email="finn@client.test")
    dana, erin, finn_follow_up = all_follow_ups(session)
    assert finn_follow_up.response_id == finn.id
    for request in (erin.request, finn_follow_up.request):
        assert request is not None
        request.client_name = request.client_email.split("@")[0].capitalize()
    resolve(session, cast, finn_follow_up)
    browser.sign_in("bob@harbour.test")

    def rows(tab: str = "") -> list[str]:
        html = browser.get("/follow-ups/" + (f"?tab={tab}" if tab else "")).get_data(as_text=True)
        return re.findall(r'<th scope="row" class="wrap"><a href="/follow-ups/\d+">([^<]+)</a>', html)

    assert rows() == ["Dana"]                 # Bob's own, by default
    assert rows("all") == ["Dana", "Erin"]    # open ones, soonest deadline first
    assert rows("overdue") == ["Dana"]
    assert rows("resolved") == ["Finn"]
    page = text_of(browser.get("/follow-ups/?tab=all"))
    assert "Mine (1) All open (2) Overdue (1) Resolved" in page
    assert ("Dana Acme Insurance Claims and hardship Brand at risk Urgent Meeting Dissatisfied; Says the practice looks worse; "
            "Asked to be contacted bob@harbour.test 20 Nov 2026 14:00 overdue by 2 days Overdue") in page
    assert ("Erin Acme Insurance Everyday service Mild Email Dissatisfied alice@harbour.test 24 Nov 2026 10:00 due in 24 h "
            "Open") in page


def test_a_viewer_sees_all_open_follow_ups_by_default_and_has_no_mine_tab(
        follow_up: FollowUp, browser: Any) -> None:
    page = text_of(browser.sign_in("vera@harbour.test").get("/follow-ups/"))
    assert "All open (1) Overdue (0) Resolved" in page and "Mine" not in page
    assert "Dana Acme Insurance" in page
    assert browser.get("/follow-ups/?tab=mine").status_code == 200   # falls back to all


def test_an_empty_queue_says_when_follow_ups_open(cast: Cast, browser: Any, clock: Callable[..., None]) -> None:
    page = text_of(browser.sign_in("bob@harbour.test").get("/follow-ups/"))
    assert "Nobody is waiting for a call" in page
    assert "Follow-ups open here when a client is unhappy" in page
    assert "Nothing is overdue" in text_of(browser.get("/follow-ups/?tab=overdue"))


def test_the_home_page_counts_open_and_overdue_follow_ups(session: Session, cast: Cast, follow_up: FollowUp,
                                                          browser: Any, clock: Callable[..., None]) -> None:
    browser.sign_in("bob@harbour.test")
    assert "Follow-ups 1 open follow-up ; 1 of them yours ." in text_of(browser.get("/"))
    clock(NOW + timedelta(hours=5))   # past the urgent deadline of 14:00
    html = browser.get("/").get_data(as_text=True)
    assert "Follow-ups 1 open follow-up , 1 overdue ; 1 of them yours ." in text_of(browser.get("/"))
    assert 'href="/follow-ups/?tab=overdue"' in html


# --- one follow-up -------------------------------------------------------------------------------------------

def test_the_page_shows_what_the_client_said_with_their_comment_escaped(follow_up: FollowUp, browser: Any) -> None:
    response = browser.sign_in("bob@harbour.test").get(page_of(follow_up))
    assert response.status_code == 200
    html, page = response.get_data(as_text=True), text_of(response)
    assert "<script>alert(1)</script>" not in html
    assert "The claims form failed twice. &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Dana says Harbour Advice looks worse after dealing with Acme Insurance" in page
    assert "Contact by Monday 23 November 2026 at 14:00 GMT due in 4 h" in page
    assert "Suggested Meeting Offer a meeting" in page
    assert "Phone +44 20 7946 0000 Asked to be contacted Yes, by phone" in page
    assert "Satisfaction 2/5 (Dissatisfied) Would recommend 3/10 Easy to do 2/7 (Disagree)" in page
    assert f'href="/feedback/responses/{follow_up.response_id}"' in html
    assert "History Opened 23 Nov 2026 10:00 · partnermon" in page


def test_recording_contact_shows_who_when_how_and_the_note_in_the_history(
        session: Session, follow_up: FollowUp, browser: Any, clock: Callable[..., None]) -> None:
    clock(LATER)
    browser.sign_in("bob@harbour.test")
    response = browser.post(page_of(follow_up) + "/contacted", STEPS["contacted"], follow_redirects=True)
    page = text_of(response)
    assert "Recorded your contact with Dana by phone." in page
    assert ("Contacted the client · Phone 23 Nov 2026 11:00 · bob@harbour.test "
            "Raised with the partner's account manager.") in page
    assert "contacted in time" in page
    follow_up = the_follow_up(session)
    assert (follow_up.status, follow_up.contacted_at, follow_up.contacted_channel) == ("contacted", LATER, "phone")


def test_a_contact_without_a_channel_gets_a_field_message(follow_up: FollowUp, browser: Any, engine: Engine) -> None:
    browser.sign_in("bob@harbour.test")
    before = state(engine)
    response = browser.post(page_of(follow_up) + "/contacted", {"contacted_channel": "pigeon",
                                                                "contacted_note": "Tried."})
    assert response.status_code == 422
    assert "Choose how you contacted the client: phone, email, meeting or other." in text_of(response)
    assert ">Tried.</textarea>" in response.get_data(as_text=True)
    assert state(engine) == before


def test_resolving_without_an_outcome_asks_for_one_keeps_what_was_typed_and_changes_nothing(
        follow_up: FollowUp, browser: Any, engine: Engine) -> None:
    browser.sign_in("bob@harbour.test")
    before = state(engine)
    response = browser.post(page_of(follow_up) + "/resolve", {"outcome": "   ", "outcome_channel": "phone"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<a href="#f-outcome">Say how it ended: an outcome note is needed to resolve a follow-up.</a>' in html
    assert re.search(r'<textarea id="f-outcome" name="outcome"[^>]*aria-invalid="true"', html)
    assert re.search(r'<select id="f-outcome_channel".*?<option value="phone" selected>', html, re.S)
    assert state(engine) == before


def test_resolving_with_an_outcome_closes_it_and_reopening_starts_again(
        session: Session, follow_up: FollowUp, browser: Any, clock: Callable[..., None]) -> None:
    clock(LATER)
    browser.sign_in("bob@harbour.test")
    page = text_of(browser.post(page_of(follow_up) + "/resolve", STEPS["resolve"], follow_redirects=True))
    assert "Resolved the follow-up for Dana." in page
    assert "Outcome Acme reopened the claim; Dana is content." in page
    assert "Resolved 23 Nov 2026 11:00 · bob@harbour.test Acme reopened the claim; Dana is content." in page
    assert "Record contact" not in page and "Reopen" in page
    assert the_follow_up(session).status == "resolved"

    response = browser.post(page_of(follow_up) + "/resolve", STEPS["resolve"])
    assert response.status_code == 422 and "This follow-up is already resolved." in text_of(response)

    page = text_of(browser.post(page_of(follow_up) + "/reopen", STEPS["reopen"], follow_redirects=True))
    assert "Reopened the follow-up for Dana: contact them by Monday 23 November 2026 at 15:00 GMT." in page
    assert "Reopened 23 Nov 2026 11:00 · bob@harbour.test Dana rang again." in page
    follow_up = the_follow_up(session)
    assert (follow_up.status, follow_up.contact_due_at) == ("open", LATER + timedelta(hours=4))


def test_an_owner_reassigns_a_follow_up_and_the_new_assignee_hears_of_it(
        session: Session, cast: Cast, follow_up: FollowUp, browser: Any, engine: Engine) -> None:
    browser.sign_in("alice@harbour.test")
    html = browser.get(page_of(follow_up)).get_data(as_text=True)
    assert f'action="{page_of(follow_up)}/reassign"' in html
    options = re.findall(r'<option value="(\d+)"', html.split('id="f-assignee"')[1].split("</select>")[0])
    assert sorted(map(int, options)) == sorted([cast.alice.id, cast.bob.id])   # not Vera, not Charlie

    before = state(engine)
    for someone in (cast.vera, cast.charlie):
        response = browser.post(page_of(follow_up) + "/reassign", {"assignee": str(someone.id)})
        assert response.status_code == 422
        assert "Choose an active owner or adviser of this practice." in text_of(response)
    assert state(engine) == before

    response = browser.post(page_of(follow_up) + "/reassign", {"assignee": str(cast.alice.id),
                                                               "reassign_note": "I know Dana."}, follow_redirects=True)
    page = text_of(response)
    assert "Gave the follow-up to alice@harbour.test; they have been emailed the details." in page
    assert "Reassigned 23 Nov 2026 10:00 · alice@harbour.test To alice@harbour.test: I know Dana." in page
    assert the_follow_up(session).assignee_id == cast.alice.id
    assert [a.to_addr for a in emails(session, "followup_alert")] == ["bob@harbour.test", "alice@harbour.test"]


def test_an_adviser_works_a_follow_up_but_may_not_reassign_it(
        cast: Cast, follow_up: FollowUp, browser: Any, engine: Engine) -> None:
    browser.sign_in("bob@harbour.test")
    html = browser.get(page_of(follow_up)).get_data(as_text=True)
    assert f'action="{page_of(follow_up)}/contacted"' in html and "/reassign" not in html
    before = state(engine)
    response = browser.post(page_of(follow_up) + "/reassign", {"assignee": str(cast.bob.id)})
    assert response.status_code == 403
    assert state(engine) == before


def test_a_viewer_reads_a_follow_up_but_every_step_is_refused(
        cast: Cast, follow_up: FollowUp, browser: Any, engine: Engine) -> None:
    browser.sign_in("vera@harbour.test")
    response = browser.get(page_of(follow_up))
    assert response.status_code == 200 and "The claims form failed twice." in text_of(response)
    html = response.get_data(as_text=True)
    assert "<form" not in html.split("</header>")[1]   # no step is offered (the sign-out form is the nav's)
    before = state(engine)
    for step, data in {**STEPS, "reassign": {"assignee": str(cast.alice.id)}}.items():
        assert browser.post(page_of(follow_up) + "/" + step, data).status_code == 403, step
    assert state(engine) == before


@pytest.mark.parametrize("step", ["contacted", "resolve", "reopen", "reassign"])
def test_another_practices_follow_up_is_not_found_and_nothing_changes(
        session: Session, cast: Cast, follow_up: FollowUp, browser: Any, engine: Engine, step: str) -> None:
    if step == "reopen":
        resolve(session, cast, follow_up)   # so that only the practice could stop it
    browser.sign_in("charlie@quay.test")
    response = browser.get(page_of(follow_up))
    assert response.status_code == 404 and "Acme" not in text_of(response)
    before = state(engine)
    data = STEPS.get(step) or {"assignee": str(cast.charlie.id)}
    response = browser.post(page_of(follow_up) + "/" + step, data)
    assert response.status_code == 404 and "Dana" not in text_of(response)
    assert state(engine) == before
    assert browser.get("/follow-ups/?tab=all").status_code == 200
    assert "Dana" not in text_of(browser.get("/follow-ups/?tab=all"))


def test_the_link_in_the_alert_email_opens_the_follow_up_for_its_assignee(
        session: Session, follow_up: FollowUp, new_browser: Callable[[], Any]) -> None:
    [alert] = emails(session, "followup_alert")
    link = followup_emails.link("http://partnermon.test", follow_up)
    assert link in alert.text_body and link in alert.html_body
    path = urlsplit(link).path
    visitor = new_browser()
    response = visitor.get(path)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"next=/follow-ups/{follow_up.id}")
    bob = new_browser().sign_in("bob@harbour.test")
    assert bob.get(path).status_code == 200


# --- the owners' rules ---------------------------------------------------------------------------------------

def test_an_owner_changes_the_follow_up_rules_and_mistakes_get_field_messages(
        session: Session, cast: Cast, browser: Any, clock: Callable[..., None]) -> None:
    browser.sign_in("alice@harbour.test")
    assert 'href="/settings/follow-ups"' in browser.get("/settings/").get_data(as_text=True)
    page = browser.get("/settings/follow-ups").get_data(as_text=True)
    assert re.search(r'name="followup_on_dissatisfied" value="1"[^>]*checked', page)

    response = browser.post("/settings/follow-ups", {"followup_on_brand_harm": "1", "followup_due_days": "99",
                                                     "followup_urgent_hours": "6", "followup_urgent_stakes": "high"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Business days to contact a client must be between 1 and 10." in text_of(response)
    assert 'value="99"' in html and not re.search(r'name="followup_on_dissatisfied" value="1"[^>]*checked', html)

    response = browser.post("/settings/follow-ups", {
        "followup_on_brand_harm": "1", "followup_on_contact_request": "1", "followup_due_days": "2",
        "followup_urgent_hours": "6", "followup_urgent_stakes": ["high", "medium"]}, follow_redirects=True)
    assert "Follow-up rules saved." in text_of(response)
    practice = session.scalars(select(Practice).where(Practice.id == cast.harbour.id)
                               .execution_options(populate_existing=True)).one()
    assert (practice.followup_on_dissatisfied, practice.followup_on_brand_harm, practice.followup_on_contact_request,
            practice.followup_due_days, practice.followup_urgent_hours,
            practice.followup_urgent_stakes) == (False, True, True, 2, 6, "high,medium")


@pytest.mark.parametrize("who", ["bob@harbour.test", "vera@harbour.test"])
def test_only_owners_see_the_follow_up_rules(cast: Cast, browser: Any, who: str) -> None:
    browser.sign_in(who)
    assert browser.get("/settings/follow-ups").status_code == 403
    assert browser.post("/settings/follow-ups", {"followup_due_days": "3", "followup_urgent_hours": "4"}
                        ).status_code == 403
