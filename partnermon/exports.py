"""Exports of a practice's data as CSV or JSON, streamed so a big month never sits in memory.

Every cell a person typed (or a partner's site sent back) is neutralised against spreadsheet formula
injection: a CSV cell starting with = + - @ (or a tab/carriage return) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from typing import Any, Callable, Iterator, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.models import Incident, Partner, Practice, ProbeResult, Touchpoint

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def month_bounds(month: str | None, practice: Practice, now: datetime) -> tuple[datetime, datetime, str]:
    """[start, end) in UTC of a YYYY-MM month in the practice's time zone (default: the current month)."""
    zone = ZoneInfo(practice.timezone)
    if month:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    else:
        local = now.astimezone(zone)
        first = date(local.year, local.month, 1)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    start = datetime.combine(first, time(0), zone).astimezone(ZoneInfo("UTC"))
    end = datetime.combine(following, time(0), zone).astimezone(ZoneInfo("UTC"))
    return start, end, first.strftime("%Y-%m")


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


def _cells(row: dict[str, Any], fields: tuple[str, ...]) -> list[Any]:
    return [safe_cell("; ".join(v) if isinstance(v, list) else v) for v in (row[f] for f in fields)]


def write_csv(rows: Iterator[dict[str, Any]], fields: tuple[str, ...], out: TextIO,
              progress: Callable[[int], None] | None = None) -> int:
    writer = csv.writer(out)
    writer.writerow(fields)
    count = 0
    for row in rows:
        writer.writerow(_cells(row, fields))
        count += 1
        if progress and count % 10_000 == 0:
            progress(count)
    return count


def iter_csv(rows: Iterator[dict[str, Any]], fields: tuple[str, ...], chunk_size: int = 64 * 1024) -> Iterator[str]:
    """The same CSV as ``write_csv`` in chunks of text, for a web download streamed as it is read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(fields)
    for row in rows:
        writer.writerow(_cells(row, fields))
        if buffer.tell() >= chunk_size:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_json(rows: Iterator[dict[str, Any]], out: TextIO, progress: Callable[[int], None] | None = None) -> int:
    """A JSON array written row by row (valid JSON, constant memory)."""
    out.write("[")
    count = 0
    for row in rows:
        out.write(("\n" if count == 0 else ",\n") + json.dumps(row, ensure_ascii=False))
        count += 1
        if progress and count % 10_000 == 0:
            progress(count)
    out.write("\n]\n" if count else "]\n")
    return count
