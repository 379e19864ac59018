"""``tls``: is the certificate valid for the name, trusted, and how long until it expires?

Options: ``min_days`` (default 14) — fewer days left than this makes the probe degraded, so there is
time to tell the partner; an expired, untrusted or wrong-name certificate makes it down. Checks may
only look at ``[CERTIFICATE_EXPIRATION]`` (there is no page: nothing else is fetched).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Mapping

from probes.assertion_parser import AssertionSyntaxError, parse_comparison
from probes.assertions import Subject, evaluate_all
from probes.base import ProbeKind, failed, from_fetch_error, parsed_checks, within_timeout
from probes.fetch import FetchError, FetchPolicy, fetch_certificate
from probes.settings import whole_number
from probes.spec import Finding, ProbeSpec, Timings, excerpt, url_parts

DEFAULT_MIN_DAYS = 14
MAX_MIN_DAYS = 365
NEEDS_HTTPS = "A certificate check needs an https:// address."


def _min_days(value: object) -> int | None:
    """The option as a whole number of days, or None when it is not one (bools are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MIN_DAYS:
        return None
    return value


class TlsProbe(ProbeKind):
    name = "tls"
    label = "Certificate"
    description = "Checks the HTTPS certificate: trusted, for the right name, and days until it expires."
    option_fields = ("min_days",)

    def clean_options(self, typed: Mapping[str, Any]) -> dict[str, Any]:
        return {"min_days": whole_number("min_days", typed.get("min_days"), minimum=0, maximum=MAX_MIN_DAYS,
                                         default=DEFAULT_MIN_DAYS, label="Warn days before expiry")}

    def form_values(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return {"min_days": options.get("min_days", DEFAULT_MIN_DAYS)}

    def check_options(self, spec: ProbeSpec) -> dict[str, str]:
        errors = {}
        parts = url_parts(spec.url)
        if parts is not None and parts.scheme != "https":   # an unreadable address is reported by check()
            errors["url"] = NEEDS_HTTPS
        if _min_days(spec.options.get("min_days", DEFAULT_MIN_DAYS)) is None:
            errors["min_days"] = f"Warn this many days before expiry: a whole number from 0 to {MAX_MIN_DAYS}."
        for field, expressions in (("checks", spec.checks), ("soft_checks", spec.soft_checks)):
            for expression in expressions if isinstance(expressions, (list, tuple)) else ():
                try:
                    operand = parse_comparison(expression).operand.name
                except (AssertionSyntaxError, TypeError):
                    continue                            # reported by check() already
                if operand != "CERTIFICATE_EXPIRATION":
                    errors.setdefault(field, f"A certificate check can only look at [CERTIFICATE_EXPIRATION], "
                                             f"not [{operand}].")
        return errors

    def run(self, spec: ProbeSpec, policy: FetchPolicy, now: datetime) -> Finding:
        parts = url_parts(spec.url)
        if parts is None or parts.scheme != "https":
            return failed(NEEDS_HTTPS)
        started = time.perf_counter()
        try:
            certificate = fetch_certificate(spec.url, policy=within_timeout(spec, policy))
        except FetchError as exc:
            return from_fetch_error(exc)
        elapsed = (time.perf_counter() - started) * 1000
        days_left = certificate.days_left(now)
        details = {"certificate_days_left": round(days_left, 1), "certificate_subject": certificate.subject,
                   "certificate_issuer": certificate.issuer, "certificate_expires": certificate.not_after.isoformat()}
        result = Finding(outcome="up", details=details, timings=Timings(total_ms=elapsed))
        if not certificate.verified:
            result.outcome = "down"
            result.error = excerpt(certificate.problem or "The certificate could not be verified")
            result.failed_checks = [result.error]
            return result
        try:
            checks, soft_checks = parsed_checks(spec.checks), parsed_checks(spec.soft_checks)
        except (AssertionSyntaxError, TypeError) as exc:
            result.outcome, result.error = "down", excerpt(f"A check could not be read: {exc}")
            return result
        subject = Subject(certificate_seconds_left=days_left * 86400)
        hard = [v.description for v in evaluate_all(checks, subject) if not v.passed]
        if hard:
            result.outcome, result.failed_checks = "down", hard
            result.error = excerpt(f"Check failed: {hard[0]}")
            return result
        soft = [v.description for v in evaluate_all(soft_checks, subject) if not v.passed]
        min_days = _min_days(spec.options.get("min_days", DEFAULT_MIN_DAYS))
        min_days = DEFAULT_MIN_DAYS if min_days is None else min_days
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
