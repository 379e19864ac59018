"""Overdue follow-ups: the client was not contacted by the deadline. The owners are told once and the
assignee is reminded once, per deadline (a reopened follow-up has a new one), and a follow-up below the
top rung steps up the ladder with a new deadline (``followups.ladder``).

``check_deadlines`` is the periodic job's body. Each notice is claimed with a conditional UPDATE before its
email is queued, and each email has a dedupe key, so two runs at once, a retried run or a restarted
worker never tell anyone twice. Commits nothing: the job commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from partnermon.followups import emails, ladder
from partnermon.followups.timeline import SYSTEM, active_owners, can_work_follow_ups, record_event
from partnermon.models.followups import FollowUp
from partnermon.models.practice import Practice
from partnermon.webhooks import events as webhook_events

BATCH = 500


@dataclass(frozen=True)
class DeadlineReport:
    escalated: int = 0
    reminded: int = 0
    stepped: int = 0   # stepped up the ladder: the deadline passed without a recorded contact

    def __bool__(self) -> bool:
        return bool(self.escalated or self.reminded or self.stepped)


def _claim(session: Session, follow_up: FollowUp, column: InstrumentedAttribute[Any], now: datetime) -> bool:
    """Mark one notice as given, only if nobody has yet and the follow-up is still open and still due then."""
    result = session.execute(
        update(FollowUp)
        .where(FollowUp.id == follow_up.id, column.is_(None), FollowUp.status == "open",
               FollowUp.contact_due_at == follow_up.contact_due_at)
        .values({column.key: now}))
    return result.rowcount == 1


def check_deadlines(session: Session, now: datetime, base_url: str) -> DeadlineReport:
    """Tell the owners about each follow-up that became overdue, and remind its assignee."""
    overdue = list(session.scalars(
        select(FollowUp)
        # A demo practice's follow-ups are invented, and so are the people who would be emailed.
        .join(Practice, Practice.id == FollowUp.practice_id).where(Practice.is_demo.is_(False))
        .where(FollowUp.status == "open", FollowUp.contact_due_at <= now,
               or_(FollowUp.escalated_at.is_(None), FollowUp.assignee_reminded_at.is_(None)))
        .order_by(FollowUp.contact_due_at, FollowUp.id).limit(BATCH)))
    escalated = reminded = stepped = 0
    for follow_up in overdue:
        owners = active_owners(session, follow_up.practice_id)
        if follow_up.escalated_at is None and _claim(session, follow_up, FollowUp.escalated_at, now):
            for owner in owners:
                emails.send_overdue(session, now, follow_up, owner, base_url)
            told = ", ".join(owner.email for owner in owners) or "nobody (no active owner)"
            record_event(follow_up, now, SYSTEM, "escalated", note=f"Not contacted in time; told {told}")
            webhook_events.follow_up_overdue(session, now, follow_up)
            escalated += 1
        if follow_up.assignee_reminded_at is None and _claim(session, follow_up, FollowUp.assignee_reminded_at, now):
            assignee = follow_up.assignee
            # An owner who has it already had the overdue notice; one who cannot act any more is not written to.
            if can_work_follow_ups(assignee) and assignee is not None and assignee not in owners:
                emails.send_reminder(session, now, follow_up, assignee, base_url)
                record_event(follow_up, now, SYSTEM, "reminded", note=f"Reminded {assignee.email}")
                reminded += 1
        # Then up the ladder, with a new deadline for the new rung (the notices above were for the old one).
        # On the top rung there is nowhere to go: the owners know, and it stays overdue until someone acts.
        if ladder.step_up_overdue(session, now, follow_up, base_url):
            stepped += 1
        session.flush()
    return DeadlineReport(escalated, reminded, stepped)
