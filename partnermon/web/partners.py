"""Partner and touchpoint pages. Everyone in the practice may look; only owners change things.

The partner page also shows each touchpoint's state now and the partner's maintenance windows (planned
and removed through ``web.maintenance``); a touchpoint's own page is ``web.touchpoints``. Owners and advisers
download the partner's scorecard for a month there, a PDF for its account manager, rendered on the spot
(a few pages, a second or two) rather than queued like the monthly report.
"""

from __future__ import annotations

from typing import Any, Mapping

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from partnermon.alerts import subscriptions
from partnermon.errors import ValidationError
from partnermon.models import PARTNER_CATEGORIES, Partner
from partnermon.monitoring import maintenance
from partnermon.monitoring import status as monitoring
from partnermon.partners import service
from partnermon.reports import scorecard as scorecard_
from partnermon.scoring import periods
from partnermon.web.context import db, now, or_404
from partnermon.web.forms import fields, rerender
from partnermon.web.promises import promise_section
from partnermon.web.security import current_user, login_required, owner_required, role_required

bp = Blueprint("partners", __name__, url_prefix="/partners")

PARTNER_FIELDS = ("name", "category", "website", "exposure", "notes",
                  "account_manager_name", "account_manager_email", "account_manager_phone")
TOUCHPOINT_FIELDS = ("name", "url", "moment")
# Who may download a scorecard: it is written to go outside the practice, which viewers do not speak for.
SCORECARD_ROLES = ("owner", "adviser")
scorecard_required = role_required(*SCORECARD_ROLES)


def _pid() -> int:
    user = current_user()
    assert user is not None
    return user.practice_id


@bp.get("/")
@login_required
def index() -> str:
    listed = service.list_partners(db(), _pid())
    # The practice's own touchpoints have their own section: they are not a partner (partners.own).
    return render_template("partners/index.html", partners=[p for p in listed if not p.is_own_practice],
                           own=next((p for p in listed if p.is_own_practice), None),
                           own_states=_own_states(listed))


def _own_states(listed: list[Partner]) -> dict[int, Any]:
    found = next((p for p in listed if p.is_own_practice), None)
    return monitoring.partner_states(db(), now(), found) if found is not None else {}


@bp.route("/new", methods=["GET", "POST"])
@owner_required
def create() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("partners/form.html", partner=None, categories=PARTNER_CATEGORIES, errors={}, form={})
    try:
        partner = service.create_partner(db(), now(), _pid(), current_user(), fields(*PARTNER_FIELDS))
    except ValidationError as exc:
        return rerender("partners/form.html", exc.errors, partner=None, categories=PARTNER_CATEGORIES)
    db().commit()
    flash(f"Added {partner.name}. Now add the touchpoints where your clients meet them.", "success")
    return redirect(url_for("partners.show", partner_id=partner.id))


def partner_page(partner: Partner, *, errors: dict[str, str] | None = None, form: Mapping[str, Any] | None = None,
                 status: int = 200) -> tuple[str, int]:
    """The partner page; ``errors`` and ``form`` belong to its maintenance form when that needs fixing."""
    session, clock = db(), now()
    windows = [(window, maintenance.window_state(window, clock))
               for window in maintenance.list_windows(session, clock, partner)]
    user = current_user()
    assert user is not None
    return render_template("partners/show.html", partner=partner,
                           states=monitoring.partner_states(session, clock, partner), windows=windows,
                           can_subscribe=subscriptions.can_subscribe(user),
                           subscribed=subscriptions.is_subscribed(session, user, partner),
                           scorecard_months=_scorecard_months() if user.role in SCORECARD_ROLES else [],
                           errors=errors or {}, form=form or {}, **promise_section(session, clock, partner)), status


@bp.get("/<int:partner_id>")
@login_required
def show(partner_id: int) -> tuple[str, int]:
    return partner_page(or_404(service.get_partner, _pid(), partner_id))


@bp.route("/<int:partner_id>/edit", methods=["GET", "POST"])
@owner_required
def edit(partner_id: int) -> Response | str | tuple[str, int]:
    partner = or_404(service.get_partner, _pid(), partner_id)
    if request.method == "GET":
        return render_template("partners/form.html", partner=partner, categories=PARTNER_CATEGORIES, errors={}, form={})
    try:
        service.update_partner(db(), now(), partner, current_user(), fields(*PARTNER_FIELDS))
    except ValidationError as exc:
        return rerender("partners/form.html", exc.errors, partner=partner, categories=PARTNER_CATEGORIES)
    db().commit()
    flash(f"Saved {partner.name}.", "success")
    return redirect(url_for("partners.show", partner_id=partner.id))


@bp.route("/<int:partner_id>/delete", methods=["GET", "POST"])
@owner_required
def delete(partner_id: int) -> Response | str:
    partner = or_404(service.get_partner, _pid(), partner_id)
    if request.method == "GET":
        return render_template("partners/delete.html", partner=partner)
    name = partner.name
    service.delete_partner(db(), now(), partner, current_user())
    db().commit()
    flash(f"Deleted {name} and its touchpoints.", "success")
    return redirect(url_for("partners.index"))


def _scorecard_months() -> list[periods.Period]:
    """The months a scorecard can be had for, newest first: this month so far, then the last complete month
    (the default) and the eleven before it."""
    user = current_user()
    assert user is not None
    return list(reversed(periods.last_months(now(), user.practice.timezone, 13)))


@bp.get("/<int:partner_id>/scorecard.pdf")
@scorecard_required
def scorecard(partner_id: int) -> Response:
    """The partner's scorecard for ``?month=YYYY-MM`` (default: the last complete month) as a PDF download."""
    partner = or_404(service.get_partner, _pid(), partner_id)
    practice = partner.practice
    month = (request.args.get("month") or "").strip() or _scorecard_months()[1].key
    try:
        period = periods.parse(month, now(), practice.timezone, field="month")
    except ValidationError:
        abort(404)
    if period.kind != "month":
        abort(404)
    pdf = scorecard_.render_scorecard(scorecard_.gather(db(), now(), practice, partner, period))
    return Response(pdf.data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{scorecard_.file_name(practice.slug, partner, period.key)}"',
        "Cache-Control": "private, no-store"})


# --- touchpoints ------------------------------------------------------------------------------

def _moments() -> list:  # type: ignore[type-arg]
    return service.list_moments(db(), _pid(), include_retired=False)


@bp.route("/<int:partner_id>/touchpoints/new", methods=["GET", "POST"])
@owner_required
def create_touchpoint(partner_id: int) -> Response | str | tuple[str, int]:
    partner = or_404(service.get_partner, _pid(), partner_id)
    if request.method == "GET":
        return render_template("partners/touchpoint_form.html", partner=partner, touchpoint=None,
                               moments=_moments(), errors={}, form={})
    try:
        touchpoint = service.create_touchpoint(db(), now(), partner, current_user(), fields(*TOUCHPOINT_FIELDS))
    except ValidationError as exc:
        return rerender("partners/touchpoint_form.html", exc.errors, partner=partner, touchpoint=None, moments=_moments())
    db().commit()
    flash(f"Added the touchpoint {touchpoint.name}.", "success")
    return redirect(url_for("partners.show", partner_id=partner.id))


@bp.route("/<int:partner_id>/touchpoints/<int:touchpoint_id>/edit", methods=["GET", "POST"])
@owner_required
def edit_touchpoint(partner_id: int, touchpoint_id: int) -> Response | str | tuple[str, int]:
    touchpoint = or_404(service.get_touchpoint, _pid(), partner_id, touchpoint_id)
    partner = touchpoint.partner
    if request.method == "GET":
        return render_template("partners/touchpoint_form.html", partner=partner, touchpoint=touchpoint,
                               moments=_moments(), errors={}, form={})
    try:
        service.update_touchpoint(db(), now(), touchpoint, current_user(), fields(*TOUCHPOINT_FIELDS))
    except ValidationError as exc:
        return rerender("partners/touchpoint_form.html", exc.errors, partner=partner, touchpoint=touchpoint, moments=_moments())
    db().commit()
    flash(f"Saved the touchpoint {touchpoint.name}.", "success")
    return redirect(url_for("partners.show", partner_id=partner.id))


@bp.post("/<int:partner_id>/touchpoints/<int:touchpoint_id>/delete")
@owner_required
def delete_touchpoint(partner_id: int, touchpoint_id: int) -> Response:
    touchpoint = or_404(service.get_touchpoint, _pid(), partner_id, touchpoint_id)
    name = touchpoint.name
    service.delete_touchpoint(db(), now(), touchpoint, current_user())
    db().commit()
    flash(f"Deleted the touchpoint {name}.", "success")
    return redirect(url_for("partners.show", partner_id=partner_id))
