"""Hourly and daily rollups, availability and percentiles from them, and retention of raw results."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon.models import DailyRollup, HourlyRollup, ProbeResult
from partnermon.models.monitoring import HISTOGRAM_SIZE, latency_bucket
from partnermon.monitoring import rollups
from tests.conftest import NOW
from tests.factories import Cast

H = timedelta(hours=1)


def add_result(session: Session, cast: Cast, at: datetime, outcome: str, total_ms: float | None = 100.0, *,
               in_bh: bool = True, maintenance: bool = False) -> None:
    session.add(ProbeResult(
        practice_id=cast.harbour.id, touchpoint_id=cast.acme_claims.id, due_at=at, started_at=at, outcome=outcome,
        total_ms=total_ms, latency_bucket=latency_bucket(total_ms) if outcome != "down" else None,
        in_business_hours=in_bh, in_maintenance=maintenance, failed_checks=[], details={}))


def test_it_counts_outcomes_per_hour_with_business_hours_and_maintenance_apart(session: Session, cast: Cast) -> None:
    for minute, outcome in enumerate(["up", "up", "degraded", "down"]):
        add_result(session, cast, NOW + timedelta(minutes=minute), outcome)
    add_result(session, cast, NOW + timedelta(minutes=10), "down", maintenance=True)
    add_result(session, cast, NOW + H, "up", in_bh=False)
    session.commit()
    assert rollups.roll_up(session, NOW + 2 * H) >= 2
    ten, eleven = session.scalars(select(HourlyRollup).order_by(HourlyRollup.hour)).all()
    assert (ten.hour, ten.up, ten.degraded, ten.down, ten.maintenance) == (NOW, 2, 1, 1, 1)
    assert (ten.bh_up, ten.bh_degraded, ten.bh_down) == (2, 1, 1)
    assert sum(ten.histogram) == 3  # up and degraded runs with a time; downs and maintenance are not timed
    assert (eleven.up, eleven.bh_up) == (1, 0)


def test_running_it_again_gives_the_same_rollups_and_picks_up_late_results(session: Session, cast: Cast) -> None:
    add_result(session, cast, NOW, "up")
    session.commit()
    rollups.roll_up(session, NOW + timedelta(minutes=30))
    add_result(session, cast, NOW + timedelta(minutes=59), "down")   # recorded after the first roll-up
    session.commit()
    rollups.roll_up(session, NOW + timedelta(minutes=61))
    rollups.roll_up(session, NOW + timedelta(minutes=62))
    hourly = session.scalars(select(HourlyRollup)).one()
    assert (hourly.up, hourly.down) == (1, 1)


def test_daily_rollups_sum_the_hours_of_the_practices_local_day(session: Session, cast: Cast) -> None:
    cast.harbour.timezone = "Australia/Sydney"   # UTC+11 in November
    add_result(session, cast, datetime(2026, 11, 23, 12, 30, tzinfo=NOW.tzinfo), "up")   # 23:30 on the 23rd
    add_result(session, cast, datetime(2026, 11, 23, 13, 30, tzinfo=NOW.tzinfo), "down")  # 00:30 on the 24th
    session.commit()
    rollups.roll_up(session, datetime(2026, 11, 23, 14, 0, tzinfo=NOW.tzinfo))
    days = {d.day: d for d in session.scalars(select(DailyRollup))}
    assert (days[date(2026, 11, 23)].up, days[date(2026, 11, 23)].down) == (1, 0)
    assert (days[date(2026, 11, 24)].up, days[date(2026, 11, 24)].down) == (0, 1)


def test_percentiles_merge_across_hours_from_the_histograms(session: Session, cast: Cast) -> None:
    # 90 fast checks in one hour and 10 slow ones in the next: p50 is fast, p95 is slow.
    for i in range(90):
        add_result(session, cast, NOW + timedelta(seconds=30 * i), "up", 80.0)
    for i in range(10):
        add_result(session, cast, NOW + H + timedelta(seconds=30 * i), "up", 2500.0)
    session.commit()
    rollups.roll_up(session, NOW + 3 * H)
    counts = rollups.counts_between(session, [cast.acme_claims.id], NOW, NOW + 3 * H)[cast.acme_claims.id]
    assert counts.checks == 100 and counts.availability == 1.0
    assert 75 < counts.percentile(0.5) <= 100      # the 75–100 ms bucket
    assert 2000 < counts.percentile(0.95) <= 3000   # the 2–3 s bucket


def test_availability_counts_degraded_as_working_and_leaves_maintenance_out(session: Session, cast: Cast) -> None:
    for outcome in ["up", "degraded", "down", "down"]:
        add_result(session, cast, NOW, outcome)
    add_result(session, cast, NOW, "down", maintenance=True)
    session.commit()
    rollups.roll_up(session, NOW + H)
    ((label, day),) = rollups.touchpoint_windows(session, cast.acme_claims.id, NOW + H)[:1]
    assert label == "24 hours"
    assert day.checks == 4 and day.availability == 0.5


def test_a_histogram_has_a_bucket_for_everything_slower_than_the_last_edge() -> None:
    assert latency_bucket(10) == 0
    assert latency_bucket(100_000) == HISTOGRAM_SIZE - 1
    assert latency_bucket(None) is None
    assert rollups.percentile([0] * HISTOGRAM_SIZE, 0.95) is None


def test_retention_removes_old_raw_results_but_keeps_daily_rollups(session: Session, cast: Cast) -> None:
    old = NOW - timedelta(days=100)
    add_result(session, cast, old, "up")
    add_result(session, cast, NOW, "up")
    session.commit()
    rollups.roll_up(session, NOW + H)
    removed = rollups.prune_results(session, NOW + H, retention_days=90)
    assert removed == 1
    assert session.scalar(select(func.count()).select_from(ProbeResult)) == 1
    assert session.scalar(select(func.count()).select_from(HourlyRollup)) == 1
    assert session.scalar(select(func.count()).select_from(DailyRollup)) == 2
