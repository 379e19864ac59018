"""How an alert reaches a user: at once, in tomorrow morning's digest, or not at all — their choice per alert
type (``AlertPreference``) — and never during their quiet hours. Every alert sender calls ``deliver``; none
calls the outbox directly, so a preference is honoured everywhere or nowhere.

Essential alerts are about a client who is waiting for the practice (every follow-up email): they are always
emailed at once, whatever the user chose, and carry no unsubscribe link. Quiet hours still hold them back,
because follow-up deadlines run in business hours and a night's wait costs nothing. Every other alert is
non-essential: its email carries a signed one-click unsubscribe link (and RFC 8058 List-Unsubscribe headers).

This module renders and queues; it sends nothing and knows nothing of Flask.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon import validators
from partnermon.errors import ValidationError
from partnermon.mail import outbox
from partnermon.mail.rendering import render
from partnermon.models import AlertPreference, DigestItem, OutboxEmail, User

MODES = ("immediate", "digest", "off")
ESSENTIAL = frozenset({"followup_alert", "followup_overdue", "followup_reminder", "followup_reassigned",
                       "followup_stepped", "followup_top_rung"})
# The alert types a user may change, in the order the preferences page lists them.
OPTIONAL_LABELS = {
    "incident_opened": "A touchpoint went down",
    "incident_reminder": "A touchpoint is still down (reminders)",
    "incident_resolved": "A touchpoint is back up",
    "certificate_expiring": "A certificate is about to expire",
    "human_contact_lost": "A page no longer offers a way to reach a person",
    "early_warning": "A partner is getting significantly worse (owners)",
    "promise_broken": "A partner broke a promise it stated",
}
UNSUBSCRIBE_SALT = "partnermon.unsubscribe"


# --- preferences ----------------------------------------------------------------------------------

def mode_for(session: Session, user: User, kind: str) -> str:
    """How ``user`` wants ``kind`` delivered; essential alerts are always immediate."""
    if kind in ESSENTIAL:
        return "immediate"
    chosen = session.scalar(select(AlertPreference.mode).where(AlertPreference.user_id == user.id,
                                                               AlertPreference.alert_type == kind))
    return chosen or "immediate"


def modes_of(session: Session, user: User) -> dict[str, str]:
    """Every optional alert type with the user's choice (immediate where they made none)."""
    chosen = {kind: mode for kind, mode in session.execute(
        select(AlertPreference.alert_type, AlertPreference.mode).where(AlertPreference.user_id == user.id))}
    return {kind: chosen.get(kind, "immediate") for kind in OPTIONAL_LABELS}


def set_mode(session: Session, now: datetime, user: User, kind: str, mode: str) -> None:
    if kind not in OPTIONAL_LABELS or mode not in MODES:
        raise ValueError(f"{kind!r} cannot be set to {mode!r}: essential alerts are always sent at once.")
    row = session.scalar(select(AlertPreference).where(AlertPreference.user_id == user.id,
                                                       AlertPreference.alert_type == kind))
    if row is None:
        session.add(AlertPreference(user_id=user.id, alert_type=kind, mode=mode, updated_at=now))
    elif row.mode != mode:
        row.mode, row.updated_at = mode, now


def save_preferences(session: Session, now: datetime, user: User, modes: dict[str, str], quiet_from: str,
                     quiet_to: str) -> None:
    """The preferences page: a mode per optional alert type, and quiet hours ("22:00"–"07:00"; both empty for
    none). Raises ValidationError naming every wrong field; changes nothing then."""
    errors: dict[str, str] = {}
    chosen: dict[str, str] = {}
    for kind, label in OPTIONAL_LABELS.items():
        try:
            chosen[kind] = validators.choice(kind, modes.get(kind) or "immediate", MODES, label)
        except ValidationError as exc:
            errors.update(exc.errors)
    quiet: list[int | None] = []
    for field, value, label in (("quiet_from", quiet_from, "Quiet from"), ("quiet_to", quiet_to, "Quiet until")):
        if not value.strip():
            quiet.append(None)
            continue
        try:
            quiet.append(validators.clock_time(field, value, label) % (24 * 60))   # 24:00 is midnight
        except ValidationError as exc:
            errors.update(exc.errors)
    if not errors and (quiet[0] is None) != (quiet[1] is None):
        errors["quiet_to" if quiet[1] is None else "quiet_from"] = (
            "Give both times for quiet hours, or leave both empty for none.")
    if errors:
        raise ValidationError(errors)
    for kind, mode in chosen.items():
        set_mode(session, now, user, kind, mode)
    user.quiet_start_minute, user.quiet_end_minute = quiet[0], quiet[1]


# --- quiet hours ----------------------------------------------------------------------------------

def quiet_until(user: User, now: datetime) -> datetime | None:
    """When the user's quiet hours end, if ``now`` falls inside them (in their practice's time zone)."""
    start, end = user.quiet_start_minute, user.quiet_end_minute
    if start is None or end is None or start == end:
        return None
    zone = ZoneInfo(user.practice.timezone)
    local = now.astimezone(zone)
    minute = local.hour * 60 + local.minute
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    ends = datetime(day.year, day.month, day.day, end // 60, end % 60, tzinfo=zone)
    return ends.astimezone(now.tzinfo)


# --- one-click unsubscribe ------------------------------------------------------------------------

def unsubscribe_token(secret_key: str, user: User, kind: str) -> str:
    """A signed (not secret) token naming the user and alert type: it can turn that type off and nothing else."""
    return str(URLSafeSerializer(secret_key, salt=UNSUBSCRIBE_SALT).dumps([user.id, kind]))


def read_unsubscribe_token(secret_key: str, token: str) -> tuple[int, str] | None:
    """The user id and alert type a token names; None when it was not signed by us or names no optional type."""
    try:
        user_id, kind = URLSafeSerializer(secret_key, salt=UNSUBSCRIBE_SALT).loads(token)
    except (BadSignature, TypeError, ValueError):
        return None
    if not isinstance(user_id, int) or kind not in OPTIONAL_LABELS:
        return None
    return user_id, kind


# --- delivery -------------------------------------------------------------------------------------

def deliver(session: Session, now: datetime, user: User, kind: str, *, dedupe_key: str, base_url: str,
            practice_id: int | None, context: dict[str, Any],
            secret_key: str | None = None) -> OutboxEmail | DigestItem | None:
    """Route one alert for one user: nothing (off), a digest item (digest), or an email held back until
    their quiet hours end (immediate). ``secret_key`` signs the unsubscribe link of non-essential alerts."""
    mode = mode_for(session, user, kind)
    if mode == "off":
        return None
    full_context = {"base_url": base_url, "recipient": user, "unsubscribe_link": None, **context}
    if mode == "digest":
        return _hold_for_digest(session, now, user, kind, dedupe_key, practice_id, full_context)
    unsubscribe = None
    if kind not in ESSENTIAL:
        if not secret_key:
            raise ValueError(f"A {kind} email needs the secret key to sign its unsubscribe link.")
        unsubscribe = f"{base_url}/unsubscribe/{unsubscribe_token(secret_key, user, kind)}"
        full_context["unsubscribe_link"] = unsubscribe
    return outbox.enqueue(session, now, template=kind, to=user.email, dedupe_key=dedupe_key, base_url=base_url,
                          practice_id=practice_id, context=full_context, not_before=quiet_until(user, now),
                          list_unsubscribe=unsubscribe)


def _hold_for_digest(session: Session, now: datetime, user: User, kind: str, dedupe_key: str,
                     practice_id: int | None, context: dict[str, Any]) -> DigestItem:
    existing = session.scalar(select(DigestItem).where(DigestItem.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    # The email's own subject line is the digest's line for it: one wording for both.
    subject = " ".join(render(f"emails/{kind}.subject.txt", **context).split())
    item = DigestItem(practice_id=practice_id, user_id=user.id, dedupe_key=dedupe_key, kind=kind,
                      summary=subject[:300], link=str(context.get("link") or "")[:500], created_at=now)
    session.add(item)
    session.flush()
    return item
