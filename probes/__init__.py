"""Probe kinds: pure functions from a ProbeSpec to a Finding (DESIGN.md §6).

This package imports nothing of partnermon. ``probes.fetch`` is the only module that talks to the
network, and it enforces the outbound safety rules (DESIGN.md §8). Adding a kind means writing one
module beside the others (copy a sibling) and adding one row to ``KINDS``. The kind cleans its own options
(``clean_options``, raising ``probes.settings.SettingsError``) and shows them back (``form_values``); a kind
with options also writes its form fields, ``templates/touchpoints/options/<kind>.html``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from probes.base import ProbeKind, failed
from probes.content import ContentProbe
from probes.dns import DnsProbe
from probes.fetch import FetchPolicy
from probes.http import HttpProbe
from probes.journey import JourneyProbe
from probes.json_api import JsonProbe
from probes.spec import Finding, ProbeSpec
from probes.tls import TlsProbe

log = logging.getLogger(__name__)

# The one table from kind name to implementation.
KINDS: dict[str, ProbeKind] = {
    kind.name: kind
    for kind in (HttpProbe(), ContentProbe(), TlsProbe(), DnsProbe(), JsonProbe(), JourneyProbe())
}


def check(spec: ProbeSpec) -> dict[str, str]:
    """``{field: message}`` for everything that would stop ``spec`` from running; empty when it is fine."""
    kind = KINDS.get(spec.kind)
    if kind is None:
        return {"kind": f"“{str(spec.kind)[:40]}” is not a probe kind; use one of: {', '.join(KINDS)}."}
    try:
        return kind.check(spec)
    except Exception:
        log.exception("probe kind %s could not check a spec for %s", spec.kind, spec.url)
        return {"kind": "partnermon could not check these settings (an internal error, logged for the team)."}


def run(spec: ProbeSpec, policy: FetchPolicy, now: datetime) -> Finding:
    """Run one probe. Never raises: a bug in a kind becomes a ``down`` result and a log line, so one bad
    probe cannot take a worker thread (and everyone else's probes) down with it."""
    kind = KINDS.get(spec.kind)
    if kind is None:
        return failed(f"Unknown probe kind “{str(spec.kind)[:40]}”")
    try:
        return kind.run(spec, policy, now)
    except Exception:
        log.exception("probe kind %s failed on %s", spec.kind, spec.url)
        return failed("partnermon could not run this check (an internal error, logged for the team)")


__all__ = ["KINDS", "FetchPolicy", "Finding", "ProbeKind", "ProbeSpec", "check", "run"]
