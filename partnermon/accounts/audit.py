"""Writes the audit log. Callers pass the actor; the row joins the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from partnermon.models import AuditEvent, User


def record(session: Session, now: datetime, practice_id: int, actor: User | str, action: str,
           object_type: str, object_id: int | None, summary: str) -> AuditEvent:
    event = AuditEvent(
        practice_id=practice_id,
        user_id=actor.id if isinstance(actor, User) else None,
        actor=actor.email if isinstance(actor, User) else actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary[:500],
        at=now,
    )
    session.add(event)
    return event


def record_many(session: Session, now: datetime, practice_id: int, actor: User | str, action: str, object_type: str,
                events: list[tuple[int | None, str]]) -> None:
    """Many rows like ``record``'s, one per (object id, summary), in one INSERT (a CSV import makes thousands)."""
    user_id, name = (actor.id, actor.email) if isinstance(actor, User) else (None, actor)
    if events:
        session.execute(insert(AuditEvent).execution_options(render_nulls=True), [
            {"practice_id": practice_id, "user_id": user_id, "actor": name, "action": action,
             "object_type": object_type, "object_id": object_id, "summary": summary[:500], "at": now}
            for object_id, summary in events])


def recent(practice_id: int, limit: int = 200) -> Select[tuple[AuditEvent]]:
    return (
        select(AuditEvent)
        .where(AuditEvent.practice_id == practice_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
