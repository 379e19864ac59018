"""Maintenance windows on the partner page: owners plan them (partner-wide or one touchpoint) and remove them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from partnermon.errors import ValidationError
from partnermon.monitoring import maintenance as service
from partnermon.partners import service as partner_service
from partnermon.web.assets import local_time
from partnermon.web.context import db, now, or_404
from partnermon.web.forms import fields
from partnermon.web.partners import partner_page
from partnermon.web.security import current_user, owner_required

bp = Blueprint("maintenance", __name__, url_prefix="/partners")


def _pid() -> int:
    user = current_user()
    assert user is not None
    return user.practice_id


def _back(partner_id: int) -> str:
    return url_for("partners.show", partner_id=partner_id) + "#maintenance"


@bp.post("/<int:partner_id>/maintenance")
@owner_required
def create(partner_id: int) -> Response | tuple[str, int]:
    partner = or_404(partner_service.get_partner, _pid(), partner_id)
    try:
        window = service.create_window(db(), now(), partner, current_user(),
                                       fields("starts_at", "ends_at", "touchpoint", "note"))
    except ValidationError as exc:
        db().rollback()
        return partner_page(partner, errors=exc.errors, form=request.form, status=422)
    db().commit()
    scope = window.touchpoint.name if window.touchpoint else f"all of {partner.name}'s touchpoints"
    flash(f"Maintenance planned for {scope} from {local_time(window.starts_at)} to {local_time(window.ends_at)}. "
          "Checks go on, but problems in this window do not count against the partner.", "success")
    return redirect(_back(partner.id))


@bp.post("/<int:partner_id>/maintenance/<int:window_id>/delete")
@owner_required
def delete(partner_id: int, window_id: int) -> Response:
    window = or_404(service.get_window, _pid(), partner_id, window_id)
    service.delete_window(db(), now(), window, current_user())
    db().commit()
    flash("Removed the maintenance window.", "success")
    return redirect(_back(partner_id))
