"""Privacy of the staff feedback pages: who may do what (viewers read, owners and advisers ask and revoke,
only owners erase), another practice's ids are not found, and erasing one client's data removes exactly
their rows in that practice and nothing else.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from partnermon.accounts import audit
from partnermon.errors import ValidationError
from partnermon.feedback import links, staff
from partnermon.mail import outbox
from partnermon.models import AuditEvent, Base, FeedbackRequest, OutboxEmail
from tests.conftest import text_of
from tests.factories import Cast
from tests.test_feedback_staff import (  # noqa: F401 - clock and quick_password_hashing are fixtures
    answer, ask, clock, open_link_answer, quick_password_hashing, snapshot,
)


# --- who may do what ----------------------------------------------------------------------------------

@pytest.fixture
def world(session: Session, cast: Cast, clock: datetime) -> dict[str, int]:
    asked = ask(session, cast, clock)
    answered = ask(session, cast, clock, "eve@client.test")
    return {"request_id": asked.id, "response_id": answer(session, answered, clock).id}


READ_PAGES = ["/feedback/requests", "/feedback/requests/{request_id}", "/feedback/responses",
              "/feedback/responses/{response_id}", "/feedback/requests.csv", "/feedback/responses.csv"]


@pytest.mark.parametrize("path", READ_PAGES)
def test_a_viewer_reads_every_feedback_page(world: dict[str, int], browser, path: str) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("vera@harbour.test")
    assert browser.get(path.format(**world)).status_code == 200


@pytest.mark.parametrize("who, method, path, data", [
    ("vera@harbour.test", "GET", "/feedback/requests/new", None),
    ("vera@harbour.test", "POST", "/feedback/requests/new", {"client_email": "x@client.test", "partner": "Acme Insurance"}),
    ("vera@harbour.test", "POST", "/feedback/requests/{request_id}/revoke", {}),
    ("vera@harbour.test", "GET", "/feedback/erase", None),
    ("vera@harbour.test", "POST", "/feedback/erase", {"client_email": "dana@client.test", "confirm": "1"}),
    ("bob@harbour.test", "GET", "/feedback/erase", None),
    ("bob@harbour.test", "POST", "/feedback/erase", {"client_email": "dana@client.test", "confirm": "1"}),
])
def test_viewers_cannot_ask_or_revoke_and_only_owners_erase(world: dict[str, int], browser, engine: Engine, who: str,
                                                            method: str, path: str, data: dict | None) -> None:  # type: ignore[no-untyped-def,type-arg]
    browser.sign_in(who)
    before = snapshot(engine)
    url = path.format(**world)
    response = browser.get(url) if method == "GET" else browser.post(url, data)
    assert response.status_code == 403
    assert snapshot(engine) == before


def test_a_viewer_is_not_offered_asking_or_revoking(world: dict[str, int], browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("vera@harbour.test")
    assert "/feedback/requests/new" not in browser.get("/feedback/requests").get_data(as_text=True)
    assert "/revoke" not in browser.get(f"/feedback/requests/{world['request_id']}").get_data(as_text=True)


@pytest.mark.parametrize("method, path", [
    ("GET", "/feedback/requests/{request_id}"), ("GET", "/feedback/responses/{response_id}"),
    ("POST", "/feedback/requests/{request_id}/revoke"),
])
def test_another_practices_ids_are_not_found(world: dict[str, int], browser, engine: Engine, method: str,
                                             path: str) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("charlie@quay.test")
    before = snapshot(engine)
    url = path.format(**world)
    response = browser.get(url) if method == "GET" else browser.post(url)
    assert response.status_code == 404
    assert "dana@client.test" not in text_of(response) and "Acme Insurance" not in text_of(response)
    assert snapshot(engine) == before


def test_another_practices_lists_and_downloads_hold_none_of_harbours_feedback(world: dict[str, int], browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("charlie@quay.test")
    for path in ("/feedback/requests", "/feedback/responses", "/feedback/requests.csv", "/feedback/responses.csv"):
        body = browser.get(path).get_data(as_text=True)
        assert "client.test" not in body and "Acme" not in body, path


# --- erasure ------------------------------------------------------------------------------------------

def test_erasing_a_client_removes_only_their_rows_in_that_practice(session: Session, cast: Cast, browser,
                                                                    engine: Engine, clock: datetime) -> None:  # type: ignore[no-untyped-def]
    first = ask(session, cast, clock - timedelta(days=60), "Dana@Client.test", client_name="Dana Whitlock")
    first_answer = answer(session, first, clock - timedelta(days=59), 1, comment="Awful")
    second = ask(session, cast, clock, "dana@client.test", client_name="Dana Whitlock")
    links.revoke(session, clock, second, cast.bob)
    walk_in = open_link_answer(session, cast, clock, client_email="DANA@client.test", client_name="Dana W")
    eve = ask(session, cast, clock, "eve@client.test")
    answer(session, eve, clock, 5)
    quay_dana = ask(session, cast, clock, "dana@client.test", practice=cast.quay)
    audit.record(session, clock, cast.harbour.id, cast.alice, "note", "partner", cast.acme.id,
                 "Dana Whitlock's claim discussed with Acme")   # names her, but not about her requests: kept
    session.commit()
    ids = (first.id, second.id, first_answer.id, walk_in.id)
    browser.sign_in("alice@harbour.test")
    before = snapshot(engine)

    confirm = browser.post("/feedback/erase", {"client_email": " DANA@client.test "})
    assert confirm.status_code == 200
    text = text_of(confirm)
    assert "2 feedback requests" in text and "2 responses" in text and "2 emails" in text
    assert snapshot(engine) == before    # the first step only looks
    done = browser.post("/feedback/erase", {"client_email": "dana@client.test", "confirm": "1"})
    assert done.status_code == 302
    assert "2 requests, 2 responses and 2 emails erased" in text_of(browser.get(done.headers["Location"]))
    after = snapshot(engine)

    to_at, practice_at = columns("outbox").index("to_addr"), columns("outbox").index("practice_id")
    gone = {"feedback_request": {(ids[0],), (ids[1],)}, "feedback_response": {(ids[2],), (ids[3],)},
            "outbox": {key for key, row in before["outbox"].items()
                       if row[to_at] == "dana@client.test" and row[practice_at] == cast.harbour.id}}
    assert len(gone["outbox"]) == 2
    summary_at = columns("audit_event").index("summary")
    for table, rows in before.items():
        removed = set(rows) - set(after[table])
        assert removed == gone.get(table, set()), table
        changed = {key for key in rows if key in after[table] and after[table][key] != rows[key]}
        if table == "audit_event":
            assert changed and all("dana" in rows[key][summary_at].lower() for key in changed)
            assert all("dana" not in after[table][key][summary_at].lower() for key in changed)
            assert all("an erased client" in after[table][key][summary_at] for key in changed)
        else:
            assert not changed, table
    added = {table: set(after[table]) - set(rows) for table, rows in before.items() if set(after[table]) - set(rows)}
    assert list(added) == ["audit_event"] and len(added["audit_event"]) == 1
    [entry] = [after["audit_event"][key] for key in added["audit_event"]]
    assert "dana" not in " ".join(map(str, entry)).lower() and "2 responses" in entry[summary_at]
    kept_note = session.scalar(select(AuditEvent.summary).where(AuditEvent.action == "note"))
    assert kept_note == "Dana Whitlock's claim discussed with Acme"
    session.expire_all()
    assert session.get(FeedbackRequest, quay_dana.id) is not None and session.get(FeedbackRequest, eve.id) is not None


def columns(table: str) -> list[str]:
    return [column.name for column in Base.metadata.tables[table].columns]


def test_erasing_an_unknown_address_records_that_the_request_was_handled(session: Session, cast: Cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    assert "holds no feedback data about nobody@client.test" in text_of(
        browser.post("/feedback/erase", {"client_email": "nobody@client.test"}))
    assert browser.post("/feedback/erase", {"client_email": "nobody@client.test", "confirm": "1"}).status_code == 302
    entry = session.scalars(select(AuditEvent).where(AuditEvent.action == "feedback.client_erased")).one()
    assert "nothing was held" in entry.summary and "nobody" not in entry.summary


def test_erasing_needs_a_real_email_address(session: Session, cast: Cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    response = browser.post("/feedback/erase", {"client_email": "dana", "confirm": "1"})
    assert response.status_code == 422 and "is not an email address" in text_of(response)
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "feedback.client_erased")) is None


def test_erasing_an_address_leaves_entries_about_a_longer_address_that_ends_with_it(session: Session, cast: Cast,
                                                                                    clock: datetime) -> None:
    ask(session, cast, clock, "dana@example.com", client_name="Dana Other")
    ask(session, cast, clock, "na@example.com", client_name="Nadia")
    audit.record(session, clock, cast.harbour.id, cast.alice, "note", "partner", cast.acme.id,
                 "Called na@example.com. Also wrote to x.na@example.com and na@example.com.au")
    session.commit()
    others = {event.id: event.summary for event in session.scalars(select(AuditEvent))
              if "na@example.com" not in event.summary.replace("dana@", "")}
    assert others and any("dana@example.com" in summary for summary in others.values())

    assert staff.preview_erasure(session, cast.harbour.id, "na@example.com").audit_entries == 2
    erased = staff.erase_client(session, clock, cast.harbour, cast.alice, "na@example.com")
    session.commit()
    assert (erased.requests, erased.audit_entries) == (1, 2)
    session.expire_all()
    after = {event.id: event.summary for event in session.scalars(select(AuditEvent))}
    assert {key: after[key] for key in others} == others     # "Asked dana@example.com …" is untouched
    assert any(summary.startswith("Asked an erased client about Acme Insurance") for summary in after.values())
    assert ("Called an erased client. Also wrote to x.na@example.com and na@example.com.au" in after.values())


def test_the_address_of_a_user_of_the_practice_cannot_be_erased(session: Session, cast: Cast, browser,
                                                                engine: Engine, clock: datetime) -> None:  # type: ignore[no-untyped-def]
    ask(session, cast, clock, "dana@client.test")    # Bob asked: his own entry in the log
    browser.sign_in("alice@harbour.test")
    before = snapshot(engine)
    for data in ({"client_email": "Bob@Harbour.test"}, {"client_email": "bob@harbour.test", "confirm": "1"}):
        refused = browser.post("/feedback/erase", data)
        assert refused.status_code == 422
        assert ("bob@harbour.test is the address of a user of your practice" in text_of(refused)
                and "deactivate the user instead" in text_of(refused))
    assert snapshot(engine) == before
    with pytest.raises(ValidationError):
        staff.preview_erasure(session, cast.harbour.id, "vera@harbour.test")
    # Quay's owner is no user of Harbour: to Harbour he may be a client like any other.
    assert staff.preview_erasure(session, cast.harbour.id, "charlie@quay.test").nothing


def test_erasing_a_client_keeps_entries_made_by_users_and_emails_that_were_not_to_them_as_a_client(
        session: Session, cast: Cast, clock: datetime) -> None:
    ask(session, cast, clock, "dana@client.test")
    by_the_client = audit.record(session, clock, cast.harbour.id, "dana@client.test", "feedback.opened",
                                 "partner", cast.acme.id, "Opened the feedback form")
    by_a_user = audit.record(session, clock, cast.harbour.id, cast.bob, "note", "partner", cast.acme.id,
                             "Checked the partner's claims page")
    by_a_user.actor = "dana@client.test"   # whatever the text says, a user made this entry
    outbox.enqueue(session, clock, template="invitation", to="dana@client.test", dedupe_key="invitation:planted",
                   base_url="http://partnermon.test", practice_id=cast.harbour.id,
                   context={"user": cast.bob, "practice": cast.harbour, "inviter": "Alice",
                            "link": "http://partnermon.test/invitation/x", "expires_at": clock})
    session.commit()

    erased = staff.erase_client(session, clock, cast.harbour, cast.alice, "dana@client.test")
    session.commit()
    assert (erased.requests, erased.emails, erased.audit_entries) == (1, 1, 2)
    session.expire_all()
    assert session.get(AuditEvent, by_the_client.id).actor == "an erased client"
    kept = session.get(AuditEvent, by_a_user.id)
    assert (kept.actor, kept.user_id, kept.summary) == ("dana@client.test", cast.bob.id,
                                                         "Checked the partner's claims page")
    assert session.scalars(select(OutboxEmail.kind).where(OutboxEmail.to_addr == "dana@client.test")).all() == [
        "invitation"]


def test_erasing_a_client_also_removes_the_follow_up_alerts_about_them_but_not_about_others(
        session: Session, cast: Cast, clock: datetime) -> None:
    from partnermon import followups
    from partnermon.feedback import responses

    for address in ("dana@client.test", "erin@client.test"):
        made = links.create_request(session, clock, cast.harbour, {"partner": "Acme Insurance",
                                                                      "client_email": address},
                                       actor=cast.bob, source="form", base_url="http://partnermon.test",
                                       adviser=cast.bob)
        answered, _ = responses.record_response(session, clock, made.request,
                                                responses.parse_answers({"satisfaction": "1"}, None))
        followups.open_for_response(session, clock, answered, "http://partnermon.test")
    session.commit()
    alerts = lambda: sorted(e.text_body.count("@client.test") > 0 and ("dana" in e.text_body) for e in  # noqa: E731
                            session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "followup_alert")
                                            .execution_options(populate_existing=True)))
    assert alerts() == [False, True]
    staff.erase_client(session, clock, cast.harbour, cast.alice, "dana@client.test")
    session.commit()
    assert alerts() == [False]   # Erin's alert stays; Dana's went with the rest of her data
