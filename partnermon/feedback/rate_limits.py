"""Rate limits for public pages, counted in the database so every web process sees the same numbers.

Each kind allows so many attempts per client address in a sliding window: link tokens that match
nothing (someone guessing links), and answers through a practice's open feedback link.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from partnermon.models import PublicAttempt

LIMITS: dict[str, tuple[int, timedelta]] = {
    "bad_link": (20, timedelta(minutes=10)),
    "open_link": (10, timedelta(hours=1)),
}
KEEP = timedelta(days=1)


def client_key(ip: str) -> str:
    """What the limits count by: an IPv4 address, or an IPv6 /64 (one subscriber usually holds a whole /64,
    so counting single IPv6 addresses would let one client step around the limit)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:45]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def exceeded(session: Session, now: datetime, kind: str, ip: str) -> bool:
    limit, window = LIMITS[kind]
    count = session.scalar(select(func.count()).select_from(PublicAttempt).where(
        PublicAttempt.kind == kind, PublicAttempt.ip == client_key(ip), PublicAttempt.at > now - window)) or 0
    return count >= limit


def note(session: Session, now: datetime, kind: str, ip: str) -> None:
    session.add(PublicAttempt(kind=kind, ip=client_key(ip), at=now))


def prune(session: Session, now: datetime) -> int:
    return session.execute(delete(PublicAttempt).where(PublicAttempt.at < now - KEEP)).rowcount or 0
