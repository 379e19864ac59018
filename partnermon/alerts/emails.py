"""The alert emails, one function each: an outage opened, is still going on (a reminder), is over; a
certificate is about to expire; a page no longer offers a way to reach a person.

Each goes into the outbox in the caller's transaction with a dedupe key naming exactly what it is about
(the incident and reminder number, or the touchpoint and the certificate's expiry or the time the contact
went missing) and the recipient, so a retried job or a restarted worker never sends it twice. The facts
are gathered once per incident or touchpoint (``*_facts``) and shared by every recipient's email.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.alerts.delivery import deliver
from partnermon.models import Incident, Practice, Probe, ProbeResult, Touchpoint, User
from partnermon.monitoring.incidents import durations
from partnermon.practices.business_hours import BusinessHours

# Results looked at, going back from when the contact went missing, for what the page used to offer.
CONTACT_HISTORY_LOOKBACK = 20


def local_time(practice: Practice, moment: datetime) -> str:
    """A time as the practice's staff read it: "Monday 23 November 2026 at 10:00 GMT"."""
    local = moment.astimezone(ZoneInfo(practice.timezone))
    return f"{local:%A} {local.day} {local:%B %Y at %H:%M %Z}"


def span(seconds: int) -> str:
    """A duration to read at a glance: "under a minute", "45 min", "2 h 05 min", "3 days 4 h"."""
    minutes = seconds // 60
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h"


def touchpoint_link(base_url: str, touchpoint: Touchpoint) -> str:
    return f"{base_url}/partners/{touchpoint.partner_id}/touchpoints/{touchpoint.id}"


def _about(touchpoint: Touchpoint, base_url: str) -> dict[str, Any]:
    partner = touchpoint.partner
    return {"practice": partner.practice, "partner": partner, "touchpoint": touchpoint, "moment": touchpoint.moment,
            "link": touchpoint_link(base_url, touchpoint), "partner_link": f"{base_url}/partners/{partner.id}",
            "about": f"{partner.name} – {touchpoint.name}"}


def _suggestion(touchpoint: Touchpoint) -> dict[str, Any]:
    """Certificates and contact details are the partner's to fix: say whom to raise it with."""
    partner = touchpoint.partner
    return {"account_manager": {"name": partner.account_manager_name, "email": partner.account_manager_email,
                                "phone": partner.account_manager_phone}
            if partner.account_manager_email or partner.account_manager_name or partner.account_manager_phone
            else None}


# --- incidents ------------------------------------------------------------------------------------

def incident_facts(incident: Incident, now: datetime, hours: BusinessHours, base_url: str) -> dict[str, Any]:
    """What the three incident emails show, as of ``now``."""
    touchpoint = incident.touchpoint
    practice = touchpoint.partner.practice
    total, in_business_hours = durations(incident, now, hours)
    probe = touchpoint.probe
    return {
        **_about(touchpoint, base_url), "incident": incident,
        "since_text": local_time(practice, incident.started_at),
        "ended_text": local_time(practice, incident.resolved_at) if incident.resolved_at else None,
        "duration_text": span(total), "business_text": span(in_business_hours),
        "business_minutes": in_business_hours // 60,
        "first_error": incident.first_error or "The check failed without saying why.",
        "last_error": incident.last_error if incident.last_error != incident.first_error else None,
        # Pausing or removing a probe closes its incident: that is not the partner fixing anything.
        "checks_stopped": incident.resolved_at is not None and (probe is None or not probe.enabled),
        "reminder_hours": practice.incident_reminder_hours,
    }


def send_incident_opened(session: Session, now: datetime, facts: dict[str, Any], to: User, base_url: str,
                         secret_key: str) -> None:
    incident: Incident = facts["incident"]
    deliver(session, now, to, "incident_opened", dedupe_key=f"incident-open:{incident.id}:{to.id}",
            base_url=base_url, practice_id=incident.practice_id, context={**facts, "recipient": to},
            secret_key=secret_key)


def send_incident_reminder(session: Session, now: datetime, facts: dict[str, Any], number: int, to: User,
                           base_url: str, secret_key: str) -> None:
    incident: Incident = facts["incident"]
    deliver(session, now, to, "incident_reminder", dedupe_key=f"incident-reminder:{incident.id}:{number}:{to.id}",
            base_url=base_url, practice_id=incident.practice_id,
            context={**facts, "number": number, "recipient": to}, secret_key=secret_key)


def send_incident_resolved(session: Session, now: datetime, facts: dict[str, Any], to: User, base_url: str,
                           secret_key: str) -> None:
    incident: Incident = facts["incident"]
    deliver(session, now, to, "incident_resolved", dedupe_key=f"incident-resolved:{incident.id}:{to.id}",
            base_url=base_url, practice_id=incident.practice_id, context={**facts, "recipient": to},
            secret_key=secret_key)


# --- touchpoint health ----------------------------------------------------------------------------

def certificate_facts(probe: Probe, now: datetime, base_url: str) -> dict[str, Any]:
    touchpoint = probe.touchpoint
    expires = probe.certificate_expires_at
    assert expires is not None
    return {**_about(touchpoint, base_url), **_suggestion(touchpoint), "url": touchpoint.url,
            "expires_text": local_time(touchpoint.partner.practice, expires),
            # Rounded: a certificate with 2 days 23 hours left is read as "in 3 days".
            "days_left": max(round((expires - now).total_seconds() / 86400), 0)}


def send_certificate_expiring(session: Session, now: datetime, facts: dict[str, Any], probe: Probe, to: User,
                              base_url: str, secret_key: str) -> None:
    expires = probe.certificate_expires_at
    assert expires is not None
    # The expiry date is in the key: a renewed certificate that is itself about to expire is news again.
    deliver(session, now, to, "certificate_expiring",
            dedupe_key=f"certificate-expiring:{probe.touchpoint_id}:{expires:%Y-%m-%d}:{to.id}", base_url=base_url,
            practice_id=probe.practice_id, context={**facts, "recipient": to}, secret_key=secret_key)


def contact_facts(session: Session, probe: Probe, now: datetime, base_url: str) -> dict[str, Any]:
    touchpoint = probe.touchpoint
    since = probe.contact_missing_since
    assert since is not None
    return {**_about(touchpoint, base_url), **_suggestion(touchpoint), "url": touchpoint.url,
            "since_text": local_time(touchpoint.partner.practice, since),
            "checks": probe.contact_missing_run, "last_seen": last_contact_seen(session, probe.touchpoint_id, since)}


def last_contact_seen(session: Session, touchpoint_id: int, before: datetime) -> str | None:
    """What the page offered the last time it offered anything ("phone 0800 123 4567, contact page …"), from
    the few results just before it stopped; None when they are gone (retention) or never said."""
    recent = session.scalars(
        select(ProbeResult.details).where(ProbeResult.touchpoint_id == touchpoint_id, ProbeResult.started_at < before)
        .order_by(ProbeResult.started_at.desc()).limit(CONTACT_HISTORY_LOOKBACK))
    for details in recent:
        if isinstance(details, dict) and details.get("human_contact") and details.get("human_contact_summary"):
            return str(details["human_contact_summary"])
    return None


def send_human_contact_lost(session: Session, now: datetime, facts: dict[str, Any], probe: Probe, to: User,
                            base_url: str, secret_key: str) -> None:
    since = probe.contact_missing_since
    assert since is not None
    # When it went missing is in the key: once the page offers a person again, losing it again is news again.
    deliver(session, now, to, "human_contact_lost",
            dedupe_key=f"human-contact-lost:{probe.touchpoint_id}:{int(since.timestamp())}:{to.id}",
            base_url=base_url, practice_id=probe.practice_id, context={**facts, "recipient": to},
            secret_key=secret_key)
