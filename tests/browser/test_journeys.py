"""What people do, clicked in the browser: sign in; ask a client; open a rating link as a mail scanner would
(nothing recorded) and as a client would (tap a rating, finish the form, see the page that thanks them);
work a follow-up to resolved; a client says in the recovery check-in it was not put right; add a touchpoint and test it now; download the monthly report.

What happened is read back from the database. Timers in the page run on Playwright's clock, so waiting for
the rating script's delay takes no real time."""

from __future__ import annotations

import re
from typing import Callable

from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from partnermon import jobs
from partnermon.db import utcnow
from partnermon.feedback import links
from partnermon.models import (
    FeedbackRequest, FeedbackResponse, FollowUp, OutboxEmail, Practice, Probe, Report, Touchpoint,
)
from partnermon.models.followups import RUNGS
from tests.browser.checks import Watcher, page_problems
from tests.browser.conftest import PHONE, Site, fresh_check_in, sign_in
from tests.probe_servers import ProbeServer


def _clean(page: Page, watcher: Watcher, context: BrowserContext) -> None:
    """A journey's pages pass what every page must (see checks.py)."""
    problems = page_problems(page, watcher, context)
    assert not problems, f"{page.url}: {problems}"


def _request_for(site: Site, link: str) -> FeedbackRequest:
    with site.runtime.session_factory() as session:
        found = links.find_by_token(session, link.rsplit("/", 1)[1].split("?", 1)[0])
        assert found is not None
        session.expunge(found)
        return found


def _responses_to(site: Site, request_id: int) -> list[FeedbackResponse]:
    with site.runtime.session_factory() as session:
        found = list(session.scalars(select(FeedbackResponse).where(FeedbackResponse.request_id == request_id)))
        session.expunge_all()
        return found


def _new_link(site: Site, email: str) -> str:
    with site.runtime.session_factory() as session:
        practice = session.get(Practice, site.practice_id())
        assert practice is not None
        adviser = next(u for u in practice.users if u.role == "adviser")
        made = links.create_request(session, utcnow(), practice,
                                                {"partner": practice.partners[0].name, "client_email": email},
                                                actor=adviser, source="form", base_url=site.url,
                                                override_throttle=True)
        session.commit()
    assert made.link is not None
    return made.link


def test_signing_in_through_the_form_opens_the_home_page(site: Site,
                                                         open_context: Callable[..., BrowserContext]) -> None:
    context = open_context()
    page = context.new_page()
    watcher = Watcher(page)
    page.goto(site.url + "/partners/")
    expect(page).to_have_url(re.compile(r"/sign-in"))           # signed out: asked to sign in first
    page.get_by_label("Email").fill(site.emails["owner"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()   # refused, still on the form
    assert [e for e in watcher.take() if "status of 401" not in e] == []  # the refusal's status, on the console
    sign_in(page, site, site.emails["owner"])
    expect(page.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    page.get_by_text("Account", exact=True).click()                # the account menu opens (no script needed)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    _clean(page, watcher, context)


def test_an_adviser_asks_a_client_and_gets_the_link(site: Site, signed_in_state: Callable[[str], str],
                                                    open_context: Callable[..., BrowserContext]) -> None:
    context = open_context(storage_state=signed_in_state("adviser"), viewport=PHONE)
    page = context.new_page()
    watcher = Watcher(page)
    page.goto(site.url + "/feedback/requests")
    page.get_by_role("main").get_by_role("link", name="Ask a client", exact=True).click()
    page.get_by_label("Client's name").fill("Priya Shah")
    page.get_by_label("Client's email address").fill("priya.shah@client.test")
    partner = page.get_by_role("combobox", name=re.compile("^Partner"))
    expect(partner).to_have_value("")                             # no partner chosen in advance
    partner.select_option(index=1)
    chosen = partner.evaluate("s => s.options[s.selectedIndex].text")
    # Only the chosen partner's touchpoints are offered now (and the moments of truth).
    offered = page.locator("#f-touchpoint optgroup:not([disabled])").evaluate_all("gs => gs.map(g => g.label)")
    assert offered[-1] == "Moments of truth" and all(label == f"Touchpoints of {chosen}" for label in offered[:-1])
    page.get_by_role("button", name="Send the invitation").click()
    link = page.locator("#new-link").inner_text().strip()
    assert link.startswith(site.url + "/f/")
    _clean(page, watcher, context)
    with site.runtime.session_factory() as session:
        asked = session.scalars(select(FeedbackRequest).where(
            FeedbackRequest.client_email == "priya.shah@client.test")).one()
        assert asked.partner.name == chosen and asked.client_name == "Priya Shah"
        assert session.scalar(select(func.count()).select_from(OutboxEmail).where(
            OutboxEmail.to_addr == "priya.shah@client.test")) == 1


def test_a_mail_scanner_opening_a_rating_link_records_nothing(site: Site,
                                                              open_context: Callable[..., BrowserContext]) -> None:
    link = _new_link(site, "scanned@client.test")
    context = open_context(viewport=PHONE)
    page = context.new_page()
    page.clock.install()
    page.goto(link + "?rating=1")
    expect(page.get_by_role("radio", name=re.compile("^1 "))).to_be_checked()   # the rating chosen in the email, shown
    page.clock.run_for(60_000)                                    # a minute with the page open, untouched
    page.reload()
    page.clock.run_for(60_000)
    asked = _request_for(site, link)
    assert asked.opened_at is None and _responses_to(site, asked.id) == []


def test_a_client_taps_a_rating_finishes_the_form_and_is_thanked(site: Site,
                                                                 open_context: Callable[..., BrowserContext]) -> None:
    link = _new_link(site, "tapped@client.test")
    context = open_context(viewport=PHONE)
    page = context.new_page()
    watcher = Watcher(page)
    page.clock.install()
    page.goto(link + "?rating=4")
    four = page.get_by_role("radio", name=re.compile("^4 "))
    expect(four).to_be_checked()
    four.click()                                                  # a person's pointer on the page
    # The script waits until the page was seen, then says so and saves the rating (two posts at once).
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/seen")) as seen, \
            page.expect_response(lambda r: r.request.method == "POST" and "quick=1" in (r.request.post_data or "")
                                 ) as quick:
        page.clock.run_for(3_000)
    assert seen.value.status == quick.value.status == 204
    asked = _request_for(site, link)
    [started] = _responses_to(site, asked.id)
    # Saved although the form is not sent yet, and the link counts as opened whichever of the two posts landed first.
    assert started.satisfaction == 4 and asked.opened_at is not None
    # 0 to 10 on one row at a phone's width.
    tops = page.locator("input[name=recommend]").evaluate_all("els => els.map(e => e.getBoundingClientRect().top)")
    assert len(tops) == 11 and len(set(tops)) == 1, tops
    # How to reach them is asked only once they tick "Contact me" (CSS, no script), the number only for a call.
    phone_number = page.get_by_label("Phone number")
    expect(page.get_by_role("radio", name="Phone")).to_be_hidden()
    page.get_by_role("checkbox", name=re.compile("Contact me")).check()
    expect(phone_number).to_be_hidden()
    page.get_by_role("radio", name="Phone").check()
    phone_number.fill("+44 20 7946 0000")
    page.get_by_label(re.compile("Anything you.d like to tell us")).fill("The claims form was quick.")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you — your answers are saved.")).to_be_visible()
    expect(page.get_by_text("You can change your answers until")).to_be_visible()
    expect(page.get_by_role("link", name="change my answers now")).to_be_visible()
    _clean(page, watcher, context)
    [finished] = _responses_to(site, asked.id)
    assert finished.satisfaction == 4 and finished.comment == "The claims form was quick."
    assert (finished.wants_contact, finished.contact_channel, finished.contact_phone) == (True, "phone", "+44 20 7946 0000")


def test_the_navigation_collapses_into_one_menu_on_a_phone(site: Site, signed_in_state: Callable[[str], str],
                                                          open_context: Callable[..., BrowserContext]) -> None:
    phone = open_context(storage_state=signed_in_state("viewer"), viewport=PHONE).new_page()
    phone.goto(site.url + "/follow-ups/")
    expect(phone.locator(".mainnav")).to_be_hidden()
    reports = phone.get_by_role("link", name="Monthly reports")
    expect(reports).to_be_hidden()
    phone.locator(".phone-menu summary").focus()
    phone.keyboard.press("Enter")                                     # opened from the keyboard
    expect(reports).to_be_visible()
    expect(phone.get_by_role("link", name="Queue")).to_have_attribute("aria-current", "page")
    expect(phone.get_by_role("link", name="Ask a client")).to_have_count(0)   # a viewer does not ask clients
    reports.click()
    expect(phone).to_have_url(re.compile(r"/reports/$"))
    desk = open_context(storage_state=signed_in_state("viewer")).new_page()
    desk.goto(site.url + "/follow-ups/")
    expect(desk.locator(".phone-menu")).to_be_hidden()
    expect(desk.locator(".mainnav").get_by_role("link", name="Follow-ups")).to_have_attribute("aria-current", "page")


def test_an_adviser_works_a_follow_up_to_resolved(site: Site, signed_in_state: Callable[[str], str],
                                                  open_context: Callable[..., BrowserContext]) -> None:
    context = open_context(storage_state=signed_in_state("adviser"), viewport=PHONE)
    page = context.new_page()
    watcher = Watcher(page)
    page.goto(site.url + "/follow-ups/")
    hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")
    first = next(h for h in hrefs if re.search(r"/follow-ups/\d+$", h))   # the queue lists open ones first
    page.locator(f"main a[href='{first}']").first.click()
    follow_up_id = int(re.search(r"/follow-ups/(\d+)", page.url)[1])  # type: ignore[index]
    page.get_by_label("What became of the client (required)").select_option("stayed")
    page.get_by_label("Outcome note (required)").fill("Rang the client; the insurer reopened the claim.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status").filter(has_text="Resolved the follow-up")).to_be_visible()
    _clean(page, watcher, context)
    with site.runtime.session_factory() as session:
        worked = session.get(FollowUp, follow_up_id)
        assert worked is not None and worked.status == "resolved" and worked.resolved_at is not None
        assert worked.outcome_kind == "stayed"


def test_a_client_says_no_in_the_check_in_and_the_follow_up_reopens_one_rung_up(
        site: Site, signed_in_state: Callable[[str], str], open_context: Callable[..., BrowserContext]) -> None:
    link, follow_up_id = fresh_check_in(site, "journey-check-in@client.test")
    with site.runtime.session_factory() as session:
        before = session.get(FollowUp, follow_up_id)
        assert before is not None and before.status == "resolved"
        rung = before.rung
    context = open_context(viewport=PHONE)
    page = context.new_page()
    watcher = Watcher(page)
    page.goto(link)
    page.get_by_role("radio", name="No").check()
    page.get_by_label("Anything you'd like to add?").fill("Nobody called back & the claim is still open.")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("heading", name="Thank you — we have your answer.")).to_be_visible()
    expect(page.get_by_text("will get in touch with you again soon, more personally")).to_be_visible()
    _clean(page, watcher, context)
    with site.runtime.session_factory() as session:
        reopened = session.get(FollowUp, follow_up_id)
        assert reopened is not None and reopened.status == "open" and reopened.resolved_at is None
        # One rung up the ladder (email → phone → meeting).
        assert reopened.rung == RUNGS[RUNGS.index(rung) + 1]
    # Staff see the client's words on the follow-up's page.
    staff = open_context(storage_state=signed_in_state("owner"), viewport=PHONE)
    staff_page = staff.new_page()
    staff_watcher = Watcher(staff_page)
    staff_page.goto(f"{site.url}/follow-ups/{follow_up_id}")
    expect(staff_page.get_by_text("Nobody called back & the claim is still open.").first).to_be_visible()
    _clean(staff_page, staff_watcher, staff)


def test_an_owner_adds_a_touchpoint_and_tests_it_now(site: Site, signed_in_state: Callable[[str], str],
                                                     open_context: Callable[..., BrowserContext]) -> None:
    context = open_context(storage_state=signed_in_state("owner"))
    page = context.new_page()
    watcher = Watcher(page)
    with ProbeServer() as server:
        server.route("/", body="<html><body><h1>Claims</h1></body></html>",
                     headers={"Content-Type": "text/html; charset=utf-8"})
        page.goto(site.url + "/partners/")
        page.locator("main table a[href*='/partners/']").first.click()
        page.get_by_role("link", name="Add a touchpoint").click()
        page.get_by_label("Name").fill("Broker portal")
        page.get_by_label("Moment of truth").select_option(index=1)
        page.get_by_label("Web address").fill(server.url("/"))
        page.get_by_role("button", name="Add touchpoint").click()
        page.get_by_role("link", name="Broker portal", exact=True).click()
        page.get_by_role("button", name="Test now").click()
        result = page.locator("#test-result")
        expect(result).to_contain_text("Test result")
        expect(result).to_contain_text("200")
        assert server.hits("/") >= 1
        _clean(page, watcher, context)
    with site.runtime.session_factory() as session:
        added = session.scalars(select(Touchpoint).where(Touchpoint.name == "Broker portal")).one()
        assert added.url == server.url("/")
        assert session.scalar(select(func.count()).select_from(Probe).where(Probe.touchpoint_id == added.id)) == 0


def test_an_owner_makes_and_downloads_the_monthly_report(site: Site, signed_in_state: Callable[[str], str],
                                                         open_context: Callable[..., BrowserContext]) -> None:
    context = open_context(storage_state=signed_in_state("owner"), accept_downloads=True)
    page = context.new_page()
    watcher = Watcher(page)
    page.goto(site.url + "/reports/")
    month = page.get_by_label(re.compile("Month")).input_value()
    page.get_by_role("button", name="Make the report").click()
    expect(page.get_by_role("status").filter(has_text="is being made")).to_be_visible()
    outcomes = jobs.render_reports(site.runtime, worker="browser-test")   # what the worker does next
    assert [o.done for o in outcomes] == [True]
    page.reload()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").first.click()
    saved = download.value.path()
    assert saved is not None and saved.read_bytes().startswith(b"%PDF")
    assert download.value.suggested_filename.endswith(f"{month}.pdf")
    _clean(page, watcher, context)
    with site.runtime.session_factory() as session:
        assert session.scalars(select(Report.status).where(Report.month == month)).one() == "done"
