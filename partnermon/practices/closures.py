"""The practice's own closure days (a staff day, the days between Christmas and New Year) and the region
whose public holidays count: both are outside business hours (``business_hours``), so follow-up deadlines,
business-hours availability and incident reminders skip them.

Closure days are whole local days of the practice's calendar. Only today or later may be added or removed:
what already happened was counted with the calendar it had (deadlines set, results marked in or out of
business hours), and changing the past would leave those figures disagreeing with the settings.
Lookups are scoped to the practice, so another practice's closure is simply not found.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partnermon import validators as v
from partnermon.accounts import audit
from partnermon.errors import NotFound, ValidationError
from partnermon.models import Practice, PracticeClosure, User
from partnermon.practices import public_holidays

MAX_NOTE = 200


def local_today(practice: Practice, now: datetime) -> date:
    return now.astimezone(ZoneInfo(practice.timezone)).date()


def list_closures(session: Session, practice_id: int, since: date | None = None) -> list[PracticeClosure]:
    """The practice's closure days by date, from ``since`` on if given."""
    query = select(PracticeClosure).where(PracticeClosure.practice_id == practice_id)
    if since is not None:
        query = query.where(PracticeClosure.day >= since)
    return list(session.scalars(query.order_by(PracticeClosure.day)))


def get_closure(session: Session, practice_id: int, closure_id: int) -> PracticeClosure:
    closure = session.scalar(select(PracticeClosure).where(PracticeClosure.id == closure_id,
                                                           PracticeClosure.practice_id == practice_id))
    if closure is None:
        raise NotFound("No such closure day.")
    return closure


def closure_on(session: Session, practice: Practice, day: str) -> PracticeClosure:
    """The closure on a typed day (``YYYY-MM-DD``), for the command line. Raises ValidationError or NotFound."""
    when = v.day("day", day, "Closure date")
    closure = session.scalar(select(PracticeClosure).where(PracticeClosure.practice_id == practice.id,
                                                           PracticeClosure.day == when))
    if closure is None:
        raise NotFound(f"{practice.name} has no closure day on {when.isoformat()}.")
    return closure


def add_closure(session: Session, now: datetime, practice: Practice, actor: User | str, *, day: str,
                note: str = "") -> PracticeClosure:
    """Close the practice on ``day`` (typed, ``YYYY-MM-DD``), or raise ValidationError naming each bad field
    (``day``, ``note``) with nothing saved."""
    form = v.Form()
    when = form.check(v.day, "day", day, "Closure date")
    note = form.check(v.text, "note", note, required=False, max_length=MAX_NOTE, label="Note")
    if when is not None:
        today = local_today(practice, now)
        if when < today:
            form.add("day", f"Closure date: {when.isoformat()} has passed; choose today ({today.isoformat()}) "
                            "or a later day.")
        elif session.scalar(select(PracticeClosure.id).where(PracticeClosure.practice_id == practice.id,
                                                             PracticeClosure.day == when)) is not None:
            form.add("day", f"Closure date: {practice.name} is already closed on {when.isoformat()}.")
    form.raise_if_errors()
    assert when is not None and note is not None
    closure = PracticeClosure(practice_id=practice.id, day=when, note=note)
    try:
        # Two owners adding the same day at once: the unique constraint turns the second away, and only
        # this row's insert is undone (the savepoint), not the caller's transaction.
        with session.begin_nested():
            session.add(closure)
    except IntegrityError:
        raise ValidationError({"day": f"Closure date: {practice.name} is already closed on {when.isoformat()}."}
                              ) from None
    session.expire(practice, ["closures"])   # so BusinessHours.of(practice) sees it in this session
    audit.record(session, now, practice.id, actor, "practice.closure_added", "practice_closure", closure.id,
                 f"Closed on {when.isoformat()}" + (f": {note}" if note else ""))
    return closure


def remove_closure(session: Session, now: datetime, closure: PracticeClosure, actor: User | str) -> None:
    """Open the practice again on a closure day still to come; one that has passed stays (see above)."""
    practice = closure.practice
    if closure.day < local_today(practice, now):
        raise ValidationError({"day": f"Closure date: {closure.day.isoformat()} has passed; a past closure day "
                                      "stays, because deadlines and business-hours figures were counted with it."})
    audit.record(session, now, practice.id, actor, "practice.closure_removed", "practice_closure", closure.id,
                 f"Open again on {closure.day.isoformat()}")
    session.delete(closure)
    session.flush()
    session.expire(practice, ["closures"])


def set_region(session: Session, now: datetime, practice: Practice, actor: User | str, region: str) -> Practice:
    """Choose the region of the practice's country whose public holidays count too ("" = national only)."""
    practice.region = public_holidays.clean_region(region, practice.country)
    audit.record(session, now, practice.id, actor, "practice.region", "practice", practice.id,
                 f"Public holidays of {practice.country or 'no country'}"
                 + (f", region {practice.region}" if practice.region else ", national only"))
    return practice
