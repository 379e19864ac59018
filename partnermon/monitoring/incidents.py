"""Incidents: opened after ``failure_threshold`` consecutive downs, resolved after ``success_threshold``
results that are not down. Degraded periods are tracked the same way, apart from outages.

An incident starts at the first failing check of the run that confirmed it and ends at the first good
check of the run that cleared it, so its duration is what a client lived through, not what the
thresholds added. Durations are split into the practice's business hours and the rest.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from partnermon.models import Incident, MaintenanceWindow, Probe
from partnermon.practices.business_hours import BusinessHours
from partnermon.webhooks import events as webhook_events


def maintenance_lookup(session: Session, practice_ids: set[int], start: datetime, end: datetime
                       ) -> list[MaintenanceWindow]:
    """Every window of these practices overlapping [start, end]: one query for a whole batch of results."""
    if not practice_ids:
        return []
    return list(session.scalars(select(MaintenanceWindow).where(
        MaintenanceWindow.practice_id.in_(practice_ids),
        and_(MaintenanceWindow.starts_at <= end, MaintenanceWindow.ends_at > start))))


def covered(windows: list[MaintenanceWindow], partner_id: int, touchpoint_id: int, at: datetime) -> bool:
    return any(w.partner_id == partner_id and w.touchpoint_id in (None, touchpoint_id)
               and w.starts_at <= at < w.ends_at for w in windows)


def close_incident(incident: Incident, at: datetime, hours: BusinessHours) -> None:
    end = max(at, incident.started_at)
    incident.resolved_at = end
    incident.notice_due_at = end   # news for alerts.incidents to tell (or decide not to)
    incident.seconds_total = int((end - incident.started_at).total_seconds())
    incident.seconds_in_business_hours = hours.seconds_within(incident.started_at, end)


def durations(incident: Incident, now: datetime, hours: BusinessHours) -> tuple[int, int]:
    """(seconds in all, seconds in business hours) — up to now for an open incident."""
    if incident.resolved_at is not None and incident.seconds_total is not None:
        return incident.seconds_total, incident.seconds_in_business_hours or 0
    end = max(now, incident.started_at)
    return int((end - incident.started_at).total_seconds()), hours.seconds_within(incident.started_at, end)


def apply_outcome(session: Session, probe: Probe, outcome: str, at: datetime, error: str | None,
                  maintenance: bool, hours: BusinessHours) -> list[Incident]:
    """Count ``outcome`` into the probe's runs; open or resolve incidents. Returns incidents that changed."""
    changed: list[Incident] = []
    probe.state = outcome

    # Outages: down versus working (up or degraded: the page answers, so the outage is over).
    if outcome == "down":
        probe.down_run, probe.down_run_since = probe.down_run + 1, probe.down_run_since if probe.down_run else at
        probe.working_run, probe.working_run_since = 0, None
    else:
        probe.working_run = probe.working_run + 1
        probe.working_run_since = probe.working_run_since if probe.working_run > 1 else at
        probe.down_run, probe.down_run_since = 0, None
    changed += _track(session, probe, "down", outcome == "down", probe.down_run, probe.down_run_since,
                      probe.working_run, probe.working_run_since, at, error, maintenance, hours)

    # Degraded periods: degraded versus anything else.
    if outcome == "degraded":
        probe.degraded_run = probe.degraded_run + 1
        probe.degraded_run_since = probe.degraded_run_since if probe.degraded_run > 1 else at
        probe.healthy_run, probe.healthy_run_since = 0, None
    else:
        probe.healthy_run = probe.healthy_run + 1
        probe.healthy_run_since = probe.healthy_run_since if probe.healthy_run > 1 else at
        probe.degraded_run, probe.degraded_run_since = 0, None
    changed += _track(session, probe, "degraded", outcome == "degraded", probe.degraded_run,
                      probe.degraded_run_since, probe.healthy_run, probe.healthy_run_since, at, error,
                      maintenance, hours)
    return changed


def _track(session: Session, probe: Probe, kind: str, failing: bool, bad_run: int, bad_since: datetime | None,
           good_run: int, good_since: datetime | None, at: datetime, error: str | None, maintenance: bool,
           hours: BusinessHours) -> list[Incident]:
    attribute = f"open_{kind}_incident_id"
    incident_id = getattr(probe, attribute)
    incident = session.get(Incident, incident_id) if incident_id is not None else None
    if failing:
        if incident is not None:
            incident.last_error = error
            incident.in_maintenance = incident.in_maintenance or maintenance
            return [incident]
        if bad_run >= probe.failure_threshold:
            incident = Incident(practice_id=probe.practice_id, touchpoint_id=probe.touchpoint_id, kind=kind,
                                started_at=bad_since or at, first_error=error, last_error=error,
                                in_maintenance=maintenance, notice_due_at=at)
            session.add(incident)
            session.flush()
            setattr(probe, attribute, incident.id)
            webhook_events.incident_opened(session, at, incident)
            return [incident]
        return []
    if incident is not None and good_run >= probe.success_threshold:
        close_incident(incident, good_since or at, hours)
        setattr(probe, attribute, None)
        webhook_events.incident_resolved(session, at, incident)
        return [incident]
    return []
