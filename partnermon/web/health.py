"""``GET /healthz`` for load balancers and uptime checks: the app answers and its database does.

It reads nothing of any practice and needs no sign-in; it is also the ceiling the feedback benchmark
compares against (the cheapest request that still goes through the whole app and the database).
"""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from partnermon.web.context import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    db().execute(text("SELECT 1"))
    return {"status": "ok"}, 200
