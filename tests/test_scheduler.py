"""The scheduler: its table of periodic jobs, housekeeping, and one active scheduler per database."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from partnermon import jobs, scheduler
from partnermon.accounts import service as accounts
from partnermon.models import SignInFailure
from tests.conftest import NOW


def test_every_periodic_job_is_scheduled_by_name(runtime):
    built = scheduler.build_scheduler(runtime)
    assert {job.id for job in built.get_jobs()} == {job.name for job in scheduler.PERIODIC_JOBS}
    assert "send-emails" in {job.id for job in built.get_jobs()}


def test_a_failing_job_is_logged_and_does_not_stop_the_schedule(runtime, caplog):
    def explode(_runtime):  # type: ignore[no-untyped-def]
        raise RuntimeError("database blip")

    run = scheduler._guarded(scheduler.PeriodicJob("explode", explode, seconds=1), runtime)
    with caplog.at_level(logging.ERROR):
        run()
    assert "periodic job explode failed" in caplog.text


def test_prune_forgets_failed_sign_ins_that_no_longer_count(cast, session, runtime):
    session.add_all([
        SignInFailure(email="old@x.test", ip="192.0.2.1", at=NOW - accounts.SIGN_IN_WINDOW - timedelta(seconds=1)),
        SignInFailure(email="new@x.test", ip="192.0.2.1", at=NOW - timedelta(minutes=1)),
    ])
    session.commit()
    assert jobs.prune(runtime, NOW) == 1
    assert session.scalars(select(SignInFailure.email)).all() == ["new@x.test"]


def test_a_second_scheduler_waits_as_standby_while_the_first_holds_the_lock(runtime, monkeypatch, caplog):
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks exist only on PostgreSQL; CI runs this with PARTNERMON_TEST_DATABASE_URL")
    became_active = threading.Event()
    monkeypatch.setattr(scheduler, "_run_until", lambda rt, stop: became_active.set())
    stop = threading.Event()
    with runtime.engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": scheduler.SCHEDULER_LOCK_KEY})
        holder.commit()
        standby = threading.Thread(target=scheduler.run_forever, args=(runtime, stop))
        with caplog.at_level(logging.INFO, logger="partnermon.scheduler"):
            standby.start()
            for _ in range(200):  # wait (bounded) until the standby has looked at the lock once
                if "waiting as standby" in caplog.text:
                    break
                threading.Event().wait(0.01)
        assert "waiting as standby" in caplog.text
        assert not became_active.is_set()
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": scheduler.SCHEDULER_LOCK_KEY})
        holder.commit()
    stop.set()
    standby.join(timeout=15)
    assert not standby.is_alive()


def test_the_active_scheduler_stops_when_its_lock_connection_is_gone(runtime) -> None:  # type: ignore[no-untyped-def]
    import threading

    from partnermon import scheduler

    checks = []

    def lock_alive() -> bool:
        checks.append(1)
        return len(checks) < 3   # the third look finds the connection dead

    stop = threading.Event()
    scheduler._run_until(runtime, stop, lock_alive=lock_alive, check_every=0.01)
    assert len(checks) == 3 and not stop.is_set()
