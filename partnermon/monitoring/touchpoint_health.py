"""What a probe result says about a touchpoint beyond up, degraded or down: when its certificate expires
(``tls`` probes), and whether its page still offers a way to reach a person (``content`` probes with the
human-contact check on).

Both are remembered on the probe as results are recorded (``monitoring.runs.record``), so that
``alerts.touchpoint_health`` can tell people once without ever reading raw results. Plain bookkeeping on
the Probe object: the caller holds the probe's row lock and commits.
"""

from __future__ import annotations

from datetime import datetime, timezone

from partnermon.models import Probe
from probes.spec import Finding, ProbeSpec

HUMAN_CONTACT_CHECKED = ("soft", "hard")   # the content probe's modes that look for a person (not "off")


def note_findings(probe: Probe, spec: ProbeSpec, finding: Finding, at: datetime, maintenance: bool) -> None:
    note_certificate(probe, spec, finding)
    note_human_contact(probe, spec, finding, at, maintenance)


def note_certificate(probe: Probe, spec: ProbeSpec, finding: Finding) -> None:
    if spec.kind != "tls":
        # Another kind reads no certificate: an expiry kept from before the probe was changed would go stale
        # and warn about a certificate nobody checks any more.
        probe.certificate_expires_at = None
        return
    expires = _aware(finding.details.get("certificate_expires"))
    if expires is not None:
        probe.certificate_expires_at = expires
    # No certificate read this time (no answer at all): the last one known still stands.


def note_human_contact(probe: Probe, spec: ProbeSpec, finding: Finding, at: datetime, maintenance: bool) -> None:
    """Count a run of readable pages that offer no phone, email, contact link or chat; one that does ends it
    (and re-arms the alert). Pages that tell nothing either way leave the run as it is: an error page or no
    answer (that is an outage, told by the incident alerts), or a page shown during planned maintenance
    (a "back soon" page rarely lists a phone number, and that is no news to anyone)."""
    if spec.kind != "content" or spec.options.get("human_contact", "soft") not in HUMAN_CONTACT_CHECKED:
        probe.contact_missing_run, probe.contact_missing_since = 0, None
        return
    contacts = finding.details.get("human_contact")
    readable = finding.status is not None and finding.status < 400 and isinstance(contacts, list)
    if maintenance or not readable:
        return
    if contacts:
        probe.contact_missing_run, probe.contact_missing_since = 0, None
    else:
        probe.contact_missing_since = probe.contact_missing_since if probe.contact_missing_run else at
        probe.contact_missing_run += 1


def _aware(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)
