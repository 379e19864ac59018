"""Users of the practice (owners only): invite, change role, deactivate, resend an invitation."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from partnermon.accounts import service as accounts
from partnermon.errors import ValidationError
from partnermon.models import ROLES
from partnermon.web.context import db, now, or_404, runtime
from partnermon.web.forms import rerender
from partnermon.web.security import current_user, owner_required

bp = Blueprint("users", __name__, url_prefix="/users")


def _me():  # type: ignore[no-untyped-def]
    user = current_user()
    assert user is not None
    return user


@bp.get("/")
@owner_required
def index() -> str:
    return render_template("users/index.html", users=accounts.list_users(db(), _me().practice_id))


@bp.route("/new", methods=["GET", "POST"])
@owner_required
def invite() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("users/invite.html", roles=ROLES, errors={}, form={"role": "adviser"})
    me = _me()
    try:
        invitation = accounts.invite_user(db(), now(), me.practice, email=request.form.get("email", ""),
                                          role=request.form.get("role", ""), name=request.form.get("name", ""),
                                          actor=me, base_url=runtime().settings.base_url)
    except ValidationError as exc:
        db().rollback()
        return rerender("users/invite.html", exc.errors, roles=ROLES)
    db().commit()
    flash(f"Invited {invitation.user.email}. They will get an email with a link to set their password; "
          "the link works once and expires in 7 days.", "success")
    return redirect(url_for("users.index"))


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@owner_required
def edit(user_id: int) -> Response | str | tuple[str, int]:
    me = _me()
    user = or_404(accounts.get_user, me.practice_id, user_id)
    if request.method == "GET":
        form = {"role": user.role, "name": user.name, "active": "1" if user.is_active else ""}
        return render_template("users/edit.html", user=user, roles=ROLES, errors={}, form=form)
    try:
        accounts.update_user(db(), now(), user, me, role=request.form.get("role", ""),
                             name=request.form.get("name", ""), active=request.form.get("active") == "1",
                             base_url=runtime().settings.base_url)
    except ValidationError as exc:
        db().rollback()
        return rerender("users/edit.html", exc.errors, user=user, roles=ROLES)
    db().commit()
    flash(f"Saved {user.email}.", "success")
    return redirect(url_for("users.index"))


@bp.post("/<int:user_id>/resend")
@owner_required
def resend(user_id: int) -> Response:
    me = _me()
    user = or_404(accounts.get_user, me.practice_id, user_id)
    try:
        accounts.resend_invitation(db(), now(), user, actor=me, base_url=runtime().settings.base_url)
    except ValidationError as exc:
        flash(next(iter(exc.errors.values())), "error")
        return redirect(url_for("users.index"))
    db().commit()
    flash(f"Sent a new invitation to {user.email}; earlier links no longer work.", "success")
    return redirect(url_for("users.index"))
