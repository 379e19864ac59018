"""What every JSON API view shares: the blueprint, answers in JSON, errors as RFC 9457 problem details, the key
check with its scope, and the per-key rate limit with its headers.

A call is authorised by the practice's API key alone: no session cookie is read or set, and there is no CSRF
token because a browser cannot attach the key on its own (security.py skips blueprint "api"). The key decides
the practice; nothing in a URL or body can name another one. Every operation is declared with ``operation``,
which registers the route and records it for the OpenAPI document (partnermon.api.spec), so the document
cannot list a route that does not exist or miss one that does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Blueprint, Response, current_app, g, request
from marshmallow import Schema

from partnermon.api import rate_limits
from partnermon.feedback import api_keys
from partnermon.models import ApiKey
from partnermon.web.context import db, now

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PROBLEM = "application/problem+json"
# Problem types: a page of the API reference says what each means (RFC 9457 §3.1.1).
TYPES = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
         413: "too-large", 422: "invalid-fields", 429: "rate-limited", 500: "server-error", 503: "unavailable"}
TITLES = {400: "That request could not be used", 401: "An API key is needed", 403: "This key may not do that",
          404: "Not found", 405: "That method is not available here", 413: "That request is too large",
          422: "Some fields need fixing", 429: "Too many calls", 500: "Something went wrong on our side",
          503: "Service temporarily unavailable"}


def problem_type(status: int) -> str:
    return f"/api/v1/docs#problem-{TYPES.get(status, 'error')}"


def _text(body: Any) -> str:
    # <, > and & are escaped as \u003c etc. (still the same JSON) so nothing a client typed can read as
    # markup even if a careless viewer renders the answer as HTML.
    return (json.dumps(body, ensure_ascii=False).replace("&", "\\u0026").replace("<", "\\u003c")
            .replace(">", "\\u003e"))


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(_text(body), status=status, mimetype="application/json", headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def problem_body(status: int, detail: str, errors: dict[str, str] | None = None, *,
                 title: str | None = None, **extra: Any) -> dict[str, Any]:
    """Problem details naming each field with its reason; ``error`` and ``fields`` repeat title and errors for
    v1 clients written before problem details (they stay until a v2)."""
    title = title or TITLES.get(status, "Something went wrong")
    body: dict[str, Any] = {"type": problem_type(status), "title": title, "status": status, "detail": detail,
                            "error": title}
    if errors:
        body["errors"] = [{"field": name, "reason": reason} for name, reason in errors.items()]
        body["fields"] = dict(errors)
    return body | extra


def problem(status: int, detail: str, errors: dict[str, str] | None = None, *, title: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    response = Response(_text(problem_body(status, detail, errors, title=title, **extra)), status=status,
                        mimetype=PROBLEM, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def _presented_key() -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("X-API-Key")


def authorise(scope: str) -> ApiKey | Response:
    """The caller's live key if it may use ``scope`` and is within its rate limit, else the problem to answer."""
    presented = _presented_key()
    if not presented:
        return problem(401, "Send your practice's API key as “Authorization: Bearer <key>”. Owners create keys "
                            "under Settings › API keys.", headers={"WWW-Authenticate": 'Bearer realm="partnermon"'})
    key = api_keys.authenticate(db(), now(), presented)
    if key is None:
        return problem(401, "That API key is not valid: it may have been revoked or mistyped. An owner can "
                            "create a new one under Settings › API keys.",
                       headers={"WWW-Authenticate": 'Bearer realm="partnermon", error="invalid_token"'})
    limit = int(current_app.config.get("PARTNERMON_API_RATE_LIMIT", rate_limits.DEFAULT_LIMIT))
    g.api_allowance = rate_limits.count_call(db(), now(), key.id, limit)
    # Recorded now (last used, the call's count), so both are right even when this call is then refused.
    db().commit()
    if not g.api_allowance.allowed:
        return problem(429, f"This key made more than {limit} calls this minute. Wait "
                            f"{g.api_allowance.reset_seconds} s (Retry-After) and try again.")
    if scope not in key.scope_set:
        return problem(403, f"This key may not {scope}: it was created with “{key.scopes}”. An owner can create "
                            f"a key with the “{scope}” scope under Settings › API keys.", scope=scope)
    return key


@bp.after_request
def _rate_limit_headers(response: Response) -> Response:
    allowance: rate_limits.Allowance | None = g.get("api_allowance")
    if allowance is not None:
        response.headers.update(allowance.headers())
    return response


def load_query(schema: Schema) -> dict[str, Any] | Response:
    """The query string through ``schema``, or a 400 problem naming each bad parameter."""
    from marshmallow import ValidationError as Invalid

    try:
        return schema.load(request.args)
    except Invalid as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"query": exc.messages}
        errors = {name: " ".join(str(m) for m in (reasons if isinstance(reasons, list) else [reasons]))
                  for name, reasons in messages.items()}
        return problem(400, "Some query parameters could not be used; each is named under “errors”.", errors)


@dataclass(frozen=True)
class Operation:
    """One documented operation: the route's rule, method and endpoint, and what the document says of it."""

    rule: str
    method: str
    endpoint: str
    summary: str
    description: str
    tag: str
    scope: str | None = "read"
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    responses: dict[int, type[Schema] | None] = field(default_factory=dict)   # success statuses → body
    problems: tuple[int, ...] = ()


OPERATIONS: list[Operation] = []


def operation(rule: str, method: str, *, summary: str, description: str = "", tag: str, scope: str | None = "read",
              query: type[Schema] | None = None, body: type[Schema] | None = None,
              responses: dict[int, type[Schema] | None], problems: tuple[int, ...] = (),
              ) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register a view on the API blueprint and record it for the OpenAPI document."""
    def register(view: Callable[..., Response]) -> Callable[..., Response]:
        OPERATIONS.append(Operation(rule, method, view.__name__, summary, description, tag, scope, query, body,
                                    responses, problems))
        bp.add_url_rule(rule, view.__name__, view, methods=[method])
        return view
    return register
