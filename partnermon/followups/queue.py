"""Reading follow-ups for the pages: the queue's tabs (mine, all open, overdue, resolved), the counts the home
page and the tabs show, who a follow-up can be given to, and deadlines in words ("overdue by 3 h").

Read-only and practice-scoped like ``service``: every query filters by the practice id it is given. Nothing
here writes or knows of Flask; the steps people take are ``service``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, selectinload

from partnermon.feedback.staff import Page
from partnermon.followups.emails import Client, client_of
from partnermon.followups.service import list_follow_ups
from partnermon.followups.timeline import WORKING_ROLES
from partnermon.models import User
from partnermon.models.followups import FollowUp

TABS = ("mine", "all", "overdue", "resolved")
PAGE_SIZE = 50


@dataclass(frozen=True)
class Counts:
    """Unresolved follow-ups (open or contacted), those overdue, and those of them given to one person."""

    open: int = 0
    overdue: int = 0
    mine: int = 0


@dataclass(frozen=True)
class Row:
    follow_up: FollowUp
    client: Client
    deadline: str      # "overdue by 3 h", "due in 2 days", "contacted in time", …
    overdue: bool


def is_overdue(follow_up: FollowUp, now: datetime) -> bool:
    """Not contacted (nor resolved) by its deadline: the same rule as the overdue tab and the deadline job."""
    return follow_up.status == "open" and follow_up.contact_due_at <= now


def span(delta: timedelta) -> str:
    """A length of time as staff say it, rounded down: "40 min", "3 h", "2 days"."""
    minutes = max(1, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} days"


def deadline_note(follow_up: FollowUp, now: datetime) -> str:
    if follow_up.status == "resolved":
        return "resolved"
    if follow_up.status == "contacted":
        contacted = follow_up.contacted_at or now
        late = contacted - follow_up.contact_due_at
        return f"contacted {span(late)} late" if late > timedelta(0) else "contacted in time"
    if follow_up.contact_due_at <= now:
        return f"overdue by {span(now - follow_up.contact_due_at)}"
    return f"due in {span(follow_up.contact_due_at - now)}"


def _tab_query(practice_id: int, tab: str, user_id: int, now: datetime) -> Select[tuple[FollowUp]]:
    if tab == "overdue":
        return list_follow_ups(practice_id, overdue_at=now)
    if tab == "resolved":
        return (list_follow_ups(practice_id, status="resolved").order_by(None)
                .order_by(FollowUp.resolved_at.desc(), FollowUp.id.desc()))
    query = list_follow_ups(practice_id, assignee_id=user_id if tab == "mine" else None)
    return query.where(FollowUp.status != "resolved")


def queue(session: Session, now: datetime, practice_id: int, tab: str, user_id: int, *, page: int = 1
          ) -> Page[Row]:
    """One page of a tab: open ones soonest deadline first (overdue at the top), resolved ones newest first."""
    query = _tab_query(practice_id, tab, user_id, now)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    # A page past the end (an old bookmark) shows the last page, not nothing.
    number = min(max(1, page), max(1, -(-total // PAGE_SIZE)))
    follow_ups = session.scalars(query.options(
        selectinload(FollowUp.response), selectinload(FollowUp.request), selectinload(FollowUp.partner),
        selectinload(FollowUp.moment), selectinload(FollowUp.assignee),
    ).limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE))
    rows = [Row(f, client_of(f), deadline_note(f, now), is_overdue(f, now)) for f in follow_ups]
    return Page(rows, number, total, PAGE_SIZE)


def counts(session: Session, now: datetime, practice_id: int, user_id: int) -> Counts:
    overdue = (FollowUp.status == "open") & (FollowUp.contact_due_at <= now)
    row = session.execute(
        select(func.count(), func.sum(case((overdue, 1), else_=0)),
               func.sum(case((FollowUp.assignee_id == user_id, 1), else_=0)))
        .where(FollowUp.practice_id == practice_id, FollowUp.status != "resolved")).one()
    return Counts(row[0] or 0, int(row[1] or 0), int(row[2] or 0))


def assignable(session: Session, practice_id: int) -> list[User]:
    """Who a follow-up can be given to: the practice's active owners and advisers."""
    return list(session.scalars(
        select(User).where(User.practice_id == practice_id, User.role.in_(WORKING_ROLES), User.is_active.is_(True))
        .order_by(func.lower(User.name), func.lower(User.email))))
