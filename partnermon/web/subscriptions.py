"""The "Notify me about this partner" switch on the partner page: owners and advisers choose whether they are
emailed about its touchpoints (outages, expiring certificates, lost contact details). Viewers are never
emailed, so they have no switch (the service refuses them too).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from partnermon.alerts import subscriptions as service
from partnermon.partners import service as partner_service
from partnermon.web.context import db, now, or_404
from partnermon.web.security import current_user, role_required

bp = Blueprint("subscriptions", __name__, url_prefix="/partners")


@bp.post("/<int:partner_id>/subscription")
@role_required(*service.ALERTED_ROLES)
def update(partner_id: int) -> Response:
    user = current_user()
    assert user is not None
    partner = or_404(partner_service.get_partner, user.practice_id, partner_id)
    on = request.form.get("notify") == "1"
    service.set_subscription(db(), now(), user, partner, on)
    db().commit()
    if on:
        flash(f"You will be emailed about {partner.name}: when one of its touchpoints goes down or comes back, "
              "when a certificate is about to expire and when a page stops offering a way to reach a person.",
              "success")
    else:
        flash(f"You will no longer be emailed about {partner.name}.", "success")
    return redirect(url_for("partners.show", partner_id=partner.id) + "#notify")
