"""Per-request plumbing: one database session per request, the request's clock, tenancy lookups."""

from __future__ import annotations

from datetime import datetime
from typing import Callable, TypeVar

from flask import Flask, abort, current_app, g, request
from sqlalchemy.orm import Session

from partnermon.db import DATABASE_ERRORS, is_database_down, utcnow
from partnermon.errors import NotFound
from partnermon.runtime import Runtime

T = TypeVar("T")


def runtime() -> Runtime:
    return current_app.extensions["partnermon"]


def db() -> Session:
    if "db" not in g:
        g.db = runtime().session_factory()
    return g.db


def now() -> datetime:
    """The time this request started; services take it as ``now``. Tests may set the app's clock
    (``PARTNERMON_CLOCK``, a function returning an aware datetime) to control it."""
    if "now" not in g:
        g.now = current_app.config.get("PARTNERMON_CLOCK", utcnow)()
    return g.now


def client_ip() -> str:
    # Behind a proxy, configure it (e.g. werkzeug ProxyFix) so remote_addr is the client's address.
    return request.remote_addr or "unknown"


def or_404(lookup: Callable[..., T], *args: object) -> T:
    """Run a practice-scoped lookup; a miss (including another practice's id) is a plain 404."""
    try:
        return lookup(db(), *args)
    except NotFound:
        abort(404)


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        try:
            # Anything a view did not commit is not kept: a failed request leaves nothing half-written.
            session.rollback()
        except DATABASE_ERRORS as exc:
            if not is_database_down(exc):
                raise
            # else the connection is gone, and its transaction with it; the request has answered 503 already
        finally:
            session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close_session)
