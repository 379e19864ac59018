"""The signed-in user's own account: changing their password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from partnermon import accounts
from partnermon.errors import ValidationError
from partnermon.web.context import db, now
from partnermon.web.forms import rerender
from partnermon.web.security import current_user, login_required, refresh_epoch

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("account/password.html", errors={}, form={})
    user = current_user()
    assert user is not None
    try:
        accounts.change_password(db(), now(), user, request.form.get("current", ""),
                                 request.form.get("password", ""), request.form.get("confirm", ""))
    except ValidationError as exc:
        return rerender("account/password.html", exc.errors)
    db().commit()
    refresh_epoch(user)
    flash("Your password is changed. Any other browsers signed in as you have been signed out.", "success")
    return redirect(url_for("home.index"))
