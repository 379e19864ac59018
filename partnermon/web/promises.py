"""A partner's promises (issue 20): add, change and remove them (owners), listed with this month's verdicts
on the partner page; and "Add our own touchpoint", which starts the practice's own row (partners.own).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from partnermon.errors import ValidationError
from partnermon.models import PROMISE_KINDS, PROMISE_MEASURES, Partner, Practice, Promise
from partnermon.partners import own, service as partners
from partnermon.promises import service, verdicts
from partnermon.scoring import periods
from partnermon.web.context import db, now, or_404
from partnermon.web.forms import fields, rerender
from partnermon.web.security import current_user, owner_required

bp = Blueprint("promises", __name__)

PROMISE_FIELDS = ("kind", "measure", "scope", "quote", "source", "target")


def this_month(practice: Practice, at: datetime) -> periods.Period:
    return periods.month_of(at.astimezone(ZoneInfo(practice.timezone)).date(), practice.timezone)


def promise_section(session: Session, at: datetime, partner: Partner) -> dict[str, Any]:
    """What the partner page's "Promises" section shows: each promise with this month's verdict."""
    practice = partner.practice
    month = this_month(practice, at)
    found = service.list_promises(session, partner)
    return {"promise_verdicts": verdicts.verdicts(session, practice, found, month), "promise_month": month,
            "describe_target": verdicts.describe_target, "scope_label": verdicts.scope_label}


def _pid() -> int:
    user = current_user()
    assert user is not None
    return user.practice_id


def _form_context(partner: Partner, promise: Promise | None) -> dict[str, Any]:
    moments = partners.list_moments(db(), partner.practice_id, include_retired=False)
    return {"partner": partner, "promise": promise, "kinds": PROMISE_KINDS,
            "measures": {key: label for key, (label, _c) in PROMISE_MEASURES.items()}, "moments": moments}


@bp.route("/partners/<int:partner_id>/promises/new", methods=["GET", "POST"])
@owner_required
def create(partner_id: int) -> Response | str | tuple[str, int]:
    partner = or_404(partners.get_partner, _pid(), partner_id)
    if request.method == "GET":
        return render_template("promises/form.html", errors={}, form={"kind": "explicit"},
                               **_form_context(partner, None))
    try:
        service.create_promise(db(), now(), partner, current_user(), fields(*PROMISE_FIELDS))
    except ValidationError as exc:
        return rerender("promises/form.html", exc.errors, **_form_context(partner, None))
    db().commit()
    flash(f"Added a promise for {partner.name}. Its verdict for this month is on the partner's page.", "success")
    return redirect(url_for("partners.show", partner_id=partner.id, _anchor="promises"))


@bp.route("/partners/<int:partner_id>/promises/<int:promise_id>/edit", methods=["GET", "POST"])
@owner_required
def edit(partner_id: int, promise_id: int) -> Response | str | tuple[str, int]:
    partner = or_404(partners.get_partner, _pid(), partner_id)
    promise = or_404(service.get_promise, partner, promise_id)
    if request.method == "GET":
        return render_template("promises/form.html", errors={}, form=service.form_values(promise),
                               **_form_context(partner, promise))
    try:
        service.update_promise(db(), now(), promise, current_user(), fields(*PROMISE_FIELDS))
    except ValidationError as exc:   # checked before anything changes: nothing to undo
        return rerender("promises/form.html", exc.errors, **_form_context(partner, promise))
    db().commit()
    flash(f"Saved the promise of {partner.name}.", "success")
    return redirect(url_for("partners.show", partner_id=partner.id, _anchor="promises"))


@bp.post("/partners/<int:partner_id>/promises/<int:promise_id>/delete")
@owner_required
def delete(partner_id: int, promise_id: int) -> Response:
    partner = or_404(partners.get_partner, _pid(), partner_id)
    promise = or_404(service.get_promise, partner, promise_id)
    service.delete_promise(db(), now(), promise, current_user())
    db().commit()
    flash(f"Removed the promise of {partner.name}.", "success")
    return redirect(url_for("partners.show", partner_id=partner.id, _anchor="promises"))


@bp.post("/partners/own")
@owner_required
def add_own_touchpoint() -> Response:
    """"Add our own touchpoint": the practice's own row (made now if need be), then its touchpoint form."""
    user = current_user()
    assert user is not None
    partner = own.ensure_own_partner(db(), now(), user.practice, user)
    db().commit()
    return redirect(url_for("partners.create_touchpoint", partner_id=partner.id))
