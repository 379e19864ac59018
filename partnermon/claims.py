"""Claiming work rows so any number of workers can share them (DESIGN.md §6).

A worker picks candidate rows (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so workers do not queue on
each other), then claims each with one conditional UPDATE that only succeeds while the row is still
due and unleased. The lease expires, so work held by a worker that died is taken over, never lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session


def claim(session: Session, model: Any, now: datetime, *, worker_id: str, lease_seconds: int,
          due: ColumnElement[bool], order_by: Any, limit: int,
          extra_values: dict[str, Any] | None = None) -> list[int]:
    """Claim up to ``limit`` due rows of ``model`` for ``worker_id``. Returns their ids.

    The caller commits, and should do so promptly: until then the rows stay locked (PostgreSQL), which is
    what lets it read what it claimed in the same transaction."""
    free = or_(model.lease_until.is_(None), model.lease_until < now)
    candidates = session.scalars(
        select(model.id).where(due, free).order_by(order_by).limit(limit).with_for_update(skip_locked=True)
    ).all()
    if not candidates:
        return []
    values = {"claimed_by": worker_id, "lease_until": now + timedelta(seconds=lease_seconds)}
    values.update(extra_values or {})
    # One statement for the batch; repeating the conditions means a row another worker claimed since
    # (SQLite has no SKIP LOCKED) is simply not returned.
    return list(session.scalars(
        update(model).where(model.id.in_(candidates), due, free).values(**values).returning(model.id)
        .execution_options(synchronize_session=False)
    ))
