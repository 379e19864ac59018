"""Owner-only views of what the system did: the email outbox (with failures) and the audit log."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from partnermon import audit
from partnermon.models import OutboxEmail
from partnermon.web.context import db
from partnermon.web.security import current_user, owner_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
OUTBOX_FILTERS = ("all", "queued", "sent", "failed")


@bp.get("/emails")
@owner_required
def emails() -> str:
    user = current_user()
    assert user is not None
    status = request.args.get("status", "all")
    if status not in OUTBOX_FILTERS:
        status = "all"
    query = select(OutboxEmail).where(OutboxEmail.practice_id == user.practice_id)
    if status != "all":
        query = query.where(OutboxEmail.status == status)
    rows = db().scalars(query.order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc()).limit(200)).all()
    return render_template("admin/emails.html", emails=rows, status=status, filters=OUTBOX_FILTERS)


@bp.get("/audit")
@owner_required
def audit_log() -> str:
    user = current_user()
    assert user is not None
    events = db().scalars(audit.recent(user.practice_id)).all()
    return render_template("admin/audit.html", events=events)
