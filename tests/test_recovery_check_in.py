"""Recovery check-ins (issue 19): a set time after a follow-up is resolved the client is asked "Did {practice}
put things right?"; the link's GET records nothing, its POST is idempotent, and "no" reopens the follow-up one
rung up the ladder. Throttled like feedback requests; withdrawn when the follow-up is reopened.

Harbour: Europe/London, Mon–Fri 09:00–17:30, check-ins 7 days after resolving, feedback links 30 days (so a
check-in's link works 14), throttle 30 days. NOW is Monday 23 November 2026, 10:00 GMT.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from partnermon import jobs
from partnermon.accounts.security import token_hash
from partnermon.errors import ValidationError
from partnermon.feedback import links, rate_limits, responses, staff
from partnermon.followups import recovery, rules, service
from partnermon.mail import sender
from partnermon.models import AuditEvent, FollowUp, PublicAttempt, RecoveryCheckIn
from partnermon.runtime import Runtime
from tests.conftest import NOW, text_of
from tests.factories import Cast
from tests.test_access import assert_unchanged, snapshot
from tests.test_followups import BASE, answer, ask, clock, emails, reanswer, the_follow_up  # noqa: F401 - clock

UTC = timezone.utc
MILD = {"satisfaction": "2"}      # everyday service: a follow-up on the email rung, Bob's
NORMAL = "service"
RESOLVED = NOW + timedelta(hours=2)          # Monday 23 November 12:00
DUE = RESOLVED + timedelta(days=7)           # Monday 30 November 12:00
LINK = re.compile(r"/check-in/([A-Za-z0-9_-]{20,100})")


def resolve(session: Session, cast: Cast, follow_up: FollowUp, at: datetime = RESOLVED) -> FollowUp:
    service.record_resolved(session, at, follow_up, cast.bob, outcome="stayed", note="Acme paid the claim.")
    session.commit()
    return follow_up


def check_ins(session: Session) -> list[RecoveryCheckIn]:
    return list(session.scalars(select(RecoveryCheckIn).order_by(RecoveryCheckIn.id)
                                .execution_options(populate_existing=True)))


def send_due(runtime: Runtime, at: datetime) -> recovery.CheckInReport:
    return jobs.recovery_check_ins(runtime, at)


@pytest.fixture
def resolved(session: Session, cast: Cast) -> FollowUp:
    """Dana's follow-up (Bob's, email rung), resolved at RESOLVED."""
    answer(session, cast, MILD, about=NORMAL)
    return resolve(session, cast, the_follow_up(session))


@pytest.fixture
def token(session: Session, runtime: Runtime, resolved: FollowUp) -> str:
    """The check-in sent when due; the token as the email carries it."""
    assert send_due(runtime, DUE).sent == 1
    [email] = emails(session, "recovery_check_in")
    found = LINK.search(email.text_body)
    assert found is not None
    return found[1]


def post(client: FlaskClient, token: str, **form: str) -> Any:
    return client.post(f"/check-in/{token}", data=form)


def history(follow_up: FollowUp) -> list[tuple[str, str, str | None, str]]:
    return [(e.action, e.actor, e.channel, e.note) for e in follow_up.events
            if e.action not in ("opened", "resolved")]


# --- scheduling ---------------------------------------------------------------------------------------------

def test_resolving_schedules_a_check_in_seven_days_later_with_the_rung_and_assignee_it_was_resolved_on(
        session: Session, cast: Cast, resolved: FollowUp) -> None:
    [check_in] = check_ins(session)
    assert (check_in.status, check_in.round, check_in.due_at, check_in.created_at) == ("scheduled", 1, DUE, RESOLVED)
    assert (check_in.reached_rung, check_in.assignee_id, check_in.partner_id) == ("email", cast.bob.id, cast.acme.id)
    assert (check_in.client_email, check_in.client_name) == ("dana@client.test", "Dana")
    assert check_in.token_hash is None and check_in.sent_at is None   # no link exists before it is due
    assert emails(session, "recovery_check_in") == []


def test_a_practice_that_asks_after_zero_days_schedules_nothing(session: Session, cast: Cast) -> None:
    cast.harbour.recovery_check_in_days = 0
    answer(session, cast, MILD, about=NORMAL)
    resolve(session, cast, the_follow_up(session))
    assert check_ins(session) == []


def test_a_client_without_an_email_address_is_not_asked_and_the_page_says_why(
        session: Session, cast: Cast) -> None:
    cast.harbour.open_feedback_link = True
    answers = responses.parse_answers({"satisfaction": "1", "wants_contact": "1", "contact_channel": "phone",
                                       "contact_phone": "+44 20 7946 0000"}, None, open_link=True)
    responses.record_open_response(session, NOW, cast.harbour, cast.acme, answers, "a-submission-key-000000001",
                                   base_url=BASE)
    session.commit()
    resolve(session, cast, the_follow_up(session))
    [check_in] = check_ins(session)
    assert (check_in.status, check_in.skipped_reason) == ("skipped", recovery.NO_EMAIL)


# --- sending ------------------------------------------------------------------------------------------------

def test_it_is_sent_when_due_with_only_the_tokens_hash_stored_and_the_emails_link_works(
        session: Session, runtime: Runtime, client: FlaskClient, clock: Callable[[datetime], None],
        resolved: FollowUp) -> None:
    assert not send_due(runtime, DUE - timedelta(seconds=1))
    assert send_due(runtime, DUE) == recovery.CheckInReport(sent=1)
    assert send_due(runtime, DUE + timedelta(minutes=5)) == recovery.CheckInReport()   # sent once
    [check_in] = check_ins(session)
    assert (check_in.status, check_in.sent_at, check_in.expires_at) == ("sent", DUE, DUE + timedelta(days=14))
    [email] = emails(session, "recovery_check_in")
    assert email.to_addr == "dana@client.test"
    assert email.subject == "Harbour Advice: did we put things right?"
    assert "did Harbour Advice put things right?" in email.text_body and "Acme Insurance" in email.text_body
    assert email.text_body.strip().splitlines()[-1].endswith(", Harbour Advice")   # signed by Bob, for the practice
    found = LINK.search(email.html_body)
    assert found is not None
    token = found[1]
    assert check_in.token_hash == token_hash(token) and token not in str(check_in.__dict__)
    clock(DUE + timedelta(hours=1))
    page = client.get(f"/check-in/{token}")
    assert page.status_code == 200 and "Did Harbour Advice put things right?" in text_of(page)
    [audit] = session.scalars(select(AuditEvent).where(AuditEvent.action == "follow_up.check_in_sent"))
    assert audit.summary == f"Asked dana@client.test whether things were put right (follow-up #{resolved.id})"


def test_once_the_email_has_gone_the_outbox_no_longer_holds_the_live_link(
        session: Session, runtime: Runtime, token: str) -> None:
    [email] = emails(session, "recovery_check_in")
    assert sender.mark_sent(session, DUE, email.id, "test-worker", email.dedupe_key)
    [email] = emails(session, "recovery_check_in")
    assert token not in email.text_body and token not in email.html_body
    assert "/check-in/[link removed once sent]" in email.text_body


def test_everything_the_client_or_staff_typed_is_escaped_in_the_email(session: Session, runtime: Runtime,
                                                                       cast: Cast) -> None:
    cast.harbour.name = "Harbour <b>Advice</b>"
    request, _ = ask(session, cast, about=NORMAL)
    request.client_name = "<script>alert(1)</script>"
    reanswer(session, request, MILD)
    follow_up = session.scalar(select(FollowUp).where(FollowUp.request_id == request.id))
    assert follow_up is not None
    resolve(session, cast, follow_up)
    assert send_due(runtime, DUE).sent == 1
    [email] = emails(session, "recovery_check_in")
    assert "<script>" not in email.html_body and "&lt;script&gt;" in email.html_body
    assert "Harbour &lt;b&gt;Advice&lt;/b&gt;" in email.html_body


# --- the page: a GET records nothing; POST yes / partly / no --------------------------------------------------

def test_opening_the_link_records_nothing_not_even_that_it_was_opened(
        client: FlaskClient, engine: Engine, clock: Callable[[datetime], None], token: str) -> None:
    clock(DUE + timedelta(hours=1))
    before = snapshot(engine)
    for url in (f"/check-in/{token}", f"/check-in/{token}?answer=no", f"/check-in/{token}?answer=yes"):
        page = client.get(url)
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert_unchanged(before, engine)
    html = client.get(f"/check-in/{token}?answer=no").get_data(as_text=True)
    assert re.search(r'value="no"\s+checked', html)          # the email's button chooses it; only a POST saves it
    assert "<script" not in html                              # works without a script


@pytest.mark.parametrize("said, label", [("yes", "Yes"), ("partly", "Partly")])
def test_yes_or_partly_is_recorded_on_the_follow_ups_history_and_leaves_it_resolved(
        session: Session, client: FlaskClient, clock: Callable[[datetime], None], token: str, said: str,
        label: str) -> None:
    answered_at = DUE + timedelta(days=1)
    clock(answered_at)
    response = post(client, token, answer=said, comment="Took a while, <b>but</b> fine.")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/check-in/{token}")
    [check_in] = check_ins(session)
    assert (check_in.status, check_in.answer, check_in.comment, check_in.answered_at, check_in.opened_at) == (
        "answered", said, "Took a while, <b>but</b> fine.", answered_at, None)
    follow_up = the_follow_up(session)
    assert follow_up.status == "resolved" and follow_up.rung == "email"
    assert history(follow_up) == [("checked_in", "the client", None,
                                   f"Did Harbour Advice put things right? {label}: “Took a while, <b>but</b> fine.”")]
    thanks = client.get(f"/check-in/{token}")
    assert thanks.status_code == 200 and "Thank you" in text_of(thanks)
    assert "&lt;b&gt;but&lt;/b&gt;" in thanks.get_data(as_text=True)


def test_no_reopens_the_follow_up_one_rung_up_with_a_new_deadline_and_tells_the_assignee(
        session: Session, client: FlaskClient, clock: Callable[[datetime], None], token: str) -> None:
    answered_at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)   # Tuesday: one business day on is Wednesday 10:00
    clock(answered_at)
    assert post(client, token, answer="no", comment="Acme still has not paid.").status_code == 303
    follow_up = the_follow_up(session)
    assert (follow_up.status, follow_up.rung, follow_up.contact_due_at) == (
        "open", "phone", datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    assert (follow_up.resolved_at, follow_up.outcome_kind) == (None, None)
    assert history(follow_up) == [
        ("checked_in", "the client", None, "Did Harbour Advice put things right? No: “Acme still has not paid.”"),
        ("reopened", "the client", None, recovery.NOT_PUT_RIGHT),
        ("stepped_up", "the client", "phone", f"Email → Phone call: {recovery.NOT_PUT_RIGHT}"),
    ]
    [stepped] = emails(session, "followup_stepped")
    assert stepped.to_addr == "bob@harbour.test"
    assert emails(session, "followup_top_rung") == []
    [check_in] = check_ins(session)
    assert (check_in.status, check_in.answer) == ("answered", "no")   # the measures read it as answered "no"


def test_the_same_answer_posted_twice_changes_nothing_and_reopens_once(
        session: Session, client: FlaskClient, engine: Engine, clock: Callable[[datetime], None], token: str) -> None:
    clock(DUE + timedelta(days=1))
    assert post(client, token, answer="no", comment="Still waiting.").status_code == 303
    before = snapshot(engine)
    again = post(client, token, answer="no", comment="Still waiting.")
    assert again.status_code == 303
    assert_unchanged(before, engine)
    follow_up = the_follow_up(session)
    assert [e.action for e in follow_up.events].count("reopened") == 1
    assert [e.action for e in follow_up.events].count("checked_in") == 1
    assert follow_up.rung == "phone"


def test_a_different_answer_later_is_refused_and_the_first_one_stands(
        session: Session, client: FlaskClient, engine: Engine, clock: Callable[[datetime], None], token: str) -> None:
    clock(DUE + timedelta(days=1))
    assert post(client, token, answer="no").status_code == 303
    before = snapshot(engine)
    changed = post(client, token, answer="yes")
    assert changed.status_code == 409 and "your first answer stands" in text_of(changed)
    assert_unchanged(before, engine)
    assert check_ins(session)[0].answer == "no"


@pytest.mark.parametrize("second_answer", ["no", "yes"])
def test_two_posts_at_once_record_one_answer_and_reopen_once(session: Session, runtime: Runtime,
                                                             monkeypatch: pytest.MonkeyPatch, token: str,
                                                             second_answer: str) -> None:
    at = DUE + timedelta(days=1)
    with runtime.session_factory() as first, runtime.session_factory() as second:
        stale = recovery.find_by_token(second, token)     # the second post has read it as sent ...
        assert stale is not None and stale.status == "sent"
        second.commit()
        assert recovery.answer(first, at, token, {"answer": "no"}, BASE) is not None   # ... when the first answers
        first.commit()
        monkeypatch.setattr(recovery, "find_by_token", lambda _session, _token: stale)
        if second_answer == "no":
            assert recovery.answer(second, at, token, {"answer": "no"}, BASE) is stale   # the same: nothing to do
        else:
            with pytest.raises(recovery.AlreadyAnswered):
                recovery.answer(second, at, token, {"answer": "yes"}, BASE)
        second.commit()
    follow_up = the_follow_up(session)
    assert [e.action for e in follow_up.events].count("stepped_up") == 1
    assert [e.action for e in follow_up.events].count("checked_in") == 1
    assert check_ins(session)[0].answer == "no"


def test_on_the_top_rung_no_keeps_it_there_and_tells_the_owners_once(
        session: Session, runtime: Runtime, client: FlaskClient, clock: Callable[[datetime], None],
        cast: Cast) -> None:
    answer(session, cast, {"satisfaction": "2", "brand_effect": "worse"}, about=NORMAL)   # a meeting
    follow_up = resolve(session, cast, the_follow_up(session))
    assert follow_up.rung == "meeting" and follow_up.top_told_at is None
    send_due(runtime, DUE)
    [email] = emails(session, "recovery_check_in")
    found = LINK.search(email.text_body)
    assert found is not None
    answered_at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    clock(answered_at)
    assert post(client, found[1], answer="no").status_code == 303
    assert post(client, found[1], answer="no").status_code == 303
    follow_up = the_follow_up(session)
    assert (follow_up.status, follow_up.rung, follow_up.contact_due_at, follow_up.top_told_at) == (
        "open", "meeting", datetime(2026, 12, 2, 10, 0, tzinfo=UTC), answered_at)
    [top] = emails(session, "followup_top_rung")
    assert top.to_addr == "alice@harbour.test"
    alerts = [e for e in emails(session, "followup_alert") if recovery.NOT_PUT_RIGHT in e.text_body]
    assert [e.to_addr for e in alerts] == ["bob@harbour.test"]
    assert [e.action for e in follow_up.events if e.action in ("reopened", "top_told", "stepped_up")] == [
        "reopened", "top_told"]


def test_a_bad_answer_gets_a_field_message_and_records_nothing(
        client: FlaskClient, engine: Engine, clock: Callable[[datetime], None], token: str) -> None:
    clock(DUE + timedelta(days=1))
    before = snapshot(engine)
    for form in ({}, {"answer": "maybe"}, {"answer": "yes", "comment": "x" * 4001}, {"answer": "no", "comment": "\x00"}):
        response = post(client, token, **form)
        assert response.status_code == 422, form
        assert 'class="field-error"' in response.get_data(as_text=True)
    assert_unchanged(before, engine)


# --- reopening, the throttle, expiry ------------------------------------------------------------------------

def test_reopening_the_follow_up_withdraws_a_check_in_still_waiting(
        session: Session, runtime: Runtime, cast: Cast, resolved: FollowUp) -> None:
    service.reopen(session, RESOLVED + timedelta(days=1), resolved, cast.alice, note="Acme wrote again.")
    session.commit()
    [check_in] = check_ins(session)
    assert check_in.status == "withdrawn"
    assert send_due(runtime, DUE) == recovery.CheckInReport()
    assert emails(session, "recovery_check_in") == []
    # Resolved again: a new round, due seven days after the new resolution.
    again = resolve(session, cast, the_follow_up(session), at=RESOLVED + timedelta(days=2))
    assert [(c.round, c.status, c.due_at) for c in check_ins(session)] == [
        (1, "withdrawn", DUE), (2, "scheduled", DUE + timedelta(days=2))]
    assert again.status == "resolved"


def test_reopening_after_the_email_was_queued_holds_it_back_and_the_link_stops_working(
        session: Session, client: FlaskClient, clock: Callable[[datetime], None], cast: Cast, token: str) -> None:
    follow_up = the_follow_up(session)
    service.reopen(session, DUE + timedelta(hours=1), follow_up, cast.alice)
    session.commit()
    [email] = emails(session, "recovery_check_in")
    assert email.status == "failed" and token not in email.text_body
    clock(DUE + timedelta(hours=2))
    assert client.get(f"/check-in/{token}").status_code == 404
    assert post(client, token, answer="no").status_code == 404
    assert check_ins(session)[0].status == "withdrawn"


def test_the_check_in_is_not_held_back_by_the_request_that_opened_the_follow_up_but_is_by_another(
        session: Session, runtime: Runtime, cast: Cast, resolved: FollowUp) -> None:
    # Dana's own request (NOW) is within the 30-day throttle, and she is asked anyway: it is why we ask.
    [first] = check_ins(session)
    # Eve: another request about something else, three days before her check-in is due.
    request, _ = ask(session, cast, about=NORMAL, client_email="eve@client.test")
    reanswer(session, request, MILD)
    eves = session.scalar(select(FollowUp).where(FollowUp.request_id == request.id))
    assert eves is not None
    resolve(session, cast, eves)
    links.create_request(session, DUE - timedelta(days=3), cast.harbour,
                         {"partner": "Acme Insurance", "client_email": "EVE@client.test"}, actor="test",
                         source="form", base_url=BASE, override_throttle=True)
    session.commit()
    assert send_due(runtime, DUE) == recovery.CheckInReport(sent=1, skipped=1)
    dana, eve = check_ins(session)
    assert dana.id == first.id and dana.status == "sent"
    assert eve.status == "skipped" and eve.token_hash is None
    assert eve.skipped_reason == ("The client was asked for feedback on 27 November 2026; Harbour Advice waits 30 "
                                  "days between requests to one client")
    assert [e.to_addr for e in emails(session, "recovery_check_in")] == ["dana@client.test"]


def test_a_client_gets_one_check_in_within_the_throttle_and_then_no_new_feedback_request(
        session: Session, runtime: Runtime, cast: Cast, resolved: FollowUp) -> None:
    # A five-day throttle, so Dana's two requests (NOW, a week before) no longer count when her check-ins fall due.
    cast.harbour.feedback_throttle_days = 5
    request, _ = ask(session, cast, about="Claims form")
    reanswer(session, request, MILD)
    second = session.scalar(select(FollowUp).where(FollowUp.request_id == request.id))
    assert second is not None
    resolve(session, cast, second)   # two check-ins due at once, for two follow-ups of hers
    assert send_due(runtime, DUE) == recovery.CheckInReport(sent=1, skipped=1)
    first, later = check_ins(session)
    assert (first.follow_up_id, first.status) == (resolved.id, "sent")
    assert (later.follow_up_id, later.status, later.skipped_reason) == (
        second.id, "skipped", "The client was sent another check-in on 30 November 2026; Harbour Advice waits 5 "
                              "days between requests to one client")
    with pytest.raises(links.Throttled) as held:
        links.create_request(session, DUE + timedelta(days=1), cast.harbour,
                             {"partner": "Acme Insurance", "client_email": "dana@client.test"}, actor="test",
                             source="form", base_url=BASE)
    assert "was asked on 30 Nov 2026 whether Harbour Advice put things right" in held.value.errors["client_email"]


def test_an_unanswered_link_expires_and_then_shows_the_cannot_be_used_page(
        session: Session, runtime: Runtime, client: FlaskClient, clock: Callable[[datetime], None], token: str) -> None:
    expiry = DUE + timedelta(days=14)
    clock(expiry)
    assert client.get(f"/check-in/{token}").status_code == 404
    assert post(client, token, answer="yes").status_code == 404
    assert check_ins(session)[0].status == "sent"
    assert send_due(runtime, expiry).expired == 1
    assert check_ins(session)[0].status == "expired"


def test_an_unknown_link_is_the_friendly_page_and_counts_against_the_bad_link_limit(
        session: Session, client: FlaskClient, clock: Callable[[datetime], None], cast: Cast) -> None:
    clock(NOW)
    limit, _window = rate_limits.LIMITS["bad_link"]
    for _ in range(limit):
        page = client.get("/check-in/not-a-real-token-at-all-000000")
        assert page.status_code == 404 and "cannot be used" in text_of(page)
    assert client.get("/check-in/not-a-real-token-at-all-000000").status_code == 429
    assert client.get("/f/not-a-real-token-at-all-000000").status_code == 429   # one limit for both kinds
    assert len(session.scalars(select(PublicAttempt)).all()) == limit


# --- the follow-up page and the setting ------------------------------------------------------------------------

def test_the_follow_up_page_shows_the_check_ins_state(session: Session, runtime: Runtime, browser: Any,
                                                       client: FlaskClient, clock: Callable[[datetime], None],
                                                       resolved: FollowUp) -> None:
    browser.sign_in("alice@harbour.test")
    clock(RESOLVED + timedelta(hours=1))
    assert "Scheduled for 30 Nov 2026 12:00" in text_of(browser.get(f"/follow-ups/{resolved.id}"))
    send_due(runtime, DUE)
    [email] = emails(session, "recovery_check_in")
    found = LINK.search(email.text_body)
    assert found is not None
    clock(DUE + timedelta(hours=1))
    assert "no answer yet" in text_of(browser.get(f"/follow-ups/{resolved.id}"))
    post(client, found[1], answer="partly", comment="Mostly <sorted>.")
    page = browser.get(f"/follow-ups/{resolved.id}")
    assert "Partly: “Mostly &lt;sorted&gt;.”" in page.get_data(as_text=True)
    assert "The client answered the recovery check-in" in text_of(page)


def test_the_setting_is_saved_and_bad_input_gets_a_field_message_and_saves_nothing(
        session: Session, browser: Any, engine: Engine, cast: Cast) -> None:
    browser.sign_in("alice@harbour.test")
    form = {"followup_due_days": "1", "followup_urgent_hours": "4", "followup_urgent_stakes": ["high"]}
    page = browser.get("/settings/follow-ups")
    assert "Ask clients whether things were put right" in text_of(page)
    assert re.search(r'name="recovery_check_in_days"\s+type="number"\s+value="7"', page.get_data(as_text=True))
    before = snapshot(engine)
    for bad in ("-1", "91", "seven", "3.5"):
        response = browser.post("/settings/follow-ups", {**form, "recovery_check_in_days": bad})
        assert response.status_code == 422, bad
        assert 'id="f-recovery_check_in_days-error"' in response.get_data(as_text=True)
    assert_unchanged(before, engine)
    assert browser.post("/settings/follow-ups", {**form, "recovery_check_in_days": "0"}).status_code == 302
    session.refresh(cast.harbour)
    assert cast.harbour.recovery_check_in_days == 0


def test_the_service_names_the_field_for_bad_input(session: Session, cast: Cast) -> None:
    with pytest.raises(ValidationError) as bad:
        rules.update_settings(session, NOW, cast.harbour, cast.alice, on_dissatisfied=True, on_brand_harm=True,
                              on_contact_request=True, due_days="1", urgent_hours="4", urgent_stakes=["high"],
                              check_in_days="lots")
    assert list(bad.value.errors) == ["recovery_check_in_days"]


def test_erasing_the_client_takes_their_check_ins_and_check_in_emails_with_them(
        session: Session, cast: Cast, token: str) -> None:
    staff.erase_client(session, DUE + timedelta(days=1), cast.harbour, cast.alice, "dana@client.test")
    session.commit()
    assert check_ins(session) == []
    assert emails(session, "recovery_check_in") == []
    assert recovery.find_by_token(session, token) is None


def test_a_demo_practice_schedules_no_check_in_to_send_and_records_why(session: Session, cast: Cast,
                                                                             runtime: Runtime) -> None:
    cast.harbour.is_demo = True
    answer(session, cast, MILD, about=NORMAL)
    resolve(session, cast, the_follow_up(session))
    [check_in] = check_ins(session)
    assert (check_in.status, check_in.skipped_reason) == ("skipped", "Demo practice: nothing is sent")
    assert send_due(runtime, DUE) == recovery.CheckInReport()
    assert emails(session, "recovery_check_in") == []


def test_a_check_in_scheduled_before_the_practice_was_a_demo_is_skipped_when_due_not_sent(
        session: Session, runtime: Runtime, cast: Cast, resolved: FollowUp) -> None:
    cast.harbour.is_demo = True
    session.commit()
    assert send_due(runtime, DUE) == recovery.CheckInReport(skipped=1)
    [check_in] = check_ins(session)
    assert (check_in.status, check_in.skipped_reason, check_in.token_hash) == ("skipped", "Demo practice: nothing is sent", None)
    assert emails(session, "recovery_check_in") == []
