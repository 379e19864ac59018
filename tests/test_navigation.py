"""The staff navigation (web/navigation.py, base.html): grouped by what people do, the current page marked with
aria-current, only the links a role may use, the account's links in one menu, and a phone's menu that opens
without JavaScript."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from partnermon.paths import STATIC_DIR
from partnermon.web import navigation


def nav_links(html: str) -> dict[str, str | None]:
    """The main navigation's links (the phone menu holds every one) → their aria-current, or None."""
    menu = html[html.index('<details class="menu phone-menu">'):html.index("</details>", html.index("phone-menu"))]
    return {href: current for href, current in
            re.findall(r'<a href="([^"]+)"(?: aria-current="([^"]+)")?>', menu)}


def test_the_groups_are_what_people_do_in_order(cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    html = browser.get("/").get_data(as_text=True)
    desk = html[html.index('<nav class="mainnav"'):html.index("</nav>", html.index('<nav class="mainnav"'))]
    assert re.findall(r">([^<>]+)</a>", desk) == ["Monitor", "Feedback", "Follow-ups", "Reports", "Settings"]


@pytest.mark.parametrize(("path", "current", "within"), [
    ("/", "/", None),
    ("/partners/", "/partners/", None),
    ("/feedback/requests/new", "/feedback/requests/new", None),
    ("/follow-ups/", "/follow-ups/", None),
    ("/settings/follow-ups", "/settings/follow-ups", None),
    ("/account/password", "/account/password", None),
])
def test_the_current_page_is_marked_with_aria_current_page(cast, browser, path, current, within) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    links = nav_links(browser.get(path).get_data(as_text=True))
    assert links[current] == "page"
    assert [href for href, mark in links.items() if mark == "page"] == [current]   # one current page only


def test_a_page_under_a_link_marks_it_as_the_place_not_the_page(cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    html = browser.get(f"/partners/{cast.acme.id}/touchpoints/{cast.acme_claims.id}").get_data(as_text=True)
    links = nav_links(html)
    assert links["/partners/"] == "true" and "page" not in links.values()
    # The group's own pages are listed below the bar, Partners marked there too.
    subnav = html[html.index('<nav class="subnav" aria-label="Monitor">'):]
    assert '<a href="/partners/" aria-current="true">Partners</a>' in subnav[:subnav.index("</nav>")]


def test_an_owner_is_offered_every_group_and_the_settings(cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    links = nav_links(browser.get("/").get_data(as_text=True))
    for path in ("/partners/", "/feedback/requests/new", "/feedback/import", "/follow-ups/", "/reports/",
                 "/settings/", "/users/", "/settings/api-keys", "/admin/emails", "/admin/audit", "/feedback/erase"):
        assert path in links, path


@pytest.mark.parametrize(("who", "offered", "not_offered"), [
    ("bob@harbour.test", ["/feedback/requests/new", "/feedback/import", "/follow-ups/", "/reports/"],
     ["/settings/", "/users/", "/settings/api-keys", "/admin/emails", "/admin/audit", "/feedback/erase",
      "/settings/follow-ups", "/settings/thresholds"]),
    ("vera@harbour.test", ["/partners/", "/feedback/requests", "/follow-ups/", "/reports/"],
     ["/feedback/requests/new", "/feedback/import", "/settings/", "/users/", "/admin/emails", "/feedback/erase"]),
])
def test_advisers_and_viewers_are_offered_only_pages_they_may_use(cast, browser, who, offered, not_offered) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in(who)
    html = browser.get("/").get_data(as_text=True)
    links = nav_links(html)
    for path in offered:
        assert path in links, path
        assert browser.get(path).status_code == 200, path
    for path in not_offered:
        assert path not in links, path
        assert f'href="{path}"' not in html[:html.index('<main')], path
    assert ">Settings</a>" not in html


def test_every_link_in_the_navigation_opens_for_the_role_it_is_shown_to(cast, browser) -> None:  # type: ignore[no-untyped-def]
    for who in ("alice@harbour.test", "bob@harbour.test", "vera@harbour.test"):
        browser.sign_in(who)
        for path in nav_links(browser.get("/").get_data(as_text=True)):
            assert browser.get(path).status_code == 200, (who, path)


def test_the_account_links_sit_in_one_menu_with_sign_out(cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("bob@harbour.test")
    html = browser.get("/").get_data(as_text=True)
    account = html[html.index('<details class="menu account-menu">'):]
    account = account[:account.index("</details>")]
    assert "<summary>Account</summary>" in account and "bob@harbour.test" in account
    for path in ("/account/alerts", "/account/password", "/account/sign-ins"):
        assert f'href="{path}"' in account
    assert 'action="/sign-out"' in account and ">Sign out</button>" in account
    # Nothing but the menus holds them: the bar of groups stays short.
    desk = html[html.index('<nav class="mainnav"'):html.index("</nav>", html.index('<nav class="mainnav"'))]
    assert "/account/" not in desk and "sign-out" not in desk


def test_on_a_phone_the_navigation_collapses_into_a_menu_that_needs_no_script(cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    html = browser.get("/partners/").get_data(as_text=True)
    header = html[:html.index("<main")]
    # <details>/<summary> open from a tap or the keyboard without JavaScript; no script in the header at all.
    assert '<details class="menu phone-menu">' in header and "<summary>Menu</summary>" in header
    assert "<script" not in header
    css = (STATIC_DIR / "app.css").read_text()
    assert ".phone-menu { display: none; }" in css   # from 860px the groups show instead


def test_signed_out_pages_and_the_clients_pages_have_no_staff_navigation(cast, client, session) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/sign-in").get_data(as_text=True)
    assert "mainnav" not in html and "phone-menu" not in html


def test_a_page_that_is_not_found_keeps_the_navigation_with_nothing_marked(cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    response = browser.get("/no-such-page")
    assert response.status_code == 404
    links = nav_links(response.get_data(as_text=True))
    assert "/partners/" in links and "page" not in links.values() and "true" not in links.values()


def test_every_endpoint_in_the_navigation_exists(app: Flask) -> None:
    endpoints = set(app.view_functions)
    for group in navigation.GROUPS:
        for link in group.links:
            assert link.endpoint in endpoints, link.endpoint
            for part in link.under:
                assert (part.rstrip(".") in app.blueprints) if part.endswith(".") else part in endpoints, part
    for link in navigation.ACCOUNT:
        assert link.endpoint in endpoints
