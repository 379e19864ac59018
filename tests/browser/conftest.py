"""A real browser on the real app: Playwright for Python driving Debian's Chromium, against partnermon served
on 127.0.0.1 from a database of its own holding the demo practice.

Playwright's own browser download does not work on these machines, so the system's Chromium is used
(``apt-get install -y chromium``). Where it is missing the browser tests are skipped with that line, unless
PARTNERMON_REQUIRE_BROWSER=1 (set by .ci/run), when they fail. Like every test, they run on SQLite, or on the
PostgreSQL named by PARTNERMON_TEST_DATABASE_URL (in a database of their own, created and dropped here).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from partnermon import demo, schema
from partnermon.app import create_app
from partnermon.config import Settings
from partnermon.db import make_engine, make_session_factory, utcnow
from partnermon.followups import emails as follow_up_emails, recovery, service as follow_ups
from partnermon.models import FollowUp, Practice, User
from partnermon.runtime import Runtime
from partnermon.accounts.security import hash_password
from tests.conftest import PASSWORD, scratch_database

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = os.environ.get("PARTNERMON_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
INSTALL = "apt-get install -y chromium"


def _browser_unavailable(reason: str) -> None:
    if os.environ.get("PARTNERMON_REQUIRE_BROWSER", "").strip() == "1":
        pytest.fail(f"The browser tests must run here (PARTNERMON_REQUIRE_BROWSER=1) but {reason}.", pytrace=False)
    pytest.skip(f"{reason}: {INSTALL} to run the browser tests")


@pytest.fixture(scope="package")
def chromium() -> Iterator["Browser"]:
    if not Path(CHROMIUM).is_file():
        _browser_unavailable(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_unavailable("Playwright is not installed (pip install -e \".[test]\")")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --- the site ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="package")
def browser_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database for the browser tests alone: the other tests empty theirs around every test."""
    with scratch_database(tmp_path_factory, "browser") as url:
        yield url


@dataclass
class Site:
    """partnermon serving the demo practice on 127.0.0.1; every demo user's password is PASSWORD."""
    url: str
    runtime: Runtime
    slug: str
    emails: dict[str, str] = field(default_factory=dict)     # role → one user of it

    def same_origin(self, url: str) -> bool:
        return url == self.url or url.startswith(self.url + "/")

    def practice_id(self) -> int:
        with self.runtime.session_factory() as session:
            return session.scalars(select(Practice.id).where(Practice.slug == self.slug)).one()


class _LateApp:
    """The WSGI app, set once the server's port (and so the app's base URL) is known."""
    app: Callable[..., Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


@pytest.fixture(scope="package")
def site(browser_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    late = _LateApp()
    server = make_server("127.0.0.1", 0, late, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    instance = tmp_path_factory.mktemp("browser-instance")
    # Loopback allowed for probes, so "Test now" can reach a server the test starts.
    settings = Settings(instance_dir=instance, database_url=browser_database_url, secret_key="browser-secret-key",
                        base_url=url, probe_allow_cidrs=("127.0.0.0/8",))
    engine = make_engine(browser_database_url)
    schema.upgrade(engine)
    runtime = Runtime(settings, engine, make_session_factory(engine))
    with runtime.session_factory() as session:
        # Two months: a whole last month to report on, and a crawl that stays quick.
        made = demo.generate(session, utcnow(), months=2, hourly_days=3)
        practice = session.scalars(select(Practice).where(Practice.slug == made.slug)).one()
        practice.open_feedback_link = True
        emails: dict[str, str] = {}
        for user in sorted(session.scalars(select(User).where(User.practice_id == practice.id)), key=lambda u: u.id):
            user.password_hash = hash_password(PASSWORD)
            emails.setdefault(user.role, user.email)
        session.commit()
    late.app = create_app(runtime=runtime)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)   # not a line per request in a failure's log
    thread = threading.Thread(target=server.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    try:
        yield Site(url, runtime, made.slug, emails)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        engine.dispose()


def fresh_check_in(site: Site, email: str) -> tuple[str, int]:
    """A recovery check-in link, as its email carries it, and its follow-up's id: an open follow-up of the demo
    practice below the top rung, whose client left a confirmed address, resolved by an owner, and its check-in
    sent at once. The check-in goes to ``email``, an address nobody asked yet, so the throttle does not hold it
    back (the demo's clients were all asked for feedback lately)."""
    with site.runtime.session_factory() as session:
        now = utcnow()
        practice_id = site.practice_id()
        owner = session.scalars(select(User).where(User.practice_id == practice_id, User.role == "owner")
                                .order_by(User.id)).first()
        candidates = session.scalars(select(FollowUp).where(FollowUp.practice_id == practice_id,
                                                            FollowUp.status != "resolved", FollowUp.rung != "meeting")
                                     .order_by(FollowUp.id.desc()))
        follow_up = next(f for f in candidates
                         if (client := follow_up_emails.client_of(f)).email and client.verified)
        assert owner is not None
        # A demo practice sends no check-ins (its clients are invented); for this one the practice plays a real one.
        practice = follow_up.practice
        practice.is_demo = False
        follow_ups.record_resolved(session, now, follow_up, owner, outcome="stayed",
                                   note="Rang the client; the insurer paid the claim.")
        session.flush()
        check_in = recovery.check_ins_of(session, follow_up)[-1]
        assert check_in.status == "scheduled", check_in.skipped_reason
        check_in.client_email = email
        link = recovery.send_check_in(session, now, check_in, site.url)
        practice.is_demo = True
        session.commit()
        assert link is not None and link.startswith(site.url + "/check-in/"), link
        return link, follow_up.id


# --- signed-in browsers ----------------------------------------------------------------------------------------

def sign_in(page: "Page", site: Site, email: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person does."""
    page.goto(site.url + "/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url.rstrip("/") == site.url, page.url


@pytest.fixture(scope="package")
def signed_in_state(chromium: "Browser", site: Site, tmp_path_factory: pytest.TempPathFactory
                    ) -> Callable[[str], str]:
    """The cookies of a signed-in owner, adviser or viewer (a file for ``new_context(storage_state=…)``);
    each role signs in once per run."""
    states: dict[str, str] = {}
    folder = tmp_path_factory.mktemp("browser-states")

    def state(role: str) -> str:
        if role not in states:
            context = chromium.new_context(viewport=DESKTOP)
            try:
                sign_in(context.new_page(), site, site.emails[role])
                path = folder / f"{role}.json"
                context.storage_state(path=path)
                states[role] = str(path)
            finally:
                context.close()
        return states[role]

    return state


@pytest.fixture
def open_context(chromium: "Browser", site: Site) -> Iterator[Callable[..., "BrowserContext"]]:
    """Opens browser contexts (closed after the test) that refuse and record requests to other origins."""
    opened: list["BrowserContext"] = []

    def make(*, storage_state: str | None = None, viewport: dict[str, int] = DESKTOP,
             accept_downloads: bool = False) -> "BrowserContext":
        context = chromium.new_context(viewport=viewport, storage_state=storage_state,
                                       accept_downloads=accept_downloads)
        context.foreign_requests = []  # type: ignore[attr-defined]

        def refuse(route: Any) -> None:
            context.foreign_requests.append(route.request.url)  # type: ignore[attr-defined]
            route.abort()

        context.route(lambda url: not (site.same_origin(url) or url.startswith(("data:", "blob:", "about:"))),
                      refuse)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()
