"""Error pages in the product's layout. Nobody sees a traceback; a 500 is logged in full instead.

A database that does not answer is not a bug: every page then answers a short 503 (the API a problem+json
503) with Retry-After, and the log gets one line per request, not a traceback.
"""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from partnermon.db import DATABASE_ERRORS, database_down_reason, is_database_down

log = logging.getLogger(__name__)

TITLES = {
    400: "That request could not be used",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That action is not available here",
    410: "This link is no longer available",
    413: "That upload is too large",
    429: "Too many attempts",
}
API_EXPLANATIONS = {
    404: "Nothing is at this path: the API reference is at /api/v1/docs.",
    405: "This path does not take that method: see /api/v1/docs.",
    413: "The body is larger than partnermon accepts.",
}
EXPLANATIONS = {
    403: "Your role in this practice does not include this page. Ask an owner if you need it.",
    404: "The page you asked for does not exist, or it belongs to somebody else.",
    413: "The file or form you sent is larger than partnermon accepts. Try a smaller file.",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _api_problem(code: int, detail: str) -> Response:
    """Problem details (RFC 9457) for any /api/ path, the API's own views and Flask's 404/405/413 alike."""
    from partnermon.web.api_common import problem

    return problem(code, detail)


def _render(code: int, description: str | None) -> tuple[object, int] | Response:
    title = TITLES.get(code, "Something went wrong")
    detail = EXPLANATIONS.get(code) or description or ""
    if _is_api():
        return _api_problem(code, description or API_EXPLANATIONS.get(code) or detail)
    if _wants_json():
        return {"error": title, "detail": detail}, code
    return render_template("error.html", code=code, title=title, detail=detail), code


def _http_error(exc: HTTPException) -> tuple[object, int] | Response:
    code = exc.code or 500
    if code >= 500:
        return _server_error(exc)
    # Werkzeug's default descriptions are written for developers; ours are above.
    own = exc.description if exc.description and exc.description != type(exc).description else None
    return _render(code, own)


def _server_error(exc: BaseException) -> tuple[object, int] | Response:
    original = getattr(exc, "original_exception", None) or exc
    session = g.get("db")
    if session is not None:
        try:
            session.rollback()  # so the error page itself can still read the signed-in user
        except DATABASE_ERRORS as rollback_error:
            if not is_database_down(rollback_error):
                raise
            g.user = None  # the database went too: the page must not ask it about the user
    # The route's pattern, not the path: a path may hold a client's feedback token or an invitation token.
    where = request.url_rule.rule if request.url_rule is not None else "(no route)"
    log.error("Unhandled error on %s %s", request.method, where, exc_info=original)
    if _is_api():
        return _api_problem(500, "It has been logged. Nothing was half-saved; please try again.")
    if _wants_json():
        return {"error": "Something went wrong on our side", "detail": "It has been logged. Please try again."}, 500
    return render_template(
        "error.html", code=500, title="Something went wrong on our side",
        detail="The problem has been logged. Nothing you entered was half-saved; please try again.",
    ), 500


# Seconds a client, proxy or load balancer is asked to wait before trying again.
RETRY_AFTER_SECONDS = 30


def _database_error(exc: Exception) -> Response | tuple[object, int]:
    """A database that is away answers 503; any other database error is a bug like any other (500, logged
    with its traceback): ``no such column`` or a lock held too long must not pass for "try again shortly"."""
    if not is_database_down(exc):
        return _server_error(exc)
    return _database_down(exc)


def _database_down(exc: Exception) -> Response:
    # No rollback here (the connection is what failed); the request's teardown closes the session.
    where = request.url_rule.rule if request.url_rule is not None else "(no route)"
    log.warning("Database unavailable on %s %s: %s", request.method, where,
                database_down_reason(exc, current_app.extensions["partnermon"].engine.url))
    g.user = None  # the page must not ask the database about the signed-in user or their practice
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if _wants_json():
        detail = "partnermon cannot reach its database just now. Nothing was saved; try again shortly."
        body = json.dumps({"type": "about:blank", "title": "Service temporarily unavailable", "status": 503,
                           "detail": detail, "error": "Service temporarily unavailable"})
        return Response(body, status=503, mimetype="application/problem+json", headers=headers)
    return Response(render_template("unavailable.html"), status=503, headers=headers)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
    for database_error in DATABASE_ERRORS:
        app.register_error_handler(database_error, _database_error)
    app.register_error_handler(Exception, _server_error)
