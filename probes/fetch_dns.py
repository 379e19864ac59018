"""DNS record lookups for ``probes.fetch.lookup`` (the dns kind): A, AAAA, CNAME, MX and TXT records of a
name, asked of the configured name servers with dnspython.

Re-exported by ``probes.fetch`` (import it from there); it lives apart only to keep that module about HTTP.
Queries go to ``policy.dns_nameservers`` (or the system's), never to the partner, so the address rules of
DESIGN.md §8 do not apply here; the total deadline does.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from probes.fetch_types import RECORD_TYPES, FetchError, FetchPolicy, parse_nameserver
from probes.network_words import seconds
from probes.safety import UnsafeUrl, normalise_name
from probes.spec import Timings


def lookup(name: str, record_types: Sequence[str], *, policy: FetchPolicy) -> dict[str, list[str]]:
    """DNS records of ``name``: {type: [values]} for A, AAAA, CNAME, MX ("10 mail.example.com") and TXT,
    an empty list where there is no such record. Raises FetchError (phase "dns") when the name does not
    exist or no answer came within ``total_timeout``. Queries go to ``policy.dns_nameservers`` (or the
    system's), never to the partner, so the address rules do not apply here."""
    import dns.exception
    import dns.nameserver
    import dns.resolver

    started = time.perf_counter()
    limit = policy.total_timeout
    try:
        host = normalise_name(name.strip())
    except UnsafeUrl:
        raise FetchError(f"DNS lookup failed: {name[:60]!s} is not a valid host name", "dns") from None
    types = [t.strip().upper() for t in record_types]
    unknown = [t for t in types if t not in RECORD_TYPES]
    if unknown:
        raise ValueError(f"record types must be among {', '.join(RECORD_TYPES)}, not {', '.join(unknown)}")

    def failure(detail: str) -> FetchError:
        elapsed = (time.perf_counter() - started) * 1000
        return FetchError(f"DNS lookup failed for {host}{detail}", "dns", Timings(dns_ms=elapsed, total_ms=elapsed))

    try:
        resolver = dns.resolver.Resolver(configure=not policy.dns_nameservers)
    except dns.exception.DNSException:
        raise failure(": this machine has no DNS servers configured") from None
    if policy.dns_nameservers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(*parse_nameserver(s)) for s in policy.dns_nameservers]
    resolver.timeout = min(policy.read_timeout, limit)
    records: dict[str, list[str]] = {}
    for rtype in dict.fromkeys(types):
        left = limit - (time.perf_counter() - started)
        if left <= 0:
            raise failure(f": no answer within {seconds(limit)}")
        try:
            answer = resolver.resolve(host, rtype, raise_on_no_answer=False, lifetime=left, search=False)
        except dns.resolver.NXDOMAIN:
            raise failure(": no such name") from None
        except dns.exception.Timeout:
            raise failure(f": no answer within {seconds(limit)}") from None
        except dns.resolver.NoNameservers:
            raise failure(": the name servers could not answer") from None
        except dns.exception.DNSException:
            raise failure("") from None
        records[rtype] = [_record_text(rtype, r) for r in answer.rrset] if answer.rrset is not None else []
    return records


def _record_text(rtype: str, rdata: Any) -> str:
    if rtype in ("A", "AAAA"):
        return str(rdata.address)
    if rtype == "CNAME":
        return str(rdata.target.to_text(omit_final_dot=True))
    if rtype == "MX":
        return f"{rdata.preference} {rdata.exchange.to_text(omit_final_dot=True)}"
    return "".join(part.decode("utf-8", "replace") for part in rdata.strings)
