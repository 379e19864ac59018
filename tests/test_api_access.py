"""Who may use which API route: the route table's API rows (tests/access_table.py), each checked with keys.

* no key: 401 problem JSON, nothing changes;
* Quay's key (Charlie's practice) on Harbour's ids: 404, nothing of Harbour's in the answer, nothing changes;
  on the lists, none of Harbour's rows;
* scopes: a write-only key reading gets 403 naming "read"; a read-only key writing gets 403 naming "write".

"Nothing changes" leaves out the api_key table, where every keyed call is counted (last used, rate limit).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine

from partnermon.feedback import api_keys
from partnermon.models import Incident
from tests.access_table import API, PAYLOADS, ROUTES
from tests.test_access import (  # noqa: F401 - world and quick_password_hashing are fixtures
    World, quick_password_hashing, snapshot, world,
)

API_CASES = [pytest.param(e, m, id=f"{m} {e}") for e, r in ROUTES.items() if r.access == API for m in r.methods]
SCOPED = [c for c in API_CASES if ROUTES[c.values[0]].scoped]
LISTS = [c for c in API_CASES if not ROUTES[c.values[0]].scoped and c.values[1] == "GET"]
HARBOUR_SECRETS = ("Acme Insurance", "Claims form", "dana@client.test", "erin@client.test", "bob@harbour.test",
                   "alice@harbour.test")


@pytest.fixture
def api_world(world: World, session) -> World:  # type: ignore[no-untyped-def]
    now = datetime.now(timezone.utc)
    incident = Incident(practice_id=world.cast.harbour.id, touchpoint_id=world.cast.acme_claims.id, kind="down",
                        started_at=now - timedelta(hours=1), first_error="HTTP 503", last_error="HTTP 503")
    session.add(incident)
    keys = {}
    for name, practice, owner, scopes in (("harbour", world.cast.harbour, world.cast.alice, ["read", "write"]),
                                          ("quay", world.cast.quay, world.cast.charlie, ["read", "write"]),
                                          ("write_only", world.cast.harbour, world.cast.alice, ["write"]),
                                          ("read_only", world.cast.harbour, world.cast.alice, ["read"])):
        keys[name] = api_keys.create_key(session, now, practice, owner, name, scopes).plaintext
    session.commit()
    world.ids["incident_id"] = incident.id
    world.ids["api_keys"] = keys
    return world


def without_keys(engine: Engine) -> dict[str, Any]:
    return {name: rows for name, rows in snapshot(engine).items() if name != "api_key"}


def call(client, world: World, endpoint: str, method: str, key: str | None):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {world.ids['api_keys'][key]}"} if key else {}
    if method == "GET":
        return client.get(world.path(endpoint), headers=headers)
    return client.post(world.path(endpoint), json=PAYLOADS[endpoint](world), headers=headers)


def test_every_api_route_is_under_api_v1() -> None:
    assert API_CASES and all(ROUTES[c.values[0]].rule.startswith("/api/v1/") for c in API_CASES)


@pytest.mark.parametrize(("endpoint", "method"), API_CASES)
def test_without_a_key_every_api_route_is_401_problem_json_and_changes_nothing(api_world, client, engine, endpoint,
                                                                               method) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(engine)
    response = call(client, api_world, endpoint, method, None)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 401 and "WWW-Authenticate" in response.headers
    assert snapshot(engine) == before


@pytest.mark.parametrize(("endpoint", "method"), SCOPED)
def test_another_practices_key_gets_404_on_every_id_and_changes_nothing(api_world, client, engine, endpoint,
                                                                       method) -> None:  # type: ignore[no-untyped-def]
    before = without_keys(engine)
    response = call(client, api_world, endpoint, method, "quay")
    assert response.status_code == 404, f"Quay's key got {response.status_code} for {api_world.path(endpoint)}"
    assert response.mimetype == "application/problem+json"
    body = response.get_data(as_text=True)
    for secret in HARBOUR_SECRETS:
        assert secret not in body
    assert without_keys(engine) == before


@pytest.mark.parametrize(("endpoint", "method"), SCOPED)
def test_the_practices_own_key_reads_the_same_ids(api_world, client, endpoint, method) -> None:  # type: ignore[no-untyped-def]
    response = call(client, api_world, endpoint, method, "harbour")
    assert response.status_code == 200
    placeholder = re.search(r"<int:(\w+)>", ROUTES[endpoint].rule)[1]  # type: ignore[index]
    assert response.get_json()["id"] == api_world.ids[placeholder]


@pytest.mark.parametrize(("endpoint", "method"), LISTS)
def test_another_practices_key_lists_none_of_harbours_rows(api_world, client, endpoint, method) -> None:  # type: ignore[no-untyped-def]
    own = call(client, api_world, endpoint, method, "harbour")
    assert own.status_code == 200
    assert "Acme Insurance" in own.get_data(as_text=True)   # so the check below is not vacuous
    theirs = call(client, api_world, endpoint, method, "quay")
    assert theirs.status_code == 200
    body = theirs.get_data(as_text=True)
    for secret in HARBOUR_SECRETS:
        assert secret not in body


@pytest.mark.parametrize(("endpoint", "method"), [c for c in API_CASES if c.values[1] == "GET"])
def test_a_write_only_key_cannot_read(api_world, client, endpoint, method) -> None:  # type: ignore[no-untyped-def]
    response = call(client, api_world, endpoint, method, "write_only")
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert response.get_json()["scope"] == "read" and "“read” scope" in response.get_json()["detail"]


@pytest.mark.parametrize(("endpoint", "method"), [c for c in API_CASES if c.values[1] == "POST"])
def test_a_read_only_key_cannot_write_and_changes_nothing(api_world, client, engine, endpoint, method) -> None:  # type: ignore[no-untyped-def]
    before = without_keys(engine)
    response = call(client, api_world, endpoint, method, "read_only")
    assert response.status_code == 403 and response.get_json()["scope"] == "write"
    assert without_keys(engine) == before
    assert call(client, api_world, endpoint, method, "harbour").status_code == 201   # the payload is real
