"""The reports page: every archived monthly report to download, any month made again on demand (owners), the
HTML preview made from the report's own template, and the signed download link of the report email.

Rendering happens in a worker (partnermon.reports.jobs), never in a request: asking for a month queues it.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from partnermon import validators
from partnermon.errors import ValidationError
from partnermon.models import Practice, Report, User
from partnermon.reports import emails as report_emails
from partnermon.reports import jobs as report_jobs
from partnermon.reports.content import gather
from partnermon.reports.render import render_html
from partnermon.reports.storage import ReportMissing, ReportStore, file_name
from partnermon.scoring import periods
from partnermon.web.context import db, now, runtime
from partnermon.web.security import csp_nonce, current_user, login_required, owner_required

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _practice() -> Practice:
    user = current_user()
    assert user is not None
    return user.practice


def _store() -> ReportStore:
    return ReportStore(runtime().settings.reports_path)


def _page(practice: Practice, errors: dict[str, str], typed: str = "",
          schedule_form: dict[str, str] | None = None) -> tuple[str, int]:
    reports = list(db().scalars(select(Report).where(Report.practice_id == practice.id)
                                .order_by(Report.month.desc())))
    this_month = now().astimezone(ZoneInfo(practice.timezone)).date().replace(day=1)
    previous = periods.month_of(periods.shift_month(this_month, -1), practice.timezone)
    return render_template("reports/index.html", reports=reports, errors=errors, typed=typed or previous.key,
                           schedule_form=schedule_form or {"report_day": str(practice.report_day),
                                                           "report_hour": str(practice.report_hour)},
                           labels={r.id: _label(r, practice) for r in reports}, now=now()), 422 if errors else 200


def _label(report: Report, practice: Practice) -> str:
    return periods.month_of(date.fromisoformat(report.month + "-01"), practice.timezone).label


@bp.get("/")
@login_required
def index() -> tuple[str, int]:
    return _page(_practice(), {})


@bp.post("/")
@owner_required
def make() -> WerkzeugResponse | tuple[str, int]:
    practice = _practice()
    typed = (request.form.get("month") or "").strip()
    try:
        if not typed:
            raise ValidationError({"month": "Enter the month to make a report for, e.g. 2026-11."})
        if typed == "30d":
            raise ValidationError({"month": "A report is for a calendar month: enter one like 2026-11."})
        month = periods.parse(typed, now(), practice.timezone, field="month")
    except ValidationError as exc:
        return _page(practice, exc.errors, typed)
    report_jobs.request_report(db(), now(), practice, month, current_user())
    db().commit()
    flash(f"The report for {month.label} is being made; it appears here in a minute or two.", "success")
    return redirect(url_for("reports.index"))


@bp.post("/schedule")
@owner_required
def schedule() -> WerkzeugResponse | tuple[str, int]:
    """When the monthly report is made: a day of the month (1–28, so every month has it) and an hour."""
    practice = _practice()
    day, hour = (request.form.get("report_day") or "").strip(), (request.form.get("report_hour") or "").strip()
    errors: dict[str, str] = {}
    if (chosen_day := validators.ascii_number(day)) is None or not 1 <= chosen_day <= 28:
        errors["report_day"] = "Day of the month: enter a whole number from 1 to 28 (every month has those)."
    if (chosen_hour := validators.ascii_number(hour)) is None or not 0 <= chosen_hour <= 23:
        errors["report_hour"] = "Hour: enter a whole number from 0 to 23."
    if errors:
        return _page(practice, errors, schedule_form={"report_day": day, "report_hour": hour})
    practice.report_day, practice.report_hour = int(day), int(hour)
    db().commit()
    flash(f"Reports are now made on day {practice.report_day} of each month at {practice.report_hour:02d}:00.",
          "success")
    return redirect(url_for("reports.index"))


def _report(month: str) -> Report:
    practice = _practice()
    try:
        validators.month("month", month)
    except ValidationError:
        abort(404)
    report = db().scalar(select(Report).where(Report.practice_id == practice.id, Report.month == month))
    if report is None or report.status != "done" and report.storage_key is None:
        abort(404)
    return report


def _pdf(report: Report, practice: Practice) -> Response:
    if report.storage_key is None:
        abort(404)
    try:
        content = _store().read(report.storage_key)
    except ReportMissing:
        abort(404)
    return Response(content, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{file_name(practice.slug, report.month)}"',
        "Cache-Control": "private, no-store"})


@bp.get("/<month>.pdf")
@login_required
def download(month: str) -> Response:
    return _pdf(_report(month), _practice())


@bp.get("/<month>/preview")
@login_required
def preview(month: str) -> str:
    practice = _practice()
    try:
        period = periods.parse(month, now(), practice.timezone)
    except ValidationError:
        abort(404)
    if period.kind != "month":
        abort(404)
    return render_html(gather(db(), now(), practice, period), stylesheet_href=url_for("static", filename="report.css"),
                       nonce=csp_nonce())


@bp.get("/download/<token>")
def signed_download(token: str) -> Response:
    """The report email's link (for a PDF too large to attach): no sign-in, but only that rendering of that
    report, for an owner who is still one."""
    found = report_emails.read_download_token(runtime().settings.secret_key, token)
    if found is None:
        abort(404)
    report_id, generation, user_id = found
    report = db().get(Report, report_id)
    user = db().get(User, user_id)
    if (report is None or report.generation != generation or report.status != "done" or user is None
            or not user.is_active or user.role != "owner" or user.practice_id != report.practice_id):
        abort(404)
    return _pdf(report, report.practice)
