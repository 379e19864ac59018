"""Themes in client comments (partnermon.feedback.themes): the stored themes, "Find themes now", and adding a
theme that sits across moments as a moment of truth."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from partnermon.errors import ValidationError
from partnermon.feedback import themes as service
from partnermon.models import Practice
from partnermon.web.context import db, now, or_404
from partnermon.web.security import current_user, login_required, owner_required

bp = Blueprint("themes", __name__, url_prefix="/themes")


def _practice() -> Practice:
    user = current_user()
    assert user is not None
    return user.practice


@bp.get("/")
@login_required
def index() -> str:
    practice = _practice()
    run = service.latest_run(db(), practice.id)
    return render_template("feedback/themes.html", run=run, themes=service.themes_of(run),
                           comments_now=service.comment_count(db(), practice.id, now()),
                           min_comments=service.MIN_COMMENTS, period_days=service.PERIOD_DAYS)


@bp.post("/find")
@owner_required
def find() -> Response:
    user = current_user()
    assert user is not None
    try:
        run = service.run_themes(db(), now(), user.practice, user.email)
    except service.TooFewComments as exc:
        flash(exc.errors["themes"], "error")
        return redirect(url_for("themes.index"))
    db().commit()
    found = len(run.themes)
    flash(f"Found {found} theme{'s' if found != 1 else ''} in {run.comments} comments." if found else
          f"Read {run.comments} comments and found no themes: they have too few words in common.", "success")
    return redirect(url_for("themes.index"))


@bp.post("/<int:run_id>/<int:theme_number>/moment")
@owner_required
def add_moment(run_id: int, theme_number: int) -> Response:
    user = current_user()
    assert user is not None
    run = or_404(service.get_run, user.practice_id, run_id)
    try:
        moment = or_404(service.add_as_moment, now(), user.practice, run, theme_number, user)
    except ValidationError as exc:
        flash(next(iter(exc.errors.values())), "error")
        return redirect(url_for("themes.index"))
    db().commit()
    flash(f"Added the moment of truth {moment.name}. Set its stage and stake to suit.", "success")
    return redirect(url_for("moments.index"))
