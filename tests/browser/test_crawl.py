"""Every page of the demo practice, as its owner, an adviser and a viewer, and the client's pages (and the sign-in
page, and the recovery check-in), at a phone's size (390 × 844) and a desk's (1280 × 900): no critical or serious axe violation, no sideways
scrolling, no console error, no request to another origin. One page per route (one partner, one touchpoint, …)."""

from __future__ import annotations

import time
from typing import Callable

import pytest
from playwright.sync_api import BrowserContext

from partnermon.db import utcnow
from partnermon.feedback import links
from partnermon.models import Practice
from tests.browser.checks import Crawl, Watcher, crawl, describe, page_problems, revisit, visit
from tests.browser.conftest import DESKTOP, PHONE, Site, fresh_check_in

SIZES = {"phone": PHONE, "desk": DESKTOP}   # 390 × 844 and 1280 × 900


@pytest.mark.parametrize("role", ["owner", "adviser", "viewer"])
def test_every_page_a_role_sees_passes_at_both_sizes(role: str, site: Site, signed_in_state: Callable[[str], str],
                                                     open_context: Callable[..., BrowserContext]) -> None:
    started = time.monotonic()
    state = signed_in_state(role)
    desk = crawl(open_context(storage_state=state, viewport=DESKTOP), site, "/", "desk")
    phone = revisit(open_context(storage_state=state, viewport=PHONE), desk.pages, "phone")
    problems = {**desk.problems, **phone.problems}
    print(f"\n{role}: {len(desk.pages)} pages at 2 sizes in {time.monotonic() - started:.1f} s; "
          f"{len(problems)} with problems:\n  " + " ".join(sorted(desk.pages)))
    # Every part of the product a role can reach is found (the crawl did not stop at the first page).
    assert len(desk.pages) >= {"owner": 25, "adviser": 15, "viewer": 15}[role], sorted(desk.pages)
    assert not problems, f"{len(problems)} page(s) of {len(desk.pages)} failed as {role}:\n" + describe(problems)


def _fresh_link(site: Site, email: str) -> str:
    with site.runtime.session_factory() as session:
        practice = session.get(Practice, site.practice_id())
        assert practice is not None
        partner = practice.partners[0]
        adviser = next(u for u in practice.users if u.role == "adviser")
        made = links.create_request(session, utcnow(), practice,
                                                {"partner": partner.name, "client_email": email},
                                                actor=adviser, source="form", base_url=site.url,
                                                override_throttle=True)
        session.commit()
    assert made.link is not None and made.link.startswith(site.url + "/f/")
    return made.link


@pytest.mark.parametrize("size", SIZES)
def test_the_clients_pages_and_sign_in_pass_at_both_sizes(size: str, site: Site,
                                              open_context: Callable[..., BrowserContext]) -> None:
    context = open_context(viewport=SIZES[size])
    page = context.new_page()
    watcher = Watcher(page)
    found = Crawl()
    link = _fresh_link(site, f"crawl-{size}@client.test")
    # The personal form, as the email's rating link opens it, then answered: the page that thanks them.
    found.note("/f/{token}?rating=4", size, visit(page, watcher, context, link + "?rating=4"))
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url("**saved=1")
    found.note("/f/{token} (saved)", size, page_problems(page, watcher, context))
    # The practice's open link, its thanks page, and a link that does not work.
    found.note("/p/{slug}/feedback", size, visit(page, watcher, context, f"{site.url}/p/{site.slug}/feedback"))
    found.note("/p/{slug}/feedback/thanks", size,
               visit(page, watcher, context, f"{site.url}/p/{site.slug}/feedback/thanks"))
    found.note("/f/{unknown}", size, visit(page, watcher, context, f"{site.url}/f/no-such-link-at-all", status=404))
    # And the one page staff see before signing in.
    found.note("/sign-in", size, visit(page, watcher, context, f"{site.url}/sign-in"))
    assert not found.problems, describe(found.problems)



@pytest.mark.parametrize("size", SIZES)
def test_the_recovery_check_in_and_its_finish_page_pass_at_both_sizes(size: str, site: Site,
                                                                     open_context: Callable[..., BrowserContext]) -> None:
    context = open_context(viewport=SIZES[size])
    page = context.new_page()
    watcher = Watcher(page)
    found = Crawl()
    link, _ = fresh_check_in(site, f"check-in-{size}@client.test")
    # The question, as the email's "Partly" button opens it (chosen, not yet recorded), then answered: the
    # page that thanks them and says what happens next.
    found.note("/check-in/{token}?answer=partly", size, visit(page, watcher, context, link + "?answer=partly"))
    page.get_by_label("Anything you'd like to add?").fill("The claim was paid, but it took three more calls.")
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_role("heading", name="Thank you — we have your answer.").wait_for()
    found.note("/check-in/{token} (answered)", size, page_problems(page, watcher, context))
    found.note("/check-in/{unknown}", size,
               visit(page, watcher, context, f"{site.url}/check-in/no-such-link-at-all", status=404))
    assert not found.problems, describe(found.problems)
