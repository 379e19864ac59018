"""A touchpoint's probe settings: checking what an owner typed, saving it, and turning it into a ProbeSpec.

Everything typed is checked here (including the assertion expressions and kind options, which
``probes.check`` understands) so a probe that is saved can always run.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Mapping

import probes
from partnermon import validators as v
from partnermon.accounts import audit
from partnermon.errors import ValidationError
from partnermon.models import Incident, Probe, Touchpoint, User
from partnermon.monitoring.incidents import close_incident
from partnermon.practices.business_hours import BusinessHours
from partnermon.webhooks import events as webhook_events
from probes.settings import SettingsError, lines
from probes.spec import ProbeSpec

MIN_INTERVAL, DEFAULT_INTERVAL, MAX_INTERVAL = 30, 300, 86400
DEFAULT_TIMEOUT, MAX_TIMEOUT = 10, 30


def _options(kind: str, data: Mapping[str, Any], form: v.Form) -> dict[str, Any]:
    """The kind's own options, read by the kind itself (DESIGN.md §6); what it cannot read goes on the form."""
    try:
        return probes.KINDS[kind].clean_options(data)
    except SettingsError as exc:
        for field, message in exc.errors.items():
            form.add(field, message)
        return {}


def clean(touchpoint: Touchpoint, data: Mapping[str, Any]) -> dict[str, Any]:
    """Check the submitted settings; returns the values to store or raises ValidationError with every field."""
    form = v.Form()
    kind = str(data.get("kind") or "http").strip()
    if kind not in probes.KINDS:
        form.add("kind", f"Choose one of: {', '.join(probes.KINDS)}.")
        kind = "http"
    if not touchpoint.url:
        form.add("url", "Add this touchpoint's web address first: a probe needs somewhere to look.")
    values: dict[str, Any] = {
        "kind": kind,
        "checks": lines(data.get("checks")),
        "soft_checks": lines(data.get("soft_checks")),
        "interval_seconds": form.check(v.whole_number, "interval_seconds", data.get("interval_seconds"),
                                       minimum=MIN_INTERVAL, maximum=MAX_INTERVAL, default=DEFAULT_INTERVAL,
                                       label="Interval (seconds)"),
        "timeout_seconds": form.check(v.whole_number, "timeout_seconds", data.get("timeout_seconds"), minimum=1,
                                      maximum=MAX_TIMEOUT, default=DEFAULT_TIMEOUT, label="Timeout (seconds)"),
        "degraded_after_ms": None,
        "failure_threshold": form.check(v.whole_number, "failure_threshold", data.get("failure_threshold"),
                                        minimum=1, maximum=20, default=2, label="Failures before an incident"),
        "success_threshold": form.check(v.whole_number, "success_threshold", data.get("success_threshold"),
                                        minimum=1, maximum=20, default=2, label="Successes before it is resolved"),
        "enabled": str(data.get("enabled", "1")).lower() not in ("0", "false", "off", ""),
    }
    if str(data.get("degraded_after_ms") or "").strip():
        values["degraded_after_ms"] = form.check(v.whole_number, "degraded_after_ms", data.get("degraded_after_ms"),
                                                 minimum=1, maximum=120_000, label="Slow after (ms)")
    for field in ("checks", "soft_checks"):
        if len(values[field]) > 20:
            form.add(field, "At most 20 checks.")
    values["options"] = _options(kind, data, form)
    if not form.errors and touchpoint.url:
        for field, message in probes.check(spec_from(values, touchpoint.url)).items():
            form.add(field, message)
    form.raise_if_errors()
    return values


def spec_from(values: Mapping[str, Any], url: str, region: str = "") -> ProbeSpec:
    """``region``: the practice's country, for reading phone numbers on the page."""
    return ProbeSpec(kind=values["kind"], url=url, checks=tuple(values["checks"]),
                     soft_checks=tuple(values["soft_checks"]), timeout_seconds=float(values["timeout_seconds"]),
                     degraded_after_ms=values["degraded_after_ms"], options=dict(values["options"]), region=region)


def spec_of(probe: Probe, url: str, region: str = "") -> ProbeSpec:
    return ProbeSpec(kind=probe.kind, url=url, checks=tuple(probe.checks or ()),
                     soft_checks=tuple(probe.soft_checks or ()), timeout_seconds=float(probe.timeout_seconds),
                     degraded_after_ms=probe.degraded_after_ms, options=dict(probe.options or {}), region=region)


def first_due(now: datetime, interval_seconds: int, rng: random.Random | None = None) -> datetime:
    """A new probe's first run lands at a random point of its first interval, so probes added together
    (an import, a restart) spread their load evenly instead of all running in the same second."""
    return now + timedelta(seconds=(rng or random).uniform(0, interval_seconds))


def save_probe(session: Any, now: datetime, touchpoint: Touchpoint, actor: User | str, data: Mapping[str, Any],
               *, rng: random.Random | None = None) -> Probe:
    values = clean(touchpoint, data)
    probe = touchpoint.probe
    if probe is None:
        probe = Probe(practice_id=touchpoint.practice_id, touchpoint_id=touchpoint.id, created_at=now,
                      next_due_at=first_due(now, values["interval_seconds"], rng), **values)
        session.add(probe)
        touchpoint.probe = probe
        verb = "Set up"
    else:
        if probe.enabled and not values["enabled"]:
            # A paused probe learns nothing more, so an open incident would otherwise run on forever.
            _close_open_incidents(session, now, touchpoint, probe)
        # An interval change takes effect at the next run: the stored next-due time stays as it is.
        for name, value in values.items():
            setattr(probe, name, value)
        verb = "Changed"
    probe.updated_at = now
    session.flush()
    audit.record(session, now, touchpoint.practice_id, actor, "probe.saved", "touchpoint", touchpoint.id,
                 f"{verb} the {probe.kind} probe of {touchpoint.name} ({touchpoint.partner.name})")
    return probe


def _close_open_incidents(session: Any, now: datetime, touchpoint: Touchpoint, probe: Probe) -> None:
    hours = BusinessHours.of(touchpoint.partner.practice)
    for incident_id in (probe.open_down_incident_id, probe.open_degraded_incident_id):
        incident = session.get(Incident, incident_id) if incident_id is not None else None
        if incident is not None and incident.resolved_at is None:
            close_incident(incident, now, hours)
            webhook_events.incident_resolved(session, now, incident)
    probe.open_down_incident_id = probe.open_degraded_incident_id = None
    # The runs start afresh when the probe comes back.
    probe.down_run = probe.working_run = probe.degraded_run = probe.healthy_run = 0
    probe.down_run_since = probe.working_run_since = probe.degraded_run_since = probe.healthy_run_since = None


def delete_probe(session: Any, now: datetime, touchpoint: Touchpoint, actor: User | str) -> None:
    if touchpoint.probe is None:
        raise ValidationError({"probe": "This touchpoint has no probe."})
    probe = touchpoint.probe
    # Nothing will ever clear an open incident once its probe is gone: close it now, so it does not
    # stay "ongoing" forever (and a new probe starts from a clean slate).
    _close_open_incidents(session, now, touchpoint, probe)
    audit.record(session, now, touchpoint.practice_id, actor, "probe.deleted", "touchpoint", touchpoint.id,
                 f"Removed the probe of {touchpoint.name} ({touchpoint.partner.name}); its results are kept")
    session.delete(probe)
    touchpoint.probe = None


def describe_interval(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"every {hours} hour{'s' if hours != 1 else ''}"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"every {minutes} minute{'s' if minutes != 1 else ''}"
    return f"every {seconds} seconds"


__all__ = ["clean", "delete_probe", "describe_interval", "first_due", "save_probe", "spec_from", "spec_of"]
