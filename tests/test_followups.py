"""Follow-ups opening: each rule fires once (dissatisfied, brand harm, contact request), a satisfied client
opens none, an edited response never opens a second one (but may newly open one, or add to one), the quick
rating and the open link work through the real pages, and the alert reaches the adviser through a real
SMTP server with everything they need, escaped.

Steps people take (contacted, resolved, …) are in test_followup_steps.py, deadlines in
test_followup_deadlines.py; both use the helpers here.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon import followups, jobs
from partnermon.errors import ValidationError
from partnermon.feedback import links, responses
from partnermon.followups import rules
from partnermon.models import AuditEvent, FeedbackRequest, FeedbackResponse, FollowUp, OutboxEmail
from partnermon.runtime import Runtime
from tests.conftest import NOW
from tests.factories import Cast
from tests.smtp_server import SmtpServer, make_smtp_server, smtp_server  # noqa: F401 - fixtures
from tests.test_outbox import with_smtp

BASE = "http://partnermon.test"
UNHAPPY = {"satisfaction": "2", "recommend": "3", "effort": "2", "brand_effect": "worse",
           "comment": "The claims form failed twice. <script>alert(1)</script>", "wants_contact": "1",
           "contact_channel": "phone", "contact_phone": "+44 20 7946 0000"}


# --- helpers (test_followup_steps and test_followup_deadlines use them too) ------------------------------

def ask(session: Session, cast: Cast, *, about: str = "Claims form", client_email: str = "dana@client.test",
        adviser_email: str = "bob@harbour.test", at: datetime = NOW) -> tuple[FeedbackRequest, str]:
    """A personal link for Dana about Acme (by default its claims form: a high-stake moment). Returns the
    request and the link's path."""
    data = {"partner": "Acme Insurance", "touchpoint": about, "client_email": client_email, "client_name": "Dana",
            "adviser_email": adviser_email}
    made = links.create_request(session, at, cast.harbour, data, actor="test", source="form", base_url=BASE,
                                   override_throttle=True)
    session.commit()
    assert made.link is not None
    return made.request, made.link.removeprefix(BASE)


def answer(session: Session, cast: Cast, answers: dict[str, str], *, at: datetime = NOW,
           **asked: Any) -> FeedbackResponse:
    """Dana answers a new link as the form would record it, then the follow-up hook runs; committed."""
    request, _path = ask(session, cast, at=at, **asked)
    return reanswer(session, request, answers, at=at)


def reanswer(session: Session, request: FeedbackRequest, answers: dict[str, str], *, at: datetime = NOW
             ) -> FeedbackResponse:
    moments = None if request.moment_id else responses.choosable_moments(session, request.practice_id)
    response, _new = responses.record_response(session, at, request, responses.parse_answers(answers, moments))
    followups.open_for_response(session, at, response, BASE)
    session.commit()
    return response


def all_follow_ups(session: Session) -> list[FollowUp]:
    return list(session.scalars(select(FollowUp).order_by(FollowUp.id).execution_options(populate_existing=True)))


def the_follow_up(session: Session) -> FollowUp:
    [follow_up] = all_follow_ups(session)
    return follow_up


def emails(session: Session, kind: str) -> list[OutboxEmail]:
    return list(session.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id)
                                .execution_options(populate_existing=True)))


@pytest.fixture
def clock(app: Flask) -> Callable[[datetime], None]:
    app.config["PARTNERMON_CLOCK"] = lambda: NOW

    def set_to(moment: datetime) -> None:
        app.config["PARTNERMON_CLOCK"] = lambda: moment

    return set_to


# --- the rules ------------------------------------------------------------------------------------------

def test_opening_writes_its_opened_event_and_audit_row_in_the_same_words_on_every_database(
        session: Session, cast: Cast) -> None:
    # PostgreSQL writes the three rows in one statement and SQLite in three: the rows must not differ.
    response = answer(session, cast, UNHAPPY)
    follow_up = the_follow_up(session)
    [event] = follow_up.events
    assert (event.at, event.actor, event.actor_id, event.action, event.channel, event.note) == (
        NOW, "partnermon", None, "opened", None, "Dissatisfied, says the practice looks worse, asked to be contacted")
    [row] = session.scalars(select(AuditEvent).where(AuditEvent.action == "follow_up.opened"))
    assert (row.practice_id, row.user_id, row.actor, row.object_type, row.object_id, row.at) == (
        cast.harbour.id, None, "partnermon", "follow_up", follow_up.id, NOW)
    assert row.summary == (f"Opened follow-up #{follow_up.id} (dissatisfied, says the practice looks worse, "
                           "asked to be contacted) for bob@harbour.test")
    assert follow_up.response_id == response.id


@pytest.mark.parametrize("answers, about, reasons, severity, urgent", [
    ({"satisfaction": "2"}, "service", ["dissatisfied"], "mild", False),
    ({"satisfaction": "1"}, "service", ["dissatisfied"], "serious", False),
    ({"satisfaction": "2"}, "Claims form", ["dissatisfied"], "serious", True),
    ({"satisfaction": "4", "brand_effect": "worse"}, "service", ["brand_harm"], "brand", False),
    ({"satisfaction": "5", "wants_contact": "1", "contact_channel": "email"}, "service", ["contact_request"], "mild",
     False),
    (UNHAPPY, "Claims form", ["dissatisfied", "brand_harm", "contact_request"], "brand", True),
], ids=["dissatisfied", "very-dissatisfied", "dissatisfied-about-a-claim", "brand-harm", "contact-request", "all"])
def test_each_rule_opens_one_follow_up_for_the_requests_adviser_and_alerts_them_once(
        session: Session, cast: Cast, answers: dict[str, str], about: str, reasons: list[str], severity: str,
        urgent: bool) -> None:
    response = answer(session, cast, answers, about=about)
    followups.open_for_response(session, NOW, response, BASE)   # the hook running twice changes nothing
    session.commit()

    follow_up = the_follow_up(session)
    assert (follow_up.reasons, follow_up.severity, follow_up.urgent) == (reasons, severity, urgent)
    assert (follow_up.status, follow_up.assignee_id, follow_up.opened_at) == ("open", cast.bob.id, NOW)
    assert follow_up.response_id == response.id and follow_up.partner_id == cast.acme.id
    assert [(e.action, e.actor) for e in follow_up.events] == [("opened", "partnermon")]
    [alert] = emails(session, "followup_alert")
    assert alert.to_addr == "bob@harbour.test" and alert.practice_id == cast.harbour.id
    assert alert.subject.startswith("Urgent: ") == urgent


def test_a_satisfied_client_opens_no_follow_up_and_sends_no_alert(session: Session, cast: Cast) -> None:
    answer(session, cast, {"satisfaction": "4", "recommend": "9", "brand_effect": "better"})
    answer(session, cast, {"satisfaction": "3", "recommend": "7"}, client_email="erin@client.test")
    assert all_follow_ups(session) == [] and emails(session, "followup_alert") == []


def test_a_rule_the_owners_turned_off_opens_nothing(session: Session, cast: Cast) -> None:
    rules.update_settings(session, NOW, cast.harbour, cast.alice, on_dissatisfied=False, on_brand_harm=True,
                          on_contact_request=True, due_days="1", urgent_hours="4", urgent_stakes=["high"])
    session.commit()
    answer(session, cast, {"satisfaction": "1"})
    assert all_follow_ups(session) == []
    answer(session, cast, {"satisfaction": "1", "brand_effect": "worse"}, client_email="erin@client.test")
    assert the_follow_up(session).reasons == ["brand_harm"]


def test_rule_settings_refuse_nonsense_with_a_message_per_field(session: Session, cast: Cast) -> None:
    with pytest.raises(ValidationError) as caught:
        rules.update_settings(session, NOW, cast.harbour, cast.alice, on_dissatisfied=True, on_brand_harm=True,
                              on_contact_request=True, due_days="0", urgent_hours="lots", urgent_stakes=["huge"])
    assert set(caught.value.errors) == {"followup_due_days", "followup_urgent_hours", "followup_urgent_stakes"}
    assert "between 1 and 10" in caught.value.errors["followup_due_days"]


def test_the_suggested_channel_follows_severity_but_never_below_what_the_client_asked_for() -> None:
    assert rules.suggested_channel("mild", None) == "email"
    assert rules.suggested_channel("mild", "phone") == "phone"
    assert rules.suggested_channel("serious", "email") == "phone"
    assert rules.suggested_channel("brand", "phone") == "meeting"


def test_a_request_without_an_adviser_or_whose_adviser_left_goes_to_the_longest_standing_owner(
        session: Session, cast: Cast) -> None:
    answer(session, cast, {"satisfaction": "1"}, adviser_email="")
    request, _ = ask(session, cast, client_email="erin@client.test")
    cast.bob.is_active = False
    session.commit()
    reanswer(session, request, {"satisfaction": "1"})
    assert [f.assignee_id for f in all_follow_ups(session)] == [cast.alice.id, cast.alice.id]
    assert [e.to_addr for e in emails(session, "followup_alert")] == ["alice@harbour.test"] * 2


# --- edits ------------------------------------------------------------------------------------------------

def test_changing_the_answers_never_opens_a_second_follow_up(session: Session, cast: Cast) -> None:
    request, _ = ask(session, cast)
    reanswer(session, request, {"satisfaction": "2", "comment": "Slow."})
    reanswer(session, request, {"satisfaction": "1", "comment": "Slower than I said."})
    assert len(all_follow_ups(session)) == 1
    assert len(emails(session, "followup_alert")) == 1
    assert [e.action for e in the_follow_up(session).events] == ["opened"]


def test_an_edit_that_newly_qualifies_opens_one(session: Session, cast: Cast) -> None:
    request, _ = ask(session, cast, about="service")
    reanswer(session, request, {"satisfaction": "4"})
    assert all_follow_ups(session) == []
    reanswer(session, request, {"satisfaction": "2"})
    assert the_follow_up(session).reasons == ["dissatisfied"]


def test_an_edit_that_adds_a_contact_request_adds_to_the_follow_up_and_tells_the_assignee_once(
        session: Session, cast: Cast) -> None:
    request, _ = ask(session, cast, about="service")
    reanswer(session, request, {"satisfaction": "2"})
    more = {"satisfaction": "2", "wants_contact": "1", "contact_channel": "phone", "contact_phone": "020 7946 0000"}
    reanswer(session, request, more)
    reanswer(session, request, {**more, "comment": "Please ring after 5."})
    follow_up = the_follow_up(session)
    assert follow_up.reasons == ["dissatisfied", "contact_request"] and follow_up.status == "open"
    assert [(e.action, e.actor) for e in follow_up.events] == [("opened", "partnermon"), ("updated", "the client")]
    first, update = emails(session, "followup_alert")
    assert "now also asked to be contacted" in update.text_body
    assert "Asked to be contacted by phone: 020 7946 0000" in update.text_body


def test_an_edit_that_makes_it_urgent_brings_the_deadline_forward(session: Session, cast: Cast) -> None:
    request, _ = ask(session, cast, about="")   # the client chooses the moment
    reanswer(session, request, {"satisfaction": "2"})
    assert the_follow_up(session).urgent is False
    claim = next(m for m in responses.choosable_moments(session, cast.harbour.id) if m.key == "claim")
    reanswer(session, request, {"satisfaction": "2", "brand_effect": "worse", "moment": str(claim.id)})
    follow_up = the_follow_up(session)
    assert (follow_up.urgent, follow_up.severity) == (True, "brand")
    assert follow_up.contact_due_at == datetime(2026, 11, 23, 14, 0, tzinfo=NOW.tzinfo)   # 4 business hours


# --- through the client's pages -----------------------------------------------------------------------------

def test_the_form_opens_a_follow_up_once_however_often_it_is_posted(
        client: Any, session: Session, cast: Cast, clock: Callable[[datetime], None]) -> None:
    _request, path = ask(session, cast)
    assert client.post(path, data=UNHAPPY).status_code == 303
    assert client.post(path, data={**UNHAPPY, "comment": "Changed my mind about the wording."}).status_code == 303
    follow_up = the_follow_up(session)
    assert follow_up.reasons == ["dissatisfied", "brand_harm", "contact_request"] and follow_up.urgent
    assert len(emails(session, "followup_alert")) == 1


def test_a_one_star_quick_rating_opens_the_follow_up_and_the_full_answers_then_add_to_it(
        client: Any, session: Session, cast: Cast, clock: Callable[[datetime], None]) -> None:
    _request, path = ask(session, cast)
    assert client.post(path, data={"quick": "1", "satisfaction": "1"}).status_code == 204
    follow_up = the_follow_up(session)
    assert (follow_up.reasons, follow_up.severity) == (["dissatisfied"], "serious")
    assert client.post(path, data=UNHAPPY).status_code == 303
    follow_up = the_follow_up(session)
    assert follow_up.reasons == ["dissatisfied", "brand_harm", "contact_request"] and follow_up.severity == "brand"
    assert len(emails(session, "followup_alert")) == 2


def test_an_open_link_answer_opens_a_follow_up_only_when_the_client_asks_to_be_contacted(
        browser: Any, session: Session, cast: Cast, clock: Callable[[datetime], None]) -> None:
    cast.harbour.open_feedback_link = True
    session.commit()

    def post(**answers: str) -> int:
        # As a browser would: the form's one-time submission key comes with the page.
        page = browser.get("/p/harbour/feedback").get_data(as_text=True)
        key = re.search(r'name="submission" value="([^"]+)"', page)
        assert key is not None
        return browser.post("/p/harbour/feedback", {"submission": key[1], **answers}).status_code

    unhappy = {"partner": str(cast.acme.id), "satisfaction": "1", "brand_effect": "worse"}
    assert post(**unhappy) == 303
    assert all_follow_ups(session) == []   # nobody to call, and nobody vouches for it
    assert post(**unhappy, client_name="Olly Open", client_email="olly@client.test", wants_contact="1",
                contact_channel="email") == 303
    follow_up = the_follow_up(session)
    assert follow_up.request_id is None and follow_up.assignee_id == cast.alice.id
    assert follow_up.reasons == ["dissatisfied", "brand_harm", "contact_request"]
    [alert] = emails(session, "followup_alert")
    assert alert.to_addr == "alice@harbour.test"
    assert "Olly Open <olly@client.test>" in alert.text_body and "Answered through the open link" in alert.text_body


# --- the alert ---------------------------------------------------------------------------------------------

def test_the_alert_reaches_the_adviser_through_a_real_mail_server_with_everything_they_need(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer) -> None:
    answer(session, cast, {"satisfaction": "5", "comment": "Quick payout, thanks."}, about="service",
           at=datetime(2026, 10, 5, 10, 0, tzinfo=NOW.tzinfo))
    answer(session, cast, UNHAPPY)
    follow_up = the_follow_up(session)

    assert jobs.send_emails(with_smtp(runtime, smtp_server.url()), NOW, worker="w1").sent == 3  # 2 invitations
    [alert] = [r for r in smtp_server.wait_for(3) if r.rcpt_tos == ["bob@harbour.test"]]
    message = alert.message
    assert message["Subject"] == "Urgent: Dana says Harbour Advice looks worse after dealing with Acme Insurance"
    plain = message.get_body(("plain",)).get_content()
    for expected in ("Dana <dana@client.test>", "Asked to be contacted by phone: +44 20 7946 0000",
                     "Partner: Acme Insurance", "Touchpoint: Claims form", "Moment: Claims and hardship (high stake)",
                     "Satisfaction: 2/5 (Dissatisfied)", "Would recommend Acme Insurance: 3/10",
                     "Easy to do: 2/7 (Disagree)", "How they feel about Harbour Advice now: Worse",
                     "> The claims form failed twice. <script>alert(1)</script>",
                     "Please contact them by Monday 23 November 2026 at 14:00 GMT",
                     "Suggested: meeting.", "5 October 2026 – Acme Insurance (Everyday service): 5/5 (Very satisfied)",
                     '"Quick payout, thanks."', f"{BASE}/follow-ups/{follow_up.id}"):
        assert expected in plain, expected
    html = message.get_body(("html",)).get_content()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert f'href="{BASE}/follow-ups/{follow_up.id}"' in html


def test_the_alert_escapes_what_the_client_and_staff_typed_in_names(session: Session, cast: Cast) -> None:
    request, _ = ask(session, cast)
    cast.acme.name = "Acme <b>Insurance</b>"
    request.client_name = "<img src=x onerror=alert(1)>"
    session.commit()
    reanswer(session, request, {"satisfaction": "1"})
    [alert] = emails(session, "followup_alert")
    assert "<img src=x" not in alert.html_body and "&lt;img src=x onerror=alert(1)&gt;" in alert.html_body
    assert "<b>Insurance</b>" not in alert.html_body
    assert session.scalar(select(func.count()).select_from(FollowUp)) == 1
