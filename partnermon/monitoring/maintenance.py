"""Maintenance windows: planned work at a partner (all its touchpoints) or on one of its touchpoints.

Checks go on during a window; results and incidents are marked as in maintenance so they do not count
against the partner (see ``incidents`` and ``rollups``). Owners type the times in the practice's own time
zone (the form's datetime-local inputs); they are stored in UTC. Every lookup is scoped to the practice
and the partner, so another practice's window or touchpoint is simply not found.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Literal, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import case, select
from sqlalchemy.orm import Session, selectinload

from partnermon import validators as v
from partnermon.accounts import audit
from partnermon.errors import NotFound, ValidationError
from partnermon.models import MaintenanceWindow, Partner, Touchpoint, User

MAX_LENGTH = timedelta(days=366)
MAX_NOTE = 300
# Ended windows stay on the partner page this long, so an owner can see what was covered recently.
SHOW_ENDED_FOR = timedelta(days=30)
_INPUT_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")

WindowState = Literal["now", "planned", "ended"]


def window_state(window: MaintenanceWindow, now: datetime) -> WindowState:
    if window.ends_at <= now:
        return "ended"
    return "now" if window.starts_at <= now else "planned"


def list_windows(session: Session, now: datetime, partner: Partner) -> list[MaintenanceWindow]:
    """The partner's windows that are running or planned (soonest first), then those that ended in the
    last 30 days."""
    return list(session.scalars(
        select(MaintenanceWindow)
        .where(MaintenanceWindow.practice_id == partner.practice_id, MaintenanceWindow.partner_id == partner.id,
               MaintenanceWindow.ends_at > now - SHOW_ENDED_FOR)
        .options(selectinload(MaintenanceWindow.touchpoint))
        .order_by(case((MaintenanceWindow.ends_at <= now, 1), else_=0), MaintenanceWindow.starts_at,
                  MaintenanceWindow.id)
    ))


def get_window(session: Session, practice_id: int, partner_id: int, window_id: int) -> MaintenanceWindow:
    window = session.scalar(select(MaintenanceWindow).where(
        MaintenanceWindow.id == window_id, MaintenanceWindow.partner_id == partner_id,
        MaintenanceWindow.practice_id == practice_id))
    if window is None:
        raise NotFound("No such maintenance window.")
    return window


def parse_local(field: str, value: str | None, zone_name: str, label: str) -> datetime:
    """A wall-clock time typed in the practice's zone (``2026-11-23T09:30``) as an aware UTC datetime."""
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: f"{label} is required."})
    for fmt in _INPUT_FORMATS:
        try:
            naive = datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    else:
        raise ValidationError({field: f"{label} must be a date and time like 2026-11-23 09:30."})
    zone = ZoneInfo(zone_name)
    local = naive.replace(tzinfo=zone)
    try:
        utc = local.astimezone(timezone.utc)
    except OverflowError:  # year 1 or 9999 shifted by the zone's offset falls off the calendar
        raise ValidationError({field: f"{label} must be a date and time like 2026-11-23 09:30."}) from None
    # A time inside the spring-forward gap does not exist; it would silently move by an hour.
    if utc.astimezone(zone).replace(tzinfo=None) != naive:
        raise ValidationError({field: f"{label}: {text.replace('T', ' ')} does not exist in {zone_name} "
                                        "(the clocks go forward then). Choose a time an hour later."})
    return utc


def _touchpoint_of(session: Session, partner: Partner, ref: str, form: v.Form) -> Touchpoint | None:
    ref = ref.strip()
    if not ref:
        return None  # the whole partner
    touchpoint = None
    if (touchpoint_id := v.as_row_id(ref)) is not None:
        touchpoint = session.scalar(select(Touchpoint).where(
            Touchpoint.id == touchpoint_id, Touchpoint.partner_id == partner.id,
            Touchpoint.practice_id == partner.practice_id))
    if touchpoint is None:
        form.add("touchpoint", f"Choose one of {partner.name}'s touchpoints, or all of them.")
    return touchpoint


def create_window(session: Session, now: datetime, partner: Partner, actor: User | str,
                  data: Mapping[str, str]) -> MaintenanceWindow:
    """Check and store a window; raises ValidationError naming every bad field."""
    form = v.Form()
    zone_name = partner.practice.timezone
    starts_at = form.check(parse_local, "starts_at", data.get("starts_at"), zone_name, "Start")
    ends_at = form.check(parse_local, "ends_at", data.get("ends_at"), zone_name, "End")
    note = form.check(v.text, "note", data.get("note"), required=False, max_length=MAX_NOTE, label="Note")
    touchpoint = _touchpoint_of(session, partner, str(data.get("touchpoint") or ""), form)
    if starts_at is not None and ends_at is not None:
        if ends_at <= starts_at:
            form.add("ends_at", "The end must be after the start.")
        elif ends_at - starts_at > MAX_LENGTH:
            form.add("ends_at", "A maintenance window can last at most a year; add another one after it if needed.")
        elif ends_at <= now:
            form.add("ends_at", "That window has already ended. Windows cover checks from now on, not past ones.")
    form.raise_if_errors()
    assert starts_at is not None and ends_at is not None
    window = MaintenanceWindow(practice_id=partner.practice_id, partner_id=partner.id,
                               touchpoint_id=touchpoint.id if touchpoint else None, starts_at=starts_at,
                               ends_at=ends_at, note=note or "", created_at=now)
    session.add(window)
    session.flush()
    audit.record(session, now, partner.practice_id, actor, "maintenance.created", "maintenance_window", window.id,
                 f"Planned maintenance of {_scope(partner, touchpoint)} from {_local(starts_at, zone_name)} "
                 f"to {_local(ends_at, zone_name)}")
    return window


def delete_window(session: Session, now: datetime, window: MaintenanceWindow, actor: User | str) -> None:
    zone_name = window.partner.practice.timezone
    audit.record(session, now, window.practice_id, actor, "maintenance.deleted", "maintenance_window", window.id,
                 f"Removed the maintenance of {_scope(window.partner, window.touchpoint)} from "
                 f"{_local(window.starts_at, zone_name)} to {_local(window.ends_at, zone_name)}")
    session.delete(window)


def _scope(partner: Partner, touchpoint: Touchpoint | None) -> str:
    return f"{touchpoint.name} ({partner.name})" if touchpoint else f"all of {partner.name}'s touchpoints"


def _local(at: datetime, zone_name: str) -> str:
    return at.astimezone(ZoneInfo(zone_name)).strftime("%d %b %Y %H:%M")
