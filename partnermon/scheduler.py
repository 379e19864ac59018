"""Wires periodic jobs into APScheduler, and nothing else: the jobs are in partnermon.jobs.

Exactly one scheduler may be active. On PostgreSQL a second ``partnermon scheduler`` waits as a
standby on an advisory lock held on its own connection, and takes over if the first one dies.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Connection, text

from partnermon import jobs
from partnermon.db import database_down_reason, is_database_down, utcnow
from partnermon.runtime import Runtime

log = logging.getLogger(__name__)

# An arbitrary constant naming "the partnermon scheduler" among PostgreSQL advisory locks.
SCHEDULER_LOCK_KEY = 0x7061_7274  # "part"
# How often the active scheduler makes sure the connection holding its lock is still alive.
LOCK_CHECK_SECONDS = 10.0


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    run: Callable[[Runtime], object]
    seconds: int


# The table of everything that runs on a timer. Later features add rows here.
PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("send-emails", lambda rt: jobs.send_emails(rt, utcnow(), clock=utcnow), seconds=10),
    PeriodicJob("roll-up", lambda rt: jobs.roll_up(rt, utcnow()), seconds=60),
    PeriodicJob("follow-up-deadlines", lambda rt: jobs.follow_up_deadlines(rt, utcnow()), seconds=60),
    PeriodicJob("recovery-check-ins", lambda rt: jobs.recovery_check_ins(rt, utcnow()), seconds=300),
    PeriodicJob("incident-alerts", lambda rt: jobs.incident_alerts(rt, utcnow()), seconds=60),
    PeriodicJob("touchpoint-health-alerts", lambda rt: jobs.touchpoint_health_alerts(rt, utcnow()), seconds=60),
    PeriodicJob("early-warning-alerts", lambda rt: jobs.early_warning_alerts(rt, utcnow()), seconds=3600),
    PeriodicJob("promise-alerts", lambda rt: jobs.promise_alerts(rt, utcnow()), seconds=3600),
    PeriodicJob("queue-reports", lambda rt: jobs.queue_reports(rt, utcnow()), seconds=300),
    PeriodicJob("render-reports", lambda rt: jobs.render_reports(rt), seconds=30),
    PeriodicJob("alert-digests", lambda rt: jobs.alert_digests(rt, utcnow()), seconds=600),
    PeriodicJob("deliver-webhooks", lambda rt: jobs.deliver_webhooks(rt, utcnow()), seconds=10),
    PeriodicJob("prune", lambda rt: jobs.prune(rt, utcnow()), seconds=3600),
    # Hourly ticks; each practice's themes are found again only when its last run is a day old (feedback.themes).
    PeriodicJob("find-themes", lambda rt: jobs.find_themes(rt, utcnow()), seconds=3600),
)


def _guarded(job: PeriodicJob, runtime: Runtime) -> Callable[[], None]:
    def run() -> None:
        try:
            job.run(runtime)
        except Exception as exc:  # one failing run must not stop the schedule; the next tick tries again
            if is_database_down(exc):  # not a bug: one line a run until the database is back, not a traceback
                log.warning("periodic job %s skipped: %s", job.name, database_down_reason(exc, runtime.engine.url))
                return
            log.exception("periodic job %s failed", job.name)

    return run


def build_scheduler(runtime: Runtime) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    for job in PERIODIC_JOBS:
        scheduler.add_job(_guarded(job, runtime), "interval", seconds=job.seconds, id=job.name, name=job.name)
    return scheduler


def run_forever(runtime: Runtime, stop: threading.Event) -> None:
    """``partnermon scheduler``: become the active scheduler (or wait as standby) until ``stop``."""
    if runtime.engine.dialect.name != "postgresql":
        log.info("scheduler: SQLite has no advisory locks; run only one scheduler against this database")
        _run_until(runtime, stop)
        return
    with runtime.engine.connect() as conn:
        announced = False
        while not stop.is_set():
            if conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": SCHEDULER_LOCK_KEY}).scalar():
                conn.commit()
                log.info("scheduler: active")
                _run_until(runtime, stop, lock_alive=lambda: _still_connected(conn))
                if stop.is_set():
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SCHEDULER_LOCK_KEY})
                    conn.commit()
                    return
                # The lock's connection died, so PostgreSQL released the lock and a standby may be active
                # now: stop at once rather than run every job twice.
                raise SchedulerLockLost("lost the connection that holds the scheduler lock; stopped the "
                                        "scheduler so a standby can take over. Restart it to stand by again.")
            conn.rollback()
            if not announced:
                log.info("scheduler: another scheduler is active; waiting as standby")
                announced = True
            stop.wait(10)


class SchedulerLockLost(RuntimeError):
    pass


def _still_connected(conn: Connection) -> bool:
    try:
        conn.execute(text("SELECT 1"))
        conn.rollback()
        return True
    except Exception:  # any failure means the session (and with it the advisory lock) may be gone
        log.exception("scheduler: the lock connection failed")
        return False


def _run_until(runtime: Runtime, stop: threading.Event, lock_alive: Callable[[], bool] = lambda: True,
               check_every: float = LOCK_CHECK_SECONDS) -> None:
    """Run the jobs until ``stop`` is set or ``lock_alive`` says the scheduler lock is gone."""
    scheduler = build_scheduler(runtime)
    scheduler.start()
    try:
        while not stop.wait(check_every):
            if not lock_alive():
                return
    finally:
        scheduler.shutdown(wait=True)
