"""The signed-in user's own account: changing their password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from partnermon import accounts
from partnermon.errors import ValidationError
from partnermon.web.context import db, now
from partnermon.web.forms import rerender
from partnermon.web.security import current_sign_in, current_user, login_required

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("account/password.html", errors={}, form={})
    user, this_sign_in = current_user(), current_sign_in()
    assert user is not None and this_sign_in is not None
    try:
        accounts.change_password(db(), now(), user, request.form.get("current", ""),
                                 request.form.get("password", ""), request.form.get("confirm", ""),
                                 keep_sign_in=this_sign_in.id)
    except ValidationError as exc:
        return rerender("account/password.html", exc.errors)
    db().commit()
    flash("Your password is changed. Any other browsers signed in as you have been signed out.", "success")
    return redirect(url_for("home.index"))
