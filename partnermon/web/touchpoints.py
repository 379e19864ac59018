"""The touchpoint page: its state, availability, incidents and latest checks for everyone in the practice;
its probe settings ("Save probe", "Test now", "Remove probe") for owners.

"Test now" runs the probe once through ``monitoring.runs.try_probe`` and saves nothing. This module never
reaches a partner's site itself.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

import probes
from partnermon.errors import ValidationError
from partnermon.models import Probe, Touchpoint
from partnermon.monitoring import history, rollups, runs, strip
from partnermon.monitoring import status as monitoring
from partnermon.partners import probe_settings
from partnermon.partners import service as partner_service
from partnermon.practices.business_hours import BusinessHours
from partnermon.scoring.charts import response_time_chart
from partnermon.web.context import db, now, or_404, runtime
from partnermon.web.security import current_user, login_required, owner_required

bp = Blueprint("touchpoints", __name__, url_prefix="/partners")

PAGE = "/<int:partner_id>/touchpoints/<int:touchpoint_id>"
CHECK_EXAMPLES = ('[STATUS] == 200', '[BODY] contains "Lodge a claim"', '[RESPONSE_TIME] < 1500',
                  '[CERTIFICATE_EXPIRATION] > 14d', '[BODY].status == "UP"')
# A new probe's form: the settings every kind has, then each kind's own options as that kind shows them.
DEFAULTS: dict[str, Any] = {
    "kind": "http", "checks": "", "soft_checks": "", "interval_seconds": probe_settings.DEFAULT_INTERVAL,
    "timeout_seconds": probe_settings.DEFAULT_TIMEOUT, "degraded_after_ms": "", "failure_threshold": 2,
    "success_threshold": 2, "enabled": "1",
    **{name: value for kind in probes.KINDS.values() for name, value in kind.form_values({}).items()},
}


def _touchpoint(partner_id: int, touchpoint_id: int) -> Touchpoint:
    user = current_user()
    assert user is not None
    return or_404(partner_service.get_touchpoint, user.practice_id, partner_id, touchpoint_id)


def _submitted() -> dict[str, Any]:
    """The probe form as probe_settings expects it. An unticked checkbox is absent, so say so; other
    missing fields (a script's partial form) take the defaults a new probe's form shows."""
    data: dict[str, Any] = {name: request.form.getlist(name) if isinstance(default, list)  # ticked boxes
                            else request.form.get(name, default) for name, default in DEFAULTS.items()}
    data["enabled"] = "1" if request.form.get("enabled") else "0"
    return data


def _stored(probe: Probe | None) -> dict[str, Any]:
    """The form filled in from a saved probe (or with defaults for a new one)."""
    if probe is None:
        return dict(DEFAULTS)
    options = probe.options or {}
    return {
        **DEFAULTS, "kind": probe.kind, "checks": "\n".join(probe.checks or ()),
        "soft_checks": "\n".join(probe.soft_checks or ()), "interval_seconds": probe.interval_seconds,
        "timeout_seconds": int(probe.timeout_seconds), "degraded_after_ms": probe.degraded_after_ms or "",
        "failure_threshold": probe.failure_threshold, "success_threshold": probe.success_threshold,
        "enabled": "1" if probe.enabled else "0",
        **{name: value for kind in probes.KINDS.values() for name, value in kind.form_values(options).items()},
    }


def _page(touchpoint: Touchpoint, *, form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
          test_result: Any = None, status: int = 200) -> tuple[str, int]:
    session, clock, user = db(), now(), current_user()
    assert user is not None
    probe = touchpoint.probe
    hours = BusinessHours.of(touchpoint.partner.practice)
    windows = rollups.touchpoint_windows(session, touchpoint.id, clock)
    results = monitoring.recent_results(session, touchpoint)
    days = history.days_of(session, clock, touchpoint, hours) if touchpoint.url or results else []
    no_results_note = None if results else monitoring.why_no_results(
        touchpoint, probe, windows, clock, runtime().settings.result_retention_days,
        is_demo=touchpoint.partner.practice.is_demo)
    return render_template(
        "touchpoints/show.html",
        touchpoint=touchpoint, partner=touchpoint.partner, probe=probe,
        state=monitoring.states_of(session, clock, [touchpoint])[touchpoint.id],
        windows=windows, incidents=monitoring.incidents_of(session, clock, touchpoint, hours),
        results=results, no_results_note=no_results_note,
        days=days, bands=history.BANDS, strip_colours=strip.COLOURS,
        strip=_strip(touchpoint, days) if days else None,
        response_chart=_response_chart(touchpoint, days) if days else None,
        interval_text=probe_settings.describe_interval(probe.interval_seconds) if probe else "",
        kinds=[(name, kind.label, kind.description) for name, kind in probes.KINDS.items()],
        kinds_with_options=[(name, kind) for name, kind in probes.KINDS.items() if kind.option_fields],
        check_examples=CHECK_EXAMPLES, form=form if form is not None else _stored(probe), errors=errors or {},
        test_result=test_result, owner=user.is_owner,
    ), status


@bp.get(PAGE)
@login_required
def show(partner_id: int, touchpoint_id: int) -> tuple[str, int]:
    return _page(_touchpoint(partner_id, touchpoint_id))


@bp.post(PAGE + "/probe")
@owner_required
def probe(partner_id: int, touchpoint_id: int) -> Response | tuple[str, int]:
    """One form, two buttons: "Save probe" stores the settings, "Test now" runs them once and stores nothing."""
    touchpoint = _touchpoint(partner_id, touchpoint_id)
    data = _submitted()
    if request.form.get("action") == "test":
        try:
            values = probe_settings.clean(touchpoint, data)
        except ValidationError as exc:
            return _page(touchpoint, form=data, errors=exc.errors, status=422)
        assert touchpoint.url is not None  # clean refuses a touchpoint without one
        user = current_user()
        spec = probe_settings.spec_from(values, touchpoint.url, user.practice.country if user else "")
        db().rollback()  # hold no transaction (or pooled connection) while waiting up to 30 s on a partner's site
        finding = runs.try_probe(spec, runtime().probe_policy, now())
        return _page(touchpoint, form=data, test_result=finding)
    was_new = touchpoint.probe is None
    try:
        saved = probe_settings.save_probe(db(), now(), touchpoint, current_user(), data)
    except ValidationError as exc:
        db().rollback()
        return _page(touchpoint, form=data, errors=exc.errors, status=422)
    db().commit()
    flash(_saved_message(touchpoint, saved, was_new), "success")
    return redirect(url_for("touchpoints.show", partner_id=partner_id, touchpoint_id=touchpoint_id))


def _strip(touchpoint: Touchpoint, days: list[history.Day]) -> Any:
    checks, working, bh_checks, bh_working = history.totals(days)
    return strip.availability_strip(days, (
        f"Availability of {touchpoint.name} each day over the last {len(days)} days: "
        f"{strip.share_text(working, checks)}; in business hours {strip.share_text(bh_working, bh_checks)}. "
        "Each day is listed in the table below the chart."))


def _response_chart(touchpoint: Touchpoint, days: list[history.Day]) -> Any:
    return response_time_chart(
        [d.day.strftime("%d %b") for d in days], [d.p50_ms for d in days], [d.p95_ms for d in days],
        [d.incident for d in days], label_every=15,
        description=f"Median and 95th percentile response time of {touchpoint.name} each day over the last "
                    f"{len(days)} days, in milliseconds; each day's figures are in the table below.")


def _saved_message(touchpoint: Touchpoint, saved: Probe, was_new: bool) -> str:
    every = probe_settings.describe_interval(saved.interval_seconds)
    if not saved.enabled:
        return (f"Probe saved but paused: it will not check {touchpoint.name} until you tick "
                "“Run this probe” and save again.")
    wait = monitoring.describe_wait((saved.next_due_at - now()).total_seconds())
    return f"Probe saved: checks {every}; {'first' if was_new else 'next'} result within {wait}."


@bp.route(PAGE + "/probe/delete", methods=["GET", "POST"])
@owner_required
def remove_probe(partner_id: int, touchpoint_id: int) -> Response | str:
    touchpoint = _touchpoint(partner_id, touchpoint_id)
    back = url_for("touchpoints.show", partner_id=partner_id, touchpoint_id=touchpoint_id)
    if touchpoint.probe is None:
        flash(f"{touchpoint.name} has no probe to remove.", "error")
        return redirect(back)
    if request.method == "GET":
        return render_template("touchpoints/remove_probe.html", touchpoint=touchpoint, partner=touchpoint.partner)
    probe_settings.delete_probe(db(), now(), touchpoint, current_user())
    db().commit()
    flash(f"Removed the probe of {touchpoint.name}. Its past checks and incidents are kept.", "success")
    return redirect(back)


def _timings_title(result: Any) -> str:
    """The timing split of a stored result or a test finding: DNS 12 ms · connect 30 ms · TLS 41 ms · …"""
    timings = getattr(result, "timings", result)
    parts = [(label, getattr(timings, name, None)) for label, name in
             (("DNS", "dns_ms"), ("connect", "connect_ms"), ("TLS", "tls_ms"), ("first byte", "first_byte_ms"))]
    return " · ".join(f"{label} {value:,.0f} ms" for label, value in parts if value is not None)


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


bp.add_app_template_filter(monitoring.describe_duration, "duration")
bp.add_app_template_filter(monitoring.describe_availability, "availability")
bp.add_app_template_filter(_ms, "ms")
bp.add_app_template_filter(_timings_title, "timings_title")
bp.add_app_template_global(monitoring.STATE_LABELS, "state_labels")

