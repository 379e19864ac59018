"""``dns``: does the partner's name still resolve, with the record types it should have?

Options: ``record_types`` — any of A, AAAA, CNAME, MX, TXT (default ["A"]). Each listed type must have
at least one record, or the probe is down.
"""

from __future__ import annotations

import time
from datetime import datetime
from urllib.parse import urlsplit

from probes.base import ProbeKind, failed, from_fetch_error
from probes.fetch import FetchError, FetchPolicy, lookup
from probes.spec import ProbeResult, ProbeSpec, Timings

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT")


def host_of(url: str) -> str:
    """The dns kind takes a bare name or any URL and looks up its host."""
    return (urlsplit(url).hostname if "://" in url else url.strip().rstrip(".")) or ""


class DnsProbe(ProbeKind):
    name = "dns"
    label = "DNS records"
    description = "Checks that the partner's domain name resolves and has the expected record types."
    reads_body = False

    def check_options(self, spec: ProbeSpec) -> dict[str, str]:
        types = spec.options.get("record_types", ["A"])
        if not isinstance(types, list) or not types or any(t not in RECORD_TYPES for t in types):
            return {"record_types": "Record types must be some of: " + ", ".join(RECORD_TYPES) + "."}
        return {}

    def run(self, spec: ProbeSpec, policy: FetchPolicy, now: datetime) -> ProbeResult:
        name = host_of(spec.url)
        if not name:
            return failed("There is no host name to look up.")
        types = [t for t in spec.options.get("record_types", ["A"]) if t in RECORD_TYPES] or ["A"]
        started = time.perf_counter()
        try:
            records = lookup(name, types, policy=policy)
        except FetchError as exc:
            return from_fetch_error(exc)
        elapsed = (time.perf_counter() - started) * 1000
        timings = Timings(dns_ms=elapsed, total_ms=elapsed)
        missing = [t for t in types if not records.get(t)]
        details = {"records": {t: records.get(t, [])[:10] for t in types}}
        if missing:
            error = f"{name} has no {' or '.join(missing)} record" + ("s" if len(missing) > 1 else "")
            return ProbeResult(outcome="down", error=error, timings=timings, details=details,
                               failed_checks=[error])
        result = ProbeResult(outcome="up", timings=timings, details=details)
        if spec.degraded_after_ms is not None and elapsed > spec.degraded_after_ms:
            result.outcome = "degraded"
            result.error = f"Slower than {spec.degraded_after_ms:,} ms (took {elapsed:,.0f} ms)"
            result.failed_checks = [result.error]
        return result
