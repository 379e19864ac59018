"""Cursor pages for the API's lists: keyset on the row's id, so pages stay stable while rows are added.

A page holds the rows with ``id > after`` in id order, ``limit`` of them. New rows always get larger ids, so
they only ever appear on later pages: nothing already read shifts, repeats or is skipped. The cursor is opaque
to callers (base64 of a small JSON object) so the keyset can change without breaking them; a cursor that does
not decode is the caller's mistake, named as the field ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import Select
from sqlalchemy.orm import Session

from partnermon.errors import ValidationError

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
CURSOR_VERSION = 1


@dataclass(frozen=True)
class Page:
    rows: Sequence[Any]
    next_cursor: str | None


def encode(after_id: int) -> str:
    raw = json.dumps({"v": CURSOR_VERSION, "after": after_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> int:
    """The id a cursor continues after (0 for the first page), or ValidationError on ``cursor``."""
    if not cursor:
        return 0
    bad = ValidationError({"cursor": "This cursor is not one partnermon gave out: pass next_cursor from the "
                                     "previous page unchanged, or leave it out for the first page."})
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(data, dict) or data.get("v") != CURSOR_VERSION:
        raise bad
    after = data.get("after")
    if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after < 2**63:
        raise bad
    return after


def page(session: Session, query: Select[Any], id_column: Any, *, after: int, limit: int) -> Page:
    """One page of ``query`` (already filtered to one practice) after the id ``after``; the first column of
    each row must be the keyset's model (its ``id`` makes the next cursor)."""
    rows = session.execute(query.where(id_column > after).order_by(id_column).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode(rows[-1][0].id) if more and rows else None)
