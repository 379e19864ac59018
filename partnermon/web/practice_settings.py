"""Practice settings (owners only): name, time zone, business hours, branding, logo, feedback and follow-up rules,
and the calendar (the region whose public holidays count, and the practice's closure days)."""

from __future__ import annotations

from datetime import timedelta
from typing import Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from partnermon import validators
from partnermon.errors import ValidationError
from partnermon.followups import rules as followup_rules
from partnermon.models import STAKES, Practice
from partnermon.models.practice import WEEKDAY_NAMES
from partnermon.practices import closures as closure_service, countries, public_holidays, service as practices
from partnermon.web.context import db, now, or_404, runtime
from partnermon.web.security import current_user, owner_required

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _context() -> dict[str, object]:
    return {"weekdays": WEEKDAY_NAMES, "timezones": validators.timezone_choices(),
            "countries": sorted(countries.country_names().items(), key=lambda item: item[1])}


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _current_values(current: Practice) -> dict[str, object]:
    return {
        "name": current.name, "timezone": current.timezone, "country": current.country,
        "brand_colour": current.brand_colour,
        "business_start": _hhmm(current.business_start_minute), "business_end": _hhmm(current.business_end_minute),
        "feedback_throttle_days": str(current.feedback_throttle_days),
        "feedback_link_days": str(current.feedback_link_days),
        "open_feedback_link": "1" if current.open_feedback_link else "",
    }


def _settings_page(current: Practice, errors: dict[str, str], form: Mapping[str, object] | None = None,
                   chosen_days: list[int] | None = None) -> str:
    """The settings page with the stored values, or with ``form`` (what was typed) where given."""
    values = {**_current_values(current), **(form or {})}
    return render_template("settings/practice.html", errors=errors, form=values,
                           chosen_days=current.business_weekdays if chosen_days is None else chosen_days,
                           open_link=url_for("feedback_form.open_form", slug=current.slug, _external=False),
                           base_url=runtime().settings.base_url, **_context())


@bp.route("/", methods=["GET", "POST"])
@owner_required
def practice() -> Response | str | tuple[str, int]:
    user = current_user()
    assert user is not None
    current = user.practice
    if request.method == "GET":
        return _settings_page(current, {})
    chosen = request.form.getlist("business_days")
    try:
        practices.update_settings(
            db(), now(), current, user, name=request.form.get("name", ""), timezone=request.form.get("timezone", ""),
            business_start=request.form.get("business_start", ""), business_end=request.form.get("business_end", ""),
            business_days=chosen, brand_colour=request.form.get("brand_colour", ""),
            country=request.form.get("country", ""),
        )
    except ValidationError as exc:
        db().rollback()
        return _settings_page(current, exc.errors, request.form.to_dict(),
                              [d for d in map(validators.ascii_number, chosen) if d is not None and d <= 6]), 422
    db().commit()
    flash("Practice settings saved.", "success")
    return redirect(url_for("settings.practice"))


@bp.post("/logo")
@owner_required
def logo() -> Response | tuple[str, int]:
    user = current_user()
    assert user is not None
    try:
        if request.form.get("remove") == "1":
            practices.set_logo(db(), now(), user.practice, user, None)
        else:
            upload = request.files.get("logo")
            if upload is None or not upload.filename:
                raise ValidationError({"logo": "Choose a PNG or JPEG file to upload."})
            practices.set_logo(db(), now(), user.practice, user, upload.read(practices.MAX_LOGO_BYTES + 1))
    except ValidationError as exc:
        db().rollback()
        return _settings_page(user.practice, exc.errors), 422
    db().commit()
    flash("Logo updated." if request.form.get("remove") != "1" else "Logo removed.", "success")
    return redirect(url_for("settings.practice"))


@bp.post("/feedback")
@owner_required
def feedback() -> Response | tuple[str, int]:
    user = current_user()
    assert user is not None
    try:
        practices.update_feedback_settings(
            db(), now(), user.practice, user, throttle_days=request.form.get("feedback_throttle_days", ""),
            link_days=request.form.get("feedback_link_days", ""), open_link=request.form.get("open_feedback_link") == "1")
    except ValidationError as exc:
        db().rollback()
        return _settings_page(user.practice, exc.errors, request.form.to_dict()), 422
    db().commit()
    flash("Feedback settings saved.", "success")
    return redirect(url_for("settings.practice") + "#feedback-settings")


def _followup_values(current: Practice) -> dict[str, object]:
    return {
        "followup_on_dissatisfied": "1" if current.followup_on_dissatisfied else "",
        "followup_on_brand_harm": "1" if current.followup_on_brand_harm else "",
        "followup_on_contact_request": "1" if current.followup_on_contact_request else "",
        "followup_due_days": str(current.followup_due_days),
        "followup_urgent_hours": str(current.followup_urgent_hours),
        "recovery_check_in_days": str(current.recovery_check_in_days),
    }


@bp.route("/follow-ups", methods=["GET", "POST"])
@owner_required
def followups() -> Response | str | tuple[str, int]:
    """Which answers open a follow-up, and how soon the client must be contacted (business time)."""
    user = current_user()
    assert user is not None
    current = user.practice
    context = {"stakes": list(STAKES), "max_due_days": followup_rules.MAX_DUE_DAYS,
               "max_urgent_hours": followup_rules.MAX_URGENT_HOURS,
               "max_check_in_days": followup_rules.MAX_CHECK_IN_DAYS}
    if request.method == "GET":
        return render_template("settings/followups.html", errors={}, form=_followup_values(current),
                               chosen_stakes=sorted(followup_rules.urgent_stakes(current)), **context)
    form = request.form
    stakes = form.getlist("followup_urgent_stakes")
    try:
        followup_rules.update_settings(
            db(), now(), current, user, on_dissatisfied=form.get("followup_on_dissatisfied") == "1",
            on_brand_harm=form.get("followup_on_brand_harm") == "1",
            on_contact_request=form.get("followup_on_contact_request") == "1",
            due_days=form.get("followup_due_days", ""), urgent_hours=form.get("followup_urgent_hours", ""),
            urgent_stakes=stakes, check_in_days=form.get("recovery_check_in_days"))
    except ValidationError as exc:
        db().rollback()
        return render_template("settings/followups.html", errors=exc.errors, form=form.to_dict(),
                               chosen_stakes=stakes, **context), 422
    db().commit()
    flash("Follow-up rules saved. Follow-ups already open keep their deadlines.", "success")
    return redirect(url_for("settings.followups"))


# --- the calendar: public holidays and closure days ---------------------------------------------------------

def _calendar_page(current: Practice, errors: dict[str, str], form: Mapping[str, object] | None = None,
                   status: int = 200) -> tuple[str, int]:
    today = closure_service.local_today(current, now())
    year_on = today + timedelta(days=365)
    return render_template(
        "settings/closures.html", errors=errors, form={"region": current.region, **(form or {})},
        today=today, regions=public_holidays.regions(current.country),
        has_holidays=public_holidays.has_holidays(current.country),
        country_name=countries.country_names().get(current.country, current.country),
        holidays=public_holidays.between(current.country, current.region, today, year_on),
        closures=closure_service.list_closures(db(), current.id, since=today - timedelta(days=365))), status


@bp.route("/closures", methods=["GET", "POST"])
@owner_required
def closures() -> Response | tuple[str, int]:
    """The public holidays that count, the closure days, and (POST) a closure day added."""
    user = current_user()
    assert user is not None
    if request.method == "GET":
        return _calendar_page(user.practice, {})
    try:
        closure = closure_service.add_closure(db(), now(), user.practice, user, day=request.form.get("day", ""),
                                              note=request.form.get("note", ""))
    except ValidationError as exc:
        db().rollback()
        return _calendar_page(user.practice, exc.errors, request.form.to_dict(), 422)
    db().commit()
    flash(f"Closed on {closure.day:%A %d %B %Y}: that day is outside business hours.", "success")
    return redirect(url_for("settings.closures"))


@bp.post("/closures/<int:closure_id>/delete")
@owner_required
def remove_closure(closure_id: int) -> Response | tuple[str, int]:
    user = current_user()
    assert user is not None
    closure = or_404(closure_service.get_closure, user.practice_id, closure_id)
    day = closure.day
    try:
        closure_service.remove_closure(db(), now(), closure, user)
    except ValidationError as exc:
        db().rollback()
        return _calendar_page(user.practice, exc.errors, status=422)
    db().commit()
    flash(f"Open again on {day:%A %d %B %Y}.", "success")
    return redirect(url_for("settings.closures"))


@bp.post("/closures/region")
@owner_required
def region() -> Response | tuple[str, int]:
    user = current_user()
    assert user is not None
    try:
        closure_service.set_region(db(), now(), user.practice, user, request.form.get("region", ""))
    except ValidationError as exc:
        db().rollback()
        return _calendar_page(user.practice, exc.errors, request.form.to_dict(), 422)
    db().commit()
    flash("Public holidays saved.", "success")
    return redirect(url_for("settings.closures"))
