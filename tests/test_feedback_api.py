"""API keys (the owners' settings page and the service) and the JSON API POST /api/v1/feedback-requests.

Harbour's key must only ever act for Harbour: Quay's partners are "not found" to it, and nothing it sends
can create a row in Quay. Every answer of the API is JSON, errors included.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon.accounts.security import token_hash
from partnermon.feedback import api_keys, links
from partnermon.models import ApiKey, AuditEvent, FeedbackRequest, OutboxEmail, Practice
from tests.conftest import NOW, text_of
from tests.factories import Cast

URL = "/api/v1/feedback-requests"
KEY_IN_PAGE = re.compile(r"pm_[A-Za-z0-9_-]{40,}")


def make_key(session: Session, cast: Cast, practice: Practice | None = None, name: str = "CRM") -> str:
    owner = cast.charlie if practice is cast.quay else cast.alice
    made = api_keys.create_key(session, NOW, practice or cast.harbour, owner, name)
    session.commit()
    return made.plaintext


def call(client, key: str | None, body: Any, **headers: str):  # type: ignore[no-untyped-def]
    if key is not None:
        headers.setdefault("Authorization", f"Bearer {key}")
    return client.post(URL, json=body, headers=headers)


def ask(**fields: Any) -> dict[str, Any]:
    return {"client_email": "dana@client.test", "client_name": "Dana", "partner": "Acme Insurance", **fields}


def problem_fields(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The fields a problem+json answer names, with their reasons (RFC 9457 body, ``errors`` member)."""
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == response.status_code and body["title"] and body["detail"]
    return {error["field"]: error["reason"] for error in body["errors"]}


def count(session: Session, model: type, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


# --- the settings page ------------------------------------------------------------------------------------

def test_an_owner_creates_a_key_that_is_shown_once_and_stored_only_as_a_hash(cast, browser, session) -> None:
    browser.sign_in("alice@harbour.test")
    response = browser.post("/settings/api-keys", {"name": "CRM claims workflow", "scopes": ["write"]})
    assert response.status_code == 201
    assert "no-store" in response.headers["Cache-Control"]
    [key] = set(KEY_IN_PAGE.findall(response.get_data(as_text=True)))
    stored = session.scalars(select(ApiKey)).one()
    assert (stored.practice_id, stored.created_by_id) == (cast.harbour.id, cast.alice.id)
    assert stored.name == "CRM claims workflow"
    assert stored.key_hash == token_hash(key) and stored.prefix == key[:10]
    assert key not in repr([stored.name, stored.prefix, stored.key_hash])
    listing = browser.get("/settings/api-keys")
    assert listing.status_code == 200
    assert key not in listing.get_data(as_text=True)
    assert f"{key[:10]}…" in text_of(listing) and "CRM claims workflow" in text_of(listing)


def test_the_new_key_comes_with_a_curl_example_of_the_api_call(cast, browser) -> None:
    browser.sign_in("alice@harbour.test")
    response = browser.post("/settings/api-keys", {"name": "CRM", "scopes": ["write"]})
    [key] = set(KEY_IN_PAGE.findall(response.get_data(as_text=True)))
    page = text_of(response)
    assert f"curl -X POST http://partnermon.test{URL}" in page and f'"Authorization: Bearer {key}"' in page
    assert '"partner": "Acme Insurance"' in page  # one of the practice's own partners, so it works as pasted


def test_creating_and_revoking_a_key_are_audited(cast, browser, session) -> None:
    browser.sign_in("alice@harbour.test")
    browser.post("/settings/api-keys", {"name": "CRM", "scopes": ["write"]})
    browser.post(f"/settings/api-keys/{session.scalar(select(ApiKey.id))}/revoke")
    events = session.execute(select(AuditEvent.action, AuditEvent.actor).where(AuditEvent.object_type == "api_key")
                             .order_by(AuditEvent.id)).all()
    assert events == [("api_key.created", "alice@harbour.test"), ("api_key.revoked", "alice@harbour.test")]


def test_a_key_without_a_name_is_refused_and_nothing_is_created(cast, browser, session) -> None:
    browser.sign_in("alice@harbour.test")
    response = browser.post("/settings/api-keys", {"name": "  "})
    assert response.status_code == 422
    assert "Name is required" in text_of(response) and not KEY_IN_PAGE.search(response.get_data(as_text=True))
    assert count(session, ApiKey) == 0


def test_the_page_explains_what_keys_are_for_before_there_are_any(cast, browser) -> None:
    browser.sign_in("alice@harbour.test")
    page = text_of(browser.get("/settings/api-keys"))
    assert "No API keys yet" in page and "right after a client lodges a claim" in page


def test_practice_settings_link_to_the_api_keys_page(cast, browser) -> None:
    browser.sign_in("alice@harbour.test")
    assert 'href="/settings/api-keys"' in browser.get("/settings/").get_data(as_text=True)


@pytest.mark.parametrize("who", ["bob@harbour.test", "vera@harbour.test"])
def test_advisers_and_viewers_get_403_on_the_api_keys_page(cast, browser, session, who) -> None:
    key_id = session.scalar(select(ApiKey.id).where(ApiKey.key_hash == token_hash(make_key(session, cast))))
    browser.sign_in(who)
    assert browser.get("/settings/api-keys").status_code == 403
    assert browser.post("/settings/api-keys", {"name": "Sneaky"}).status_code == 403
    assert browser.post(f"/settings/api-keys/{key_id}/revoke").status_code == 403
    assert count(session, ApiKey) == 1 and count(session, ApiKey, ApiKey.revoked_at.is_not(None)) == 0


def test_an_owner_revokes_a_key_which_then_shows_as_revoked_and_stops_working(cast, browser, client, session) -> None:
    key = make_key(session, cast)
    key_id = session.scalar(select(ApiKey.id))
    browser.sign_in("alice@harbour.test")
    response = browser.post(f"/settings/api-keys/{key_id}/revoke")
    assert response.status_code == 302
    assert "Revoked" in text_of(browser.get("/settings/api-keys"))
    assert session.scalar(select(ApiKey.revoked_at)) is not None
    assert call(client, key, ask()).status_code == 401


def test_another_practices_owner_neither_sees_nor_revokes_a_key(cast, browser, client, session) -> None:
    key = make_key(session, cast, name="Harbour's CRM")
    key_id = session.scalar(select(ApiKey.id))
    browser.sign_in("charlie@quay.test")
    assert browser.post(f"/settings/api-keys/{key_id}/revoke").status_code == 404
    assert "Harbour's CRM" not in text_of(browser.get("/settings/api-keys"))
    assert call(client, key, ask()).status_code == 201


def test_last_used_is_written_at_most_once_a_minute(cast, session) -> None:
    key = make_key(session, cast)
    assert api_keys.authenticate(session, NOW, key).last_used_at == NOW
    assert api_keys.authenticate(session, NOW + timedelta(seconds=59), key).last_used_at == NOW
    later = NOW + timedelta(seconds=60)
    assert api_keys.authenticate(session, later, key).last_used_at == later


# --- the API: creating requests ---------------------------------------------------------------------------

def test_a_new_request_is_201_and_the_same_external_ref_again_is_200_with_the_same_request(
        cast, client, session) -> None:
    key = make_key(session, cast)
    first = call(client, key, ask(touchpoint="Claims form", external_ref="CLM-1001"))
    assert first.status_code == 201, first.get_json()
    made = first.get_json()
    assert made["link"].startswith("http://partnermon.test/f/")
    assert (made["partner"], made["touchpoint"]["name"], made["moment"]["key"], made["external_ref"]) == (
        {"id": cast.acme.id, "name": "Acme Insurance"}, "Claims form", "claim", "CLM-1001")
    again = call(client, key, ask(touchpoint="Claims form", external_ref="CLM-1001"))
    assert again.status_code == 200
    assert again.get_json()["id"] == made["id"] and again.get_json()["link"] is None
    assert count(session, FeedbackRequest) == 1 and count(session, OutboxEmail) == 1


def test_a_request_made_through_the_api_is_marked_api_and_audited_as_the_key(cast, client, session) -> None:
    key = make_key(session, cast)
    assert call(client, key, ask()).status_code == 201
    assert session.scalar(select(FeedbackRequest.source)) == "api"
    assert session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "feedback.requested")) == (
        f"API key {key[:10]}… (CRM)")


def test_a_numeric_external_ref_is_the_same_ref_as_its_digits(cast, client, session) -> None:
    key = make_key(session, cast)
    first = call(client, key, ask(external_ref=1001))
    assert first.status_code == 201 and first.get_json()["external_ref"] == "1001"
    assert call(client, key, ask(external_ref="1001")).get_json()["id"] == first.get_json()["id"]


def test_the_key_may_be_sent_as_x_api_key(cast, client, session) -> None:
    key = make_key(session, cast)
    assert call(client, None, ask(), **{"X-API-Key": key}).status_code == 201


def test_the_api_needs_no_csrf_token_and_sets_no_cookie(cast, client, session) -> None:
    response = call(client, make_key(session, cast), ask())
    assert response.status_code == 201
    assert response.headers.getlist("Set-Cookie") == []


# --- the API: refusals -------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    pytest.param({}, id="no key"),
    pytest.param({"Authorization": "Bearer "}, id="empty bearer"),
    pytest.param({"Authorization": "Basic YWxpY2U6cGFzcw=="}, id="basic auth"),
    pytest.param({"Authorization": "Bearer pm_" + "x" * 43}, id="unknown key"),
    pytest.param({"X-API-Key": "not-a-key"}, id="malformed X-API-Key"),
])
def test_a_missing_or_bad_key_is_401_in_json_and_creates_nothing(cast, client, session, headers) -> None:
    make_key(session, cast)
    response = client.post(URL, json=ask(), headers=headers)
    assert response.status_code == 401 and response.is_json and response.get_json()["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert count(session, FeedbackRequest) == 0


@pytest.mark.parametrize("whose", ["harbour", "quay"])
def test_a_revoked_key_is_401_whichever_practice_it_belonged_to(cast, client, session, whose) -> None:
    practice = getattr(cast, whose)
    key = make_key(session, cast, practice)
    stored = session.scalars(select(ApiKey)).one()
    api_keys.revoke_key(session, NOW, stored, cast.charlie if whose == "quay" else cast.alice)
    session.commit()
    body = ask(partner="Zenith Platform") if whose == "quay" else ask()
    response = call(client, key, body)
    assert response.status_code == 401 and "revoked" in response.get_json(force=True)["detail"]
    assert count(session, FeedbackRequest) == 0


@pytest.mark.parametrize(("data", "content_type"), [
    pytest.param(b'{"client_email": "dana@client.test",', "application/json", id="malformed JSON"),
    pytest.param(b'["dana@client.test"]', "application/json", id="an array"),
    pytest.param(b"null", "application/json", id="null"),
    pytest.param(b"client_email=dana%40client.test&partner=Acme", "application/x-www-form-urlencoded", id="a form"),
    pytest.param(b"[" * 100_000, "application/json", id="absurd nesting"),
])
def test_a_body_that_is_not_a_json_object_is_400(cast, client, session, data, content_type) -> None:
    key = make_key(session, cast)
    response = client.post(URL, data=data, content_type=content_type, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 400 and response.is_json and response.get_json()["error"]
    assert count(session, FeedbackRequest) == 0


@pytest.mark.parametrize(("fields", "named"), [
    pytest.param({"client_email": "not-an-email"}, "client_email", id="bad email"),
    pytest.param({"partner": ""}, "partner", id="missing partner"),
    pytest.param({"touchpoint": "Teleportation desk"}, "touchpoint", id="unknown touchpoint"),
    pytest.param({"adviser_email": "charlie@quay.test"}, "adviser_email", id="another practice's adviser"),
    pytest.param({"client_name": ["Dana"]}, "client_name", id="a list for a name"),
    pytest.param({"override_throttle": "yes"}, "override_throttle", id="a string for a flag"),
])
def test_each_bad_field_is_named_in_a_422(cast, client, session, fields, named) -> None:
    response = call(client, make_key(session, cast), ask(**fields))
    assert response.status_code == 422
    assert list(problem_fields(response)) == [named]
    assert count(session, FeedbackRequest) == 0


@pytest.mark.parametrize("named", ["client_name", "client_email", "adviser_email", "external_ref", "partner",
                                   "touchpoint"])
def test_a_nul_character_in_any_field_is_a_422_naming_it(cast, client, session, named) -> None:
    # PostgreSQL refuses NUL in text: this was a 500 there (a partner by name, say, reached a query).
    value = {"client_email": "dana\x00@client.test", "adviser_email": "bob@harbour.test\x00"}.get(named, "x\x00y")
    response = call(client, make_key(session, cast), ask(**{named: value}))
    assert response.status_code == 422 and response.is_json
    assert list(problem_fields(response)) == [named]
    assert "control characters" in problem_fields(response)[named]
    assert count(session, FeedbackRequest) == 0


@pytest.mark.parametrize("named", ["client_name", "client_email", "adviser_email", "external_ref", "partner",
                                   "touchpoint"])
def test_a_lone_surrogate_in_any_field_is_a_422_naming_it(cast, client, session, named) -> None:
    # "\ud800" is valid JSON but no character: it can be neither stored nor written back in UTF-8.
    body = json.dumps(ask(**{named: "PLACEHOLDER"})).replace("PLACEHOLDER", "Acme \\ud800")
    response = client.post(URL, data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {make_key(session, cast)}"})
    assert response.status_code == 422 and response.is_json
    assert list(problem_fields(response)) == [named]
    assert "lone surrogate" in problem_fields(response)[named]
    assert count(session, FeedbackRequest) == 0


@pytest.mark.parametrize("partner", ["Zenith Platform", "zenith", "²", "9" * 30, -1])
def test_a_partner_not_in_the_keys_practice_is_404_and_nothing_is_created(cast, client, session, partner) -> None:
    partner = {"zenith": cast.zenith.id}.get(partner, partner)  # Quay's partner, by name and by id
    response = call(client, make_key(session, cast), ask(partner=partner))
    assert response.status_code == 404 and list(problem_fields(response)) == ["partner"]
    assert count(session, FeedbackRequest) == 0 and count(session, OutboxEmail) == 0


def test_harbours_key_can_never_create_a_request_in_quay(cast, client, session) -> None:
    key = make_key(session, cast)
    planted = ask(practice="quay", practice_id=cast.quay.id, partner_id=cast.zenith.id, external_ref="Q-1")
    assert call(client, key, planted).status_code == 201
    for partner in ("Zenith Platform", cast.zenith.id, str(cast.zenith.id)):
        assert call(client, key, ask(partner=partner, override_throttle=True)).status_code == 404
    assert count(session, FeedbackRequest, FeedbackRequest.practice_id == cast.quay.id) == 0
    assert session.scalar(select(FeedbackRequest.partner_id)) == cast.acme.id


def test_html_in_a_client_name_is_stored_as_text_and_escaped_in_the_json(cast, client, session) -> None:
    name = "<script>alert('x')</script> & Co"
    response = call(client, make_key(session, cast), ask(client_name=name))
    assert response.status_code == 201 and response.mimetype == "application/json"
    raw = response.get_data(as_text=True)
    assert "<script>" not in raw and "\\u003cscript\\u003e" in raw
    assert response.get_json()["client_name"] == name
    assert session.scalar(select(FeedbackRequest.client_name)) == name


def test_a_throttled_client_is_422_until_override_throttle_is_true(cast, client, session) -> None:
    key = make_key(session, cast)
    assert call(client, key, ask()).status_code == 201
    held = call(client, key, ask(client_email="DANA@client.test"))
    assert held.status_code == 422
    reason = problem_fields(held)["client_email"]
    assert "waits 30 days" in reason and '"override_throttle": true' in reason
    insisted = call(client, key, ask(override_throttle=True))
    assert insisted.status_code == 201 and insisted.get_json()["throttle_overridden"] is True
    assert count(session, FeedbackRequest) == 2


@pytest.mark.parametrize(("method", "path", "status"), [
    ("DELETE", URL, 405),
    ("POST", "/api/v1/nothing-here", 404),
])
def test_other_api_errors_are_json_too(cast, client, method, path, status) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert response.get_json(force=True)["status"] == status and response.get_json(force=True)["error"]


def test_a_body_over_the_size_limit_is_413_in_json(cast, client, session) -> None:
    key = make_key(session, cast)
    response = client.post(URL, data=b" " * (3 * 1024 * 1024), content_type="application/json",
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 413 and response.is_json
    assert count(session, FeedbackRequest) == 0


@pytest.mark.parametrize("override_throttle", [False, True], ids=["held by the throttle", "stopped by the unique ref"])
def test_a_repeated_external_ref_that_arrives_while_the_first_is_saved_is_answered_200(
        cast, client, session, monkeypatch, override_throttle) -> None:
    """A CRM that retries on a timeout can send one ref twice at once; the loser finds the winner's request."""
    key = make_key(session, cast)
    resolve = links._resolve

    def the_other_call_commits_first(*args: Any) -> Any:
        monkeypatch.setattr(links, "_resolve", resolve)
        links.create_request(session, NOW, cast.harbour, ask(external_ref="CLM-7"), actor="other call",
                                source="api", base_url="http://partnermon.test")
        session.commit()
        return resolve(*args)

    monkeypatch.setattr(links, "_resolve", the_other_call_commits_first)
    response = call(client, key, ask(external_ref="CLM-7", override_throttle=override_throttle))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == session.scalar(select(FeedbackRequest.id))
    assert count(session, FeedbackRequest) == 1 and count(session, OutboxEmail) == 1


# --- scopes ------------------------------------------------------------------------------------------------

def test_an_owner_picks_the_keys_scopes_and_must_pick_at_least_one(cast, browser, session) -> None:
    browser.sign_in("alice@harbour.test")
    refused = browser.post("/settings/api-keys", {"name": "Nothing"})
    assert refused.status_code == 422 and "Choose what the key may do" in text_of(refused)
    assert count(session, ApiKey) == 0
    made = browser.post("/settings/api-keys", {"name": "BI tool", "scopes": ["read"]})
    assert made.status_code == 201
    assert session.scalars(select(ApiKey)).one().scopes == "read"
    assert "BI tool" in text_of(browser.get("/settings/api-keys"))


def test_keys_made_before_scopes_keep_write_only(cast, session) -> None:
    made = api_keys.create_key(session, NOW, cast.harbour, cast.alice, "Old CRM")
    assert made.key.scopes == "write" and made.key.scope_set == {"write"}


def test_a_read_only_key_posting_gets_403_naming_the_write_scope(cast, client, session) -> None:
    key = api_keys.create_key(session, NOW, cast.harbour, cast.alice, "BI", ["read"]).plaintext
    session.commit()
    response = call(client, key, ask())
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert response.get_json()["scope"] == "write" and "“write” scope" in response.get_json()["detail"]
    assert count(session, FeedbackRequest) == 0
