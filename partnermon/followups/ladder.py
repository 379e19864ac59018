"""The ladder (issue 19): a follow-up stands on a rung — email, phone call, meeting — and steps up when the
first attempt fails, because the more disappointed the client, the more personal the response should be.

It starts on the rung its severity calls for (``rules.SEVERITY_CHANNEL``, never below what the client asked
for) and steps up when the deadline passes without a recorded contact (``followups.deadlines``), when the
adviser records an attempt that did not reach the client, or when the client's answers are still unhappy
after they were contacted. An owner may step it up or down with a reason. Each step resets the deadline
for the new rung, is on the follow-up's history (who, when, why), tells the assignee, and on reaching the
top rung tells the owners — once per follow-up, claimed by a conditional UPDATE so that two workers cannot
both send it.

Services take ``(session, now)``, commit nothing and know nothing of Flask.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from partnermon import validators as v
from partnermon.accounts import audit
from partnermon.followups import emails, rules
from partnermon.followups.timeline import SYSTEM, active_owners, can_work_follow_ups, check_actor, note_of, record_event
from partnermon.models import User
from partnermon.models.followups import RUNGS, FollowUp

TOP = RUNGS[-1]
RUNG_LABELS = {"email": "Email", "phone": "Phone call", "meeting": "Meeting"}
# Why a follow-up stepped up by itself, as its history and the email say it.
DEADLINE = "The deadline passed without a recorded contact"
NOT_REACHED = "The attempt did not reach the client"
STILL_UNHAPPY = "The client's answers are still unhappy after they were contacted"


def starting_rung(severity: str, contact_channel: str | None) -> str:
    """The rung a new follow-up stands on: what its severity calls for, or what the client asked for if more
    personal."""
    return rules.suggested_channel(severity, contact_channel)


def rung_index(rung: str) -> int:
    return RUNGS.index(rung) if rung in RUNGS else 0


def is_lower(channel: str | None, rung: str) -> bool:
    """Whether a contact by ``channel`` is less personal than the rung ("other" is not on the ladder)."""
    return channel in RUNGS and rung_index(channel) < rung_index(rung)


def _move(session: Session, now: datetime, follow_up: FollowUp, to: str, actor: User | str, reason: str,
          base_url: str) -> None:
    """Put the follow-up on rung ``to``: a new deadline from now, on the history, the assignee told, and the
    owners told if it reached the top."""
    before = follow_up.rung
    up = rung_index(to) > rung_index(before)
    follow_up.rung = to
    follow_up.status = "open"
    follow_up.contact_due_at = rules.due_at(follow_up.practice, now, follow_up.urgent)
    # A new deadline: the overdue notice and the reminder may happen once more for it.
    follow_up.escalated_at = follow_up.assignee_reminded_at = None
    event = record_event(follow_up, now, actor, "stepped_up" if up else "stepped_down", channel=to,
                         note=f"{RUNG_LABELS[before]} → {RUNG_LABELS[to]}: {reason}")
    session.flush()
    audit.record(session, now, follow_up.practice_id, actor, "follow_up.stepped", "follow_up", follow_up.id,
                 f"Follow-up #{follow_up.id} stepped {'up' if up else 'down'} to {to}: {reason}")
    assignee = follow_up.assignee
    if can_work_follow_ups(assignee) and assignee is not None and assignee != actor:
        emails.send_stepped(session, now, follow_up, assignee, base_url, before=before, reason=reason,
                            key=f"followup-stepped:{event.id}:{assignee.id}")
    if to == TOP:
        tell_owners_at_top(session, now, follow_up, base_url)


def tell_owners_at_top(session: Session, now: datetime, follow_up: FollowUp, base_url: str) -> bool:
    """Tell the owners the follow-up is on the top rung, once per follow-up whatever steps follow."""
    claimed = session.execute(update(FollowUp).where(FollowUp.id == follow_up.id, FollowUp.top_told_at.is_(None))
                              .values(top_told_at=now)).rowcount == 1
    if not claimed:
        return False
    follow_up.top_told_at = now
    owners = active_owners(session, follow_up.practice_id)
    for owner in owners:
        emails.send_top_rung(session, now, follow_up, owner, base_url, key=f"followup-top:{follow_up.id}:{owner.id}")
    told = ", ".join(owner.email for owner in owners) or "nobody (no active owner)"
    record_event(follow_up, now, SYSTEM, "top_told", channel=TOP, note=f"On the top rung: told {told}")
    return True


def step_up(session: Session, now: datetime, follow_up: FollowUp, actor: User | str, reason: str,
            base_url: str) -> bool:
    """Step one rung up for ``reason`` (no step at the top: it stays there). Whether it stepped."""
    index = rung_index(follow_up.rung)
    if index + 1 >= len(RUNGS):
        return False
    _move(session, now, follow_up, RUNGS[index + 1], actor, reason, base_url)
    return True


def step_up_overdue(session: Session, now: datetime, follow_up: FollowUp, base_url: str) -> bool:
    """The deadline job's step: claimed with a conditional UPDATE on the rung and the deadline it read, so two
    schedulers or a retried run step a follow-up once per deadline."""
    index, before = rung_index(follow_up.rung), follow_up.rung
    if index + 1 >= len(RUNGS):
        return False
    claimed = session.execute(
        update(FollowUp).where(FollowUp.id == follow_up.id, FollowUp.status == "open",
                               FollowUp.rung == follow_up.rung, FollowUp.contact_due_at == follow_up.contact_due_at)
        .values(rung=RUNGS[index + 1])).rowcount == 1
    if not claimed:
        return False
    follow_up.rung = before   # the claim wrote the new rung; _move sets it on the object and says from where
    _move(session, now, follow_up, RUNGS[index + 1], SYSTEM, DEADLINE, base_url)
    return True


def owner_step(session: Session, now: datetime, follow_up: FollowUp, actor: User, *, direction: str, reason: str,
               base_url: str) -> FollowUp:
    """An owner steps a follow-up up or down, saying why (required)."""
    check_actor(follow_up, actor)
    form = v.Form()
    text = note_of(form, reason, required=True, message="Say why you are moving it on the ladder.")
    index = rung_index(follow_up.rung)
    if not actor.is_owner:
        form.add("status", "Only an owner can move a follow-up on the ladder.")
    elif follow_up.status == "resolved":
        form.add("status", "This follow-up is resolved; reopen it first.")
    elif direction not in ("up", "down"):
        form.add("direction", "Choose up or down.")
    elif direction == "up" and index + 1 >= len(RUNGS):
        form.add("direction", "It is already on the top rung (a meeting).")
    elif direction == "down" and index == 0:
        form.add("direction", "It is already on the bottom rung (an email).")
    form.raise_if_errors()
    _move(session, now, follow_up, RUNGS[index + (1 if direction == "up" else -1)], actor, text, base_url)
    return follow_up
