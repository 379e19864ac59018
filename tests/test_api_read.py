"""The read API (GET /api/v1/...): pages stable under inserts, updated_since, bad parameters as problem JSON,
the per-key rate limit and its headers, and scores with their n and interval. Tenancy and scopes for every
route are tests/test_api_access.py's; the document's promises are tests/test_api_schema.py's.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.orm import Session

from partnermon.api import pagination
from partnermon.feedback import api_keys
from partnermon.models import FeedbackResponse, Partner
from tests.conftest import NOW
from tests.factories import Cast


@pytest.fixture
def clock(app) -> list[datetime]:  # type: ignore[no-untyped-def]
    now = [NOW]
    app.config["PARTNERMON_CLOCK"] = lambda: now[0]
    return now


@pytest.fixture
def key(cast: Cast, session: Session) -> str:
    plaintext = api_keys.create_key(session, NOW, cast.harbour, cast.alice, "BI", ["read"]).plaintext
    session.commit()
    return plaintext


def get(client, key: str, path: str, **params: Any):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1{path}", query_string=params, headers={"Authorization": f"Bearer {key}"})


def add_partners(session: Session, cast: Cast, names: list[str]) -> list[int]:
    partners = [Partner(practice_id=cast.harbour.id, name=name, category="other", created_at=NOW) for name in names]
    session.add_all(partners)
    session.commit()
    return [p.id for p in partners]


def add_response(session: Session, cast: Cast, satisfaction: int, at: datetime) -> int:
    answer = FeedbackResponse(practice_id=cast.harbour.id, partner_id=cast.acme.id, satisfaction=satisfaction,
                              verified=True, client_name="Dana", client_email="dana@client.test", created_at=at,
                              updated_at=at)
    session.add(answer)
    session.commit()
    return answer.id


def test_pages_stay_stable_when_rows_are_added_between_them(cast, client, session, key, clock) -> None:
    first_ids = [cast.acme.id, *add_partners(session, cast, [f"Partner {i}" for i in range(6)])]
    page1 = get(client, key, "/partners", limit=3).get_json()
    assert [p["id"] for p in page1["data"]] == first_ids[:3]
    added = add_partners(session, cast, ["Added A", "Added B"])
    page2 = get(client, key, "/partners", limit=3, cursor=page1["next_cursor"]).get_json()
    assert [p["id"] for p in page2["data"]] == first_ids[3:6]
    page3 = get(client, key, "/partners", limit=3, cursor=page2["next_cursor"]).get_json()
    assert [p["id"] for p in page3["data"]] == [first_ids[6], *added]
    assert page3["next_cursor"] is None
    assert page1["as_of"] == NOW.isoformat()


def test_the_default_page_is_100_rows_and_a_limit_over_500_is_a_400_naming_limit(cast, client, session, key) -> None:
    add_partners(session, cast, [f"Partner {i:03}" for i in range(120)])
    assert len(get(client, key, "/partners").get_json()["data"]) == 100
    response = get(client, key, "/partners", limit=501)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == [{"field": "limit", "reason": "limit must be a whole number from 1 to 500."}]


@pytest.mark.parametrize(("params", "field"), [
    ({"updated_since": "yesterday"}, "updated_since"),
    ({"updated_since": "2026-11-01T00:00:00"}, "updated_since"),   # no offset: which midnight?
    ({"limit": "ten"}, "limit"),
    ({"limit": "0"}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": pagination.encode(5)[:-2] + "!!"}, "cursor"),
])
def test_bad_parameters_are_a_400_problem_naming_the_field(cast, client, key, params, field) -> None:
    response = get(client, key, "/feedback-responses", **params)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 400 and [e["field"] for e in body["errors"]] == [field]


@pytest.mark.parametrize("since", [
    "0001-01-01T00:00:00+01:00",   # a year before datetime.min once in UTC
    "9999-12-31T23:59:59-01:00",   # past datetime.max once in UTC
    "1999-12-31T23:59:59Z", "9999-01-01T00:00:00Z",
])
def test_updated_since_at_the_calendar_edges_is_a_400_naming_it(cast, client, key, since) -> None:
    response = get(client, key, "/partners", updated_since=since)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == [{"field": "updated_since", "reason": (
        "updated_since is out of range; choose a time from the year 2000 to 9998.")}]


def test_updated_since_with_an_offset_is_read_in_utc(cast, client, session, key, clock) -> None:
    old = add_response(session, cast, 5, NOW - timedelta(hours=3))
    new = add_response(session, cast, 2, NOW - timedelta(hours=1))
    since = (NOW - timedelta(hours=2)).astimezone(timezone(timedelta(hours=-5))).isoformat()
    assert [r["id"] for r in get(client, key, "/feedback-responses", updated_since=since).get_json()["data"]] == [new]
    assert old != new


def test_a_bad_period_is_a_400_naming_period(cast, client, key, clock) -> None:
    response = get(client, key, "/scores", period="2026-13")
    assert response.status_code == 400 and [e["field"] for e in response.get_json()["errors"]] == ["period"]


def test_updated_since_keeps_rows_changed_at_or_after_it(cast, client, session, key, clock) -> None:
    old = add_response(session, cast, 5, NOW - timedelta(days=3))
    edge = add_response(session, cast, 4, NOW - timedelta(days=1))
    new = add_response(session, cast, 2, NOW - timedelta(hours=1))
    since = (NOW - timedelta(days=1)).isoformat()
    data = get(client, key, "/feedback-responses", updated_since=since).get_json()["data"]
    assert [r["id"] for r in data] == [edge, new]
    assert old not in [r["id"] for r in get(client, key, "/feedback-responses", updated_since=since).get_json()["data"]]
    assert data[0]["client_email"] == "dana@client.test" and "token" not in str(data)


def test_every_keyed_answer_carries_the_rate_limit_headers_and_the_limit_answers_429(app, cast, client, key,
                                                                                    clock) -> None:
    app.config["PARTNERMON_API_RATE_LIMIT"] = 3
    clock[0] = NOW.replace(second=15)
    remaining = []
    for _ in range(3):
        response = get(client, key, "/partners")
        assert response.status_code == 200
        assert (response.headers["RateLimit-Limit"], response.headers["RateLimit-Reset"]) == ("3", "45")
        remaining.append(response.headers["RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    refused = get(client, key, "/partners")
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert refused.headers["Retry-After"] == "45" and refused.headers["RateLimit-Remaining"] == "0"
    clock[0] = NOW.replace(second=0) + timedelta(minutes=1)   # the next window
    again = get(client, key, "/partners")
    assert again.status_code == 200 and again.headers["RateLimit-Remaining"] == "2"


def test_scores_give_each_measure_its_n_and_interval_and_no_number_below_the_minimum(cast, client, session, key,
                                                                                     clock) -> None:
    for satisfaction in (5, 5, 4, 2):
        add_response(session, cast, satisfaction, NOW - timedelta(days=2))
    acme = next(p for p in get(client, key, "/scores").get_json()["partners"] if p["partner"]["id"] == cast.acme.id)
    assert acme["measures"]["csat"] == {"value": None, "low": None, "high": None, "n": 4, "minimum": 5,
                                        "note": "not enough answers yet (4 of 5)"}
    add_response(session, cast, 1, NOW - timedelta(days=2))
    acme = next(p for p in get(client, key, "/scores").get_json()["partners"] if p["partner"]["id"] == cast.acme.id)
    csat = acme["measures"]["csat"]
    # 3 of 5 satisfied; Wilson 95 %: centre (0.6 + 1.96²/10) / (1 + 1.96²/5), half-width 0.32583.
    assert (csat["value"], csat["n"], csat["note"]) == (0.6, 5, None)
    assert csat["low"] == pytest.approx(0.230724, abs=1e-5) and csat["high"] == pytest.approx(0.882379, abs=1e-5)


def test_scores_say_the_weight_each_moment_had_and_where_it_came_from(cast, client, session, key, clock) -> None:
    from sqlalchemy import select

    from partnermon.models import MomentOfTruth

    moments = {m.key: m for m in session.scalars(select(MomentOfTruth).where(MomentOfTruth.practice_id == cast.harbour.id))}
    claim, service = moments["claim"], moments["service"]
    claim.weight_source, claim.learned_weight, claim.learned_n = "learned", 2.6, 40
    claim.learned_at = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
    for moment_id in (claim.id, service.id, None):
        at = NOW - timedelta(days=2)
        session.add(FeedbackResponse(practice_id=cast.harbour.id, partner_id=cast.acme.id, moment_id=moment_id,
                                     satisfaction=2, verified=True, client_name="Dana", client_email="d@client.test",
                                     created_at=at, updated_at=at))
    session.commit()
    body = get(client, key, "/scores").get_json()
    assert body["weights_note"] == ("weights: learned for Claims and hardship 2.6, learned from 40 answers on "
                                    "20 Nov 2026; the owner's for the rest")
    acme = next(p for p in body["partners"] if p["partner"]["id"] == cast.acme.id)
    found = {(m["moment"] or {}).get("key"): (m["stake"], m["weight"], m["weight_source"]) for m in acme["moments"]}
    assert found == {"claim": ("high", 2.6, "learned"), "service": ("low", 1.0, "owner"), None: (None, 2.0, "default")}


def test_the_scores_export_says_each_moments_weight_too(cast, session, cli) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    from sqlalchemy import select

    from partnermon.models import MomentOfTruth

    claim = session.scalar(select(MomentOfTruth).where(MomentOfTruth.practice_id == cast.harbour.id,
                                                       MomentOfTruth.key == "claim"))
    claim.weight_source, claim.learned_weight, claim.learned_n = "learned", 2.6, 40
    claim.learned_at = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
    at = NOW - timedelta(days=2)
    session.add(FeedbackResponse(practice_id=cast.harbour.id, partner_id=cast.acme.id, moment_id=claim.id,
                                 satisfaction=2, verified=True, client_name="Dana", client_email="d@client.test",
                                 created_at=at, updated_at=at))
    session.commit()
    result = cli("export", "--practice", "harbour", "--what", "scores", "--format", "csv", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    rows = [r for r in csv.DictReader(io.StringIO(result.output)) if r["partner"] == "Acme Insurance"]
    by_moment = {r["moment"]: (r["stake"], r["weight"], r["weight_source"], r["weights_note"]) for r in rows}
    assert by_moment["Claims and hardship"] == ("high", "2.6", "learned", "")
    assert by_moment["All moments"] == ("", "", "", "weights: learned for Claims and hardship 2.6, learned from 40 "
                                                    "answers on 20 Nov 2026; the owner's for the rest")


def test_partners_mark_the_practices_own_row(cast, client, session, key) -> None:
    from partnermon.partners.own import ensure_own_partner

    own = ensure_own_partner(session, NOW, cast.harbour, cast.alice)
    session.commit()
    marked = {p["id"]: p["is_own_practice"] for p in get(client, key, "/partners").get_json()["data"]}
    assert marked == {cast.acme.id: False, own.id: True}
    assert get(client, key, f"/partners/{own.id}").get_json()["is_own_practice"] is True


def test_the_document_is_openapi_3_1_and_the_reference_page_renders_it(client) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    assert {"/api/v1/partners", "/api/v1/scores", "/api/v1/feedback-requests"} <= set(doc["paths"])
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "GET /api/v1/follow-ups/{follow_up_id}" in page.get_data(as_text=True)
    assert "https://" not in page.get_data(as_text=True).split("<main", 1)[0]   # nothing from another origin
