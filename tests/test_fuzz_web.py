"""Fuzz tests of every web surface a person or a client types into (DESIGN.md §10, issue 16): the client's
feedback form, the JSON API, the CSV import's preview, every staff form, every page's query parameters and
every id in a URL. Whatever is sent, the answer is never a 5xx or a traceback, and a refusal (4xx) says why.

The routes come from tests/access_table.py, which classifies every route the app serves, so a new form is
fuzzed as soon as it is classified there. The database is put back as it was after each example
(tests/fuzz_support.py). A short run is part of the suite; set PARTNERMON_FUZZ_EXAMPLES (say 500) for a
long one with fresh random examples.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any, Iterator
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from partnermon.feedback import api_keys
from tests.access_table import API, PAYLOADS, ROUTES
from tests.conftest import NOW
from tests.fuzz_support import FUZZ, FUZZ_EVERY_ROUTE, Reset, any_text, assert_handled, hostile
from tests.test_access import World, quick_password_hashing, world  # noqa: F401 - fixtures used below

SESSION_COOKIE = "partnermon_session"
FORM_POSTS = sorted(e for e, r in ROUTES.items() if "POST" in r.methods and not e.startswith("api."))
# The read API's routes answer only to an API key, which the fuzzer's browser has not got: Schemathesis fuzzes
# their query strings and ids with a key, against the OpenAPI document (tests/test_api_schema.py).
GETS = sorted(e for e, r in ROUTES.items() if "GET" in r.methods and r.access != API)
WITH_PLACEHOLDERS = sorted(e for e, r in ROUTES.items() if "<" in r.rule and r.access != API)
# Names the pages read from their query string, and a few they do not.
QUERY_NAMES = ["period", "category", "status", "partner", "adviser", "moment", "rating", "page", "tab", "kind", "to",
               "saved", "next", "month", "q", "id", "answer"]
FEEDBACK_FIELDS = ["satisfaction", "recommend", "effort", "brand_effect", "comment", "moment", "wants_contact",
                   "contact_channel", "contact_phone", "client_name", "client_email", "quick", "partner", "website"]


class Fuzzer:
    """Alice signed in, and a way back to the world as it was (database and her browser's cookie)."""

    def __init__(self, world: World, browser: Any, engine: Any, api_key: str):
        self.world, self.browser, self.api_key = world, browser, api_key
        browser.sign_in("alice@harbour.test")
        browser.csrf()   # stored in the session, so the saved cookie carries it
        self.cookie = browser.client.get_cookie(SESSION_COOKIE).value
        self.reset_database = Reset(engine)

    def reset(self) -> None:
        self.reset_database()
        self.browser.client.set_cookie(SESSION_COOKIE, self.cookie)

    def path(self, endpoint: str) -> str:
        return self.world.path(endpoint)


@pytest.fixture
def fuzzer(world: World, browser, engine, session) -> Iterator[Fuzzer]:  # type: ignore[no-untyped-def]
    key = api_keys.create_key(session, NOW, world.cast.harbour, world.cast.alice, "Fuzz").plaintext
    session.commit()
    yield Fuzzer(world, browser, engine, key)


def _value(data: st.DataObject) -> Any:
    """A hostile value for a field: one, or several (a repeated field)."""
    return data.draw(st.one_of(hostile, st.lists(hostile, min_size=2, max_size=3)))


def _form(data: st.DataObject, valid: dict[str, Any], names: list[str] | None = None) -> dict[str, Any]:
    """A valid form with one or two of its fields (or fields it does not have) made hostile, so the checks
    behind the first refusal are reached too."""
    form = dict(valid)
    choices = sorted(set(valid) | set(names or ()))
    for name in data.draw(st.lists(st.sampled_from(choices) | any_text, min_size=1, max_size=2, unique=True)
                          if choices else st.lists(any_text, max_size=2)):
        if name:
            form[name] = _value(data)
    return form


# --- staff forms (and every other POST a browser makes) -----------------------------------------------

@FUZZ_EVERY_ROUTE
@given(data=st.data())
def test_no_form_fails_on_hostile_values(fuzzer: Fuzzer, data: st.DataObject) -> None:
    for endpoint in FORM_POSTS:
        form = _form(data, PAYLOADS[endpoint](fuzzer.world), ["business_days", "followup_urgent_stakes",
                                                             "record_types", "touchpoint", "moment", "assignee"])
        if endpoint == "settings.logo" and data.draw(st.booleans()):
            form["logo"] = (io.BytesIO(data.draw(st.binary(max_size=200))), data.draw(any_text) or "x.png")
        if endpoint == "touchpoints.probe":
            form["action"] = "save"   # "Test now" would probe the partner's real address
        try:
            response = fuzzer.browser.post(fuzzer.path(endpoint), form)
            assert_handled(response, f"POST {endpoint} {form!r:.300}")
        finally:
            fuzzer.reset()


# --- query parameters ----------------------------------------------------------------------------------

@FUZZ_EVERY_ROUTE
@given(data=st.data())
def test_no_page_fails_on_hostile_query_parameters(fuzzer: Fuzzer, data: st.DataObject) -> None:
    for endpoint in GETS:
        names = data.draw(st.lists(st.sampled_from(QUERY_NAMES) | any_text, min_size=1, max_size=3))
        query = {name: data.draw(st.one_of(hostile, st.lists(hostile, max_size=3))) for name in names}
        try:
            response = fuzzer.browser.get(fuzzer.path(endpoint), query_string=query)
            assert_handled(response, f"GET {endpoint} ?{query!r:.300}")
        finally:
            fuzzer.reset()


# --- ids and other parts of the URL ---------------------------------------------------------------------

@FUZZ_EVERY_ROUTE
@given(data=st.data())
def test_no_url_part_makes_a_route_fail(fuzzer: Fuzzer, data: st.DataObject) -> None:
    for endpoint in WITH_PLACEHOLDERS:
        route = ROUTES[endpoint]
        names = dict(route.ids)

        def part(match: re.Match[str]) -> str:
            own = str(fuzzer.world.ids[names.get(match[1], match[1])])
            return quote(data.draw(st.one_of(hostile, st.just(own))) or own, safe="")

        path = re.sub(r"<(?:\w+:)?(\w+)>", part, route.rule)
        method = data.draw(st.sampled_from(route.methods))
        try:
            if method == "GET":
                response = fuzzer.browser.get(path)
            else:
                payload = PAYLOADS[endpoint](fuzzer.world)
                if endpoint == "touchpoints.probe":
                    payload["action"] = "save"
                response = fuzzer.browser.post(path, payload)
            assert_handled(response, f"{method} {path[:300]} (from {fuzzer.path(endpoint)})")
        finally:
            fuzzer.reset()


# --- the client's feedback form --------------------------------------------------------------------------

def _feedback_answers(data: st.DataObject) -> dict[str, Any]:
    valid = {"satisfaction": data.draw(st.sampled_from(["1", "2", "3", "4", "5"]))}
    return _form(data, valid, FEEDBACK_FIELDS)


@FUZZ
@given(data=st.data())
def test_the_clients_feedback_form_never_fails(fuzzer: Fuzzer, data: st.DataObject) -> None:
    client = fuzzer.browser.client   # the client has no session: the link's token authorises the form
    token, slug = fuzzer.world.ids["feedback_token"], fuzzer.world.ids["slug"]
    surface = data.draw(st.sampled_from(["link", "open link", "rating link", "seen"]), label="surface")
    try:
        if surface == "link":
            response = client.post(f"/f/{token}", data=_feedback_answers(data))
        elif surface == "open link":
            answers = _feedback_answers(data)
            answers.setdefault("submission", data.draw(st.one_of(st.just("fuzz-submission-key-0001"), hostile)))
            answers.setdefault("partner", str(fuzzer.world.ids["partner_id"]))
            response = client.post(f"/p/{slug}/feedback", data=answers)
        elif surface == "rating link":
            response = client.get(f"/f/{token}", query_string={"rating": data.draw(hostile)})
        else:
            response = client.post(f"/f/{token}/seen", data=_feedback_answers(data))
        assert_handled(response, f"{surface} form")
    finally:
        fuzzer.reset()


# --- the JSON API -------------------------------------------------------------------------------------------

json_scalar = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
                        st.floats(allow_nan=False), hostile, st.text(max_size=30))
json_value = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=3) |
                          st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=8)
API_FIELDS = ["client_email", "client_name", "partner", "touchpoint", "adviser_email", "external_ref",
              "override_throttle"]


@FUZZ
@given(data=st.data())
def test_the_api_never_fails_on_a_hostile_body(fuzzer: Fuzzer, data: st.DataObject) -> None:
    body = {"client_email": "dana@client.test", "partner": "Acme Insurance"}
    for name in data.draw(st.lists(st.sampled_from(API_FIELDS), max_size=4), label="fields"):
        body[name] = data.draw(st.one_of(json_value, hostile))
    shape = data.draw(st.sampled_from(["object", "any json", "raw"]), label="shape")
    headers = {"Authorization": f"Bearer {fuzzer.api_key}"}
    try:
        if shape == "object":
            response = fuzzer.browser.client.post("/api/v1/feedback-requests", headers=headers, json=body)
        elif shape == "any json":
            response = fuzzer.browser.client.post("/api/v1/feedback-requests", headers=headers,
                                                  json=data.draw(json_value))
        else:
            response = fuzzer.browser.client.post("/api/v1/feedback-requests", headers=headers,
                                                  data=data.draw(st.binary(max_size=200)),
                                                  content_type="application/json")
        assert_handled(response, f"API {shape} {body!r:.300}")
        assert response.mimetype in ("application/json", "application/problem+json")
    finally:
        fuzzer.reset()


# --- the CSV import's preview -------------------------------------------------------------------------------

CSV_COLUMNS = ["client_name", "client_email", "partner", "touchpoint", "adviser_email", "external_ref"]


@FUZZ
@given(data=st.data())
def test_the_csv_import_preview_never_fails(fuzzer: Fuzzer, data: st.DataObject) -> None:
    header = data.draw(st.lists(st.sampled_from(CSV_COLUMNS) | any_text, min_size=1, max_size=7), label="header")
    valid = {"client_email": "dana@client.test", "partner": "Acme Insurance", "touchpoint": "claim"}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for _ in range(data.draw(st.integers(0, 4))):
        writer.writerow([data.draw(st.one_of(st.just(valid.get(name, "")), hostile)) for name in header])
    text = out.getvalue() if data.draw(st.booleans()) else data.draw(any_text)
    try:
        if data.draw(st.booleans(), label="as a file"):
            raw = text.encode("utf-8") if data.draw(st.booleans()) else data.draw(st.binary(max_size=300))
            response = fuzzer.browser.post("/feedback/import", {"file": (io.BytesIO(raw), "clients.csv")},
                                           content_type="multipart/form-data")
        else:
            response = fuzzer.browser.post("/feedback/import", {"csv": text})
        assert_handled(response, f"CSV preview {text!r:.300}")
    finally:
        fuzzer.reset()
