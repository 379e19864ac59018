"""The Touchpoints page: every touchpoint of the practice at a glance (state, last check, availability, p95),
filtered by partner, state and probe kind. The work is in ``monitoring.overview``."""

from __future__ import annotations

from flask import Blueprint, render_template, request

import probes
from partnermon.monitoring import overview
from partnermon.monitoring.status import STATE_LABELS
from partnermon.web.context import db, now
from partnermon.web.security import current_user, login_required

bp = Blueprint("touchpoint_list", __name__)


@bp.get("/touchpoints")
@login_required
def index() -> tuple[str, int]:
    user = current_user()
    assert user is not None
    session = db()
    filters, errors = overview.parse_filters(session, user.practice_id, request.args)
    rows = overview.touchpoint_rows(session, now(), user.practice_id, user.practice.timezone, filters)
    kinds = {name: kind.label for name, kind in probes.KINDS.items()}
    return render_template(
        "touchpoints/index.html", rows=rows, filters=filters, errors=errors,
        total=len(rows) if not filters.any else overview.count_touchpoints(session, user.practice_id),
        partners=overview.partner_choices(session, user.practice_id), states=STATE_LABELS,
        kinds=list(kinds.items()), kind_labels=kinds, month_days=overview.MONTH_DAYS,
    ), 400 if errors else 200
