"""Periodic work as plain functions of ``(runtime, now)``. The scheduler and workers only call these."""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime
from typing import Callable, TypeVar

from sqlalchemy.orm import Session

from partnermon.accounts import service as accounts, sign_ins
from partnermon.alerts.digests import DigestReport, send_digests
from partnermon.alerts.early_warnings import EarlyWarningReport, notify_early_warnings
from partnermon.alerts.incidents import IncidentAlertReport, notify_incidents
from partnermon.alerts.promises import PromiseAlertReport, notify_broken_promises
from partnermon.alerts.touchpoint_health import HealthAlertReport, notify_touchpoint_health
from partnermon.db import utcnow
from partnermon.feedback import links, rate_limits
from partnermon.followups import deadlines, recovery
from partnermon.mail.sender import SendReport, send_due
from partnermon.monitoring import rollups
from partnermon.monitoring.worker import ProbeWorker
from partnermon.reports import jobs as report_jobs
from partnermon.reports.storage import ReportStore
from partnermon.runtime import Runtime
from partnermon.webhooks import delivery as webhook_delivery

log = logging.getLogger(__name__)
R = TypeVar("R")


def worker_id(suffix: str = "") -> str:
    """Names a claim's holder, so an operator can see which process holds a row."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}{':' + suffix if suffix else ''}"[:64]


def send_emails(runtime: Runtime, now: datetime, *, worker: str | None = None,
                clock: Callable[[], datetime] | None = None) -> SendReport:
    """Send a batch of due emails; ``clock`` (utcnow when running for real) dates each message as the batch
    goes on, so a slow mail server cannot make the batch outlive its leases."""
    with runtime.session_factory() as session:
        report = send_due(
            session, now, runtime.mail_transport_factory, worker_id=worker or worker_id("mail"),
            mail_from=runtime.settings.mail_from, lease_seconds=runtime.settings.mail_lease_seconds, clock=clock,
        )
    if report:
        log.info("outbox: %s", report)
    return report


def prune(runtime: Runtime, now: datetime) -> int:
    """Housekeeping: drop rows that have stopped mattering (old failed sign-ins and public-page attempts,
    sign-ins that ended or expired, raw probe results past PARTNERMON_RESULT_RETENTION_DAYS) and mark
    unanswered feedback links expired."""
    with runtime.session_factory() as session:
        removed = (accounts.prune_sign_in_failures(session, now) + rate_limits.prune(session, now)
                   + sign_ins.prune(session, now))
        links.expire_links(session, now)
        session.commit()
        removed += rollups.prune_results(session, now, runtime.settings.result_retention_days)
    return removed


def _in_one_transaction(runtime: Runtime, label: str, work: Callable[[Session], R]) -> R:
    """Run ``work`` in a session of its own, commit, and log what it did (when it did anything)."""
    with runtime.session_factory() as session:
        report = work(session)
        session.commit()
    if report:
        log.info("%s: %s", label, report)
    return report


def follow_up_deadlines(runtime: Runtime, now: datetime) -> deadlines.DeadlineReport:
    """Tell the owners about follow-ups whose client was not contacted in time, and remind the assignees."""
    return _in_one_transaction(runtime, "follow-ups",
                               lambda session: deadlines.check_deadlines(session, now, runtime.settings.base_url))


def recovery_check_ins(runtime: Runtime, now: datetime) -> recovery.CheckInReport:
    """Ask clients whose follow-up was resolved a while ago whether things were put right; expire old links."""
    return _in_one_transaction(runtime, "recovery check-ins",
                               lambda session: recovery.send_due_check_ins(session, now, runtime.settings.base_url))


def incident_alerts(runtime: Runtime, now: datetime) -> IncidentAlertReport:
    """Email the partner's subscribers about outages that opened or resolved, and remind them of long ones."""
    settings = runtime.settings
    return _in_one_transaction(runtime, "incident alerts", lambda session: notify_incidents(
        session, now, settings.base_url, settings.secret_key))


def touchpoint_health_alerts(runtime: Runtime, now: datetime) -> HealthAlertReport:
    """Warn once about certificates about to expire and pages that no longer offer a way to reach a person."""
    settings = runtime.settings
    return _in_one_transaction(runtime, "touchpoint health alerts", lambda session: notify_touchpoint_health(
        session, now, settings.base_url, settings.secret_key))


def early_warning_alerts(runtime: Runtime, now: datetime) -> EarlyWarningReport:
    """Tell the owners once about each partner × moment that got significantly worse (partnermon.scoring)."""
    settings = runtime.settings
    return _in_one_transaction(runtime, "early warnings", lambda session: notify_early_warnings(
        session, now, settings.base_url, settings.secret_key))


def promise_alerts(runtime: Runtime, now: datetime) -> PromiseAlertReport:
    """Tell a partner's subscribers once a month when an explicit promise of theirs is clearly broken."""
    settings = runtime.settings
    return _in_one_transaction(runtime, "promise alerts", lambda session: notify_broken_promises(
        session, now, settings.base_url, settings.secret_key))


def alert_digests(runtime: Runtime, now: datetime) -> DigestReport:
    """Send each user who chose a daily digest their alerts once a day, at 08:00 in their practice's zone."""
    return _in_one_transaction(runtime, "alert digests",
                               lambda session: send_digests(session, now, runtime.settings.base_url))


def queue_reports(runtime: Runtime, now: datetime) -> int:
    """Queue last month's report for each practice whose report day and hour have come (in its zone)."""
    return _in_one_transaction(runtime, "reports queued",
                               lambda session: report_jobs.queue_due_reports(session, now))


def render_reports(runtime: Runtime, *, worker: str | None = None, limit: int = 2,
                   renderer: report_jobs.Renderer | None = None) -> list[report_jobs.RenderOutcome]:
    """Claim, render, archive and email due reports (a few per call: each takes seconds)."""
    from partnermon.reports.make import make_pdf

    settings = runtime.settings
    outcomes = report_jobs.render_due(
        runtime.session_factory, utcnow, worker or worker_id("reports"), store=ReportStore(settings.reports_path),
        renderer=renderer or make_pdf, base_url=settings.base_url, secret_key=settings.secret_key, limit=limit)
    for outcome in outcomes:
        log.info("report %s: %s", outcome.report_id, "done" if outcome.done else f"failed: {outcome.error}")
    return outcomes


def find_themes(runtime: Runtime, now: datetime) -> int:
    """Find the themes in each practice's comments once a day (partnermon.feedback.themes; each practice is
    committed on its own). scikit-learn is loaded here, on first use, never on the command line's path."""
    from partnermon.feedback import themes

    with runtime.session_factory() as session:
        found = themes.run_due(session, now)
    if found:
        log.info("themes: found for %d practice%s", found, "s" if found != 1 else "")
    return found


def roll_up(runtime: Runtime, now: datetime) -> int:
    with runtime.session_factory() as session:
        return rollups.roll_up(session, now)


def probe_worker(runtime: Runtime, *, threads: int, worker: str | None = None) -> ProbeWorker:
    return ProbeWorker(runtime.session_factory, runtime.probe_policy, worker_id=worker or worker_id("probes"),
                       threads=threads, clock=utcnow)


def deliver_webhooks(runtime: Runtime, now: datetime, *, worker: str | None = None) -> webhook_delivery.DeliveryReport:
    """Claim and POST due webhook deliveries, retrying failures with backoff (partnermon.webhooks.delivery)."""
    report = webhook_delivery.deliver_due(runtime.session_factory, now, runtime.webhook_policy,
                                          worker_id=worker or worker_id("webhooks"), base_url=runtime.settings.base_url)
    if report:
        log.info("webhooks: %s", report)
    return report
