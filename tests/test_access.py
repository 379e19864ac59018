"""Who may use which page: the security matrices for every web route (DESIGN.md §8).

ROUTES (tests/access_table.py) classifies every route the app serves: who may use it (anyone, any
signed-in user, owners and advisers, or owners only) and whether it takes the id of one practice's
object. The first test fails when a route is added, removed or changed without updating the table, so
nothing reaches production unclassified.

The matrices then use the table:

* tenant isolation: Charlie (owner of Quay) using Harbour's ids gets 404 and changes nothing;
* roles: Bob (adviser) and Vera (viewer) get 403 on owner-only routes and change nothing;
* anonymous visitors are sent to /sign-in with a ``next`` and change nothing;
* CSRF: every POST without the form's token, or with another browser's, is refused with 400.

"Changes nothing" compares every row of every table before and after the request. So that this
is never vacuous, ``test_the_payloads_change_the_database_when_the_right_person_sends_them`` shows that
the same payload, sent by someone allowed to, does change the database.

The argon2 parameters are lowered for this module only (``quick_password_hashing``): the cast
hashes four passwords per test, and these tests are about who may do what, not about hashing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import Engine, select

import partnermon.accounts.security
from partnermon import followups
from partnermon.accounts import service as accounts, sign_ins
from partnermon.alerts import delivery
from partnermon.feedback import api_keys
from partnermon.feedback import links
from partnermon.feedback import responses
from partnermon.followups import recovery, service as followup_service
from partnermon.models import (Base, FeedbackResponse, Invitation, MomentOfTruth, Practice, Report, ThemeRun, User,
                               WebhookEndpoint)
from partnermon.monitoring import maintenance
from partnermon.partners import probe_settings
from partnermon.promises import service as promise_service
from partnermon.practices import closures, service as practices
from partnermon.reports import emails as report_emails
from partnermon.reports.storage import ReportStore
from tests.access_table import (
    API, HARBOUR_LOGO, NEW_PASSWORD, OTHER_LOGO, OWNER, PAYLOADS, PUBLIC, ROUTES, SIGNED_IN, STAFF_ONLY, Route,
    _local_in,
)
from tests.conftest import PASSWORD, text_of
from tests.factories import Cast


@dataclass
class World:
    """The cast, plus what some routes need: an unused moment, an invited user, a logo, a probe of Acme's
    claims form and a maintenance window at Acme."""

    cast: Cast
    ids: dict[str, Any]   # Harbour's objects, by the URL placeholder that takes them

    def path(self, endpoint: str) -> str:
        route = ROUTES[endpoint]
        names = dict(route.ids)
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(self.ids[names.get(m[1], m[1])]), route.rule)



def _cases(keep: Callable[[str, Route, str], bool]) -> list[Any]:
    return [pytest.param(endpoint, method, id=f"{method} {endpoint}")
            for endpoint, route in ROUTES.items() for method in route.methods if keep(endpoint, route, method)]


# The API's routes are authorised by a key, not a browser session: tests/test_api_access.py runs their matrix.
SCOPED_CASES = _cases(lambda e, r, m: r.scoped and r.access != API)
SCOPED_GETS = _cases(lambda e, r, m: r.scoped and r.access != API and m == "GET")
OWNER_CASES = _cases(lambda e, r, m: r.access == OWNER)
STAFF_ONLY_CASES = _cases(lambda e, r, m: r.access == STAFF_ONLY)
STAFF_ONLY_GETS = _cases(lambda e, r, m: r.access == STAFF_ONLY and m == "GET")
SIGNED_IN_GETS = _cases(lambda e, r, m: r.access == SIGNED_IN and m == "GET")
PRIVATE_CASES = _cases(lambda e, r, m: r.access not in (PUBLIC, API))
POST_ENDPOINTS = [endpoint for endpoint, route in ROUTES.items() if "POST" in route.methods]
CSRF_ENDPOINTS = [endpoint for endpoint in POST_ENDPOINTS if ROUTES[endpoint].csrf]
STAFF = [pytest.param("bob@harbour.test", id="adviser Bob"), pytest.param("vera@harbour.test", id="viewer Vera")]


# --- fixtures and helpers ---------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partnermon.accounts.security, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def world(cast: Cast, session, runtime) -> World:  # type: ignore[no-untyped-def]
    now = datetime.now(timezone.utc)  # the invitation must still be open when the app checks it
    invitation = accounts.invite_user(session, now, cast.harbour, email="ivy@harbour.test", role="viewer",
                                      name="Ivy", actor=cast.alice, base_url="http://partnermon.test")
    practices.set_logo(session, now, cast.harbour, cast.alice, HARBOUR_LOGO)
    probe_settings.save_probe(session, now, cast.acme_claims, cast.alice, {"kind": "http", "interval_seconds": "300"})
    closure = closures.add_closure(session, now, cast.harbour, cast.alice,
                                   day=(closures.local_today(cast.harbour, now) + timedelta(days=3)).isoformat())
    window = maintenance.create_window(session, now, cast.acme, cast.alice,
                                       {"starts_at": _local_in(days=3), "ends_at": _local_in(days=4)})
    unused = session.scalar(select(MomentOfTruth).where(MomentOfTruth.practice_id == cast.harbour.id,
                                                        MomentOfTruth.key == "advocacy"))
    asked = links.create_request(session, now, cast.harbour, {"partner": "Acme Insurance",
                                                                          "client_email": "dana@client.test"},
                                             actor=cast.bob, source="form", base_url="http://partnermon.test")
    cast.harbour.open_feedback_link = True
    key = api_keys.create_key(session, now, cast.harbour, cast.alice, "CRM")
    hook = WebhookEndpoint(practice_id=cast.harbour.id, url="https://93.184.215.14/hook", events=["response.created"],
                           secret="whsec_test", enabled=True, failure_count=0, created_at=now)
    session.add(hook)
    sign_ins.start(session, now, cast.alice, "Alice's phone")  # for "sign out everywhere else" to end
    answered = links.create_request(session, now, cast.harbour, {"partner": "Acme Insurance",
                                                                             "client_email": "erin@client.test"},
                                                actor=cast.bob, source="form", base_url="http://partnermon.test")
    answer, _ = responses.record_response(session, now, answered.request,
                                          responses.parse_answers({"satisfaction": "1"}, None))
    opened = followups.open_for_response(session, now, answer, "http://partnermon.test")  # assigned to Alice
    finn = links.create_request(session, now, cast.harbour, {"partner": "Acme Insurance",
                                                                         "client_email": "finn@client.test"},
                                            actor=cast.bob, source="form", base_url="http://partnermon.test")
    finn_answer, _ = responses.record_response(session, now, finn.request,
                                               responses.parse_answers({"satisfaction": "1"}, None))
    closed = followups.open_for_response(session, now, finn_answer, "http://partnermon.test")
    followup_service.record_resolved(session, now, closed, cast.alice, outcome="stayed", note="Done.")  # so a reopen would go through
    gina = links.create_request(session, now, cast.harbour, {"partner": "Acme Insurance",
                                                             "client_email": "gina@client.test"},
                                actor=cast.bob, source="form", base_url="http://partnermon.test")
    gina_answer, _ = responses.record_response(session, now, gina.request,
                                               responses.parse_answers({"satisfaction": "2"}, None))
    mild = followups.open_for_response(session, now, gina_answer, "http://partnermon.test")  # on the email rung
    [check_in] = recovery.check_ins_of(session, closed)
    check_in_link = recovery.send_check_in(session, now, check_in, "http://partnermon.test")   # open for an answer
    assert check_in_link is not None
    kept = promise_service.create_promise(session, now, cast.acme, cast.alice, {"kind": "explicit", "measure": "availability",
                                          "scope": "", "target": "99.5", "quote": "Always on", "source": "acme.test"})
    # A stored theme run with one candidate theme, so "Add as a moment" would go through if it were let.
    theme_run = ThemeRun(practice_id=cast.harbour.id, created_at=now, period_start=now - timedelta(days=90), period_end=now,
                         comments=40, previous_comments=0, trigger="schedule", themes=[{
                             "number": 1, "words": ["hold", "phone", "queue"], "count": 40, "share": 1.0,
                             "examples": [], "partners": [["Acme Insurance", 40]], "moments": [["Claims", 20], ["Leaving", 20]],
                             "previous": 0, "previous_total": 0, "trend": "", "how_we_know": "", "candidate": True,
                             "candidate_reason": "", "added_moment_id": None, "moment_ids": []}])
    session.add(theme_run)
    # 30 comments, so "Find themes now" finds (and stores) themes; a learned weight in use, so "use my stakes for
    # all" would go back to the owner's.
    session.add_all([FeedbackResponse(practice_id=cast.harbour.id, partner_id=cast.acme.id, satisfaction=2,
                                      comment=("On hold in the phone queue for ages" if i % 2 else
                                               "The portal password reset never came"),
                                      created_at=now - timedelta(hours=i + 1), updated_at=now) for i in range(30)])
    unused.weight_source, unused.learned_weight, unused.learned_n, unused.learned_at = "learned", 1.5, 12, now
    store = ReportStore(runtime.settings.reports_path)
    report = Report(practice_id=cast.harbour.id, month="2026-10", status="done", due_at=now, attempts=1,
                    email_owners=False, generation=1, storage_key=store.key_for("harbour", "2026-10"), bytes=14,
                    pages=1, generated_at=now, created_at=now, updated_at=now)
    session.add(report)
    store.save(report.storage_key, b"%PDF-1.4 test\n")
    session.commit()
    ids = {
        "partner_id": cast.acme.id,
        "touchpoint_id": cast.acme_claims.id,
        "moment_id": unused.id,             # unused, so a delete would go through if it were let
        "user_id": cast.bob.id,
        "invited_user_id": invitation.user.id,  # has no password yet, so a resend would go through
        "token": invitation.link.rsplit("/", 1)[1],
        "window_id": window.id,
        "promise_id": kept.id,
        "closure_id": closure.id,           # still to come, so a remove would go through
        "feedback_token": asked.link.rsplit("/", 1)[1],
        "check_in_token": check_in_link.rsplit("/", 1)[1],
        "slug": cast.harbour.slug,
        "key_id": key.key.id,
        "endpoint_id": hook.id,
        "request_id": asked.request.id,     # unanswered and open, so a revoke would go through
        "response_id": answer.id,
        "follow_up_id": opened.id,
        "resolved_follow_up_id": closed.id,
        "email_follow_up_id": mild.id,      # on the email rung, so a personal email would go through
        "unsubscribe_token": delivery.unsubscribe_token("test-secret-key", cast.alice, "certificate_expiring"),
        "report_month": report.month,
        "run_id": theme_run.id,
        "theme_number": 1,
        "report_token": report_emails.download_token("test-secret-key", report, cast.alice.id),
    }
    return World(cast, ids)


Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(engine: Engine) -> Snapshot:
    """Every row of every table, in primary-key order."""
    with engine.connect() as conn:
        return {table.name: [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
                for table in Base.metadata.sorted_tables}


def assert_unchanged(before: Snapshot, engine: Engine) -> None:
    after = snapshot(engine)
    changes = []
    for name, rows in before.items():
        if after[name] != rows:
            gone = [r for r in rows if r not in after[name]]
            new = [r for r in after[name] if r not in rows]
            changes.append(f"{name}: removed or changed {gone!r:.300} -> now {new!r:.300}")
    assert not changes, "the database changed:\n" + "\n".join(changes)


def send(browser, world: World, endpoint: str, method: str):  # type: ignore[no-untyped-def]
    """The request a browser would make: a GET, or a POST of the form with its CSRF token."""
    if method == "GET":
        return browser.get(world.path(endpoint))
    return browser.post(world.path(endpoint), PAYLOADS[endpoint](world))


def is_sign_in_redirect_back_to(response, path: str) -> bool:  # type: ignore[no-untyped-def]
    if response.status_code != 302:
        return False
    location = urlsplit(response.headers["Location"])
    return location.path == "/sign-in" and parse_qs(location.query).get("next") == [path]


def still_signed_in(browser) -> bool:  # type: ignore[no-untyped-def]
    return browser.get("/").status_code == 200


# --- 1. the route table is complete -------------------------------------------------------------------

def test_every_route_the_app_serves_is_classified_in_the_route_table(app: Flask) -> None:
    served: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            methods = tuple(m for m in ("GET", "POST") if m in (rule.methods or set()))
            served.setdefault(rule.endpoint, []).append((rule.rule, methods))
            assert not (rule.methods or set()) - {"GET", "HEAD", "OPTIONS", "POST"}, f"{rule.endpoint} has {rule.methods}"
    unclassified = sorted(set(served) - set(ROUTES))
    assert not unclassified, f"classify these routes in ROUTES (tests/test_access.py): {unclassified}"
    stale = sorted(set(ROUTES) - set(served))
    assert not stale, f"ROUTES lists endpoints the app no longer serves: {stale}"
    for endpoint, rules in served.items():
        route = ROUTES[endpoint]
        assert rules == [(route.rule, route.methods)], f"{endpoint} is served as {rules}; ROUTES says {route}"


def test_the_route_table_is_consistent_with_itself() -> None:
    for endpoint, route in ROUTES.items():
        assert route.access in (PUBLIC, SIGNED_IN, STAFF_ONLY, OWNER, API), endpoint
        assert route.scoped == ("<int:" in route.rule), f"{endpoint}: scoped routes are exactly those taking an id"
        if "POST" in route.methods:
            assert endpoint in PAYLOADS, f"{endpoint} needs a payload in PAYLOADS"
    assert set(PAYLOADS) == set(POST_ENDPOINTS)


# --- 2. tenant isolation -------------------------------------------------------------------------------

@pytest.mark.parametrize(("endpoint", "method"), SCOPED_CASES)
def test_another_practices_owner_gets_404_and_changes_nothing(world: World, browser, engine, endpoint, method) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("charlie@quay.test")
    before = snapshot(engine)
    response = send(browser, world, endpoint, method)
    assert response.status_code == 404, f"Charlie got {response.status_code} for {method} {world.path(endpoint)}"
    page = text_of(response)
    for harbour_secret in ("Acme Insurance", "Claims form", "bob@harbour.test", "ivy@harbour.test", "Harbour Advice"):
        assert harbour_secret not in page
    assert_unchanged(before, engine)


@pytest.mark.parametrize(("endpoint", "method"), SCOPED_GETS)
def test_the_practices_own_owner_gets_200_on_the_same_pages(world: World, browser, endpoint, method) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    assert send(browser, world, endpoint, method).status_code == 200


def test_an_owner_cannot_reach_another_practices_touchpoint_through_their_own_partner(world: World, browser,
                                                                                      engine) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("charlie@quay.test")
    before = snapshot(engine)
    touchpoint = f"/partners/{world.cast.zenith.id}/touchpoints/{world.ids['touchpoint_id']}"
    assert browser.get(touchpoint + "/edit").status_code == 404
    assert browser.post(touchpoint + "/edit", PAYLOADS["partners.edit_touchpoint"](world)).status_code == 404
    assert browser.post(touchpoint + "/delete").status_code == 404
    assert_unchanged(before, engine)


def test_an_owner_cannot_file_a_touchpoint_under_another_practices_moment(world: World, browser, engine) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("charlie@quay.test")
    before = snapshot(engine)
    response = browser.post(f"/partners/{world.cast.zenith.id}/touchpoints/new",
                            {"name": "Sneaky", "moment": str(world.ids["moment_id"]), "url": ""})
    assert response.status_code == 422
    assert "is not one of this practice's moments of truth" in text_of(response)
    assert_unchanged(before, engine)


def test_a_practices_logo_is_served_only_to_its_own_people(world: World, browser, new_browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("charlie@quay.test")
    response = browser.get("/practice/logo")
    assert response.status_code == 404  # Quay has no logo; Harbour's must not be shown instead
    assert HARBOUR_LOGO not in response.get_data()
    own = new_browser().sign_in("vera@harbour.test").get("/practice/logo")
    assert own.status_code == 200 and own.get_data() == HARBOUR_LOGO


# --- 3. roles --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", STAFF)
@pytest.mark.parametrize(("endpoint", "method"), OWNER_CASES)
def test_advisers_and_viewers_get_403_on_owner_pages_and_change_nothing(world: World, browser, engine, who,
                                                                         endpoint, method) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in(who)
    before = snapshot(engine)
    response = send(browser, world, endpoint, method)
    assert response.status_code == 403, f"{who} got {response.status_code} for {method} {world.path(endpoint)}"
    assert "You do not have access to this page" in text_of(response)
    assert_unchanged(before, engine)


@pytest.mark.parametrize(("endpoint", "method"), STAFF_ONLY_CASES)
def test_viewers_get_403_on_pages_for_owners_and_advisers_and_change_nothing(world: World, browser, engine,
                                                                             endpoint, method) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("vera@harbour.test")
    before = snapshot(engine)
    response = send(browser, world, endpoint, method)
    assert response.status_code == 403, f"Vera got {response.status_code} for {method} {world.path(endpoint)}"
    assert_unchanged(before, engine)


@pytest.mark.parametrize(("endpoint", "method"), STAFF_ONLY_GETS)
def test_advisers_see_the_pages_for_owners_and_advisers(world: World, browser, endpoint, method) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("bob@harbour.test")
    assert send(browser, world, endpoint, method).status_code == 200


@pytest.mark.parametrize("who", STAFF)
@pytest.mark.parametrize(("endpoint", "method"), SIGNED_IN_GETS)
def test_advisers_and_viewers_see_the_pages_for_everyone(world: World, browser, who, endpoint, method) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in(who)
    assert send(browser, world, endpoint, method).status_code == 200


def test_owner_only_actions_are_not_offered_to_a_viewer(world: World, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("vera@harbour.test")
    html = browser.get(world.path("partners.show")).get_data(as_text=True)
    for endpoint in ("partners.edit", "partners.delete", "partners.create_touchpoint", "partners.edit_touchpoint",
                     "maintenance.create", "maintenance.delete"):
        assert world.path(endpoint) not in html
    html = browser.get(world.path("touchpoints.show")).get_data(as_text=True)
    for endpoint in ("touchpoints.probe", "touchpoints.remove_probe", "partners.edit_touchpoint"):
        assert world.path(endpoint) not in html
    nav = browser.get("/").get_data(as_text=True)
    for endpoint in ("users.index", "settings.practice", "admin.emails", "admin.audit_log"):
        assert f'href="{world.path(endpoint)}"' not in nav


# --- 4. anonymous visitors -------------------------------------------------------------------------------

@pytest.mark.parametrize(("endpoint", "method"), PRIVATE_CASES)
def test_signed_out_visitors_are_sent_to_sign_in_and_change_nothing(world: World, browser, engine, endpoint,
                                                                    method) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(engine)
    response = send(browser, world, endpoint, method)  # a POST carries a valid CSRF token for this browser
    assert is_sign_in_redirect_back_to(response, world.path(endpoint)), (
        f"{method} {world.path(endpoint)}: {response.status_code} {response.headers.get('Location')}")
    assert_unchanged(before, engine)


@pytest.mark.parametrize(("endpoint", "status"), [
    ("auth.sign_in", 200),
    ("auth.invitation", 200),
    ("auth.setup", 404),  # gone for good once a practice exists
    ("feedback_form.form", 200),
    ("feedback_form.link_logo", 200),
    ("feedback_form.open_form", 200),
    ("feedback_form.open_thanks", 200),
    ("feedback_form.open_logo", 200),
    ("check_in.page", 200),
    ("health.healthz", 200),
    ("unsubscribe.page", 200),
])
def test_public_pages_answer_signed_out_visitors_without_redirecting(world: World, browser, endpoint, status) -> None:  # type: ignore[no-untyped-def]
    assert browser.get(world.path(endpoint)).status_code == status


def test_signing_out_when_signed_out_just_leads_to_the_sign_in_page(world: World, browser, engine) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(engine)
    response = browser.post("/sign-out")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/sign-in"
    assert_unchanged(before, engine)


def test_before_any_practice_exists_every_page_leads_to_setup(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/partners/", "/sign-in", "/users/"):
        response = client.get(path)
        assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/setup", path
    assert client.get("/setup").status_code == 200


# --- 5. CSRF ---------------------------------------------------------------------------------------------

def _forged(token: str | None, new_browser) -> dict[str, str]:  # type: ignore[no-untyped-def]
    if token == "missing":
        return {}
    return {"csrf_token": new_browser().csrf()}  # a genuine token, but another browser's


def assert_refused_as_forged(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "partnermon" in html and "Traceback" not in html
    assert "That request could not be used" in text_of(response)
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("token", ["missing", "wrong"])
@pytest.mark.parametrize("endpoint", CSRF_ENDPOINTS)
def test_a_post_without_the_forms_csrf_token_is_refused_with_400_and_changes_nothing(
        world: World, browser, new_browser, engine, endpoint, token) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    before = snapshot(engine)
    data = {**PAYLOADS[endpoint](world), **_forged(token, new_browser)}
    response = browser.client.post(world.path(endpoint), data=data)
    assert_refused_as_forged(response)
    assert_unchanged(before, engine)
    assert still_signed_in(browser)  # neither signed out nor switched to somebody else


@pytest.mark.parametrize("token", ["missing", "wrong"])
@pytest.mark.parametrize("endpoint", ["auth.sign_in", "auth.invitation"])
def test_a_signed_out_visitors_post_without_the_csrf_token_is_refused(world: World, browser, new_browser, engine,
                                                                      endpoint, token) -> None:  # type: ignore[no-untyped-def]
    browser.get(world.path(endpoint))  # the form page gives this browser its own token
    before = snapshot(engine)
    response = browser.client.post(world.path(endpoint), data={**PAYLOADS[endpoint](world), **_forged(token, new_browser)})
    assert_refused_as_forged(response)
    assert_unchanged(before, engine)
    assert not still_signed_in(browser)


@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_setup_without_the_csrf_token_is_refused_and_creates_no_practice(client, new_browser, engine, token) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/setup").status_code == 200
    response = client.post("/setup", data={**PAYLOADS["auth.setup"](None), **_forged(token, new_browser)})  # type: ignore[arg-type]
    assert_refused_as_forged(response)
    with engine.connect() as conn:
        assert conn.execute(select(Practice.id)).first() is None
        assert conn.execute(select(User.id)).first() is None


# --- the payloads above are real: sent by the right person, each one changes something ---------------

@pytest.mark.parametrize("endpoint", [e for e in POST_ENDPOINTS
                                      if ROUTES[e].access not in (PUBLIC, API) and ROUTES[e].writes])
def test_the_payloads_change_the_database_when_the_right_person_sends_them(world: World, browser, engine,
                                                                           endpoint) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    before = snapshot(engine)
    response = send(browser, world, endpoint, "POST")
    # 201: a new API key is shown once on the page that made it, rather than after a redirect.
    assert response.status_code in (201, 302), text_of(response)[:500]
    assert snapshot(engine) != before


def test_the_sign_in_invitation_and_sign_out_payloads_work_with_the_token(world: World, new_browser, engine) -> None:  # type: ignore[no-untyped-def]
    invitee = new_browser()
    assert send(invitee, world, "auth.invitation", "POST").status_code == 302
    with engine.connect() as conn:
        assert conn.execute(select(Invitation.used_at).where(Invitation.user_id == world.ids["invited_user_id"])).scalar()
    assert still_signed_in(invitee)
    alice = new_browser()
    before = snapshot(engine)
    assert send(alice, world, "auth.sign_in", "POST").status_code == 302
    assert snapshot(engine) != before  # last_sign_in_at
    assert still_signed_in(alice)
    assert send(alice, world, "auth.sign_out", "POST").status_code == 302
    assert not still_signed_in(alice)


def test_the_setup_payload_works_with_the_token(browser, engine) -> None:  # type: ignore[no-untyped-def]
    response = browser.post("/setup", PAYLOADS["auth.setup"](None))  # type: ignore[arg-type]
    assert response.status_code == 302, text_of(response)[:500]
    with engine.connect() as conn:
        assert conn.execute(select(Practice.slug)).scalar_one() == "intruder"


# --- 6. headers and cookies ------------------------------------------------------------------------------

def _csp(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    directives: dict[str, list[str]] = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        if part.strip():
            name, *values = part.split()
            directives[name.lower()] = values
    return directives


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed out", "signed in"])
def test_pages_forbid_framing_sniffing_and_inline_scripts(world: World, browser, signed_in) -> None:  # type: ignore[no-untyped-def]
    if signed_in:
        browser.sign_in("alice@harbour.test")
    response = browser.get("/" if signed_in else "/sign-in")
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = _csp(response)
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts, "the CSP must restrict scripts"
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts and "*" not in scripts
    assert csp.get("frame-ancestors") == ["'none'"]


def test_the_session_cookie_is_httponly_and_samesite_lax_after_signing_in(world: World, browser) -> None:  # type: ignore[no-untyped-def]
    response = browser.post("/sign-in", {"email": "alice@harbour.test", "password": PASSWORD})
    assert response.status_code == 302
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("partnermon_session=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    attributes = {a.strip().split("=")[0].lower(): a.strip() for a in cookies[0].split(";")[1:]}
    assert "httponly" in attributes
    assert attributes.get("samesite", "").lower() == "samesite=lax"


def test_once_a_real_practice_exists_set_up_is_gone_even_beside_a_demo(client, session, cast) -> None:  # type: ignore[no-untyped-def]
    cast.quay.is_demo = True
    session.commit()
    assert client.get("/setup").status_code == 404
    assert "Set up your own practice" not in client.get("/sign-in").get_data(as_text=True)
