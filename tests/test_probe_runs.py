"""Claiming, recording and scheduling probe runs; incidents by thresholds with a controlled clock."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon.models import Incident, MaintenanceWindow, Probe, ProbeResult
from partnermon.monitoring.runs import ClaimedProbe, FinishedRun, claim_due, next_due, record
from partnermon.partners import probe_settings
from partnermon.runtime import Runtime
from probes.spec import Finding, Timings
from tests.conftest import NOW
from tests.factories import Cast

S = timedelta(seconds=1)


def make_probe(session: Session, cast: Cast, **fields: object) -> Probe:
    data = {"kind": "http", "interval_seconds": "60", **{k: str(v) for k, v in fields.items()}}
    probe = probe_settings.save_probe(session, NOW, cast.acme_claims, "test", data, rng=random.Random(1))
    probe.next_due_at = NOW
    session.commit()
    return probe


def finish(claim: ClaimedProbe, at: datetime, outcome: str = "up", error: str | None = None) -> FinishedRun:
    finding = Finding(outcome=outcome, error=error, status=200 if outcome != "down" else 503,  # type: ignore[arg-type]
                      timings=Timings(total_ms=120.0))
    return FinishedRun(claim, at, finding)


def cycle(session: Session, at: datetime, outcome: str, worker: str = "w1", error: str | None = None) -> None:
    """Claim the probe as due at ``at``, and record ``outcome`` for it."""
    probe = session.scalars(select(Probe)).one()
    probe.next_due_at = at
    session.commit()
    (claim,) = claim_due(session, at, worker_id=worker, limit=10)
    record(session, at, worker, [finish(claim, at, outcome, error)])


def test_a_new_probe_is_first_due_somewhere_within_its_first_interval(session: Session, cast: Cast) -> None:
    dues = []
    for seed in range(20):
        due = probe_settings.first_due(NOW, 300, random.Random(seed))
        assert NOW <= due <= NOW + timedelta(seconds=300)
        dues.append(due)
    # Spread out, not bunched: the earliest and latest of 20 are far apart.
    assert max(dues) - min(dues) > timedelta(seconds=150)


def test_it_claims_only_due_enabled_probes_and_not_twice(session: Session, cast: Cast) -> None:
    probe = make_probe(session, cast)
    assert claim_due(session, NOW - S, worker_id="w1", limit=10) == []
    (claim,) = claim_due(session, NOW, worker_id="w1", limit=10)
    assert claim.probe_id == probe.id and claim.due_at == NOW
    assert claim.spec.url == "https://claims.acme.test/"
    assert claim_due(session, NOW + S, worker_id="w2", limit=10) == []
    probe.enabled = False
    probe.lease_until = None
    session.commit()
    assert claim_due(session, NOW + S, worker_id="w2", limit=10) == []


def test_a_dead_workers_claim_is_taken_over_after_its_lease(session: Session, cast: Cast) -> None:
    make_probe(session, cast)
    (first,) = claim_due(session, NOW, worker_id="dead", limit=10, lease_seconds=60)
    assert claim_due(session, NOW + 59 * S, worker_id="w2", limit=10) == []
    (second,) = claim_due(session, NOW + 61 * S, worker_id="w2", limit=10)
    assert second.probe_id == first.probe_id and second.due_at == NOW


def test_recording_stores_the_result_advances_the_schedule_and_releases_the_claim(session: Session, cast: Cast) -> None:
    probe = make_probe(session, cast)
    (claim,) = claim_due(session, NOW, worker_id="w1", limit=10)
    report = record(session, NOW + 2 * S, "w1", [finish(claim, NOW + S)])
    assert report.recorded == 1
    session.refresh(probe)
    assert probe.next_due_at == NOW + timedelta(seconds=60)
    assert probe.claimed_by is None and probe.lease_until is None
    assert probe.state == "up" and probe.last_checked_at == NOW + S
    result = session.scalars(select(ProbeResult)).one()
    assert (result.outcome, result.status_code, result.due_at, result.started_at) == ("up", 200, NOW, NOW + S)
    assert result.in_business_hours  # Monday 10:00 in London


def test_a_result_from_a_worker_that_lost_its_claim_is_discarded(session: Session, cast: Cast) -> None:
    make_probe(session, cast)
    (slow,) = claim_due(session, NOW, worker_id="slow", limit=10, lease_seconds=60)
    (taken,) = claim_due(session, NOW + 61 * S, worker_id="fast", limit=10)
    assert record(session, NOW + 62 * S, "fast", [finish(taken, NOW + 61 * S)]).recorded == 1
    # The slow worker comes back with a result for the same due time: it must not count twice.
    late = record(session, NOW + 90 * S, "slow", [finish(slow, NOW + S)])
    assert (late.recorded, late.discarded) == (0, 1)
    assert session.scalar(select(func.count()).select_from(ProbeResult)) == 1


def test_an_interval_change_takes_effect_at_the_next_run(session: Session, cast: Cast) -> None:
    probe = make_probe(session, cast)
    (claim,) = claim_due(session, NOW, worker_id="w1", limit=10)
    probe_settings.save_probe(session, NOW, cast.acme_claims, "test", {"kind": "http", "interval_seconds": "600"})
    session.commit()
    assert probe.next_due_at == NOW  # unchanged by the edit
    record(session, NOW + S, "w1", [finish(claim, NOW + S)])
    session.refresh(probe)
    assert probe.next_due_at == NOW + timedelta(seconds=600)


def test_missed_runs_are_skipped_keeping_the_probes_place_in_the_cycle() -> None:
    due = NOW
    assert next_due(due, 60, NOW + 5 * S) == NOW + 60 * S
    # A worker outage of 10.5 minutes: the next run is the next slot of the same cycle, not ten at once.
    assert next_due(due, 60, NOW + timedelta(seconds=630)) == NOW + timedelta(seconds=660)


def test_an_incident_opens_after_the_failure_threshold_and_starts_at_the_first_failure(session: Session,
                                                                                        cast: Cast) -> None:
    make_probe(session, cast, failure_threshold=3, success_threshold=2)
    cycle(session, NOW, "down", error="HTTP 503")
    cycle(session, NOW + 60 * S, "down", error="HTTP 503")
    assert session.scalar(select(func.count()).select_from(Incident)) == 0
    cycle(session, NOW + 120 * S, "down", error="HTTP 502")
    incident = session.scalars(select(Incident)).one()
    assert (incident.kind, incident.started_at, incident.resolved_at) == ("down", NOW, None)
    assert incident.first_error == incident.last_error == "HTTP 502"  # the error that confirmed it
    cycle(session, NOW + 180 * S, "down", error="Timed out")
    session.refresh(incident)
    assert (incident.first_error, incident.last_error) == ("HTTP 502", "Timed out")


def test_a_single_failure_between_successes_opens_nothing(session: Session, cast: Cast) -> None:
    make_probe(session, cast)
    for i, outcome in enumerate(["up", "down", "up", "down", "up"]):
        cycle(session, NOW + i * 60 * S, outcome)
    assert session.scalar(select(func.count()).select_from(Incident)) == 0


def test_an_incident_resolves_after_the_success_threshold_at_the_first_success(session: Session, cast: Cast) -> None:
    make_probe(session, cast, failure_threshold=2, success_threshold=2)
    outcomes = ["down", "down", "down", "up", "down", "up", "up", "up"]
    for i, outcome in enumerate(outcomes):
        cycle(session, NOW + i * 60 * S, outcome)
    incident = session.scalars(select(Incident)).one()
    # Ups at minutes 5 and 6 resolve it, from minute 5; the lone up at minute 3 did not.
    assert incident.resolved_at == NOW + 5 * 60 * S
    assert incident.seconds_total == 300
    assert incident.seconds_in_business_hours == 300


def test_incident_duration_is_split_into_business_hours_and_the_rest(session: Session, cast: Cast) -> None:
    make_probe(session, cast, failure_threshold=1, success_threshold=1)
    friday_5pm = datetime(2026, 11, 27, 17, 0, tzinfo=NOW.tzinfo)
    cycle(session, friday_5pm, "down")
    cycle(session, friday_5pm + timedelta(hours=2), "up")
    incident = session.scalars(select(Incident)).one()
    assert incident.seconds_total == 2 * 3600
    assert incident.seconds_in_business_hours == 30 * 60  # 17:00–17:30 only


def test_degraded_periods_are_recorded_apart_from_outages(session: Session, cast: Cast) -> None:
    make_probe(session, cast, failure_threshold=2, success_threshold=1)
    for i, outcome in enumerate(["degraded", "degraded", "degraded", "up"]):
        cycle(session, NOW + i * 60 * S, outcome)
    incident = session.scalars(select(Incident)).one()
    assert incident.kind == "degraded"
    assert (incident.started_at, incident.resolved_at) == (NOW, NOW + 180 * S)


def test_a_slow_page_ends_an_outage_because_it_works_again(session: Session, cast: Cast) -> None:
    make_probe(session, cast, failure_threshold=1, success_threshold=1)
    cycle(session, NOW, "down")
    cycle(session, NOW + 60 * S, "degraded")
    down = session.scalars(select(Incident).where(Incident.kind == "down")).one()
    assert down.resolved_at == NOW + 60 * S


def test_an_incident_during_a_maintenance_window_is_marked_as_such(session: Session, cast: Cast) -> None:
    make_probe(session, cast, failure_threshold=1, success_threshold=1)
    session.add(MaintenanceWindow(practice_id=cast.harbour.id, partner_id=cast.acme.id, starts_at=NOW - S,
                                  ends_at=NOW + timedelta(hours=1), note="Portal upgrade", created_at=NOW))
    session.commit()
    cycle(session, NOW, "down")
    incident = session.scalars(select(Incident)).one()
    assert incident.in_maintenance
    assert session.scalars(select(ProbeResult)).one().in_maintenance


def test_another_partners_maintenance_window_does_not_cover_this_touchpoint(session: Session, cast: Cast) -> None:
    make_probe(session, cast, failure_threshold=1)
    other = cast.acme.__class__(practice_id=cast.harbour.id, name="Other Insurer", created_at=NOW)
    session.add(other)
    session.flush()
    session.add(MaintenanceWindow(practice_id=cast.harbour.id, partner_id=other.id, starts_at=NOW - S,
                                  ends_at=NOW + timedelta(hours=1), created_at=NOW))
    session.commit()
    cycle(session, NOW, "down")
    assert not session.scalars(select(Incident)).one().in_maintenance


@pytest.mark.parametrize("field, value, message", [
    ("interval_seconds", "10", "between 30"),
    ("checks", "[STATUS] ==", "position"),
    ("kind", "ftp", "Choose one of"),
    ("failure_threshold", "0", "between 1"),
])
def test_bad_probe_settings_are_refused_with_the_field_and_nothing_is_saved(
        session: Session, cast: Cast, field: str, value: str, message: str) -> None:
    from partnermon.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        probe_settings.save_probe(session, NOW, cast.acme_claims, "test", {"kind": "http", field: value})
    assert message in refused.value.errors[field]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Probe)) == 0


def test_a_touchpoint_without_an_address_cannot_be_probed(session: Session, cast: Cast, runtime: Runtime) -> None:
    from partnermon.errors import ValidationError
    from tests.factories import touchpoint

    phone = touchpoint(session, NOW, cast.acme, "Phone line", "service", "")
    with pytest.raises(ValidationError) as refused:
        probe_settings.save_probe(session, NOW, phone, "test", {"kind": "http"})
    assert "web address" in refused.value.errors["url"]


def test_removing_a_probe_closes_its_open_incident(session: Session, cast: Cast) -> None:
    make_probe(session, cast, failure_threshold=1)
    cycle(session, NOW, "down")
    probe_settings.delete_probe(session, NOW + 600 * S, cast.acme_claims, "test")
    session.commit()
    incident = session.scalars(select(Incident)).one()
    assert incident.resolved_at == NOW + 600 * S and incident.seconds_total == 600
    assert session.scalars(select(Probe)).all() == []


def test_pausing_a_probe_closes_its_open_incident_and_starts_its_runs_afresh(session: Session, cast: Cast) -> None:
    probe = make_probe(session, cast, failure_threshold=1)
    cycle(session, NOW, "down")
    probe_settings.save_probe(session, NOW + 300 * S, cast.acme_claims, "test",
                              {"kind": "http", "interval_seconds": "60", "enabled": "0"})
    session.commit()
    incident = session.scalars(select(Incident)).one()
    assert incident.resolved_at == NOW + 300 * S
    assert (probe.enabled, probe.down_run, probe.open_down_incident_id) == (False, 0, None)
