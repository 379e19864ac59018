"""``GET /healthz`` for load balancers and uptime checks: the app answers and its database does.

It reads nothing of any practice and needs no sign-in; it is also the ceiling the feedback benchmark
compares against (the cheapest request that still goes through the whole app and the database). With the
database unavailable it answers 503 naming the cause in a few fixed words; where and the driver's reason go to
the log only, since anyone may ask this page (a driver's message can name the host, the user or the database).
"""

from __future__ import annotations

import logging

from flask import Blueprint
from sqlalchemy import text

from partnermon.db import DATABASE_ERRORS, database_down_reason, is_database_down
from partnermon.web.context import db, runtime

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
PUBLIC_REASON = "the database is unavailable"


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int, dict[str, str]]:
    try:
        db().execute(text("SELECT 1"))
    except DATABASE_ERRORS as exc:
        if not is_database_down(exc):
            raise
        reason = database_down_reason(exc, runtime().engine.url)
        log.warning("Health check failed: %s", reason)
        return {"status": "unavailable", "reason": PUBLIC_REASON}, 503, {"Retry-After": "30", "Cache-Control": "no-store"}
    return {"status": "ok"}, 200, {"Cache-Control": "no-store"}
