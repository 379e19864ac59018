"""The drafted personal reply (issue 19): on the email rung the follow-up page offers Bob a short email to the
client written from what they said; he edits it and sends it through the outbox, From the practice's sender
with Reply-To him; sending records the contact by email, once however often the form is posted. Not offered on
the phone or meeting rung, nor to a viewer, nor for a client without an email address; another practice's
follow-up does not exist; the real SMTP server receives the Reply-To header and the body escaped in HTML.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from partnermon import jobs
from partnermon.errors import ValidationError
from partnermon.feedback import responses
from partnermon.followups import replies
from partnermon.models import FollowUp, FollowUpEvent, User
from partnermon.runtime import Runtime
from tests.conftest import NOW, sessions_waiting_on_a_lock, text_of
from tests.factories import Cast
from tests.smtp_server import SmtpServer, make_smtp_server, smtp_server  # noqa: F401 - fixtures
from tests.test_followup_pages import page_of, state
from tests.test_followups import BASE, UNHAPPY, answer, clock, emails, the_follow_up  # noqa: F401 - clock
from tests.test_outbox import MAIL_FROM, with_smtp

MILD = {"satisfaction": "2", "comment": "The portal logged me out three times. <b>Three!</b>"}
SUBMISSION = "reply-form-key-0123456789"
# What Bob's draft to Dana says, by hand: her first name, Acme, the moment, her comment, his name, the practice.
DRAFT = """Hello Dana,

Thank you for telling us about your experience with Acme Insurance (everyday service). You wrote:

“The portal logged me out three times. <b>Three!</b>”

I am sorry it went that way. Harbour Advice recommended Acme Insurance to you, so it matters to us too.

[Say what we will do, e.g. raise it with Acme Insurance and let you know.]

If you would like to talk it through, just reply to this email.

Kind regards,
Bob Baker
Harbour Advice"""
BODY = DRAFT.replace("[Say what we will do, e.g. raise it with Acme Insurance and let you know.]",
                     "I have asked Acme's account manager to look into it and will call you on Friday.")


@pytest.fixture
def follow_up(session: Session, cast: Cast, clock: Callable[..., None]) -> FollowUp:
    """Bob's mild follow-up on the email rung: Dana is unhappy with Acme's everyday service (her comment holds
    markup). Bob has a name to sign with."""
    cast.bob.name = "Bob Baker"
    answer(session, cast, MILD, about="service")
    follow_up = the_follow_up(session)
    assert (follow_up.rung, follow_up.status) == ("email", "open")
    return follow_up


def reply(**fields: str) -> dict[str, str]:
    return {"reply_subject": "Your experience with Acme Insurance", "reply_body": BODY, "submission": SUBMISSION,
            **fields}


def contacts(session: Session, follow_up: FollowUp) -> list[tuple[str, str | None, str, str]]:
    return [(event.actor, event.channel, event.action, event.note) for event in session.scalars(
        select(FollowUpEvent).where(FollowUpEvent.follow_up_id == follow_up.id, FollowUpEvent.action == "contacted")
        .execution_options(populate_existing=True))]


# --- the draft -----------------------------------------------------------------------------------------------

def test_the_draft_names_the_partner_the_moment_quotes_the_comment_and_is_signed_by_the_adviser(
        cast: Cast, follow_up: FollowUp) -> None:
    drafted = replies.draft(follow_up, cast.bob)
    assert drafted.subject == "Your experience with Acme Insurance"
    assert drafted.body == DRAFT
    assert replies.draft(follow_up, cast.bob) == drafted   # deterministic
    filled = replies.draft(follow_up, cast.bob, to_do="I have asked Acme's account manager to look into it\n and "
                                                         "will call you on Friday.")
    assert filled.body == BODY


def test_the_draft_greets_plainly_without_a_name_and_signs_with_the_practice_alone_without_one(
        session: Session, cast: Cast, follow_up: FollowUp) -> None:
    assert follow_up.request is not None
    follow_up.request.client_name = ""
    cast.bob.name = ""
    body = replies.draft(follow_up, cast.bob).body
    assert body.startswith("Hello,\n\n")
    assert body.endswith("Kind regards,\nHarbour Advice")


@pytest.mark.parametrize(("name", "greeting"), [("Dana Smith", "Dana"), ("  dana  ", "dana"),
                                                ("Dr Ann Lee", "Dr Ann Lee"), ("Mrs. Patel", "Mrs. Patel"), ("", "")])
def test_the_greeting_uses_the_first_name_or_the_title_and_name(name: str, greeting: str) -> None:
    assert replies.greeting_name(name) == greeting


def test_a_long_comment_is_quoted_to_its_last_whole_sentence_or_word() -> None:
    sentence = "The claims form failed twice. " * 5 + "Then nobody called back although they promised."
    assert len(sentence) == 197
    assert replies.quote(sentence) == sentence   # short enough: whole
    longer = sentence + " Really."
    # 205 characters: cut at the last sentence ending within 200 ("…promised."), marked as cut.
    assert replies.quote(longer) == sentence + " …"
    words = "word " * 60   # no sentence: cut at the last space within 200 characters
    assert replies.quote(words) == ("word " * 40).strip() + "…"
    assert replies.quote("  two\n\nlines  ") == "two lines"


def test_a_follow_up_without_a_comment_thanks_without_quoting(session: Session, cast: Cast,
                                                              clock: Callable[..., None]) -> None:
    answer(session, cast, {"satisfaction": "2"}, about="service")
    body = replies.draft(the_follow_up(session), cast.bob).body
    assert "You wrote" not in body and "“" not in body
    assert "Thank you for telling us about your experience with Acme Insurance (everyday service).\n\n" in body


# --- the page ------------------------------------------------------------------------------------------------

def test_the_page_offers_the_draft_to_the_assignee_escaped(follow_up: FollowUp, browser: Any) -> None:
    response = browser.sign_in("bob@harbour.test").get(page_of(follow_up))
    html, page = response.get_data(as_text=True), text_of(response)
    assert "Write to Dana" in page
    assert "their answer comes to you ( bob@harbour.test )" in page
    assert f'action="/follow-ups/{follow_up.id}/reply"' in html
    assert "<b>Three!</b>" not in html and "&lt;b&gt;Three!&lt;/b&gt;" in html
    assert 'value="Your experience with Acme Insurance"' in html
    assert 'name="csrf_token"' in html.split('id="reply-heading"')[1].split("</form>")[0]


def test_sending_queues_one_email_to_the_client_answered_to_the_sender_and_records_the_contact(
        session: Session, cast: Cast, follow_up: FollowUp, browser: Any) -> None:
    browser.sign_in("bob@harbour.test")
    response = browser.post(page_of(follow_up) + "/reply", reply(reply_body=BODY.replace("\n", "\r\n")),
                            follow_redirects=True)
    assert response.status_code == 200
    assert ("Your email to Dana is on its way; their answer will come to bob@harbour.test. Recorded as a contact "
            "by email.") in text_of(response)
    [email] = emails(session, "followup_reply")
    assert (email.to_addr, email.reply_to, email.subject) == ("dana@client.test", "bob@harbour.test",
                                                            "Your experience with Acme Insurance")
    assert email.text_body == BODY
    assert "&lt;b&gt;Three!&lt;/b&gt;" in email.html_body and "<b>Three!</b>" not in email.html_body
    assert "Kind regards,<br>Bob Baker<br>Harbour Advice</p>" in email.html_body
    assert contacts(session, follow_up) == [
        ("bob@harbour.test", "email", "contacted", "Sent a personal email: Your experience with Acme Insurance")]
    session.refresh(follow_up)
    assert (follow_up.status, follow_up.contacted_at, follow_up.contacted_channel) == ("contacted", NOW, "email")
    page = text_of(browser.get(page_of(follow_up)))
    assert "Contacted the client · Email" in page and "Sent a personal email: Your experience with Acme" in page
    # Contacted, still on the email rung and unresolved: Bob may write again.
    assert "Write to Dana" in page


def test_a_double_submit_sends_once_and_records_one_contact(session: Session, follow_up: FollowUp,
                                                            browser: Any) -> None:
    browser.sign_in("bob@harbour.test")
    assert browser.post(page_of(follow_up) + "/reply", reply()).status_code == 302
    again = browser.post(page_of(follow_up) + "/reply", reply(), follow_redirects=True)
    assert "Your email to Dana was sent already; it was not sent again." in text_of(again)
    assert len(emails(session, "followup_reply")) == 1
    assert len(contacts(session, follow_up)) == 1
    # A new form (a new key) is a new email.
    assert browser.post(page_of(follow_up) + "/reply", reply(submission="another-form-key-0123456789")
                        ).status_code == 302
    assert len(emails(session, "followup_reply")) == 2 and len(contacts(session, follow_up)) == 2


def test_two_posts_of_one_form_racing_send_once_and_record_one_contact(
        session: Session, runtime: Runtime, cast: Cast, follow_up: FollowUp) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes the write lock at BEGIN (IMMEDIATE), so two posts cannot race here")

    def send(into: Session) -> bool:
        return replies.send_reply(into, NOW, into.get_one(FollowUp, follow_up.id), into.get_one(User, cast.bob.id),
                                  subject="About Acme", body="Hello Dana.", submission=SUBMISSION, base_url=BASE)

    with runtime.session_factory() as first:
        assert send(first)   # queued and recorded, not yet committed

        def second() -> bool:
            with runtime.session_factory() as other:
                sent = send(other)   # its insert waits for the first post's commit, then finds the email there
                other.commit()
                return sent

        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(second)
            waiting = sessions_waiting_on_a_lock(runtime.engine, future)
            first.commit()   # before any assert: a failed one must not leave the other waiting forever
            assert waiting == 1, "the second post never waited on the first one's email"
            assert future.result(timeout=10) is False
    assert len(emails(session, "followup_reply")) == 1
    assert len(contacts(session, follow_up)) == 1


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"reply_body": ""}, "reply_body", "The message is required."),
    ({"reply_body": "  \r\n  "}, "reply_body", "The message is required."),
    ({"reply_subject": ""}, "reply_subject", "The subject is required."),
    ({"reply_subject": "x" * 151}, "reply_subject", "The subject must be at most 150 characters (it has 151)."),
    ({"reply_body": "x" * 5001}, "reply_body", "The message must be at most 5,000 characters (it has 5,001)."),
    ({"reply_body": "Hello\x00"}, "reply_body", "The message contains control characters."),
    ({"reply_body": DRAFT}, "reply_body", "Replace the line in square brackets with what the practice will do."),
    ({"submission": "short"}, "form", "This form is out of date. Please write the email again."),
])
def test_bad_input_comes_back_with_a_field_message_and_nothing_is_queued_or_recorded(
        follow_up: FollowUp, browser: Any, engine: Engine, fields: dict[str, str], field: str, message: str) -> None:
    browser.sign_in("bob@harbour.test")
    before = state(engine)
    response = browser.post(page_of(follow_up) + "/reply", reply(**fields))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in text_of(response)
    if field != "form":
        assert f'id="f-{field}-error"' in html
    assert state(engine) == before
    # What was typed is kept, and so is the form's one-time key (when it was a good one).
    if fields.get("reply_body") == DRAFT:
        assert "[Say what we will do" in html and f'value="{SUBMISSION}"' in html


@pytest.mark.parametrize("rung", ["phone", "meeting"])
def test_no_email_is_offered_or_sent_on_the_phone_or_meeting_rung(
        session: Session, cast: Cast, follow_up: FollowUp, browser: Any, engine: Engine, rung: str) -> None:
    follow_up.rung = rung
    session.commit()
    browser.sign_in("bob@harbour.test")
    page = browser.get(page_of(follow_up)).get_data(as_text=True)
    assert "Write to" not in page and "/reply" not in page
    before = state(engine)
    response = browser.post(page_of(follow_up) + "/reply", reply())
    assert response.status_code == 422
    wanted = "a phone call" if rung == "phone" else "a meeting"
    assert f"This follow-up calls for {wanted}, not an email. No email was sent." in text_of(response)
    assert state(engine) == before


def test_no_email_is_offered_or_sent_once_resolved(session: Session, cast: Cast, follow_up: FollowUp,
                                                    browser: Any, engine: Engine) -> None:
    follow_up.status = "resolved"
    session.commit()
    browser.sign_in("bob@harbour.test")
    assert "Write to" not in text_of(browser.get(page_of(follow_up)))
    before = state(engine)
    response = browser.post(page_of(follow_up) + "/reply", reply())
    assert response.status_code == 422 and "This follow-up is resolved. No email was sent." in text_of(response)
    assert state(engine) == before


def test_a_viewer_sees_no_draft_and_cannot_send(follow_up: FollowUp, browser: Any, engine: Engine) -> None:
    browser.sign_in("vera@harbour.test")
    page = browser.get(page_of(follow_up)).get_data(as_text=True)
    assert "Write to" not in page and "/reply" not in page and "Kind regards" not in page
    before = state(engine)
    assert browser.post(page_of(follow_up) + "/reply", reply()).status_code == 403
    assert state(engine) == before


def test_another_practices_follow_up_is_not_found_and_nothing_is_sent(
        follow_up: FollowUp, browser: Any, engine: Engine) -> None:
    browser.sign_in("charlie@quay.test")
    before = state(engine)
    response = browser.post(page_of(follow_up) + "/reply", reply())
    assert response.status_code == 404 and "Dana" not in text_of(response)
    assert state(engine) == before


def test_the_service_refuses_another_practices_user(cast: Cast, follow_up: FollowUp, session: Session) -> None:
    from partnermon.errors import NotFound
    with pytest.raises(NotFound):
        replies.send_reply(session, NOW, follow_up, cast.charlie, subject="Hi", body="Hello", submission=SUBMISSION,
                           base_url=BASE)


# --- open-link answers: the address the client typed, or none --------------------------------------------------

def open_link_follow_up(session: Session, cast: Cast, client_email: str) -> FollowUp:
    """Erin answers through the open link and asks to be contacted (else an unverified answer opens nothing):
    by email at the address she typed, or, with none, by phone."""
    contact = ({"contact_channel": "email"} if client_email else
               {"contact_channel": "phone", "contact_phone": "+44 20 7946 0001"})
    answers = responses.parse_answers({**MILD, "client_name": "Erin Ellis", "client_email": client_email,
                                       "wants_contact": "1", **contact},
                                      responses.choosable_moments(session, cast.harbour.id), open_link=True)
    responses.record_open_response(session, NOW, cast.harbour, cast.acme, answers, base_url=BASE)
    session.commit()
    return the_follow_up(session)


def test_an_unconfirmed_address_typed_on_the_open_link_gets_no_draft_and_nothing_is_sent(
        session: Session, cast: Cast, browser: Any, engine: Engine, clock: Callable[..., None]) -> None:
    # Anyone may type anyone's address on the open link: partnermon writes only to addresses it can trust,
    # as recovery check-ins do.
    follow_up = open_link_follow_up(session, cast, "erin@client.test")
    assert follow_up.rung == "email" and follow_up.request_id is None
    reason = ("This address was typed on the open link and has not been confirmed, so partnermon will not write to "
              "it; reply from your own email if you know the client.")
    assert replies.why_no_reply(follow_up) == reason
    assert replies.offer(follow_up, cast.alice) == replies.Offer(None, reason, "alice@harbour.test")
    browser.sign_in("alice@harbour.test")   # the owner: nobody asked on the practice's behalf
    assert f"Write to Erin Ellis No draft to send. {reason}" in text_of(browser.get(page_of(follow_up)))
    before = state(engine)
    response = browser.post(page_of(follow_up) + "/reply", reply())
    assert response.status_code == 422 and "has not been confirmed" in text_of(response)
    assert state(engine) == before and emails(session, "followup_reply") == []
    with pytest.raises(ValidationError):
        replies.send_reply(session, NOW, follow_up, cast.alice, subject="Hi", body="Hello", submission=SUBMISSION,
                           base_url=BASE)


def test_a_client_without_an_email_address_gets_no_draft_and_the_page_says_why(
        session: Session, cast: Cast, browser: Any, engine: Engine, clock: Callable[..., None]) -> None:
    follow_up = open_link_follow_up(session, cast, "")
    follow_up.rung = "email"   # as if an owner had stepped it down: Erin gave a phone number and no address
    session.commit()
    page = text_of(browser.sign_in("alice@harbour.test").get(page_of(follow_up)))
    assert ("Write to Erin Ellis No draft to send. The client left no email address, so there is nobody to write "
            "to.") in page
    before = state(engine)
    response = browser.post(page_of(follow_up) + "/reply", reply())
    assert response.status_code == 422 and "The client left no email address" in text_of(response)
    assert state(engine) == before
    with pytest.raises(ValidationError):
        replies.send_reply(session, NOW, follow_up, cast.alice, subject="Hi", body="Hello", submission=SUBMISSION,
                           base_url=BASE)


# --- through a real SMTP server --------------------------------------------------------------------------------

def test_the_mail_server_receives_the_email_from_the_practice_with_reply_to_the_adviser(
        session: Session, runtime: Runtime, follow_up: FollowUp, browser: Any, smtp_server: SmtpServer) -> None:
    browser.sign_in("bob@harbour.test")
    assert browser.post(page_of(follow_up) + "/reply", reply()).status_code == 302

    jobs.send_emails(with_smtp(runtime, smtp_server.url()), NOW, worker="w1")

    # Dana's invitation and Bob's alert went out too.
    [received] = [each for each in smtp_server.wait_for(3) if each.message["Subject"].startswith("Your experience")]
    message = received.message
    assert message["From"] == MAIL_FROM
    assert message["Reply-To"] == "bob@harbour.test"
    assert message["To"] == "dana@client.test" and received.rcpt_tos == ["dana@client.test"]
    assert message["Subject"] == "Your experience with Acme Insurance"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == BODY + "\n"
    assert "&lt;b&gt;Three!&lt;/b&gt;" in html.get_content() and "<b>Three!</b>" not in html.get_content()


def test_emails_partnermon_writes_itself_carry_no_reply_to(session: Session, runtime: Runtime, cast: Cast,
                                                          smtp_server: SmtpServer, clock: Callable[..., None]) -> None:
    answer(session, cast, UNHAPPY)   # the alert to Bob
    jobs.send_emails(with_smtp(runtime, smtp_server.url()), NOW, worker="w1")
    received = smtp_server.wait_for(2)   # Dana's invitation and Bob's alert
    assert [each.message["Reply-To"] for each in received] == [None, None]
