"""Error pages in the product's layout. Nobody sees a traceback; a 500 is logged in full instead."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

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
EXPLANATIONS = {
    403: "Your role in this practice does not include this page. Ask an owner if you need it.",
    404: "The page you asked for does not exist, or it belongs to somebody else.",
    413: "The file or form you sent is larger than partnermon accepts. Try a smaller file.",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def _render(code: int, description: str | None) -> tuple[object, int]:
    title = TITLES.get(code, "Something went wrong")
    detail = EXPLANATIONS.get(code) or description or ""
    if _wants_json():
        return {"error": title, "detail": detail}, code
    return render_template("error.html", code=code, title=title, detail=detail), code


def _http_error(exc: HTTPException) -> tuple[object, int]:
    code = exc.code or 500
    if code >= 500:
        return _server_error(exc)
    # Werkzeug's default descriptions are written for developers; ours are above.
    own = exc.description if exc.description and exc.description != type(exc).description else None
    return _render(code, own)


def _server_error(exc: BaseException) -> tuple[object, int]:
    original = getattr(exc, "original_exception", None) or exc
    session = g.get("db")
    if session is not None:
        session.rollback()  # so the error page itself can still read the signed-in user
    # The route's pattern, not the path: a path may hold a client's feedback token or an invitation token.
    where = request.url_rule.rule if request.url_rule is not None else "(no route)"
    log.error("Unhandled error on %s %s", request.method, where, exc_info=original)
    if _wants_json():
        return {"error": "Something went wrong on our side", "detail": "It has been logged. Please try again."}, 500
    return render_template(
        "error.html", code=500, title="Something went wrong on our side",
        detail="The problem has been logged. Nothing you entered was half-saved; please try again.",
    ), 500


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(Exception, _server_error)
