"""One-off alerts about a touchpoint that still works but is about to let clients down — moments of truth the
practice will want to raise with the partner:

- its certificate expires within 14 days: one warning per certificate (a renewed certificate with a new
  expiry that is itself close is news again). One already expired is not warned about: the ``tls`` probe
  is down then, and the outage alerts say so, with more urgency;
- its page no longer offers a phone number, email, contact link or chat, for as many readable checks in a
  row as the probe's failure threshold (so one odd page is not news): one alert per loss. A page that offers
  a way to reach a person again re-arms it.

What the results said is kept on the probe by ``monitoring.touchpoint_health``; this only reads probes
(of enabled probes: pausing a probe silences it). Each alert is claimed with a conditional UPDATE naming the
expiry or the time the contact went missing, and its emails carry dedupe keys, so nothing is told twice.
Commits nothing: the job commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload

from partnermon.alerts import emails
from partnermon.alerts.subscriptions import subscribers_for
from partnermon.models import Partner, Probe, Touchpoint

CERTIFICATE_WARNING_DAYS = 14
BATCH = 200


@dataclass
class HealthAlertReport:
    certificates: int = 0
    contacts_lost: int = 0
    emails: int = 0

    def __bool__(self) -> bool:
        return bool(self.certificates or self.contacts_lost)


def _probes(session: Session, *conditions: Any) -> list[Probe]:
    return list(session.scalars(
        select(Probe).where(Probe.enabled.is_(True), *conditions)
        .options(joinedload(Probe.touchpoint).joinedload(Touchpoint.partner).joinedload(Partner.practice),
                 joinedload(Probe.touchpoint).joinedload(Touchpoint.moment))
        .order_by(Probe.id).limit(BATCH)))


def _not_told(told: InstrumentedAttribute[Any], about: InstrumentedAttribute[Any]) -> Any:
    return or_(told.is_(None), told != about)


def _claim(session: Session, probe: Probe, told: InstrumentedAttribute[Any], about: InstrumentedAttribute[Any]) -> bool:
    """Mark the event ``about`` (as read) as told, only if it is still the current one and nobody told it."""
    seen = getattr(probe, about.key)
    result = session.execute(
        update(Probe).where(Probe.id == probe.id, about == seen, _not_told(told, about))
        .values({told.key: seen}).execution_options(synchronize_session=False))
    return result.rowcount == 1


def notify_touchpoint_health(session: Session, now: datetime, base_url: str,
                             secret_key: str) -> HealthAlertReport:
    report = HealthAlertReport()
    expiring = _probes(session, Probe.certificate_expires_at > now,
                       Probe.certificate_expires_at <= now + timedelta(days=CERTIFICATE_WARNING_DAYS),
                       _not_told(Probe.certificate_told_for, Probe.certificate_expires_at))
    lost = _probes(session, Probe.contact_missing_since.is_not(None),
                   Probe.contact_missing_run >= Probe.failure_threshold,
                   _not_told(Probe.contact_lost_told_for, Probe.contact_missing_since))
    expiring_ids = {probe.id for probe in expiring}
    lost_ids = {probe.id for probe in lost}
    # One pass in id order, the order in which a worker recording results locks probes (PostgreSQL): neither
    # then waits on the other in a circle.
    for probe in sorted({*expiring, *lost}, key=lambda p: p.id):
        if probe.id in expiring_ids and _claim(session, probe, Probe.certificate_told_for, Probe.certificate_expires_at):
            facts = emails.certificate_facts(probe, now, base_url)
            for user in subscribers_for(session, probe.touchpoint.partner):
                emails.send_certificate_expiring(session, now, facts, probe, user, base_url, secret_key)
                report.emails += 1
            report.certificates += 1
        if probe.id in lost_ids and _claim(session, probe, Probe.contact_lost_told_for, Probe.contact_missing_since):
            facts = emails.contact_facts(session, probe, now, base_url)
            for user in subscribers_for(session, probe.touchpoint.partner):
                emails.send_human_contact_lost(session, now, facts, probe, user, base_url, secret_key)
                report.emails += 1
            report.contacts_lost += 1
    return report
