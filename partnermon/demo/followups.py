"""The demo's follow-ups: one for each response the practice's rules would have opened one for, decided by
``followups.rules`` itself (reasons, severity, urgency, the contact deadline in business time), with the
history of what was done about it — most older ones contacted and resolved with an outcome, a few recent
ones still open, one or two overdue; what became of the clients and their recovery check-ins: ``loop``.

No email is queued, ever: the alert each would have sent is history. An overdue one is marked as already
escalated to the owners (with its event) so the deadline job finds nothing left to tell about it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from partnermon.demo import comments, loop
from partnermon.demo.bulk import insert_returning_ids, insert_rows
from partnermon.demo.cast import Cast
from partnermon.demo.timeline import Calendar
from partnermon.followups import rules
from partnermon.followups.timeline import SYSTEM
from partnermon.models import FeedbackResponse, FollowUp, FollowUpEvent, RecoveryCheckIn, User
from partnermon.models.feedback import is_dissatisfied
from partnermon.practices.business_hours import BusinessHours

RECENT = timedelta(days=4)
OVERDUE_AT_MOST = 2
OVERDUE_WITHIN = timedelta(days=10)     # nobody would leave one longer; older ones were worked
LATE_SHARE = 0.1        # contacted, but after the deadline


@dataclass
class FollowUpCounts:
    follow_ups: int = 0
    unresolved: int = 0
    overdue: int = 0


def _opens(row: dict[str, Any], cast: Cast, moments: dict[int, Any]) -> rules.Decision | None:
    if not (is_dissatisfied(row["satisfaction"], row["recommend"]) or row["brand_effect"] == "worse" or row["wants_contact"]):
        return None    # no rule can fire (most answers), as in followups.service.open_for_response
    # A transient response, never added to the session: the rules read its answers and nothing else.
    response = FeedbackResponse(satisfaction=row["satisfaction"], recommend=row["recommend"],
                                brand_effect=row["brand_effect"], wants_contact=row["wants_contact"],
                                verified=row["verified"])
    decision = rules.decide(response, cast.practice, moments.get(row["moment_id"]))
    return decision if decision.opens else None


def _describe(reasons: tuple[str, ...]) -> str:
    # Worded as followups.service words the "opened" event.
    return ", ".join(rules.REASON_LABELS[reason].lower() for reason in reasons).capitalize()


class _Story:
    """One follow-up's life, with its events."""

    def __init__(self, row: dict[str, Any], decision: rules.Decision, assignee: User, cast: Cast, now: datetime):
        self.opened = row["created_at"]
        self.decision, self.assignee, self.now = decision, assignee, now
        self.due = rules.due_at(cast.practice, self.opened, decision.urgent)
        self.fields: dict[str, Any] = {
            "practice_id": cast.practice.id, "response_id": row["id"], "request_id": row["request_id"],
            "partner_id": row["partner_id"], "moment_id": row["moment_id"], "assignee_id": assignee.id,
            "urgent": decision.urgent, "severity": decision.severity, "reasons": list(decision.reasons),
            "status": "open", "opened_at": self.opened, "contact_due_at": self.due, "contacted_at": None,
            "contacted_channel": None, "resolved_at": None, "outcome": "", "escalated_at": None,
            "assignee_reminded_at": None, "outcome_kind": None, "moved_to_partner_id": None}
        self.events: list[dict[str, Any]] = [self._event(self.opened, SYSTEM, "opened",
                                                         note=_describe(decision.reasons))]
        self.channel = rules.suggested_channel(decision.severity, row["contact_channel"])
        self.fields["rung"] = self.channel   # where the ladder starts (the demo's follow-ups never step: issue 19)

    def _event(self, at: datetime, actor: User | str, action: str, *, channel: str | None = None,
               note: str = "") -> dict[str, Any]:
        return {"at": at, "actor_id": actor.id if isinstance(actor, User) else None,
                "actor": actor.email if isinstance(actor, User) else actor, "action": action, "channel": channel,
                "note": note}

    def escalate(self, owners: list[User]) -> None:
        """The deadline job told the owners (and reminded an adviser) when it passed."""
        self.fields["escalated_at"] = self.due
        told = ", ".join(o.email for o in owners)
        self.events.append(self._event(self.due, SYSTEM, "escalated", note=f"Not contacted in time; told {told}"))
        self.fields["assignee_reminded_at"] = self.due
        if self.assignee not in owners:
            self.events.append(self._event(self.due, SYSTEM, "reminded", note=f"Reminded {self.assignee.email}"))

    def contact(self, at: datetime, rng: random.Random) -> None:
        self.fields.update(status="contacted", contacted_at=at, contacted_channel=self.channel)
        self.events.append(self._event(at, self.assignee, "contacted", channel=self.channel,
                                       note=rng.choice(comments.CONTACT_NOTES)))

    def resolve(self, at: datetime, rng: random.Random) -> None:
        outcome = rng.choice(comments.OUTCOMES[self.decision.severity])
        # What became of the client: stayed, until ``loop.settle_outcomes`` tells the demo's outcome story.
        self.fields.update(status="resolved", resolved_at=at, outcome=outcome, outcome_kind="stayed")
        self.events.append(self._event(at, self.assignee, "resolved", note=outcome))


def write_follow_ups(session: Session, calendar: Calendar, cast: Cast, responses: list[dict[str, Any]],
                     rng: random.Random) -> FollowUpCounts:
    now = calendar.now
    hours = BusinessHours.of(cast.practice)
    moments = {m.id: m for m in cast.practice.moments}
    users = {u.id: u for u in cast.users}
    owners = sorted((u for u in cast.users if u.role == "owner"), key=lambda u: (u.created_at, u.id))
    stories: list[_Story] = []
    for row in responses:
        decision = _opens(row, cast, moments)
        if decision is None:
            continue
        adviser = users.get(row["adviser_id"]) if row["adviser_id"] is not None else None
        # The request's adviser, else the longest-standing owner (followups.service._default_assignee).
        assignee = adviser if adviser is not None and adviser.role in ("owner", "adviser") else owners[0]
        stories.append(_Story(row, decision, assignee, cast, now))
    # The latest ones whose deadline has passed stay open and overdue; the rest were worked.
    overdue = [s for s in reversed(stories) if s.due <= now - timedelta(hours=2)
               and s.opened >= now - OVERDUE_WITHIN][:OVERDUE_AT_MOST]
    counts = FollowUpCounts()
    for story in stories:
        if story in overdue:
            story.escalate(owners)
            counts.overdue += 1
        elif story.opened >= now - RECENT and story.due > now:
            pass      # still within its deadline: open, waiting for someone
        else:
            if rng.random() < LATE_SHARE and story.due + timedelta(hours=2) < now:
                story.escalate(owners)
                contacted = min(story.due + timedelta(hours=rng.uniform(1, 30)), now - timedelta(minutes=30))
            else:
                # Somewhere inside the business time the rules allowed.
                budget = hours.seconds_within(story.opened, story.due)
                contacted = min(hours.deadline_after(story.opened, int(rng.uniform(0.05, 0.9) * budget)), story.due)
            story.contact(max(contacted, story.opened + timedelta(minutes=5)), rng)
            resolved = story.fields["contacted_at"] + timedelta(hours=rng.uniform(0.5, 72))
            # Some of the last fortnight's are still being sorted out with the partner.
            settling = story.opened >= now - timedelta(days=14) and rng.random() < 0.4
            if resolved < now and not settling:
                story.resolve(resolved, rng)
        if story.fields["status"] != "resolved":
            counts.unresolved += 1
    fields = [s.fields for s in stories]
    loop.settle_outcomes(fields, cast, now)
    ids = insert_returning_ids(session, FollowUp, fields)
    events = [{**event, "follow_up_id": follow_up_id} for story, follow_up_id in zip(stories, ids)
              for event in story.events]
    insert_rows(session, FollowUpEvent, events)
    insert_rows(session, RecoveryCheckIn, loop.check_in_rows(session, fields, ids, cast, now))
    counts.follow_ups = len(ids)
    return counts
