"""Sign-in state, roles and CSRF for every page (DESIGN.md §8).

The session cookie holds a sign-in token (``sid``) and the CSRF token; the sign-in itself lives on the
server (``partnermon/accounts/sign_ins.py``), so signing out, a password change elsewhere or a deactivation ends it
for every copy of the cookie. A cookie from before sign-in sessions (a user id and an epoch) is signed out.
"""

from __future__ import annotations

import secrets
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from partnermon.accounts import sign_ins
from partnermon.accounts.security import same
from partnermon.models import SignInSession, User
from partnermon.practices.service import any_practice_exists
from partnermon.web.context import db, now

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Authorised otherwise than by a browser session: the API by its key, a client's personal feedback link and
# recovery check-in by their tokens. Named one by one, so a route added later is protected unless someone
# decides otherwise; the practice's open link keeps its CSRF token, so other sites cannot post answers through
# visitors.
# One-click unsubscribe is authorised by its signed link: mail clients POST to it (RFC 8058) with no session,
# hence no CSRF token, and the most a forged post can do is turn one alert type off for the link's owner.
NO_CSRF_BLUEPRINTS = frozenset({"api"})
NO_CSRF_ENDPOINTS = frozenset({"feedback_form.submit", "feedback_form.seen", "check_in.answer", "unsubscribe.confirm"})


def current_user() -> User | None:
    return g.get("user")


def current_sign_in() -> SignInSession | None:
    return g.get("sign_in")


def sign_in(user: User) -> None:
    """Start a sign-in on the server for this browser (committed) and put its token in the cookie."""
    token = sign_ins.start(db(), now(), user, request.user_agent.string)
    db().commit()
    session.clear()
    session.permanent = True
    session["sid"] = token
    session["csrf"] = secrets.token_urlsafe(32)


def sign_out() -> None:
    """End this browser's sign-in on the server (committed), so a copy of the cookie no longer works either."""
    sign_ins.end(db(), now(), str(session.get("sid", "")))
    db().commit()
    session.clear()


def csp_nonce() -> str:
    """A per-response nonce for the one inline style block (the practice's brand colour)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def safe_next(target: str | None, default: str) -> str:
    """Only a local path may be a redirect target: no scheme, no host, no protocol-relative //."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def role_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None or user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


owner_required = role_required("owner")


def _load_user() -> None:
    g.user = g.sign_in = None
    if "sid" not in session:
        if "user_id" in session:
            session.clear()  # a cookie from before sign-in sessions: signed out
        return
    found = sign_ins.resume(db(), now(), str(session["sid"]))
    if found is None:
        session.clear()
        return
    g.user, g.sign_in = found.user, found.sign_in


def _check_csrf() -> None:
    if (request.method in SAFE_METHODS or request.blueprint in NO_CSRF_BLUEPRINTS
            or request.endpoint in NO_CSRF_ENDPOINTS):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf")
    if not expected or not sent or not same(sent, expected):
        abort(400, description="This form has expired or did not come from partnermon. Go back, reload the page and try again.")


def _first_run() -> Any:
    """While no practice exists, every page leads to the set-up page."""
    if request.endpoint in ("auth.setup", "static", "health.healthz"):
        return None
    # Once a practice exists, set-up is over for good: remembered, so no request asks the database again.
    if current_app.extensions.get("partnermon.set_up"):
        return None
    if not any_practice_exists(db()):
        return redirect(url_for("auth.setup"))
    current_app.extensions["partnermon.set_up"] = True
    return None


def _guard() -> Any:
    if request.blueprint == "api" or request.path.startswith("/api/"):
        # The API is authorised by its key on each call (web/api.py): it neither reads nor clears the
        # session, and is never sent to the set-up page or the sign-in page. Unknown /api/ paths are
        # treated alike, so they answer 404, not a CSRF refusal.
        g.user = None
        return None
    _load_user()
    _check_csrf()
    return _first_run() if g.user is None else None


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'self'; img-src 'self' data:; style-src 'self' 'nonce-{csp_nonce()}'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    if current_user() is not None:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.before_request(_guard)
    app.after_request(_security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user
    app.jinja_env.globals["csp_nonce"] = csp_nonce
