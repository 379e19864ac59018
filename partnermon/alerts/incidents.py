"""Telling a partner's subscribers about its outages: when one opens, every N business hours while it lasts
(the practice's ``incident_reminder_hours``, default 4; 0 for none), and when it is over.

Only outages (``down`` incidents) are emailed. Degraded periods — slow pages, soft checks — are shown on the
pages and counted in scores, but an email for each would teach people to ignore alerts; the two soft
failures that deserve one (a certificate about to expire, a page with no way to reach a person) get their
own, once, from ``touchpoint_health``.

Maintenance mutes: while a window covers the touchpoint nothing is sent, and the incident is looked at again
when the window ends. An outage that outlasts the window is then announced once (or reminded of once), not
with every reminder that fell inside it; one that began and ended inside it is never mentioned. A
resolution is told to whoever may have been told of the opening, even inside a window.

``notify_incidents`` is the periodic job's body. Monitoring sets ``Incident.notice_due_at`` when an incident
opens or resolves; this reads the due ones by that index, claims each notice with a conditional UPDATE on
the values it read, and queues the emails (with dedupe keys) in the same transaction, so two runs at once,
a retried run or a restarted scheduler never tell anyone twice. Commits nothing: the job commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from partnermon.alerts import emails
from partnermon.alerts.subscriptions import subscribers_for
from partnermon.models import Incident, MaintenanceWindow, Partner, Touchpoint, User
from partnermon.monitoring.incidents import maintenance_lookup
from partnermon.practices.business_hours import BusinessHours

log = logging.getLogger(__name__)

BATCH = 200
# An outage that began and ended unseen (the scheduler was stopped for a while) and ended this long ago is
# history for the pages, not news for anyone's inbox.
STALE_AFTER = timedelta(days=1)


@dataclass
class IncidentAlertReport:
    opened: int = 0
    reminded: int = 0
    resolved: int = 0
    muted: int = 0       # notices passed over or put off because of maintenance (or staleness)
    emails: int = 0

    def __bool__(self) -> bool:
        return bool(self.opened or self.reminded or self.resolved or self.muted)


def notify_incidents(session: Session, now: datetime, base_url: str, secret_key: str) -> IncidentAlertReport:
    """Queue the emails for every incident with something due to tell (``secret_key`` signs unsubscribe links)."""
    report = IncidentAlertReport()
    due = list(session.scalars(
        select(Incident).where(Incident.notice_due_at <= now)
        .options(joinedload(Incident.touchpoint).joinedload(Touchpoint.partner).joinedload(Partner.practice),
                 joinedload(Incident.touchpoint).joinedload(Touchpoint.moment),
                 joinedload(Incident.touchpoint).joinedload(Touchpoint.probe))
        .order_by(Incident.notice_due_at, Incident.id).limit(BATCH)))
    windows = maintenance_lookup(session, {incident.practice_id for incident in due}, now, now)
    run = _Run(session, now, base_url, secret_key, windows, report)
    # Claimed in id order, the order in which a worker's flush updates incidents, so the two rarely wait on
    # each other in a circle. Should PostgreSQL still find one, it cancels one side, and both are safe to
    # retry: this job runs again in a minute, and the worker's probes run again once their lease expires.
    for incident in sorted(due, key=lambda i: i.id):
        run.handle(incident)
    return report


def next_reminder(incident: Incident, now: datetime, hours: BusinessHours, every_hours: int,
                  after: int) -> dict[str, Any]:
    """The first reminder after number ``after`` still to come: reminder n falls due once the outage has
    lasted n × ``every_hours`` business hours. Those that passed unsent (muted, or before the opening
    could be announced) are skipped, not sent in a burst."""
    if every_hours <= 0:
        return {"notice_due_at": None, "reminder_number": after}
    interval = every_hours * 3600
    number = max(hours.seconds_within(incident.started_at, now) // interval + 1, after + 1)
    return {"notice_due_at": hours.deadline_after(incident.started_at, number * interval), "reminder_number": number}


def _claim(session: Session, incident: Incident, **values: Any) -> bool:
    """Take this notice, only if nobody has since: the row must still say what we read (due time, open or
    resolved). The worker resolving it meanwhile, or another run of this job, makes it miss."""
    resolved = (Incident.resolved_at.is_(None) if incident.resolved_at is None
                else Incident.resolved_at == incident.resolved_at)
    result = session.execute(
        update(Incident).where(Incident.id == incident.id, Incident.notice_due_at == incident.notice_due_at, resolved)
        .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1


class _Run:
    """One pass of the job: the caches it shares (business hours, subscribers) and the handling of one incident."""

    def __init__(self, session: Session, now: datetime, base_url: str, secret_key: str,
                 windows: list[MaintenanceWindow], report: IncidentAlertReport):
        self.session, self.now, self.base_url, self.windows, self.report = session, now, base_url, windows, report
        self.secret_key = secret_key
        self._hours: dict[int, BusinessHours] = {}
        self._subscribers: dict[int, list[User]] = {}

    def hours(self, touchpoint: Touchpoint) -> BusinessHours:
        practice = touchpoint.partner.practice
        if practice.id not in self._hours:
            self._hours[practice.id] = BusinessHours.of(practice)
        return self._hours[practice.id]

    def subscribers(self, partner: Partner) -> list[User]:
        if partner.id not in self._subscribers:
            self._subscribers[partner.id] = subscribers_for(self.session, partner)
        return self._subscribers[partner.id]

    def maintenance_until(self, touchpoint: Touchpoint) -> datetime | None:
        """When the maintenance covering the touchpoint now ends (the latest of overlapping windows), or None."""
        ends = [w.ends_at for w in self.windows if w.partner_id == touchpoint.partner_id
                and w.touchpoint_id in (None, touchpoint.id) and w.starts_at <= self.now < w.ends_at]
        return max(ends, default=None)

    def handle(self, incident: Incident) -> None:
        now, touchpoint = self.now, incident.touchpoint
        if incident.kind != "down":
            _claim(self.session, incident, notice_due_at=None)    # degraded periods are not emailed
            return
        hours = self.hours(touchpoint)
        if incident.resolved_at is not None:
            announced = incident.opened_notice_at is not None
            silent = not announced and (incident.in_maintenance or incident.resolved_at < now - STALE_AFTER)
            if not _claim(self.session, incident, opened_notice_at=incident.opened_notice_at or now,
                          resolved_notice_at=now, notice_due_at=None):
                return
            if silent:
                self.report.muted += 1
                return
            self._tell("resolved", incident, hours)
            self.report.resolved += 1
            return

        muted_until = self.maintenance_until(touchpoint)
        if muted_until is not None:
            if _claim(self.session, incident, notice_due_at=muted_until):
                self.report.muted += 1
            return
        every = touchpoint.partner.practice.incident_reminder_hours
        if incident.opened_notice_at is None:
            if _claim(self.session, incident, opened_notice_at=now, **next_reminder(incident, now, hours, every, 0)):
                self._tell("opened", incident, hours)
                self.report.opened += 1
            return
        number = incident.reminder_number
        if _claim(self.session, incident, **next_reminder(incident, now, hours, every, number)):
            self._tell("reminder", incident, hours, number)
            self.report.reminded += 1

    def _tell(self, news: str, incident: Incident, hours: BusinessHours, number: int = 0) -> None:
        facts = emails.incident_facts(incident, self.now, hours, self.base_url)
        for user in self.subscribers(incident.touchpoint.partner):
            if news == "opened":
                emails.send_incident_opened(self.session, self.now, facts, user, self.base_url, self.secret_key)
            elif news == "reminder":
                emails.send_incident_reminder(self.session, self.now, facts, number, user, self.base_url,
                                              self.secret_key)
            else:
                emails.send_incident_resolved(self.session, self.now, facts, user, self.base_url, self.secret_key)
            self.report.emails += 1
