"""The plain data of ``probes.fetch``: the policy a fetch runs under, what it returns, and its errors.

Import these from ``probes.fetch`` (which re-exports them); they live apart only to keep that module
about the network. Nothing here touches the network.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from probes.certinfo import CertificateInfo
from probes.safety import parse_cidrs
from probes.spec import Timings

# The DNS record types a probe can ask for (probes.fetch.lookup; the dns kind offers the same).
RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT")

DEFAULT_USER_AGENT = "partnermon-probe/0.1 (+https://partnermon.app/probe)"

_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class FetchPolicy:
    allow_cidrs: tuple[str, ...] = ()       # reachable despite the rules (PARTNERMON_PROBE_ALLOW_CIDRS)
    allow_private: bool = False             # CLI --allow-private: no address rules (still http/https only)
    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 5.0
    read_timeout: float = 10.0              # the longest wait for any single read
    total_timeout: float = 10.0             # hard deadline for a whole fetch, redirects and body included
    max_bytes: int = 2_000_000              # body bytes kept; the rest is not read (truncated=True)
    max_redirects: int = 5
    ca_file: str | None = None              # an extra CA bundle to trust (tests); None = system store only
    resolver: Callable[[str, int], list[str]] | None = None   # test seam: (host, port) -> IP strings
    dns_nameservers: tuple[str, ...] = ()   # for lookup(): "1.1.1.1", "127.0.0.1:5353", "[::1]:53"

    def __post_init__(self) -> None:
        # Accept lists from configuration code; keep the policy hashable and immutable.
        object.__setattr__(self, "allow_cidrs", tuple(self.allow_cidrs))
        object.__setattr__(self, "dns_nameservers", tuple(self.dns_nameservers))
        parse_cidrs(self.allow_cidrs)       # a bad entry fails here, at start-up, not at the first probe
        for name in ("connect_timeout", "read_timeout", "total_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be more than 0 seconds")
        if self.max_bytes < 0 or self.max_redirects < 0:
            raise ValueError("max_bytes and max_redirects cannot be negative")
        for server in self.dns_nameservers:
            parse_nameserver(server)

    def with_changes(self, **changes: Any) -> "FetchPolicy":
        return replace(self, **changes)


class FetchError(Exception):
    """A problem at the other end, as a sentence a practice owner can read. ``phase`` says where it
    happened: url, dns, blocked, connect, tls, request, first_byte, read, redirect or timeout."""

    def __init__(self, message: str, phase: str = "request", timings: Timings | None = None) -> None:
        super().__init__(message)
        self.phase = phase
        self.timings = timings if timings is not None else Timings()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_error, (type(self), str(self), self.phase, self.timings))


class Blocked(FetchError):
    """Refused by the outbound safety rules (nothing was sent)."""

    def __init__(self, message: str, phase: str = "blocked", timings: Timings | None = None) -> None:
        super().__init__(message, "blocked", timings)


def _restore_error(cls: type[FetchError], message: str, phase: str, timings: Timings) -> FetchError:
    error = cls.__new__(cls)
    FetchError.__init__(error, message, phase, timings)
    return error


@dataclass
class FetchResponse:
    url: str                                # the final URL, after redirects
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    truncated: bool                         # the body was longer than max_bytes and was cut there
    timings: Timings                        # the last hop's phases; total_ms covers the whole fetch
    peer_address: str                       # the IP address actually connected to (last hop)
    redirects: list[str] = field(default_factory=list)   # the URLs that answered with a redirect, in order
    certificate: CertificateInfo | None = None           # the last hop's certificate, for https

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)

    def text(self) -> str:
        match = _CHARSET.search(self.header("content-type") or "")
        charset = match.group(1) if match else None
        if charset:
            try:
                return self.body.decode(charset, "replace")
            except LookupError:
                pass
        return self.body.decode("utf-8", "replace")

    @property
    def bytes_read(self) -> int:
        return len(self.body)


def parse_nameserver(text: str) -> tuple[str, int]:
    """"1.1.1.1", "127.0.0.1:5353", "::1" or "[::1]:5353" as (address, port). Raises ValueError."""
    text = text.strip()
    host, port = text, "53"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or "53"
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        ipaddress.ip_address(host)
        number = int(port)
        if not 0 < number < 65536:
            raise ValueError
    except ValueError:
        raise ValueError(f"{text!r} is not a DNS server address (expected e.g. 1.1.1.1 or 127.0.0.1:5353)") from None
    return host, number
