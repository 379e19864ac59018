"""Schemathesis against the API's own OpenAPI document, in process (WSGI): for every operation, a bounded number
of generated calls (PARTNERMON_API_EXAMPLES, default 15) with Harbour's read-and-write key must never answer a
server error, and every answer must match the document: its status, content type, headers and body schema.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

import hypothesis
import pytest
import schemathesis
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from partnermon import followups
from partnermon.feedback import api_keys, links, responses
from partnermon.models import Incident
from partnermon.partners import probe_settings

EXAMPLES = int(os.environ.get("PARTNERMON_API_EXAMPLES", "15"))
CHECKS = [checks.not_a_server_error, openapi_checks.status_code_conformance,
          openapi_checks.content_type_conformance, openapi_checks.response_schema_conformance,
          openapi_checks.response_headers_conformance]


@pytest.fixture
def keyed_app(app, cast, session):  # type: ignore[no-untyped-def]
    """The app with a little of everything in Harbour, a generous rate limit and a read-and-write key."""
    now = datetime.now(timezone.utc)
    app.config["PARTNERMON_API_RATE_LIMIT"] = 100_000
    key = api_keys.create_key(session, now, cast.harbour, cast.alice, "Schemathesis", ["read", "write"]).plaintext
    # One of each kind of row, so the lists' answers hold rows for the schema checks to read.
    made = links.create_request(session, now, cast.harbour, {"partner": "Acme Insurance", "touchpoint": "claim",
                                                             "client_email": "erin@client.test"},
                                actor=cast.bob, source="form", base_url="http://partnermon.test")
    answer, _ = responses.record_response(session, now, made.request, responses.parse_answers(
        {"satisfaction": "1", "recommend": "3", "brand_effect": "worse", "comment": "<b>slow</b>"}, None))
    followups.open_for_response(session, now, answer, "http://partnermon.test")
    probe_settings.save_probe(session, now, cast.acme_claims, cast.alice, {"kind": "http", "interval_seconds": "300"})
    session.add(Incident(practice_id=cast.harbour.id, touchpoint_id=cast.acme_claims.id, kind="down",
                         started_at=now, first_error="HTTP 503", last_error="HTTP 503"))
    session.commit()
    return app, key


def test_every_operation_answers_as_its_document_says(keyed_app) -> None:  # type: ignore[no-untyped-def]
    app, key = keyed_app
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {key}"}
    failures = []
    operations = list(schema.get_all_operations())
    assert len(operations) >= 15
    for result in operations:
        operation = result.ok()

        @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                             suppress_health_check=list(hypothesis.HealthCheck), phases=[hypothesis.Phase.generate])
        @hypothesis.given(case=operation.as_strategy())
        def check(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - gather every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert not failures, "\n\n".join(failures)
