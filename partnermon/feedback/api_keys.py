"""API keys: how a practice's own systems (a CRM, say) make feedback requests through the JSON API.

A key is shown once, when it is created; only its SHA-256 is stored, with a short prefix so people can
tell their keys apart (DESIGN.md §8, as for feedback link tokens). Every lookup is scoped to one practice,
and a revoked key never authenticates again. Nothing here knows about Flask or HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon import validators as v
from partnermon.accounts import audit
from partnermon.accounts.security import new_token, same, token_hash
from partnermon.errors import NotFound, ValidationError
from partnermon.models import ApiKey, Practice, User

KEY_PREFIX = "pm_"
# Enough to tell keys apart on the settings page and in the audit log; far too little to guess the rest.
SHOWN_CHARACTERS = 10
# A presented key longer than this cannot be one of ours, so it is not even hashed.
MAX_KEY_LENGTH = 100
# last_used_at is written at most this often per key, so a busy CRM does not cost a write per call.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# What a key may do: "read" the practice's rows (GET /api/v1/...), "write" make feedback requests.
SCOPES = {"read": "Read partners, touchpoints, incidents, feedback, follow-ups and scores",
          "write": "Make feedback requests"}


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    plaintext: str   # shown to the owner once; never stored


def actor_for(key: ApiKey) -> str:
    """How the audit log names what a key did (there is no user behind an API call)."""
    return f"API key {key.prefix}… ({key.name})"


def clean_scopes(chosen: Iterable[str]) -> str:
    """The scopes as stored ("read write"), or ValidationError on ``scopes`` when none or an unknown one."""
    picked = {scope.strip() for scope in chosen if scope.strip()}
    if not picked:
        raise ValidationError({"scopes": "Choose what the key may do: read, write or both."})
    if unknown := picked - set(SCOPES):
        raise ValidationError({"scopes": f"Unknown scope “{sorted(unknown)[0][:20]}”: choose read, write or both."})
    return " ".join(scope for scope in SCOPES if scope in picked)


def create_key(session: Session, now: datetime, practice: Practice, actor: User, name: str,
               scopes: Iterable[str] = ("write",)) -> NewKey:
    """A new key for the practice, or ValidationError on ``name`` or ``scopes``."""
    errors = {}
    try:
        name = v.text("name", name, max_length=100, label="Name")
    except ValidationError as exc:
        errors |= exc.errors
    try:
        stored_scopes = clean_scopes(scopes)
    except ValidationError as exc:
        errors |= exc.errors
    if errors:
        raise ValidationError(errors)
    plaintext = KEY_PREFIX + new_token()
    key = ApiKey(practice_id=practice.id, name=name, prefix=plaintext[:SHOWN_CHARACTERS],
                 key_hash=token_hash(plaintext), created_at=now, created_by_id=actor.id, scopes=stored_scopes,
                 rate_window_count=0)
    session.add(key)
    session.flush()
    audit.record(session, now, practice.id, actor, "api_key.created", "api_key", key.id,
                 f"Created API key “{name}” ({key.prefix}…) to {stored_scopes.replace(' ', ' and ')}")
    return NewKey(key, plaintext)


def list_keys(session: Session, practice_id: int) -> list[ApiKey]:
    """The practice's keys: those still in use first, newest first within each group."""
    return list(session.scalars(
        select(ApiKey).where(ApiKey.practice_id == practice_id)
        .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())))


def get_key(session: Session, practice_id: int, key_id: int) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.practice_id == practice_id))
    if key is None:
        raise NotFound("No such API key in this practice.")
    return key


def revoke_key(session: Session, now: datetime, key: ApiKey, actor: User) -> bool:
    """Stop the key working from now on; False if it had already been revoked (nothing changes)."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = now
    audit.record(session, now, key.practice_id, actor, "api_key.revoked", "api_key", key.id,
                 f"Revoked API key “{key.name}” ({key.prefix}…)")
    return True


def authenticate(session: Session, now: datetime, presented: str | None) -> ApiKey | None:
    """The live key behind what a caller presented, or None (unknown, malformed or revoked).

    Marks the key used; the caller commits, so that is recorded even when the call is then refused."""
    presented = (presented or "").strip()
    if not presented.startswith(KEY_PREFIX) or len(presented) > MAX_KEY_LENGTH:
        return None
    digest = token_hash(presented)
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    # The lookup is by hash; the constant-time comparison keeps the rule simple to audit (see links.py).
    if key is None or not same(key.key_hash, digest) or key.revoked_at is not None:
        return None
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        key.last_used_at = now
    return key
