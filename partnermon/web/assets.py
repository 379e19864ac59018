"""Template helpers shared by every page: the practice's branding, times in its zone, the logo."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, abort, redirect, url_for
from sqlalchemy import select

from partnermon import __version__
from partnermon.models import Practice
from partnermon.web.context import db
from partnermon.web.security import current_user, login_required

bp = Blueprint("assets", __name__)


def local_time(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """A stored UTC time shown in the signed-in practice's time zone."""
    if value is None:
        return "—"
    user = current_user()
    zone = ZoneInfo(user.practice.timezone) if user is not None else None
    return value.astimezone(zone).strftime(fmt) if zone else value.strftime(fmt + " UTC")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"


@bp.get("/practice/logo")
@login_required
def logo() -> Response:
    user = current_user()
    assert user is not None
    return logo_of(user.practice_id)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers and feed readers ask for /favicon.ico whatever a page links to; the icon is an SVG."""
    response = redirect(url_for("static", filename="favicon.svg"), code=301)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def logo_of(practice_id: int) -> Response:
    """A practice's logo (404 when it has none); whoever calls has decided the asker may see it."""
    practice = db().scalar(select(Practice).where(Practice.id == practice_id))
    if practice is None or practice.logo is None:
        abort(404)
    response = Response(practice.logo, mimetype=practice.logo_mime or "application/octet-stream")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def _template_context() -> dict[str, Any]:
    user = current_user()
    return {"practice": user.practice if user is not None else None, "version": __version__}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.context_processor(_template_context)
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.globals["plural"] = plural
