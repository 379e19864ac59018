"""What a probe is asked to do (ProbeSpec) and what it found (Finding).

Plain data only: partnermon stores specs and results in its database, the CLI prints results as
JSON, and the probe kinds never see anything of partnermon. Nothing here touches the network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import SplitResult, urlsplit

Outcome = Literal["up", "degraded", "down"]

# Stored error texts are cut to this many characters: a result keeps an excerpt, never a page.
ERROR_EXCERPT_CHARS = 300


@dataclass(frozen=True)
class ProbeSpec:
    """One probe of one touchpoint.

    ``checks`` must all pass or the outcome is ``down``; ``soft_checks`` that fail while the page works
    make it ``degraded``, as does a total time above ``degraded_after_ms``. ``options`` carries what only
    one kind understands (content texts, DNS record types, journey steps); each kind documents its own.
    """

    kind: str
    url: str
    checks: tuple[str, ...] = ()
    soft_checks: tuple[str, ...] = ()
    timeout_seconds: float = 10.0
    degraded_after_ms: int | None = None
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    # ISO 3166 alpha-2 country of the practice ("NZ"): how to read numbers written without a country code
    # when the page does not say (probes.human_contact). "" when unknown.
    region: str = ""


@dataclass
class Timings:
    """Milliseconds spent in each phase of the (last) request; None where a phase did not happen."""

    dns_ms: float | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    first_byte_ms: float | None = None
    total_ms: float | None = None


@dataclass
class Finding:
    """What one run of a probe found. partnermon stores it as a probe result (``models.ProbeResult``, table
    ``probe_result``: one row per run, with when it was due and ran); this is the pure part a kind returns."""

    outcome: Outcome
    # A sentence a practice owner can read: "DNS lookup failed for claims.example.com". None when up.
    error: str | None = None
    status: int | None = None
    timings: Timings = field(default_factory=Timings)
    bytes_read: int = 0
    final_url: str | None = None
    # Descriptions of the assertions that failed, e.g. '[STATUS] == 200 (was 503)'.
    failed_checks: list[str] = field(default_factory=list)
    # Set when the refusal came from the outbound safety rules, not from the partner's site.
    blocked: bool = False
    # Kind-specific findings: human_contact, certificate_days_left, failed_step, records, steps ...
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def is_up(self) -> bool:
        return self.outcome == "up"


def excerpt(text: str, limit: int = ERROR_EXCERPT_CHARS) -> str:
    """A bounded, single-line version of ``text`` for storage and display."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def url_parts(url: object) -> SplitResult | None:
    """``urlsplit`` of an address (a spec's, or one someone typed), or None when there is none or it cannot be
    read: urlsplit raises ValueError for an unclosed IPv6 bracket (``http://[::1``), and ``.hostname`` or
    ``.port`` for a malformed IPv6 address or a port that is no number (``:abc``, ``:99999``)."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        parts.hostname, parts.port  # noqa: B018 - both raise ValueError for a malformed address
    except ValueError:
        return None
    return parts
