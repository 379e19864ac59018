"""Bulk inserts for the demo's history: core INSERTs of many rows at once (the ORM's unit of work would be
far slower for hundreds of thousands of rows).

``render_nulls`` matters: without it the ORM leaves out the columns a row has as None, so rows with and
without an optional answer differ in their columns, each run of alike rows becomes its own statement, and
20,000 responses turn into thousands of round trips.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

OPTIONS = {"render_nulls": True}


def insert_rows(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(model), rows, execution_options=OPTIONS)


def insert_returning_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert and return the new ids in the order of ``rows``."""
    if not rows:
        return []
    result = session.execute(insert(model).returning(model.id, sort_by_parameter_order=True), rows,
                             execution_options=OPTIONS)
    return list(result.scalars())
