"""Making monthly reports (DESIGN.md §6: work is claimed, not assumed).

- ``queue_due_reports``: the scheduler's job. On the practice's report day (default the 1st) from its report
  hour (default 07:00), in its time zone, the previous month's report is queued — one row per practice and
  month, so a second run, or a second scheduler, queues nothing more.
- ``request_report``: the reports page and nobody else queue one on demand (any month that has begun); the
  rendering replaces the archived file and is not emailed.
- ``claim_next`` / ``render_claimed``: a worker claims a due report with one conditional UPDATE (SKIP LOCKED on
  PostgreSQL) and a lease, renders it, archives it, and records it — and emails the owners, in that same
  transaction — only while its claim still holds. A failure is retried with a growing delay, and after
  ``MAX_ATTEMPTS`` the report is marked failed with the reason, which the owners see on the reports page.
"""

from __future__ import annotations

import logging
import time as clock
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partnermon.models import Practice, Report, User
from partnermon.reports import emails
from partnermon.reports.storage import ReportStore
from partnermon.scoring import periods
from partnermon.scoring.periods import Period
from partnermon.webhooks import events as webhook_events

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5
# Make the PDF of one practice's month: (pdf, pages). Passed in so tests can make it fail.
Renderer = Callable[[Session, datetime, Practice, Period], tuple[bytes, int]]


def due_month(practice: Practice, now: datetime) -> Period | None:
    """The latest month whose report is due by ``now``: last month once this month's report day and hour have
    passed in the practice's zone, the month before that until then (so a scheduler that was down on the day
    catches up later). None for a month that ended before the practice was set up."""
    zone = ZoneInfo(practice.timezone)
    local = now.astimezone(zone)
    day = min(max(practice.report_day, 1), 28)
    starts = datetime.combine(date(local.year, local.month, day), time(min(max(practice.report_hour, 0), 23)), zone)
    back = 1 if local >= starts else 2
    month = periods.month_of(periods.shift_month(local.date().replace(day=1), -back), practice.timezone)
    return month if month.end > practice.created_at else None


def _insert(session: Session, report: Report) -> bool:
    """Add the row unless the practice has that month already (the unique key decides, not a read)."""
    try:
        with session.begin_nested():
            session.add(report)
    except IntegrityError:
        return False
    return True


def queue_due_reports(session: Session, now: datetime) -> int:
    queued = 0
    for practice in session.scalars(select(Practice).order_by(Practice.id)):
        month = due_month(practice, now)
        if month is None or session.scalar(select(Report.id).where(Report.practice_id == practice.id,
                                                                   Report.month == month.key)) is not None:
            continue
        # Demo owners are invented: their reports are made (to look at) but never emailed.
        if _insert(session, Report(practice_id=practice.id, month=month.key, status="queued", due_at=now,
                                   attempts=0, email_owners=not practice.is_demo, generation=0,
                                   created_at=now, updated_at=now)):
            queued += 1
    return queued


def request_report(session: Session, now: datetime, practice: Practice, month: Period, user: User | None) -> Report:
    """Queue ``month`` now (again, if it exists: the new rendering replaces the archived one)."""
    report = session.scalar(select(Report).where(Report.practice_id == practice.id, Report.month == month.key))
    if report is None:
        report = Report(practice_id=practice.id, month=month.key, status="queued", due_at=now, attempts=0,
                        email_owners=False, generation=0, created_at=now, updated_at=now,
                        requested_by_id=user.id if user else None)
        if _insert(session, report):
            return report
        report = session.scalars(select(Report).where(Report.practice_id == practice.id,
                                                      Report.month == month.key)).one()
    if report.status != "rendering" or (report.lease_until is not None and report.lease_until <= now):
        report.status, report.due_at, report.attempts, report.last_error = "queued", now, 0, None
        report.claimed_by = report.lease_until = None
    report.requested_by_id = user.id if user else report.requested_by_id
    report.updated_at = now
    return report


def _claimable(now: datetime):  # type: ignore[no-untyped-def]
    return or_(and_(Report.status == "queued", Report.due_at <= now),
               and_(Report.status == "rendering", Report.lease_until <= now))


def claim_next(session: Session, now: datetime, worker_id: str) -> int | None:
    """Claim the report due longest; None when nothing is due. Commits the claim."""
    query = select(Report.id).where(_claimable(now)).order_by(Report.due_at, Report.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    report_id = session.scalar(query)
    if report_id is None:
        session.rollback()
        return None
    claimed = session.execute(
        update(Report).where(Report.id == report_id, _claimable(now))
        .values(status="rendering", claimed_by=worker_id, lease_until=now + LEASE, attempts=Report.attempts + 1,
                updated_at=now)
        .execution_options(synchronize_session=False)).rowcount == 1
    session.commit()
    return report_id if claimed else None


@dataclass
class RenderOutcome:
    report_id: int
    done: bool
    error: str | None = None
    emails: int = 0


def _still_mine(report_id: int, worker_id: str):  # type: ignore[no-untyped-def]
    return and_(Report.id == report_id, Report.claimed_by == worker_id, Report.status == "rendering")


def render_claimed(session: Session, now: datetime, report_id: int, worker_id: str, *, store: ReportStore,
                   renderer: Renderer, base_url: str, secret_key: str) -> RenderOutcome:
    """Render a report this worker claimed; record the outcome only while the claim holds. Commits."""
    report = session.get(Report, report_id, populate_existing=True)
    assert report is not None
    practice = report.practice
    month = periods.month_of(date.fromisoformat(report.month + "-01"), practice.timezone)
    started = clock.monotonic()
    try:
        pdf, pages = renderer(session, now, practice, month)
        key = store.key_for(practice.slug, report.month)
        store.save(key, pdf)
    except Exception as exc:  # noqa: BLE001 - any failure is the report's, recorded and retried
        session.rollback()
        log.exception("report %s (%s %s) failed", report_id, practice.slug, report.month)
        error = f"{type(exc).__name__}: {exc}"[:500]
        attempts = session.scalar(select(Report.attempts).where(Report.id == report_id)) or MAX_ATTEMPTS
        values: dict[str, object] = {"claimed_by": None, "lease_until": None, "last_error": error, "updated_at": now}
        if attempts >= MAX_ATTEMPTS:
            values["status"] = "failed"
        else:
            values.update(status="queued", due_at=now + timedelta(minutes=5 * 2 ** (attempts - 1)))
        session.execute(update(Report).where(_still_mine(report_id, worker_id)).values(values)
                        .execution_options(synchronize_session=False))
        session.commit()
        return RenderOutcome(report_id, False, error)
    elapsed = int((clock.monotonic() - started) * 1000)
    recorded = session.execute(
        update(Report).where(_still_mine(report_id, worker_id))
        .values(status="done", claimed_by=None, lease_until=None, last_error=None, storage_key=key, bytes=len(pdf),
                pages=pages, render_ms=elapsed, generated_at=now, generation=Report.generation + 1, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount == 1
    sent = 0
    if recorded:
        session.refresh(report)
        webhook_events.report_ready(session, now, report)
        if report.email_owners and report.emailed_at is None:
            sent = emails.send_report(session, now, report, pdf, base_url=base_url, secret_key=secret_key)
            report.emailed_at = now
    session.commit()
    if not recorded:
        log.warning("report %s: our claim had expired before we recorded it; the new holder will", report_id)
    return RenderOutcome(report_id, recorded, None, sent)


def render_due(session_factory: Callable[[], Session], now: Callable[[], datetime], worker_id: str, *,
               store: ReportStore, renderer: Renderer, base_url: str, secret_key: str, limit: int = 5
               ) -> list[RenderOutcome]:
    """Claim and render due reports one at a time (each can take seconds), up to ``limit``."""
    outcomes: list[RenderOutcome] = []
    for _ in range(limit):
        with session_factory() as session:
            report_id = claim_next(session, now(), worker_id)
            if report_id is None:
                break
            outcomes.append(render_claimed(session, now(), report_id, worker_id, store=store, renderer=renderer,
                                           base_url=base_url, secret_key=secret_key))
    return outcomes
