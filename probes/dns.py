"""``dns``: does the partner's name still resolve, with the record types it should have?

Options: ``record_types`` — any of A, AAAA, CNAME, MX, TXT (default ["A"], any case). Each listed type must
have at least one record, or the probe is down. The URL may be a bare name ("partner.example") or any URL;
its host is looked up. There are no checks (nothing is fetched); ``degraded_after_ms`` applies to the lookup.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Mapping
from urllib.parse import urlsplit

from probes.base import ProbeKind, failed, from_fetch_error, slower_than, within_timeout
from probes.fetch import FetchError, FetchPolicy, lookup
from probes.fetch_types import RECORD_TYPES
from probes.settings import lines
from probes.spec import Finding, ProbeSpec, Timings


def host_of(url: str) -> str:
    """The dns kind takes a bare name ("partner.test", "partner.test/claims") or any URL and looks up its host."""
    text = url.strip()
    try:
        host = urlsplit(text if "://" in text else "//" + text).hostname
    except ValueError:                                  # e.g. an unclosed "[" of an IPv6 address
        return ""
    return (host or "").rstrip(".")


def record_types(options: dict[str, Any]) -> list[str] | None:
    """The asked-for types, upper case and without repeats; None when the option is unusable."""
    types = options.get("record_types", ["A"])
    if isinstance(types, str) or not isinstance(types, (list, tuple)) or not types:
        return None
    wanted = [str(t).strip().upper() for t in types]
    if any(t not in RECORD_TYPES for t in wanted):
        return None
    return list(dict.fromkeys(wanted))


def _record_order(text: str) -> tuple[int, str]:
    preference, _, rest = text.partition(" ")
    return (int(preference), rest) if preference.isdigit() and rest else (0, text)


class DnsProbe(ProbeKind):
    name = "dns"
    label = "DNS records"
    description = "Checks that the partner's domain name resolves and has the expected record types."
    needs_web_address = False
    option_fields = ("record_types",)
    record_type_choices = RECORD_TYPES

    def clean_options(self, typed: Mapping[str, Any]) -> dict[str, Any]:
        """Record types as ticked boxes (a list) or typed ("A, MX" or "A MX"); which are known, check says."""
        types = typed.get("record_types") or ["A"]
        types = lines(types) if not isinstance(types, str) else types.replace(",", " ").split()
        return {"record_types": [t.upper() for t in types]}

    def form_values(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return {"record_types": list(options.get("record_types") or ["A"])}

    def check_options(self, spec: ProbeSpec) -> dict[str, str]:
        errors = {}
        if record_types(spec.options) is None:
            errors["record_types"] = "Record types must be some of: " + ", ".join(RECORD_TYPES) + "."
        if not host_of(spec.url):
            errors["url"] = "There is no host name to look up."
        if spec.checks or spec.soft_checks:
            errors["checks" if spec.checks else "soft_checks"] = (
                "A DNS probe has no checks: it looks for the record types you choose.")
        return errors

    def run(self, spec: ProbeSpec, policy: FetchPolicy, now: datetime) -> Finding:
        name = host_of(spec.url)
        if not name:
            return failed("There is no host name to look up.")
        types = record_types(spec.options) or ["A"]
        started = time.perf_counter()
        try:
            records = lookup(name, types, policy=within_timeout(spec, policy))
        except FetchError as exc:
            return from_fetch_error(exc)
        elapsed = (time.perf_counter() - started) * 1000
        timings = Timings(dns_ms=elapsed, total_ms=elapsed)
        missing = [t for t in types if not records.get(t)]
        # Sorted (MX by preference): DNS servers rotate their answers, and a stored result should not
        # look different from the last one only because of that.
        details = {"records": {t: sorted(records.get(t, []), key=_record_order)[:10] for t in types}}
        if missing:
            error = f"{name} has no {' or '.join(missing)} record" + ("s" if len(missing) > 1 else "")
            return Finding(outcome="down", error=error, timings=timings, details=details,
                               failed_checks=[error])
        result = Finding(outcome="up", timings=timings, details=details)
        if spec.degraded_after_ms is not None and elapsed > spec.degraded_after_ms:
            result.outcome = "degraded"
            result.error = slower_than(spec.degraded_after_ms, elapsed)
            result.failed_checks = [result.error]
        return result
