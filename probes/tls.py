"""``tls``: is the certificate valid for the name, trusted, and how long until it expires?

Options: ``min_days`` (default 14) — fewer days left than this makes the probe degraded, so there is
time to tell the partner; an expired, untrusted or wrong-name certificate makes it down.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from probes.assertions import Subject, evaluate_all, parse_all
from probes.base import ProbeKind, failed, from_fetch_error
from probes.fetch import FetchError, FetchPolicy, fetch_certificate
from probes.spec import ProbeResult, ProbeSpec, Timings, excerpt

DEFAULT_MIN_DAYS = 14


class TlsProbe(ProbeKind):
    name = "tls"
    label = "Certificate"
    description = "Checks the HTTPS certificate: trusted, for the right name, and days until it expires."
    reads_body = False

    def check_options(self, spec: ProbeSpec) -> dict[str, str]:
        errors = {}
        if urlsplit(spec.url).scheme != "https":
            errors["url"] = "A certificate check needs an https:// address."
        min_days = spec.options.get("min_days", DEFAULT_MIN_DAYS)
        if not isinstance(min_days, int) or not 0 <= min_days <= 365:
            errors["min_days"] = "Warn this many days before expiry: a whole number from 0 to 365."
        return errors

    def run(self, spec: ProbeSpec, policy: FetchPolicy, now: datetime) -> ProbeResult:
        if urlsplit(spec.url).scheme != "https":
            return failed("A certificate check needs an https:// address.")
        try:
            certificate = fetch_certificate(spec.url, policy=policy)
        except FetchError as exc:
            return from_fetch_error(exc)
        days_left = certificate.days_left(now)
        details = {"certificate_days_left": round(days_left, 1), "certificate_subject": certificate.subject,
                   "certificate_issuer": certificate.issuer, "certificate_expires": certificate.not_after.isoformat()}
        result = ProbeResult(outcome="up", details=details, timings=Timings())
        if not certificate.verified:
            result.outcome = "down"
            result.error = excerpt(certificate.problem or "The certificate could not be verified")
            return result
        subject = Subject(certificate_seconds_left=days_left * 86400)
        hard = [v.description for v in evaluate_all(parse_all(spec.checks), subject) if not v.passed]
        if hard:
            result.outcome, result.failed_checks = "down", hard
            result.error = excerpt(f"Check failed: {hard[0]}")
            return result
        soft = [v.description for v in evaluate_all(parse_all(spec.soft_checks), subject) if not v.passed]
        min_days = spec.options.get("min_days", DEFAULT_MIN_DAYS)
        if days_left < min_days:
            soft.insert(0, f"Certificate expires in {_days(days_left)} (warning at {min_days} days)")
        if soft:
            result.outcome, result.failed_checks, result.error = "degraded", soft, excerpt(soft[0])
        return result


def _days(days: float) -> str:
    whole = int(days)
    if whole >= 1:
        return f"{whole} day{'s' if whole != 1 else ''}"
    hours = max(int(days * 24), 0)
    return f"{hours} hour{'s' if hours != 1 else ''}"
