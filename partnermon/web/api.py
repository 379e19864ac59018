"""The JSON API, version 1, writing: a practice's own systems (a CRM asking right after a claim) make feedback
requests with a key that has the "write" scope.

Every answer is JSON, errors as problem details (web/errors.py answers them for any /api/ path). The key, its
scope, the rate limit and the answers' shape are web/api_common.py's; the key decides the practice, and nothing
in the body can name another one. Reading is web/api_read.py.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import BadRequest

from partnermon.errors import ValidationError
from partnermon.feedback import api_keys, links
from partnermon.api import schemas
from partnermon.models import ApiKey, FeedbackRequest, Practice
from partnermon.web.api_common import answer, authorise, operation, problem
from partnermon.web.context import db, now, runtime

# Fields a feedback request takes; anything else in the body is ignored, so clients may send more.
TEXT_FIELDS = ("client_name", "client_email", "adviser_email", "external_ref")
REF_FIELDS = ("partner", "touchpoint")    # a name, or an id as a number or a string of digits


def _body() -> dict[str, Any] | Response:
    if not request.is_json:
        return problem(400, "Send the body as JSON, with the header “Content-Type: application/json”.")
    try:
        data = request.get_json()
    except (BadRequest, RecursionError):  # RecursionError: absurdly deep nesting, still the caller's mistake
        return problem(400, "The body is not valid JSON.")
    if not isinstance(data, dict):
        return problem(400, "The body must be a JSON object, such as "
                           '{"client_email": "dana@example.com", "partner": "Acme Insurance"}.')
    return data


def _type_problems(data: dict[str, Any]) -> dict[str, str]:
    """Fields of the wrong JSON type, which the service (written for forms, where all is text) cannot take."""
    problems = {}
    for name in TEXT_FIELDS:
        if data.get(name) is not None and not isinstance(data[name], str):
            problems[name] = f"{name} must be a string."
    for name in REF_FIELDS:
        value = data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
            problems[name] = f"{name} must be a name (a string) or an id (a number)."
    if not isinstance(data.get("override_throttle", False), bool):
        problems["override_throttle"] = "override_throttle must be true or false."
    for name in (*TEXT_FIELDS, *REF_FIELDS):
        # JSON may carry a lone surrogate ("\ud800"), which is no character at all: it cannot be stored, nor
        # even be written back in an answer, so it is named here without echoing the value.
        if name not in problems and isinstance(data.get(name), str) and not _is_unicode(data[name]):
            problems[name] = (f"{name} is not valid text: it has a lone surrogate (such as \\ud800), "
                              "which is no character.")
    return problems


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _request_json(made: links.NewRequest) -> dict[str, Any]:
    req: FeedbackRequest = made.request
    body: dict[str, Any] = {
        "id": req.id,
        "status": req.status,
        "client_name": req.client_name,
        "client_email": req.client_email,
        "partner": {"id": req.partner.id, "name": req.partner.name},
        "touchpoint": {"id": req.touchpoint.id, "name": req.touchpoint.name} if req.touchpoint else None,
        "moment": {"id": req.moment.id, "key": req.moment.key, "name": req.moment.name} if req.moment else None,
        "adviser_email": req.adviser.email if req.adviser else None,
        "external_ref": req.external_ref,
        "throttle_overridden": req.throttle_overridden,
        "created_at": req.created_at.isoformat(),
        "expires_at": req.expires_at.isoformat(),
        "link": made.link,
    }
    if made.link is None:
        body["link_note"] = ("This external_ref was used before, so this is that request. Its link was emailed "
                             "to the client then; only a hash of it is kept, so it cannot be shown again.")
    return body


def _create(key: ApiKey, data: dict[str, Any]) -> links.NewRequest:
    """Create the request and commit; ValidationError (or its subclass Throttled) says why not."""
    session = db()
    for attempt in (1, 2):
        practice = session.get(Practice, key.practice_id)
        assert practice is not None  # the key's row cascades away with its practice
        try:
            made = links.create_request(
                session, now(), practice, data, actor=api_keys.actor_for(key), source="api",
                base_url=runtime().settings.base_url, override_throttle=data.get("override_throttle") is True)
            session.commit()
            return made
        except (IntegrityError, links.Throttled):
            # A CRM that retries after a timeout can send one external_ref twice at once. When the other
            # call commits first, this one fails on the unique ref, or finds that call's request and takes
            # the client for one asked recently; asking again finds the request by its ref (the 200 answer).
            session.rollback()
            if attempt == 2 or not data.get("external_ref"):
                raise
    raise AssertionError("unreachable")


@operation("/feedback-requests", "POST", tag="Feedback requests", scope="write",
           summary="Ask a client for feedback",
           description="Makes a feedback request and emails the client their personal link. A new request is "
                       "201; the same external_ref again is 200 with the request made then.",
           body=schemas.FeedbackRequestIn, responses={201: schemas.FeedbackRequestCreated,
                                                      200: schemas.FeedbackRequestCreated},
           problems=(400, 404, 413, 422))
def create_feedback_request() -> Response:
    key = authorise("write")
    if isinstance(key, Response):
        return key
    data = _body()
    if isinstance(data, Response):
        return data
    if isinstance(data.get("external_ref"), int) and not isinstance(data["external_ref"], bool):
        data["external_ref"] = str(data["external_ref"])   # CRMs often number their records
    if problems := _type_problems(data):
        return problem(422, "Some fields have the wrong type; each is named under “errors”.", problems)
    try:
        made = _create(key, data)
    except links.Throttled as exc:
        db().rollback()
        reason = exc.errors["client_email"].replace(" An adviser can ask anyway.", "")
        return problem(422, "This client was asked for feedback recently.", {
            "client_email": f"{reason} To ask anyway, send \"override_throttle\": true."})
    except ValidationError as exc:
        db().rollback()
        # A partner this practice does not have is "not found", whether it belongs to another practice or
        # to nobody; the answer is the same either way, so it tells nothing about other practices.
        if set(exc.errors) == {"partner"} and exc.errors["partner"].endswith(links.UNKNOWN_PARTNER):
            return problem(404, "No such partner in your practice.", exc.errors)
        return problem(422, "Some fields need fixing; each is named under “errors”.", exc.errors)
    return answer(_request_json(made), 201 if made.created else 200)
