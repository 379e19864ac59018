"""Rate limits for public pages, counted in the database so every web process sees the same numbers.

Each kind allows so many attempts per client address in a sliding window: link tokens that match
nothing (someone guessing links), and answers through a practice's open feedback link.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from partnermon.models import PublicAttempt

LIMITS: dict[str, tuple[int, timedelta]] = {
    "bad_link": (20, timedelta(minutes=10)),
    "open_link": (10, timedelta(hours=1)),
}
KEEP = timedelta(days=1)


def exceeded(session: Session, now: datetime, kind: str, ip: str) -> bool:
    limit, window = LIMITS[kind]
    count = session.scalar(select(func.count()).select_from(PublicAttempt).where(
        PublicAttempt.kind == kind, PublicAttempt.ip == ip[:45], PublicAttempt.at > now - window)) or 0
    return count >= limit


def note(session: Session, now: datetime, kind: str, ip: str) -> None:
    session.add(PublicAttempt(kind=kind, ip=ip[:45], at=now))


def prune(session: Session, now: datetime) -> int:
    return session.execute(delete(PublicAttempt).where(PublicAttempt.at < now - KEEP)).rowcount or 0
