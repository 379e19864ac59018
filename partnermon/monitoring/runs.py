"""Running probes: claim due ones, run them, record what they found (DESIGN.md §6).

A due probe is claimed with a lease, so any number of workers can share the work: a claimed probe is
run by one worker only, and the probe of a worker that died is taken over once its lease expires. A
result is recorded only while its worker still holds the claim for that due time, so a run is never
recorded twice, even if a slow worker comes back after another has taken its probe over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Callable

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

import probes
from partnermon import claims
from partnermon.models import Practice, Probe, ProbeResult, Touchpoint
from partnermon.models.monitoring import latency_bucket
from partnermon.monitoring.incidents import apply_outcome, covered, maintenance_lookup
from partnermon.monitoring.touchpoint_health import note_findings
from partnermon.partners.probe_settings import spec_of
from partnermon.practices.business_hours import BusinessHours
from probes.fetch import FetchPolicy
from probes.spec import Finding, ProbeSpec, excerpt

# Long enough for a batch of the slowest probes (30 s timeout) to run twice over in a busy pool.
LEASE_SECONDS = 150
MAX_FAILED_CHECKS, MAX_DETAILS_CHARS = 5, 4000


@dataclass(frozen=True)
class ClaimedProbe:
    probe_id: int
    practice_id: int
    partner_id: int
    touchpoint_id: int
    due_at: datetime
    spec: ProbeSpec


@dataclass(frozen=True)
class FinishedRun:
    claim: ClaimedProbe
    started_at: datetime
    finding: Finding


@dataclass
class RecordReport:
    recorded: int = 0
    discarded: int = 0   # the claim had been lost (lease expired and another worker took the probe)


def claim_due(session: Session, now: datetime, *, worker_id: str, limit: int,
              lease_seconds: int = LEASE_SECONDS) -> list[ClaimedProbe]:
    ids = claims.claim(session, Probe, now, worker_id=worker_id, lease_seconds=lease_seconds,
                       due=(Probe.enabled.is_(True)) & (Probe.next_due_at <= now), order_by=Probe.next_due_at,
                       limit=limit)
    # Read what was claimed in the same transaction, then commit: the claim and its details in one go.
    rows = session.execute(
        select(Probe, Touchpoint.url, Touchpoint.partner_id, Practice.country)
        .join(Touchpoint, Touchpoint.id == Probe.touchpoint_id).join(Practice, Practice.id == Probe.practice_id)
        .where(Probe.id.in_(ids)).execution_options(populate_existing=True)
    ).all() if ids else []
    claimed = [ClaimedProbe(probe.id, probe.practice_id, partner_id, probe.touchpoint_id, probe.next_due_at,
                            spec_of(probe, url or "", country)) for probe, url, partner_id, country in rows]
    session.commit()
    return sorted(claimed, key=lambda c: c.due_at)


def next_due(due_at: datetime, interval_seconds: int, now: datetime) -> datetime:
    """The next run keeps the probe's place in the cycle (its jitter); runs missed while workers were
    down or behind are skipped, not caught up in a burst."""
    interval = timedelta(seconds=interval_seconds)
    upcoming = due_at + interval
    if upcoming <= now:
        missed = (now - due_at) // interval
        upcoming = due_at + interval * (missed + 1)
    return upcoming


def policy_for(spec: ProbeSpec, base: FetchPolicy) -> FetchPolicy:
    return _with_timeout(base, spec.timeout_seconds)


@lru_cache(maxsize=64)
def _with_timeout(base: FetchPolicy, timeout: float) -> FetchPolicy:
    # Cached: building a policy re-parses its allowed networks, and a worker asks for one per run.
    return base.with_changes(total_timeout=timeout, read_timeout=timeout, connect_timeout=min(timeout, 5.0))


def run_claimed(claim: ClaimedProbe, base_policy: FetchPolicy, clock: Callable[[], datetime]) -> FinishedRun:
    started_at = clock()
    return FinishedRun(claim, started_at, probes.run(claim.spec, policy_for(claim.spec, base_policy), started_at))


def _bounded_details(details: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(details, default=str)) <= MAX_DETAILS_CHARS:
        return details
    # Keep the small, most useful keys; drop bulky ones (journey step lists, record lists) wholesale.
    kept = {k: v for k, v in details.items() if len(json.dumps(v, default=str)) < 400}
    kept["truncated_details"] = True
    return kept


def result_row(run: FinishedRun, in_business_hours: bool, in_maintenance: bool) -> dict[str, Any]:
    finding = run.finding
    timings = finding.timings
    return {
        "practice_id": run.claim.practice_id, "touchpoint_id": run.claim.touchpoint_id,
        "due_at": run.claim.due_at, "started_at": run.started_at, "outcome": finding.outcome,
        "status_code": finding.status, "dns_ms": timings.dns_ms, "connect_ms": timings.connect_ms,
        "tls_ms": timings.tls_ms, "first_byte_ms": timings.first_byte_ms, "total_ms": timings.total_ms,
        "latency_bucket": latency_bucket(timings.total_ms) if finding.outcome != "down" else None,
        "bytes_read": finding.bytes_read, "error": excerpt(finding.error) if finding.error else None,
        "failed_checks": [excerpt(text, 200) for text in finding.failed_checks[:MAX_FAILED_CHECKS]],
        "details": _bounded_details(finding.details), "in_business_hours": in_business_hours,
        "in_maintenance": in_maintenance,
    }


def record(session: Session, now: datetime, worker_id: str, runs: list[FinishedRun]) -> RecordReport:
    """Store a batch of finished runs in one transaction: results, next due times, incidents, and what the
    results say about certificates and human contact."""
    report = RecordReport()
    if not runs:
        return report
    # Locked in id order, the order in which the alerts jobs update probes, so neither waits on the other in a
    # circle (PostgreSQL).
    probes_by_id = {p.id: p for p in session.scalars(
        select(Probe).where(Probe.id.in_({r.claim.probe_id for r in runs})).order_by(Probe.id).with_for_update()
        .execution_options(populate_existing=True))}
    practice_ids = {r.claim.practice_id for r in runs}
    hours = {p.id: BusinessHours.of(p) for p in session.scalars(select(Practice).where(Practice.id.in_(practice_ids)))}
    windows = maintenance_lookup(session, practice_ids, min(r.started_at for r in runs), now)
    rows = []
    for run in sorted(runs, key=lambda r: r.started_at):
        probe = probes_by_id.get(run.claim.probe_id)
        if probe is None or probe.claimed_by != worker_id or probe.next_due_at != run.claim.due_at:
            report.discarded += 1
            continue
        practice_hours = hours[run.claim.practice_id]
        in_bh = practice_hours.contains(run.started_at)
        maintenance = covered(windows, run.claim.partner_id, run.claim.touchpoint_id, run.started_at)
        rows.append(result_row(run, in_bh, maintenance))
        finding = run.finding
        probe.last_checked_at = run.started_at
        probe.last_error = excerpt(finding.error) if finding.error else None
        probe.next_due_at = next_due(run.claim.due_at, probe.interval_seconds, now)
        probe.claimed_by, probe.lease_until = None, None
        apply_outcome(session, probe, finding.outcome, run.started_at, probe.last_error, maintenance, practice_hours)
        note_findings(probe, run.claim.spec, finding, run.started_at, maintenance)
        report.recorded += 1
    if rows:
        session.execute(insert(ProbeResult), rows)
    session.commit()
    return report


def run_due(session_factory: Callable[[], Session], clock: Callable[[], datetime], base_policy: FetchPolicy, *,
            worker_id: str, limit: int = 50) -> RecordReport:
    """One pass without threads: claim what is due, run it, record it. Tests and small setups use this."""
    with session_factory() as session:
        claimed = claim_due(session, clock(), worker_id=worker_id, limit=limit)
    runs = [run_claimed(claim, base_policy, clock) for claim in claimed]
    with session_factory() as session:
        return record(session, clock(), worker_id, runs)


def seconds_until_next_due(session: Session, now: datetime) -> float | None:
    # Probes already claimed (running now) are not waiting to be picked up; counting them would make an
    # idle worker spin while its own probes are in flight.
    earliest = session.scalar(select(func.min(Probe.next_due_at)).where(
        Probe.enabled.is_(True), or_(Probe.lease_until.is_(None), Probe.lease_until < now)))
    return None if earliest is None else max((earliest - now).total_seconds(), 0.0)


def try_probe(spec: ProbeSpec, base_policy: FetchPolicy, now: datetime) -> Finding:
    """The “Test now” button: run once with these settings and save nothing."""
    return probes.run(spec, policy_for(spec, base_policy), now)

