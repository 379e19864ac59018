"""Owner-only views of what the system did: the email outbox — the alert log: what was sent to whom, what is
waiting (retries, quiet hours) and what failed, filtered by status, kind and recipient — and the audit log."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from partnermon.accounts import audit
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
    mine = OutboxEmail.practice_id == user.practice_id
    kinds = db().scalars(select(OutboxEmail.kind).where(mine).distinct().order_by(OutboxEmail.kind)).all()
    kind = request.args.get("kind", "")
    kind = kind if kind in kinds else ""
    to = request.args.get("to", "").strip()[:254]
    query = select(OutboxEmail).where(mine)
    if status != "all":
        query = query.where(OutboxEmail.status == status)
    if kind:
        query = query.where(OutboxEmail.kind == kind)
    if to:
        # A part of the address is enough ("bob" finds bob@harbour.test); escaped, so % and _ match themselves.
        escaped = to.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(OutboxEmail.to_addr).like(f"%{escaped}%", escape="\\"))
    rows = db().scalars(query.order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc()).limit(200)).all()
    return render_template("admin/emails.html", emails=rows, status=status, filters=OUTBOX_FILTERS, kinds=kinds,
                           kind=kind, to=to)


@bp.get("/audit")
@owner_required
def audit_log() -> str:
    user = current_user()
    assert user is not None
    events = db().scalars(audit.recent(user.practice_id)).all()
    return render_template("admin/audit.html", events=events)
