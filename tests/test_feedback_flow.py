"""Feedback end to end: the invitation through a real SMTP server, the link followed and answered once;
two simultaneous posts for one link; and a practice's open link (off by default, honeypot, rate limit,
answers kept unverified)."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any, Callable

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from partnermon import jobs
from partnermon.feedback import links, responses
from partnermon.models import FeedbackRequest, FeedbackResponse, FollowUp, OutboxEmail, Practice
from partnermon.runtime import Runtime
from tests.conftest import NOW, text_of
from tests.factories import Cast
from tests.smtp_server import SmtpServer, make_smtp_server, smtp_server  # noqa: F401 - fixtures
from tests.test_access import assert_unchanged, snapshot
from tests.test_outbox import with_smtp

BASE = "http://partnermon.test"


@pytest.fixture(autouse=True)
def clock(app: Flask) -> None:
    app.config["PARTNERMON_CLOCK"] = lambda: NOW


def responses_in(runtime: Runtime) -> list[FeedbackResponse]:
    with runtime.session_factory() as s:
        return list(s.scalars(select(FeedbackResponse).order_by(FeedbackResponse.id)))


def request_in(runtime: Runtime) -> FeedbackRequest:
    with runtime.session_factory() as s:
        return s.scalars(select(FeedbackRequest)).one()


def test_request_invitation_rating_link_form_and_edit_through_a_real_mail_server(
        session: Session, runtime: Runtime, cast: Cast, client, engine, smtp_server: SmtpServer) -> None:  # type: ignore[no-untyped-def]
    links.create_request(session, NOW, cast.harbour, {"partner": "Acme Insurance", "touchpoint": "Claims form",
                                                         "client_email": "dana@client.test", "client_name": "Dana"},
                            actor=cast.bob, source="form", base_url=BASE, adviser=cast.bob)
    session.commit()
    assert request_in(runtime).status == "queued"

    assert jobs.send_emails(with_smtp(runtime, smtp_server.url()), NOW, worker="w1").sent == 1
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["dana@client.test"]
    plain = received.message.get_body(("plain",)).get_content()
    assert "Acme Insurance" in plain and "Claims form" in plain
    request = request_in(runtime)
    assert (request.status, request.sent_at) == ("sent", NOW)

    rating_link = re.search(r"(http://partnermon\.test/f/[A-Za-z0-9_-]+)\?rating=1", plain)
    assert rating_link is not None
    path = rating_link[1].removeprefix(BASE)
    with runtime.session_factory() as s:   # sent: the outbox no longer keeps a working link
        stored_email = s.scalars(select(OutboxEmail)).one()
        assert path not in stored_email.text_body and path not in stored_email.html_body
        assert "/f/[link removed once sent]" in stored_email.text_body
    before = snapshot(engine)
    opened = client.get(path + "?rating=1")
    assert opened.status_code == 200 and "How did it go with Acme Insurance?" in text_of(opened)
    assert_unchanged(before, engine)
    assert responses_in(runtime) == []

    posted = client.post(path, data={"satisfaction": "1", "brand_effect": "worse", "comment": "Nobody called back."})
    assert posted.status_code == 303
    [answer] = responses_in(runtime)
    assert (answer.satisfaction, answer.brand_effect, answer.request_id) == (1, "worse", request.id)
    assert request_in(runtime).status == "answered"

    assert client.post(path, data={"satisfaction": "3", "comment": "They called back today."}).status_code == 303
    [edited] = responses_in(runtime)
    assert (edited.id, edited.satisfaction, edited.comment) == (answer.id, 3, "They called back today.")


def second_post_waits_then_edits(runtime: Runtime, first: Session, post: Callable[[Session], bool]) -> None:
    """With ``first`` holding an uncommitted first answer, ``post`` (a second answer to the same link, in a
    session of its own, returning whether it created a response) must wait for it, then edit that response."""
    outcome: dict[str, Any] = {}

    def second_post() -> None:
        with runtime.session_factory() as second:
            try:
                outcome["created"] = post(second)
                second.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                outcome["error"] = exc

    thread = threading.Thread(target=second_post)
    thread.start()
    thread.join(timeout=0.5)
    assert thread.is_alive(), "the second post should wait for the first one's transaction"
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert outcome == {"created": False}
    [answer] = responses_in(runtime)
    assert answer.satisfaction == 5  # the later post edited the one response


def test_two_posts_for_one_link_at_the_same_time_store_one_response(session: Session, runtime: Runtime,
                                                                    cast: Cast) -> None:
    made = links.create_request(session, NOW, cast.harbour, {"partner": "Acme Insurance",
                                                                "client_email": "dana@client.test"},
                                   actor=cast.bob, source="form", base_url=BASE)
    session.commit()
    request_id = made.request.id
    first_answers = responses.parse_answers({"satisfaction": "1"}, None)
    second_answers = responses.parse_answers({"satisfaction": "5"}, None)

    first = runtime.session_factory()
    responses.record_response(first, NOW, first.get(FeedbackRequest, request_id), first_answers)  # not committed yet
    second_post_waits_then_edits(runtime, first, lambda second: responses.record_response(
        second, NOW, second.get(FeedbackRequest, request_id), second_answers)[1])


def live_link_token(session: Session, cast: Cast) -> str:
    """A new, committed feedback request's link token."""
    made = links.create_request(session, NOW, cast.harbour, {"partner": "Acme Insurance",
                                                                "client_email": "dana@client.test"},
                                   actor=cast.bob, source="form", base_url=BASE)
    session.commit()
    assert made.link is not None
    return made.link.rsplit("/", 1)[1]


def test_two_posts_to_a_live_link_at_the_same_time_store_one_response(session: Session, runtime: Runtime,
                                                                       cast: Cast) -> None:
    # The form's own path: the claim (one UPDATE … RETURNING) is what makes the second post wait.
    token = live_link_token(session, cast)
    first = runtime.session_factory()
    answered = responses.answer(first, NOW, token, {"satisfaction": "1"}, base_url=BASE)
    assert answered is not None and answered.created   # not committed yet
    second_post_waits_then_edits(runtime, first, lambda second: _created(
        responses.answer(second, NOW, token, {"satisfaction": "5"}, base_url=BASE)))


def _created(answered: responses.Answered | None) -> bool:
    assert answered is not None
    return answered.created


def test_a_second_post_while_the_first_opens_a_follow_up_adds_to_that_one(session: Session, runtime: Runtime,
                                                                         cast: Cast) -> None:
    token = live_link_token(session, cast)
    first = runtime.session_factory()
    answered = responses.answer(first, NOW, token, {"satisfaction": "1"}, base_url=BASE)
    assert answered is not None and answered.follow_up is not None   # opened; not committed yet
    second_post_waits_then_edits(runtime, first, lambda second: _created(responses.answer(
        second, NOW, token, {"satisfaction": "5", "wants_contact": "1", "contact_channel": "email"}, base_url=BASE)))
    with runtime.session_factory() as s:
        [follow_up] = s.scalars(select(FollowUp)).all()
        assert follow_up.reasons == ["dissatisfied", "contact_request"]


def test_many_posts_for_one_link_at_once_store_one_response_and_open_one_follow_up(
        session: Session, runtime: Runtime, cast: Cast) -> None:
    token = live_link_token(session, cast)
    posts = 6
    start = threading.Barrier(posts)
    outcomes: list[Any] = []

    def post(satisfaction: int) -> None:
        with runtime.session_factory() as mine:
            start.wait(timeout=30)
            try:
                answered = responses.answer(mine, NOW, token, {"satisfaction": str(satisfaction)}, base_url=BASE)
                mine.commit()
                outcomes.append(_created(answered))
            except Exception as exc:  # noqa: BLE001 - reported below
                outcomes.append(exc)

    threads = [threading.Thread(target=post, args=(1 + n % 2,)) for n in range(posts)]   # all unhappy: 1 or 2
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes, key=str) == [False] * (posts - 1) + [True]   # every post stored; one created
    with runtime.session_factory() as s:
        assert len(s.scalars(select(FeedbackResponse)).all()) == 1
        assert len(s.scalars(select(FollowUp)).all()) == 1


# --- the open link --------------------------------------------------------------------------------

def open_link(session: Session, cast: Cast) -> str:
    session.execute(update(Practice).where(Practice.id == cast.harbour.id).values(open_feedback_link=True))
    session.commit()
    return "/p/harbour/feedback"


OPEN_ANSWERS = {"satisfaction": "2", "comment": "Portal kept logging me out", "wants_contact": "1",
                "contact_channel": "email", "client_email": "walk-in@client.test", "client_name": "Wanda"}


def filled_in(browser, path: str, **answers: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The open form's answers with its one-time submission key, as a browser would post them."""
    key = re.search(r'name="submission" value="([^"]+)"', browser.get(path).get_data(as_text=True))
    assert key is not None
    return {**OPEN_ANSWERS, "submission": key[1], **answers}


def test_the_open_link_is_off_by_default(client, browser, session, cast) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/p/harbour/feedback").status_code == 404
    assert browser.post("/p/harbour/feedback", {"partner": str(cast.acme.id), **OPEN_ANSWERS,
                                                "submission": "k" * 32}).status_code == 404
    assert client.get("/p/nobody/feedback").status_code == 404


def test_an_answer_through_the_open_link_is_stored_unverified_with_the_partner_the_client_chose(
        client, browser, session, runtime, cast) -> None:  # type: ignore[no-untyped-def]
    path = open_link(session, cast)
    page = client.get(path)
    assert page.status_code == 200 and "Acme Insurance" in text_of(page)
    assert "Zenith" not in text_of(page)  # only this practice's partners
    answers = filled_in(browser, path, partner=str(cast.acme.id))
    response = browser.post(path, answers)
    assert response.status_code == 303 and response.headers["Location"].endswith("/p/harbour/feedback/thanks")
    assert browser.post(path, answers).status_code == 303   # a double click stores it once
    [answer] = responses_in(runtime)
    assert (answer.verified, answer.request_id, answer.partner_id) == (False, None, cast.acme.id)
    assert (answer.client_email, answer.client_name, answer.contact_channel) == ("walk-in@client.test", "Wanda", "email")
    assert "Thank you" in text_of(client.get("/p/harbour/feedback/thanks"))


def test_the_open_link_refuses_another_practices_partner_and_a_missing_email_for_a_reply(
        browser, session, runtime, cast) -> None:  # type: ignore[no-untyped-def]
    path = open_link(session, cast)
    response = browser.post(path, filled_in(browser, path, partner=str(cast.zenith.id), client_email=""))
    assert response.status_code == 422
    page = text_of(response)
    assert "Choose the company your feedback is about." in page
    assert "Enter your email address so we can reply." in page
    assert "Portal kept logging me out" in response.get_data(as_text=True)
    assert responses_in(runtime) == []


def test_a_robot_filling_the_honeypot_is_thanked_and_nothing_is_stored(browser, session, runtime, cast) -> None:  # type: ignore[no-untyped-def]
    path = open_link(session, cast)
    response = browser.post(path, filled_in(browser, path, partner=str(cast.acme.id), website="http://spam.example"))
    assert response.status_code == 303 and response.headers["Location"].endswith("/thanks")
    assert responses_in(runtime) == []


def test_the_open_link_takes_a_limited_number_of_answers_per_address_per_hour(browser, session, runtime, cast, app) -> None:  # type: ignore[no-untyped-def]
    path = open_link(session, cast)
    for _ in range(10):
        assert browser.post(path, filled_in(browser, path, partner=str(cast.acme.id))).status_code == 303
    refused = browser.post(path, filled_in(browser, path, partner=str(cast.acme.id)))
    assert refused.status_code == 429 and "Please try again later" in text_of(refused)
    assert len(responses_in(runtime)) == 10
    app.config["PARTNERMON_CLOCK"] = lambda: NOW + timedelta(hours=1, minutes=1)
    assert browser.post(path, filled_in(browser, path, partner=str(cast.acme.id))).status_code == 303


def test_the_open_link_refuses_a_post_from_another_site(client, session, runtime, cast) -> None:  # type: ignore[no-untyped-def]
    path = open_link(session, cast)
    response = client.post(path, data={"partner": str(cast.acme.id), **OPEN_ANSWERS, "submission": "k" * 32})
    assert response.status_code == 400   # no CSRF token: another page cannot post answers through its visitors
    assert responses_in(runtime) == []
