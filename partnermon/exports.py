"""Rows out as CSV or JSON, streamed so a big month never sits in memory: the one writer behind every
export (``partnermon export`` and the pages' CSV downloads). The rows come from each subject's own
``exports`` module (feedback, follow-ups, monitoring, scoring).

Every cell a person typed (or a partner's site sent back) is neutralised against spreadsheet formula
injection: a CSV cell starting with = + - @ (or a tab/carriage return) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Callable, Iterator, TextIO

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


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
