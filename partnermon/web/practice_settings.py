"""Practice settings (owners only): name, time zone, business hours, branding and logo."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from partnermon import practices
from partnermon.errors import ValidationError
from partnermon.models.practice import WEEKDAY_NAMES
from partnermon.web.context import db, now
from partnermon.web.forms import rerender
from partnermon.web.security import current_user, owner_required

bp = Blueprint("settings", __name__, url_prefix="/settings")

_TIMEZONES = sorted(tz for tz in available_timezones() if "/" in tz and not tz.startswith(("Etc/", "SystemV/")))


def _context() -> dict[str, object]:
    return {"weekdays": WEEKDAY_NAMES, "timezones": _TIMEZONES}


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@bp.route("/", methods=["GET", "POST"])
@owner_required
def practice() -> Response | str | tuple[str, int]:
    user = current_user()
    assert user is not None
    current = user.practice
    if request.method == "GET":
        form = {
            "name": current.name, "timezone": current.timezone, "brand_colour": current.brand_colour,
            "business_start": _hhmm(current.business_start_minute), "business_end": _hhmm(current.business_end_minute),
        }
        return render_template("settings/practice.html", errors={}, form=form,
                               chosen_days=current.business_weekdays, **_context())
    chosen = request.form.getlist("business_days")
    try:
        practices.update_settings(
            db(), now(), current, user, name=request.form.get("name", ""), timezone=request.form.get("timezone", ""),
            business_start=request.form.get("business_start", ""), business_end=request.form.get("business_end", ""),
            business_days=chosen, brand_colour=request.form.get("brand_colour", ""),
        )
    except ValidationError as exc:
        db().rollback()
        return rerender("settings/practice.html", exc.errors,
                        chosen_days=[int(d) for d in chosen if d.isdigit()], **_context())
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
        current = user.practice
        form = {"name": current.name, "timezone": current.timezone, "brand_colour": current.brand_colour,
                "business_start": _hhmm(current.business_start_minute), "business_end": _hhmm(current.business_end_minute)}
        return render_template("settings/practice.html", errors=exc.errors, form=form,
                               chosen_days=current.business_weekdays, **_context()), 422
    db().commit()
    flash("Logo updated." if request.form.get("remove") != "1" else "Logo removed.", "success")
    return redirect(url_for("settings.practice"))
