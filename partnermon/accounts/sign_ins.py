"""Sign-in sessions on the server (DESIGN.md §8): starting one, finding it again, ending it.

A browser that signs in gets a random token (256 bits from ``secrets``) in its session cookie; the database
keeps only the token's SHA-256 in a ``sign_in_session`` row. Each request looks the row up by that hash (one
indexed query, joined to its user); an ended row, an idle or old one, or an inactive user means "signed out".
So sign-out ends the sign-in for every copy of the cookie, a password change ends the user's other sign-ins,
and deactivating a user ends them all.

Plain functions of ``(session, now, ...)``; none of them commits except where it says so. Nothing here knows
about Flask: ``web/security.py`` puts the token in the cookie.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session

from partnermon.accounts.security import new_token, token_hash
from partnermon.models import SignInSession, User

# Unused this long, a sign-in ends (as the 14-day cookie always did); however busy, it ends this long after
# the password was typed.
IDLE_LIMIT = timedelta(days=14)
MAX_AGE = timedelta(days=30)
# last_seen_at is written at most this often, so most requests only read.
SEEN_GRANULARITY = timedelta(minutes=5)


@dataclass(frozen=True)
class SignedIn:
    user: User
    sign_in: SignInSession


def start(session: Session, now: datetime, user: User, user_agent: str = "") -> str:
    """A new sign-in for ``user``; returns the token for the cookie (never stored). Does not commit."""
    token = new_token()
    session.add(SignInSession(user_id=user.id, token_hash=token_hash(token), created_at=now, last_seen_at=now,
                              user_agent=_printable(user_agent)))
    session.flush()
    return token


def _printable(user_agent: str) -> str:
    """A browser's own description, as the sign-ins page shows it: one line, no control characters (a NUL is
    refused by PostgreSQL), at most 200 characters."""
    return " ".join("".join(char for char in user_agent if char.isprintable() or char == " ").split())[:200]


def _live(now: datetime) -> ColumnElement[bool]:
    return (SignInSession.ended_at.is_(None) & (SignInSession.last_seen_at > now - IDLE_LIMIT)
            & (SignInSession.created_at > now - MAX_AGE))


def resume(session: Session, now: datetime, token: str) -> SignedIn | None:
    """The user a cookie's token signs in, or None when it does not (unknown, ended, expired, user inactive).
    Notes the visit (committing it) at most every few minutes, so the idle limit counts from the last use."""
    if not token:
        return None
    found = session.execute(
        select(SignInSession, User).join(User, User.id == SignInSession.user_id)
        .where(SignInSession.token_hash == token_hash(token), _live(now), User.is_active)
    ).one_or_none()
    if found is None:
        return None
    sign_in, user = found
    if now - sign_in.last_seen_at >= SEEN_GRANULARITY:
        sign_in.last_seen_at = now
        session.commit()
    return SignedIn(user, sign_in)


def end(session: Session, now: datetime, token: str) -> None:
    """Sign-out: end the sign-in behind this token. Does not commit."""
    if token:
        session.execute(update(SignInSession).where(SignInSession.token_hash == token_hash(token),
                                                    SignInSession.ended_at.is_(None)).values(ended_at=now))


def end_all(session: Session, now: datetime, user_id: int, *, keep: int | None = None) -> int:
    """End every sign-in of a user but ``keep`` (a sign-in's id); returns how many ended. Does not commit."""
    query = update(SignInSession).where(SignInSession.user_id == user_id, SignInSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(SignInSession.id != keep)
    return session.execute(query.values(ended_at=now)).rowcount or 0


def list_live(session: Session, now: datetime, user_id: int) -> list[SignInSession]:
    """A user's sign-ins that still work, most recently used first."""
    return list(session.scalars(
        select(SignInSession).where(SignInSession.user_id == user_id, _live(now))
        .order_by(SignInSession.last_seen_at.desc(), SignInSession.id.desc())
    ))


def prune(session: Session, now: datetime) -> int:
    """Forget sign-ins that can no longer be used. Does not commit."""
    result = session.execute(delete(SignInSession).where(or_(
        SignInSession.ended_at.is_not(None), SignInSession.last_seen_at <= now - IDLE_LIMIT,
        SignInSession.created_at <= now - MAX_AGE,
    )))
    return result.rowcount or 0
