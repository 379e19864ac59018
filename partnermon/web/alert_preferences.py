"""The signed-in user's own alert preferences: per optional alert type immediate, daily digest or off, and
quiet hours. Essential alerts (follow-ups) are listed but cannot be changed (partnermon.alerts.delivery)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from partnermon.alerts import delivery
from partnermon.errors import ValidationError
from partnermon.web.context import db, now
from partnermon.web.forms import rerender
from partnermon.web.security import current_user, login_required

bp = Blueprint("alert_preferences", __name__, url_prefix="/account")


def _hhmm(minutes: int | None) -> str:
    return "" if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


@bp.route("/alerts", methods=["GET", "POST"])
@login_required
def edit() -> Response | str | tuple[str, int]:
    user = current_user()
    assert user is not None
    context = {"labels": delivery.OPTIONAL_LABELS, "timezone": user.practice.timezone}
    if request.method == "GET":
        form = {**delivery.modes_of(db(), user), "quiet_from": _hhmm(user.quiet_start_minute),
                "quiet_to": _hhmm(user.quiet_end_minute)}
        return render_template("account/alerts.html", errors={}, form=form, **context)
    try:
        modes = {kind: request.form.get(kind, "") for kind in delivery.OPTIONAL_LABELS}
        delivery.save_preferences(db(), now(), user, modes, request.form.get("quiet_from", ""),
                                  request.form.get("quiet_to", ""))
    except ValidationError as exc:
        return rerender("account/alerts.html", exc.errors, **context)
    db().commit()
    flash("Your alert preferences are saved.", "success")
    return redirect(url_for("alert_preferences.edit"))
