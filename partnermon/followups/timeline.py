"""Who acts on a follow-up and what its timeline records: the people who may work follow-ups, the practice's
owners, a step on the timeline, and the note a step may carry. Shared by opening and working follow-ups
(``service``) and by the escalation ladder (``ladder``), which builds on both."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon import validators as v
from partnermon.errors import NotFound
from partnermon.models import User
from partnermon.models.followups import FollowUp, FollowUpEvent

SYSTEM = "partnermon"
CLIENT = "the client"
MAX_NOTE = 4000
WORKING_ROLES = ("owner", "adviser")



def can_work_follow_ups(user: User | None) -> bool:
    """Owners and advisers work follow-ups; viewers only read, and a deactivated user does nothing."""
    return user is not None and user.is_active and user.role in WORKING_ROLES


def active_owners(session: Session, practice_id: int) -> list[User]:
    """The practice's active owners, the longest-standing first (the one who gets unassigned follow-ups)."""
    return list(session.scalars(select(User).where(User.practice_id == practice_id, User.role == "owner",
                                                   User.is_active.is_(True)).order_by(User.created_at, User.id)))


def record_event(follow_up: FollowUp, now: datetime, actor: User | str, action: str, *, channel: str | None = None,
            note: str = "") -> FollowUpEvent:
    event = FollowUpEvent(at=now, actor_id=actor.id if isinstance(actor, User) else None,
                          actor=actor.email if isinstance(actor, User) else actor, action=action, channel=channel,
                          note=note)
    follow_up.events.append(event)
    return event


def check_actor(follow_up: FollowUp, actor: User) -> None:
    if actor.practice_id != follow_up.practice_id:
        raise NotFound("No such follow-up in this practice.")


def note_of(form: v.Form, value: str | None, *, required: bool, message: str = "") -> str:
    note = form.check(v.text, "note", value, required=False, max_length=MAX_NOTE, label="The note", multiline=True)
    if required and not note and "note" not in form.errors:
        form.add("note", message)
    return note or ""
