"""Signing in and out, first-run set-up, and accepting an invitation."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from partnermon import validators
from partnermon.accounts import service as accounts
from partnermon.errors import NotFound, ValidationError
from partnermon.practices import service as practices
from partnermon.web.context import client_ip, db, now
from partnermon.web.forms import rerender
from partnermon.web.security import current_user, safe_next, sign_in, sign_out

bp = Blueprint("auth", __name__)


@bp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
def sign_in_page() -> Response | str | tuple[str, int]:
    target = safe_next(request.values.get("next"), url_for("home.index"))
    if current_user() is not None:
        return redirect(target)
    if request.method == "GET":
        return render_template("auth/sign_in.html", next=target, errors={}, form={}, offer_setup=_offer_setup())
    try:
        user = accounts.authenticate(db(), now(), request.form.get("email", ""), request.form.get("password", ""), client_ip())
    except accounts.SignInRefused as exc:
        return render_template("auth/sign_in.html", next=target, errors={"form": str(exc)},
                               form={"email": request.form.get("email", "")}, offer_setup=_offer_setup()), 401
    db().commit()
    sign_in(user)
    return redirect(target)


@bp.post("/sign-out", endpoint="sign_out")
def sign_out_page() -> Response:
    sign_out()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


def _offer_setup() -> bool:
    """Only the demo practice exists: someone trying partnermon may want to set up their own next."""
    return not practices.any_practice_exists(db(), counting_demos=False)


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> Response | str | tuple[str, int]:
    """Creates the first practice and its owner; gone for good once a practice exists (other than the demo)."""
    session = db()
    if practices.any_practice_exists(session, counting_demos=False):
        abort(404)
    page = {"timezones": validators.timezone_choices(), "demo_exists": practices.any_practice_exists(session)}
    if request.method == "GET":
        return render_template("auth/setup.html", errors={}, form={}, **page)
    form = request.form
    errors: dict[str, str] = {}
    if form.get("password", "") != form.get("confirm", ""):
        errors["confirm"] = "The two passwords are different."
    try:
        practice = practices.create_practice(session, now(), slug=form.get("slug", ""), name=form.get("practice_name", ""),
                                             timezone=form.get("timezone", ""), actor="setup")
        practice_errors: dict[str, str] = {}
    except ValidationError as exc:
        practice, practice_errors = None, {("practice_name" if k == "name" else k): m for k, m in exc.errors.items()}
    errors.update(practice_errors)
    if practice is not None:
        try:
            user = accounts.create_user(session, now(), practice, email=form.get("email", ""), role="owner",
                                        password=form.get("password", ""), name=form.get("name", ""), actor="setup")
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        session.rollback()
        return rerender("auth/setup.html", errors, **page)
    session.commit()
    sign_in(user)
    flash(f"Welcome to partnermon. {practice.name} is set up; start by adding the partners you recommend.", "success")
    return redirect(url_for("partners.index"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Response | str | tuple[str, int]:
    session = db()
    found = accounts.open_invitation(session, now(), token)
    if found is None:
        return render_template("auth/invitation_gone.html"), 410
    if request.method == "GET":
        # A GET only shows the form: mail scanners open links, and must not use up the invitation.
        return render_template("auth/invitation.html", invitation=found, errors={}, token=token)
    try:
        user = accounts.accept_invitation(session, now(), token, request.form.get("password", ""), request.form.get("confirm", ""))
    except NotFound:
        return render_template("auth/invitation_gone.html"), 410
    except ValidationError as exc:
        return rerender("auth/invitation.html", exc.errors, invitation=found, token=token)
    session.commit()
    sign_in(user)
    flash(f"Your password is set. Welcome to {user.practice.name}.", "success")
    return redirect(url_for("home.index"))
