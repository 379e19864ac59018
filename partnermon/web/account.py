"""The signed-in user's own account: changing their password, and where they are signed in."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from partnermon.accounts import service as accounts, sign_ins
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


@bp.route("/sign-ins", methods=["GET", "POST"], endpoint="sign_ins")
@login_required
def sign_ins_page() -> Response | str:
    user, this_sign_in = current_user(), current_sign_in()
    assert user is not None and this_sign_in is not None
    if request.method == "GET":
        return render_template("account/sign_ins.html", sign_ins=sign_ins.list_live(db(), now(), user.id),
                               this_sign_in=this_sign_in)
    ended = sign_ins.end_all(db(), now(), user.id, keep=this_sign_in.id)
    db().commit()
    flash(f"Signed out of {ended} other browser{'s' if ended != 1 else ''}." if ended
          else "You were not signed in anywhere else.", "success")
    return redirect(url_for("account.sign_ins"))
