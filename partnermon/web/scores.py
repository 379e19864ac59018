"""Scores on the web: a partner's experience page (heat map, trends, incidents, comments, follow-ups, the
summary for its account manager, and every part of its score), the scores download, and the owners'
thresholds page. The home page's ranking is ``web.home``; all of them read ``partnermon.scoring``.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from partnermon import exports, validators
from partnermon.errors import ValidationError
from partnermon.followups import measures as loop_measures
from partnermon.models import MomentOfTruth, Practice
from partnermon.monitoring.status import describe_duration
from partnermon.partners import service as partner_service
from partnermon.practices.business_hours import BusinessHours
from partnermon.scoring import board as board_, learned, partner_page, periods, thresholds
from partnermon.scoring.actions import suggested_actions
from partnermon.scoring.exports import SCORE_FIELDS, score_rows
from partnermon.scoring.methodology import methodology_html
from partnermon.scoring.periods import Period
from partnermon.web.context import db, now, or_404
from partnermon.web.security import current_user, login_required, owner_required

bp = Blueprint("scores", __name__)


def _practice() -> Practice:
    user = current_user()
    assert user is not None
    return user.practice


def chosen_period(practice: Practice) -> tuple[Period, dict[str, str]]:
    """The period the filter asks for; a bad one falls back to the rolling 30 days with a field message."""
    try:
        return periods.parse(request.args.get("period"), now(), practice.timezone), {}
    except ValidationError as exc:
        return periods.rolling(now(), practice.timezone), exc.errors


def period_options(practice: Practice) -> list[tuple[str, str]]:
    months = periods.last_months(now(), practice.timezone, 12)
    return [("30d", "Last 30 days")] + [(p.key, p.label) for p in reversed(months)]


@bp.get("/partners/<int:partner_id>/experience")
@login_required
def partner(partner_id: int) -> tuple[str, int]:
    practice = _practice()
    found = or_404(partner_service.get_partner, practice.id, partner_id)
    period, errors = chosen_period(practice)
    session, clock = db(), now()
    board = board_.build(session, clock, practice, period, partner_id=found.id)
    score = board.scores[0]
    breaches, changes = board.breaches_of(found.id), board.warnings_of(found.id)
    actions = suggested_actions(score, breaches, changes)
    trends = partner_page.trends(session, clock, practice, found)
    charts = partner_page.trend_charts(trends, found.name, brand=practice.brand_colour)
    hours = BusinessHours.of(practice)
    incidents = [(i, *partner_page.incident_seconds(i, clock, hours))
                 for i in partner_page.incidents(session, found, period)]
    limits = thresholds.limits_of(session, practice.id)
    user = current_user()
    owner = user is not None and user.is_owner     # recovery by adviser is for owners only (issue 19)
    closing = loop_measures.measure(session, practice, period, partner_id=found.id, with_advisers=owner)
    closing_year = loop_measures.measure(session, practice, periods.this_year(clock, practice.timezone),
                                      partner_id=found.id, with_advisers=owner)
    return render_template(
        "scores/partner.html", partner=found, board=board, score=score, breaches=breaches, changes=changes,
        closing=closing, closing_year=closing_year, rung_label=loop_measures.rung_label,
        loss_sentence=loop_measures.loss_sentence, recovery_sentence=loop_measures.recovery_sentence,
        actions=actions, trends=trends, charts=charts, incidents=incidents, limits=limits,
        comments=partner_page.recent_comments(session, found, period),
        follow_ups=partner_page.open_follow_ups(session, found),
        summary=partner_page.account_manager_summary(board, score, actions),
        period=period, period_options=period_options(practice), errors=errors, measures=thresholds.MEASURES,
        status=lambda moment, key: thresholds.cell_status(limits, moment, key),
        digits=lambda moment, key: thresholds.cell_digits(limits, moment, key), describe_duration=describe_duration,
        board_now=clock,
    ), 200


@bp.get("/scores.csv")
@login_required
def export() -> WerkzeugResponse:
    practice = _practice()
    period, errors = chosen_period(practice)
    if errors:
        flash(next(iter(errors.values())), "error")
        return redirect(url_for("home.index"))
    out = io.StringIO()
    exports.write_csv(score_rows(db(), now(), practice, period), SCORE_FIELDS, out)
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{practice.slug}-scores-{period.key}.csv"'})


def _threshold_page(practice: Practice, errors: dict[str, str], form: Any = None) -> tuple[str, int]:
    moments = partner_service.list_moments(db(), practice.id, include_retired=False)
    limits = thresholds.limits_of(db(), practice.id)
    return render_template("scores/thresholds.html", moments=moments, limits=limits, measures=thresholds.MEASURES,
                           typed=thresholds.typed, errors=errors, form=form), 422 if errors else 200


@bp.route("/settings/thresholds", methods=["GET", "POST"])
@owner_required
def edit_thresholds() -> WerkzeugResponse | tuple[str, int]:
    practice = _practice()
    if request.method == "GET":
        return _threshold_page(practice, {})
    moments: list[MomentOfTruth] = partner_service.list_moments(db(), practice.id, include_retired=False)
    errors: dict[str, str] = {}
    minimum = request.form.get("score_min_responses", "").strip()
    # At least 3: with 2, two unhappy answers could outrank two hundred on their interval alone (the ranking's
    # promise, tests/test_scoring_attribution.py).
    if minimum and ((chosen := validators.ascii_number(minimum)) is None or not 3 <= chosen <= 1000):
        errors["score_min_responses"] = "Minimum responses: enter a whole number from 3 to 1,000."
    try:
        thresholds.save_limits(db(), now(), practice.id, moments, request.form)
    except ValidationError as exc:
        errors = {**exc.errors, **errors}
    if errors:
        db().rollback()
        return _threshold_page(practice, errors, request.form)
    if minimum:
        practice.score_min_responses = int(minimum)
    db().commit()
    flash("Saved the thresholds. Breaches on the dashboard now use them.", "success")
    return redirect(url_for("scores.edit_thresholds"))



@bp.get("/methodology")
@login_required
def methodology() -> str:
    practice = _practice()
    return render_template("scores/methodology.html", body=methodology_html(),
                           weights_note=learned.weights_note(practice.moments, practice.timezone))
