"""What the pages show about monitoring: each touchpoint's state now, its recent checks and incidents,
and a practice-wide count of what is up or down.

Read-only functions of ``(session, now, ...)``; nothing here writes or commits. Every query is scoped to
the practice of the objects passed in, and availability comes from rollups, never from raw results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from partnermon.models import Incident, MaintenanceWindow, Partner, Probe, ProbeResult, Touchpoint
from partnermon.monitoring import incidents as incident_rules
from partnermon.monitoring.rollups import Counts, counts_between
from partnermon.practices.business_hours import BusinessHours

RECENT_RESULTS = 50
RECENT_INCIDENTS = 20

# A touchpoint's state at a glance, worst first (the order problem lists use). "Up" is only said of a probe that
# is running on schedule: a probe whose checks stopped coming is "late", whatever its last check found. A
# touchpoint without a web address is "feedback only" (not "offline", which reads as "down").
STATE_LABELS = {
    "down": "Down",
    "degraded": "Degraded",
    "late": "Not checked on schedule",
    "up": "Up",
    "waiting": "Waiting for first check",
    "paused": "Paused",
    "not_probed": "Not probed",
    "feedback_only": "Feedback only",
}
PROBLEM_STATES = ("down", "degraded")
# States a practice should be told about by name on the home page, each with what it means.
NAMED_STATES = ("late", "waiting", "paused", "not_probed", "feedback_only")
# How long past its due time a probe may be before it counts as not running: the worker claims due probes every
# few seconds, so a probe an interval (and at least ten minutes) overdue is not being run.
LATE_AFTER = timedelta(minutes=10)
NAMED_LIMIT = 8         # touchpoints named per state on the home page; the rest are counted


@dataclass(frozen=True)
class TouchpointState:
    touchpoint: Touchpoint
    state: str                          # a key of STATE_LABELS
    last_checked_at: datetime | None = None
    last_error: str | None = None
    next_due_at: datetime | None = None
    open_incident: Incident | None = None
    availability_24h: float | None = None
    in_maintenance: bool = False

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def is_problem(self) -> bool:
        return self.state in PROBLEM_STATES


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    seconds_total: int
    seconds_in_business_hours: int

    @property
    def seconds_outside_business_hours(self) -> int:
        return max(self.seconds_total - self.seconds_in_business_hours, 0)


@dataclass
class PracticeSummary:
    counts: dict[str, int]               # state -> number of touchpoints
    problems: list[tuple[Touchpoint, Probe]]
    named: dict[str, list[Touchpoint]]   # a few touchpoints of each of NAMED_STATES, to link to

    @property
    def probed(self) -> int:
        """Touchpoints with a probe, running or not."""
        return sum(n for state, n in self.counts.items() if state not in ("not_probed", "feedback_only"))

    @property
    def running(self) -> int:
        """Touchpoints whose probe ran on schedule: the only ones "working" or "down" can be said of."""
        return sum(self.counts[state] for state in ("down", "degraded", "up"))

    @property
    def working(self) -> int:
        return self.counts["up"]


def is_late(probe: Probe, now: datetime) -> bool:
    """An enabled probe whose next check is overdue by more than an interval (and ``LATE_AFTER``)."""
    grace = max(timedelta(seconds=probe.interval_seconds), LATE_AFTER)
    return probe.enabled and probe.next_due_at is not None and probe.next_due_at < now - grace


def state_of(touchpoint: Touchpoint, probe: Probe | None, now: datetime | None = None) -> str:
    """The touchpoint's state; with ``now``, a probe that found it up but has stopped running is "late"
    (what it found then is not what is true now). Down and degraded stay: they need attention either way."""
    if probe is None:
        return "not_probed" if touchpoint.url else "feedback_only"
    if not probe.enabled:
        return "paused"
    if probe.state in PROBLEM_STATES:
        return probe.state
    if now is not None and is_late(probe, now):
        return "late"
    return "up" if probe.state == "up" else "waiting"


def states_of(session: Session, now: datetime, touchpoints: Iterable[Touchpoint]) -> dict[int, TouchpointState]:
    """The state of each touchpoint (all of one practice), in a fixed handful of queries however many."""
    touchpoints = list(touchpoints)
    if not touchpoints:
        return {}
    practice_id = touchpoints[0].practice_id
    assert all(t.practice_id == practice_id for t in touchpoints), "states_of is for one practice at a time"
    ids = [t.id for t in touchpoints]
    probes = {p.touchpoint_id: p for p in session.scalars(
        select(Probe).where(Probe.practice_id == practice_id, Probe.touchpoint_id.in_(ids)))}
    open_incidents: dict[int, Incident] = {}
    for incident in session.scalars(select(Incident).where(
            Incident.practice_id == practice_id, Incident.touchpoint_id.in_(ids), Incident.resolved_at.is_(None))
            .order_by(Incident.started_at)):
        current = open_incidents.get(incident.touchpoint_id)
        if current is None or current.kind != "down":  # an outage outranks a degraded period
            open_incidents[incident.touchpoint_id] = incident
    availability = counts_between(session, ids, now - timedelta(hours=24), now + timedelta(hours=1))
    windows = list(session.scalars(select(MaintenanceWindow).where(
        MaintenanceWindow.practice_id == practice_id,
        MaintenanceWindow.partner_id.in_({t.partner_id for t in touchpoints}),
        MaintenanceWindow.starts_at <= now, MaintenanceWindow.ends_at > now)))
    states = {}
    for touchpoint in touchpoints:
        probe = probes.get(touchpoint.id)
        states[touchpoint.id] = TouchpointState(
            touchpoint=touchpoint,
            state=state_of(touchpoint, probe, now),
            last_checked_at=probe.last_checked_at if probe else None,
            last_error=probe.last_error if probe else None,
            next_due_at=probe.next_due_at if probe and probe.enabled else None,
            open_incident=open_incidents.get(touchpoint.id),
            availability_24h=availability[touchpoint.id].availability,
            in_maintenance=incident_rules.covered(windows, touchpoint.partner_id, touchpoint.id, now),
        )
    return states


def partner_states(session: Session, now: datetime, partner: Partner) -> dict[int, TouchpointState]:
    return states_of(session, now, partner.touchpoints)


def recent_results(session: Session, touchpoint: Touchpoint, limit: int = RECENT_RESULTS) -> list[ProbeResult]:
    """The touchpoint's latest checks, newest first."""
    return list(session.scalars(
        select(ProbeResult)
        .where(ProbeResult.practice_id == touchpoint.practice_id, ProbeResult.touchpoint_id == touchpoint.id)
        .order_by(ProbeResult.started_at.desc(), ProbeResult.id.desc())
        .limit(limit)
    ))


def why_no_results(touchpoint: Touchpoint, probe: Probe | None, windows: list[tuple[str, Counts]], now: datetime,
                   retention_days: int, *, is_demo: bool = False) -> str | None:
    """When a touchpoint has no raw results to list but its summaries count checks, why: so the page does not say
    "8,448 checks in 30 days" and then "no checks yet". None when the summaries count none either."""
    counted = max((counts.checks + counts.maintenance for _, counts in windows), default=0)
    if not counted:
        return None
    summaries = f"The {counted:,} checks counted above come from hourly and daily summaries"
    if is_demo:
        return (f"{summaries}: this demo practice's history was made as summaries, and its probes are paused, "
                "so there are no individual checks to list.")
    last = probe.last_checked_at if probe is not None else None
    if last is not None and last < now - timedelta(days=retention_days):
        return (f"{summaries}. Individual checks are kept {retention_days} days, and the last one was more than "
                f"{retention_days} days ago.")
    return (f"{summaries}; the individual checks behind them are no longer stored (they are kept {retention_days} "
            "days, or were removed with the probe).")


def incidents_of(session: Session, now: datetime, touchpoint: Touchpoint, hours: BusinessHours,
                 limit: int = RECENT_INCIDENTS) -> list[IncidentView]:
    """Open incidents first, then the latest ``limit`` resolved ones, each with its duration split into
    business hours and the rest (an open one's up to ``now``)."""
    scoped = select(Incident).where(Incident.practice_id == touchpoint.practice_id,
                                    Incident.touchpoint_id == touchpoint.id)
    open_ones = session.scalars(scoped.where(Incident.resolved_at.is_(None))
                                .order_by(Incident.started_at.desc(), Incident.id.desc()))
    resolved = session.scalars(scoped.where(Incident.resolved_at.is_not(None))
                               .order_by(Incident.started_at.desc(), Incident.id.desc()).limit(limit))
    return [IncidentView(incident, *incident_rules.durations(incident, now, hours))
            for incident in [*open_ones, *resolved]]


def practice_summary(session: Session, now: datetime, practice_id: int, *, problem_limit: int = 10) -> PracticeSummary:
    """How many of the practice's touchpoints are in each state, which ones are down or degraded, and the first
    few (by partner and name) that are paused, late, not probed or feedback only."""
    rows = session.execute(
        select(Touchpoint, Probe).outerjoin(Probe, Probe.touchpoint_id == Touchpoint.id)
        .where(Touchpoint.practice_id == practice_id).options(joinedload(Touchpoint.partner))
    ).all()
    counts = {state: 0 for state in STATE_LABELS}
    problems: list[tuple[Touchpoint, Probe]] = []
    named: dict[str, list[Touchpoint]] = {state: [] for state in NAMED_STATES}
    for touchpoint, probe in sorted(rows, key=lambda row: (row[0].partner.name.lower(), row[0].name.lower())):
        state = state_of(touchpoint, probe, now)
        counts[state] += 1
        if state in PROBLEM_STATES:
            problems.append((touchpoint, probe))
        elif state in named and len(named[state]) < NAMED_LIMIT:
            named[state].append(touchpoint)
    problems.sort(key=lambda pair: PROBLEM_STATES.index(pair[1].state))    # stable: by partner and name within
    return PracticeSummary(counts, problems[:problem_limit], named)


# --- wording shared by pages ----------------------------------------------------------------------------

def describe_duration(seconds: int | float | None) -> str:
    """3 d 4 h, 2 h 5 min, 12 min, 40 s: two units at most, rounded down, as people read outage lengths."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days:
        rest = hours - days * 24
        return f"{days} d" + (f" {rest} h" if rest else "")
    if hours:
        rest = minutes - hours * 60
        return f"{hours} h" + (f" {rest} min" if rest else "")
    return f"{minutes} min"


def describe_availability(share: float | None) -> str:
    """99.95% — truncated, not rounded, so a touchpoint that failed at all never shows 100%."""
    if share is None:
        return "—"
    if share >= 1:
        return "100%"
    return f"{math.floor(share * 10000) / 100:.2f}%"


def describe_wait(seconds: float) -> str:
    """How long until something happens, rounded up: "a minute", "4 minutes", "2 hours"."""
    minutes = max(math.ceil(seconds / 60), 1)
    if minutes == 1:
        return "a minute"
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"


__all__ = ["IncidentView", "NAMED_STATES", "PracticeSummary", "STATE_LABELS", "is_late", "TouchpointState", "describe_availability",
           "describe_duration", "describe_wait", "incidents_of", "why_no_results", "partner_states", "practice_summary",
           "recent_results", "state_of", "states_of"]
