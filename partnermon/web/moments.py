"""The practice's moments of truth: rename, add, retire, restore, delete when unused; the stake learned from
clients' answers beside the owner's, and adopting it (partnermon.scoring.learned)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from partnermon.errors import ValidationError
from partnermon.models import STAGES, STAKES
from partnermon.partners import service
from partnermon.scoring import learned as learned_stakes
from partnermon.web.context import db, now, or_404
from partnermon.web.forms import fields, rerender
from partnermon.web.security import current_user, login_required, owner_required

bp = Blueprint("moments", __name__, url_prefix="/moments")
MOMENT_FIELDS = ("key", "name", "stage", "stake", "examples", "ask_duration")


def _pid() -> int:
    user = current_user()
    assert user is not None
    return user.practice_id


def _choices() -> dict[str, object]:
    return {"stages": STAGES, "stakes": STAKES}


@bp.get("/")
@login_required
def index() -> str:
    moments = service.list_moments(db(), _pid())
    usage = {m.id: service.touchpoint_count(db(), m) for m in moments}
    user = current_user()
    assert user is not None
    learned = {item.moment.id: item for item in learned_stakes.learned_stakes(db(), now(), user.practice, moments)}
    return render_template("moments/index.html", moments=moments, usage=usage, learned=learned,
                           learning_days=learned_stakes.LEARNING_DAYS,
                           weights_note=learned_stakes.weights_note(moments, user.practice.timezone))


@bp.route("/new", methods=["GET", "POST"])
@owner_required
def create() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("moments/form.html", moment=None, errors={}, form={}, **_choices())
    try:
        moment = service.create_moment(db(), now(), _pid(), current_user(), fields(*MOMENT_FIELDS))
    except ValidationError as exc:
        return rerender("moments/form.html", exc.errors, moment=None, **_choices())
    db().commit()
    flash(f"Added the moment of truth {moment.name}.", "success")
    return redirect(url_for("moments.index"))


@bp.route("/<int:moment_id>/edit", methods=["GET", "POST"])
@owner_required
def edit(moment_id: int) -> Response | str | tuple[str, int]:
    moment = or_404(service.get_moment, _pid(), moment_id)
    if request.method == "GET":
        return render_template("moments/form.html", moment=moment, errors={}, form={}, **_choices())
    try:
        service.update_moment(db(), now(), moment, current_user(), fields(*MOMENT_FIELDS))
    except ValidationError as exc:
        return rerender("moments/form.html", exc.errors, moment=moment, **_choices())
    db().commit()
    flash(f"Saved {moment.name}.", "success")
    return redirect(url_for("moments.index"))


@bp.post("/<int:moment_id>/retire")
@owner_required
def retire(moment_id: int) -> Response:
    moment = or_404(service.get_moment, _pid(), moment_id)
    retired = request.form.get("retired", "1") == "1"
    service.set_moment_retired(db(), now(), moment, current_user(), retired)
    db().commit()
    flash(f"{'Retired' if retired else 'Restored'} {moment.name}.", "success")
    return redirect(url_for("moments.index"))


@bp.post("/<int:moment_id>/delete")
@owner_required
def delete(moment_id: int) -> Response:
    moment = or_404(service.get_moment, _pid(), moment_id)
    name = moment.name
    try:
        service.delete_moment(db(), now(), moment, current_user())
    except ValidationError as exc:
        flash(next(iter(exc.errors.values())), "error")
        return redirect(url_for("moments.index"))
    db().commit()
    flash(f"Deleted {name}.", "success")
    return redirect(url_for("moments.index"))


@bp.post("/<int:moment_id>/weights")
@owner_required
def weights(moment_id: int) -> Response:
    """Use this moment's learned weight in the scores (``weights=learned``), or the owner's stake again."""
    moment = or_404(service.get_moment, _pid(), moment_id)
    user = current_user()
    assert user is not None
    if request.form.get("weights") == "owner":
        learned_stakes.use_owners(db(), now(), moment, user)
        db().commit()
        flash(f"Scores use your stake for {moment.name} again ({moment.stake}).", "success")
        return redirect(url_for("moments.index"))
    try:
        found = learned_stakes.adopt(db(), now(), user.practice, moment, user)
    except ValidationError as exc:
        flash(next(iter(exc.errors.values())), "error")
        return redirect(url_for("moments.index"))
    db().commit()
    flash(f"Scores use the learned weight {found.weight:g} for {moment.name} (learned from {found.n} answers).",
          "success")
    return redirect(url_for("moments.index"))


@bp.post("/weights")
@owner_required
def all_weights() -> Response:
    """Adopt every learned weight there is (``weights=learned``), or go back to the owner's stakes for all."""
    user = current_user()
    assert user is not None
    if request.form.get("weights") == "owner":
        for moment in service.list_moments(db(), _pid()):
            if moment.weight_source != "owner":
                learned_stakes.use_owners(db(), now(), moment, user)
        db().commit()
        flash("Scores use your stakes for every moment again.", "success")
        return redirect(url_for("moments.index"))
    adopted, skipped = learned_stakes.adopt_all(db(), now(), user.practice, user)
    db().commit()
    if not adopted:
        flash("No moment has enough answers for a learned weight yet; your stakes stay as they are.", "error")
    else:
        rest = f"; {len(skipped)} without enough answers keep your stake" if skipped else ""
        flash(f"Scores use learned weights for {len(adopted)} moment{'s' if len(adopted) != 1 else ''}{rest}.",
              "success")
    return redirect(url_for("moments.index"))
