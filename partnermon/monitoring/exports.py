"""Probe results and incidents as rows, for ``partnermon export --what results`` and ``--what incidents``: one
month of a practice's, read in batches (``yield_per``) so a big month never sits in memory.
``partnermon.exports`` writes them as CSV (formula-neutralised) or JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.models import Incident, Partner, ProbeResult, Touchpoint

RESULT_FIELDS = ("started_at", "due_at", "partner", "touchpoint", "outcome", "status_code", "dns_ms", "connect_ms",
                 "tls_ms", "first_byte_ms", "total_ms", "bytes_read", "error", "failed_checks",
                 "in_business_hours", "in_maintenance")
INCIDENT_FIELDS = ("started_at", "resolved_at", "partner", "touchpoint", "kind", "first_error", "last_error",
                   "seconds_total", "seconds_in_business_hours", "in_maintenance")


def probe_results(session: Session, practice_id: int, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    query = (select(ProbeResult, Touchpoint.name, Partner.name)
             .join(Touchpoint, Touchpoint.id == ProbeResult.touchpoint_id)
             .join(Partner, Partner.id == Touchpoint.partner_id)
             .where(ProbeResult.practice_id == practice_id, ProbeResult.started_at >= start,
                    ProbeResult.started_at < end)
             .order_by(ProbeResult.started_at, ProbeResult.id)
             .execution_options(yield_per=1000))
    for result, touchpoint, partner in session.execute(query):
        yield {
            "started_at": result.started_at.isoformat(), "due_at": result.due_at.isoformat(), "partner": partner,
            "touchpoint": touchpoint, "outcome": result.outcome, "status_code": result.status_code,
            "dns_ms": _ms(result.dns_ms), "connect_ms": _ms(result.connect_ms), "tls_ms": _ms(result.tls_ms),
            "first_byte_ms": _ms(result.first_byte_ms), "total_ms": _ms(result.total_ms),
            "bytes_read": result.bytes_read, "error": result.error or "",
            "failed_checks": list(result.failed_checks or []), "in_business_hours": result.in_business_hours,
            "in_maintenance": result.in_maintenance,
        }


def incidents(session: Session, practice_id: int, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    query = (select(Incident, Touchpoint.name, Partner.name)
             .join(Touchpoint, Touchpoint.id == Incident.touchpoint_id)
             .join(Partner, Partner.id == Touchpoint.partner_id)
             .where(Incident.practice_id == practice_id, Incident.started_at < end,
                    (Incident.resolved_at.is_(None)) | (Incident.resolved_at >= start))
             .order_by(Incident.started_at, Incident.id))
    for incident, touchpoint, partner in session.execute(query):
        yield {
            "started_at": incident.started_at.isoformat(),
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "partner": partner, "touchpoint": touchpoint, "kind": incident.kind,
            "first_error": incident.first_error or "", "last_error": incident.last_error or "",
            "seconds_total": incident.seconds_total, "seconds_in_business_hours": incident.seconds_in_business_hours,
            "in_maintenance": incident.in_maintenance,
        }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
