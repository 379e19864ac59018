"""The home page: what the practice has set up so far, which touchpoints are in trouble, which clients are
waiting for a call, what to do next."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from partnermon.models import PARTNER_CATEGORIES
from partnermon.scoring import board as board_, periods
from partnermon.scoring.charts import damage_chart
from partnermon.web.scores import chosen_period, period_options

from partnermon.followups import measures as loop_measures
from partnermon.followups import queue as followup_queue
from partnermon.models import OutboxEmail, Partner, Touchpoint, User
from partnermon.monitoring.status import NAMED_STATES, practice_summary
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
    board = chart = None
    errors: dict[str, str] = {}
    category = request.args.get("category") or ""
    if category not in PARTNER_CATEGORIES:
        category = ""
    if counts["partners"]:
        period, errors = chosen_period(user.practice)
        board = board_.build(session, now(), user.practice, period, category=category or None)
        chart = damage_chart(board.scores, brand=user.practice.brand_colour,
                             description="Partners by estimated brand damage, in the order of the table below, "
                                         "which gives each with its interval.")
    # The follow-up card's closing-the-loop lines: this year, as the partner pages and the report count it.
    closing = loop_measures.measure(session, user.practice, periods.this_year(now(), user.practice.timezone))
    names = loop_measures.partner_names(session, user.practice, (partner_id for partner_id, _ in closing.lost))
    lost = [(names[partner_id], left) for partner_id, left in closing.lost if partner_id in names]
    return render_template("home.html", closing=closing, lost=lost, loss_sentence=loop_measures.loss_sentence,
                           recovery_sentence=loop_measures.recovery_sentence, counts=counts, summary=practice_summary(session, now(), pid),
                           named_states=NAMED_STATES, followups=followup_queue.counts(session, now(), pid, user.id), board=board,
                           damage_chart=chart, errors=errors, category=category, categories=PARTNER_CATEGORIES,
                           period_options=period_options(user.practice) if board else [])
