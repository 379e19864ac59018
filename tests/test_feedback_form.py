"""The client's feedback form at /f/<token>: a GET records nothing, a POST stores the one response, the
client may change it for 7 days, bad input keeps what was typed, and dead or guessed links learn nothing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Callable

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon.feedback import links
from partnermon.models import FeedbackRequest, FeedbackResponse, PublicAttempt
from partnermon.paths import STATIC_DIR
from partnermon.web import wording
from tests.conftest import NOW, text_of
from tests.factories import Cast
from tests.test_access import assert_unchanged, snapshot

BASE = "http://partnermon.test"


@pytest.fixture
def clock(app: Flask) -> Callable[[datetime], None]:
    """Sets the time the web app sees (it starts at NOW)."""
    app.config["PARTNERMON_CLOCK"] = lambda: NOW

    def set_to(moment: datetime) -> None:
        app.config["PARTNERMON_CLOCK"] = lambda: moment

    return set_to


def ask(session: Session, cast: Cast, **data: Any) -> str:
    """A request to Dana about Acme; returns the link's path."""
    values = {"partner": "Acme Insurance", "client_email": "dana@client.test", "client_name": "Dana", **data}
    made = links.create_request(session, NOW, cast.harbour, values, actor=cast.bob, source="form", base_url=BASE,
                                   adviser=cast.bob)
    session.commit()
    assert made.link is not None
    return made.link.removeprefix(BASE)


def stored(session: Session) -> list[FeedbackResponse]:
    return list(session.scalars(select(FeedbackResponse).execution_options(populate_existing=True)))


def the_request(session: Session) -> FeedbackRequest:
    return session.scalars(select(FeedbackRequest).execution_options(populate_existing=True)).one()


ANSWERS = {"satisfaction": "2", "recommend": "3", "effort": "2", "brand_effect": "worse",
           "comment": "The claims form failed twice.", "wants_contact": "1", "contact_channel": "phone",
           "contact_phone": "+44 20 7946 0000"}


def test_opening_the_link_shows_who_asks_and_about_what_and_records_nothing(client, session, cast, engine, clock) -> None:  # type: ignore[no-untyped-def]
    path = ask(session, cast, touchpoint="Claims form")
    before = snapshot(engine)
    response = client.get(path + "?rating=2")
    assert response.status_code == 200
    page = text_of(response)
    assert "How did it go with Acme Insurance?" in page
    assert "Harbour Advice" in page
    # Read aloud for sense: the touchpoint inside the sentence, not a label pasted in.
    assert "how your recent experience with the claims form went" in page
    assert "How satisfied were you with Acme Insurance's claims form?" in page
    assert 'value="2" checked' in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert_unchanged(before, engine)  # a mail scanner following the rating link changes nothing


def test_posting_the_form_stores_one_response_marks_the_request_answered_and_thanks_the_client(
        client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    path = ask(session, cast, touchpoint="Claims form")
    response = client.post(path, data=ANSWERS)
    assert response.status_code == 303 and response.headers["Location"].endswith(path + "?saved=1")
    [answer] = stored(session)
    assert (answer.satisfaction, answer.recommend, answer.effort, answer.brand_effect) == (2, 3, 2, "worse")
    assert (answer.wants_contact, answer.contact_channel, answer.contact_phone) == (True, "phone", "+44 20 7946 0000")
    assert answer.verified and answer.partner_id == cast.acme.id and answer.moment.key == "claim"
    request = the_request(session)
    assert (request.status, request.answered_at) == ("answered", NOW)
    thanks = text_of(client.get(path + "?saved=1"))
    assert "Thank you — your answers are saved." in thanks and "30 November 2026" in thanks


def test_a_double_click_or_retried_post_never_creates_a_second_response(client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    path = ask(session, cast)
    assert client.post(path, data=ANSWERS).status_code == 303
    assert client.post(path, data={**ANSWERS, "satisfaction": "1"}).status_code == 303
    [answer] = stored(session)
    assert answer.satisfaction == 1


def test_the_client_can_change_their_answers_for_seven_days_and_then_only_see_them(client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    path = ask(session, cast)
    client.post(path, data=ANSWERS)
    clock(NOW + timedelta(days=6, hours=23))
    page = client.get(path).get_data(as_text=True)
    assert "The claims form failed twice." in page and "Save my changes" in page
    assert client.post(path, data={**ANSWERS, "satisfaction": "4", "comment": "Sorted now."}).status_code == 303
    clock(NOW + timedelta(days=7, minutes=1))
    late = client.post(path, data={**ANSWERS, "satisfaction": "5", "comment": "Changed my mind again"})
    assert late.status_code == 409
    assert "The time to change these answers has passed" in text_of(late)
    [answer] = stored(session)
    assert (answer.satisfaction, answer.comment) == (4, "Sorted now.")
    assert answer.updated_at == NOW + timedelta(days=6, hours=23)
    shown = client.get(path)
    assert shown.status_code == 200 and "Sorted now." in text_of(shown) and "Save my changes" not in text_of(shown)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"satisfaction": ""}, "satisfaction", "Choose how satisfied you were, from 1 to 5."),
    ({"satisfaction": "6"}, "satisfaction", "How satisfied you were must be a whole number from 1 to 5."),
    ({"satisfaction": "²"}, "satisfaction", "How satisfied you were must be a whole number from 1 to 5."),
    ({"satisfaction": "５"}, "satisfaction", "How satisfied you were must be a whole number from 1 to 5."),
    ({"recommend": "9" * 5000}, "recommend", "must be a whole number from 0 to 10"),
    ({"recommend": "11"}, "recommend", "must be a whole number from 0 to 10"),
    ({"effort": "0"}, "effort", "must be a whole number from 1 to 7"),
    ({"brand_effect": "furious"}, "brand_effect", "Choose better, no change or worse."),
    ({"comment": "x" * 4001}, "comment", "at most 4,000 characters (it has 4,001)"),
    ({"contact_channel": ""}, "contact_channel", "Choose whether we should phone or email you."),
    ({"contact_phone": ""}, "contact_phone", "Enter the phone number we should call."),
    ({"contact_phone": "call me maybe"}, "contact_phone", "Enter a phone number using digits"),
    ({"moment": "999999"}, "moment", "Choose one of the listed kinds of interaction."),
])
def test_bad_answers_get_a_field_message_keep_what_was_typed_and_store_nothing(
        client, session, cast, clock, change, field, message) -> None:  # type: ignore[no-untyped-def]
    path = ask(session, cast)  # about the partner only, so the client may choose the moment
    response = client.post(path, data={**ANSWERS, "comment": "Kept <b>as typed</b>", **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in text_of(response)
    assert f'href="#f-{field}"' in html  # the error summary leads to the field
    if field != "comment":
        assert "Kept &lt;b&gt;as typed&lt;/b&gt;" in html
    assert 'value="+44 20 7946 0000"' in html or field == "contact_phone"
    assert stored(session) == [] and the_request(session).status == "queued"


def test_html_in_a_comment_is_shown_as_text_when_the_client_comes_back(client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    path = ask(session, cast)
    client.post(path, data={**ANSWERS, "comment": "<script>alert('x')</script>"})
    html = client.get(path).get_data(as_text=True)
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_unknown_expired_and_revoked_links_get_the_same_page_and_status(client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    expired = ask(session, cast, client_email="old@client.test")
    revoked = ask(session, cast, client_email="gone@client.test")
    links.revoke(session, NOW, session.scalars(select(FeedbackRequest).where(
        FeedbackRequest.client_email == "gone@client.test")).one(), cast.alice)
    session.commit()
    clock(NOW + timedelta(days=31))
    pages = [client.get(path) for path in (expired, revoked, "/f/" + "A" * 43)]
    assert {page.status_code for page in pages} == {404}
    assert len({page.get_data(as_text=True).replace(page.headers.get("Content-Security-Policy", ""), "")
                for page in pages}) <= 3
    texts = {text_of(page) for page in pages}
    assert texts == {text_of(pages[0])} and "This feedback link cannot be used" in texts.pop()
    assert "Acme" not in text_of(pages[0]) and "Harbour" not in text_of(pages[0])
    for path in (expired, revoked):
        assert client.post(path, data=ANSWERS).status_code == 404
        assert client.post(path, data={"quick": "1", "satisfaction": "1"}).status_code == 404
        assert client.post(path + "/seen").status_code == 404
        assert client.get(path + "/logo").status_code == 404
    assert stored(session) == []
    assert {r.opened_at for r in session.scalars(select(FeedbackRequest))} == {None}


def test_an_address_guessing_links_is_slowed_down_but_real_links_keep_working(client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    path = ask(session, cast)
    for attempt in range(20):
        assert client.get(f"/f/guess{attempt}").status_code == 404
    assert client.get("/f/guess-again").status_code == 429
    # A client behind the same office or mobile address still gets their own link.
    assert client.get(path).status_code == 200
    elsewhere = client.get("/f/guess-elsewhere", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert elsewhere.status_code == 404
    clock(NOW + timedelta(minutes=11))
    assert client.get("/f/guess-later").status_code == 404
    # Refused attempts are not counted, so a blocked address is let back in when the window moves on.
    assert session.scalar(select(func.count()).select_from(PublicAttempt)) == 22


def test_ipv6_guesses_count_by_the_64_a_subscriber_holds(client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    for host in range(20):
        client.get(f"/f/guess{host}", environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{host + 1:x}"})
    assert client.get("/f/more", environ_base={"REMOTE_ADDR": "2001:db8:1:2:ffff::9"}).status_code == 429
    assert client.get("/f/more", environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"}).status_code == 404


def test_the_pages_script_notes_a_person_opened_the_link_but_a_get_does_not(client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    path = ask(session, cast)
    client.get(path)
    assert the_request(session).status == "queued"
    assert client.post(path + "/seen").status_code == 204
    request = the_request(session)
    assert (request.status, request.opened_at) == ("opened", NOW)
    client.post(path, data=ANSWERS)
    client.post(path + "/seen")
    assert the_request(session).status == "answered"


def test_an_answer_that_lands_before_the_seen_post_still_counts_the_link_as_opened(client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    path = ask(session, cast)
    client.get(path)
    assert the_request(session).opened_at is None                 # a GET (a mail scanner) records nothing
    client.post(path, data=ANSWERS)                                # the quick rating or the form, before "seen"
    client.post(path + "/seen")
    request = the_request(session)
    assert (request.status, request.opened_at) == ("answered", NOW)


def test_the_rating_chosen_in_the_email_is_saved_by_the_script_but_never_overwrites_answers(
        client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    path = ask(session, cast)
    html = client.get(path + "?rating=4").get_data(as_text=True)
    assert 'data-quick-rating="4"' in html
    assert client.post(path, data={"quick": "1", "satisfaction": "4"}).status_code == 204
    [answer] = stored(session)
    assert (answer.satisfaction, answer.comment, the_request(session).status) == (4, "", "answered")
    client.post(path, data=ANSWERS)
    assert client.post(path, data={"quick": "1", "satisfaction": "5"}).status_code == 204
    [answer] = stored(session)
    assert (answer.satisfaction, answer.comment) == (2, "The claims form failed twice.")


def test_the_form_is_accessible_without_javascript(client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    html = client.get(ask(session, cast)).get_data(as_text=True)
    assert '<html lang="en">' in html and 'name="viewport"' in html
    assert html.count("<fieldset") >= 5 and html.count("<legend>") >= 5
    for name in ("satisfaction", "recommend", "effort", "brand_effect", "comment", "contact_phone"):
        assert f'id="f-{name}"' in html and f'for="f-{name}"' in html
    assert 'method="post"' in html and "csrf_token" not in html
    assert "http://" not in html.replace(BASE, "") and "https://" not in html  # nothing from elsewhere


# --- the finish page, the contact details and the copy -------------------------------------------------------

def test_after_sending_the_client_sees_a_finish_page_with_what_happens_next_and_until_when_to_change(
        client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    path = ask(session, cast, touchpoint="Claims form")
    finish = client.get(client.post(path, data=ANSWERS).headers["Location"].removeprefix(BASE))
    assert finish.status_code == 200 and finish.headers["Cache-Control"] == "no-store"
    page = text_of(finish)
    assert page.startswith("Thank you · Harbour Advice") and "Thank you — your answers are saved." in page
    assert "What happens next" in page and "You asked to be contacted: bob@harbour.test will phone you soon." in page
    assert "Acme Insurance does not see your answers" in page
    # Seven days from NOW (23 November 2026) in the practice's time zone.
    assert "You can change your answers until 30 November 2026" in page
    html = finish.get_data(as_text=True)
    assert f'<a href="{path}">change my answers now</a>' in html
    assert "Send my answers" not in page and "<form" not in html   # a finish page, not the form again
    assert "The claims form failed twice." in page                  # what they said, to look back on
    # The link itself opens the form again, with their answers, to change them.
    again = client.get(path)
    assert "Save my changes" in text_of(again) and "The claims form failed twice." in text_of(again)


def test_an_unhappy_client_who_did_not_ask_for_contact_is_told_someone_may_get_in_touch(
        client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    path = ask(session, cast)
    client.post(path, data={"satisfaction": "1"})
    page = text_of(client.get(path + "?saved=1"))
    assert "It did not go well, so bob@harbour.test may get in touch" in page and "You asked to be contacted" not in page


def test_the_contact_details_are_asked_only_after_contact_me_without_javascript(client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    path = ask(session, cast)
    html = client.get(path).get_data(as_text=True)
    # The channel and phone number sit in a block the stylesheet shows only once "Contact me" is ticked (:has()).
    box = html.index('id="f-wants_contact"')
    details = html.index('<div class="contact-details" id="contact-details">')
    assert box < details < html.index('name="contact_channel"') < html.index('id="f-contact_phone"')
    assert 'aria-controls="contact-details"' in html and "Contact me:" in html
    css = (STATIC_DIR / "app.css").read_text()
    assert ".contact:not(:has(#f-wants_contact:checked)) .contact-details { display: none; }" in css
    # A browser without JavaScript posts the form as it is: ticked, the details are kept ...
    assert client.post(path, data=ANSWERS).status_code == 303
    [answer] = stored(session)
    assert (answer.wants_contact, answer.contact_channel, answer.contact_phone) == (True, "phone", "+44 20 7946 0000")
    # ... and a phone number left in the hidden block without the box ticked is not kept.
    assert client.post(path, data={**ANSWERS, "wants_contact": ""}).status_code == 303
    [answer] = stored(session)
    assert answer.wants_contact is False and not answer.contact_phone and not answer.contact_channel


def test_a_missing_phone_number_shows_the_details_again_with_the_box_ticked(client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    path = ask(session, cast)
    response = client.post(path, data={**ANSWERS, "contact_phone": ""})
    assert response.status_code == 422 and "Enter the phone number we should call" in text_of(response)
    html = response.get_data(as_text=True)
    assert re.search(r'id="f-wants_contact" name="wants_contact" value="1" checked', html)
    assert re.search(r'value="phone" checked', html)


def test_the_nought_to_ten_scale_is_one_row_of_tiles(client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    html = client.get(ask(session, cast)).get_data(as_text=True)
    scale = html[html.index('<div class="scale scale-compact">'):]
    scale = scale[:scale.index("</div>")]
    assert re.findall(r'name="recommend"\s+value="(\d+)"', scale) == [str(n) for n in range(11)]
    css = (STATIC_DIR / "app.css").read_text()
    assert ".scale-compact { grid-auto-flow: column; grid-auto-columns: minmax(0, 1fr);" in css


@pytest.mark.parametrize(("name", "partner", "said"), [
    ("Claims form", "Acme Insurance", "the claims form"),
    ("Portal login", "Acme Insurance", "the portal login"),
    ("Acme app", "Acme Insurance", "the Acme app"),          # a brand keeps its capital
    ("API docs", "Acme Insurance", "the API docs"),          # so does an acronym
    ("MyAcme portal", "Acme Insurance", "the MyAcme portal"),
])
def test_a_touchpoints_name_reads_as_part_of_a_sentence(name, partner, said) -> None:  # type: ignore[no-untyped-def]
    assert wording.in_a_sentence(name, partner) == said


def test_possessives_read_aloud() -> None:
    assert (wording.possessive("Acme Insurance"), wording.possessive("Kestrel Park Investments")) == (
        "Acme Insurance's", "Kestrel Park Investments'")


def test_a_link_about_a_moment_says_so_in_words(client, session, cast, clock) -> None:  # type: ignore[no-untyped-def]
    page = text_of(client.get(ask(session, cast, touchpoint="claim")))
    assert "how your recent experience went (claims and hardship)" in page
    assert "How satisfied were you with Acme Insurance?" in page
