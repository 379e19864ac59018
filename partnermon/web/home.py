"""The home page: what the practice has set up so far, which touchpoints are in trouble, which clients are
waiting for a call, what to do next."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from partnermon.followups import queue as followup_queue
from partnermon.models import OutboxEmail, Partner, Touchpoint, User
from partnermon.monitoring.status import practice_summary
from partnermon.web.context import db, now
from partnermon.web.security import current_user, login_required

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index() -> str:
    user = current_user()
    assert user is not None
    session, pid = db(), user.practice_id
    counts = {
        "partners": session.scalar(select(func.count()).select_from(Partner).where(Partner.practice_id == pid)) or 0,
        "touchpoints": session.scalar(select(func.count()).select_from(Touchpoint).where(Touchpoint.practice_id == pid)) or 0,
        "users": session.scalar(select(func.count()).select_from(User).where(User.practice_id == pid)) or 0,
        "failed_emails": session.scalar(select(func.count()).select_from(OutboxEmail).where(
            OutboxEmail.practice_id == pid, OutboxEmail.status == "failed")) or 0,
    }
    return render_template("home.html", counts=counts, summary=practice_summary(session, pid),
                           followups=followup_queue.counts(session, now(), pid, user.id))
