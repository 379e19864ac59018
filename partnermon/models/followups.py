"""Follow-ups (DESIGN.md §3): a task for a person at the practice when a client is unhappy, says the
practice looks worse, or asks for a person; and the history of what was done about it.

One follow-up per response (a unique response id): a client changing their answers adds to it rather than
opening another. When is one opened, how severe and how urgent: ``partnermon.followups.rules``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partnermon.db import Base, UTCDateTime
from partnermon.models.feedback import FeedbackRequest, FeedbackResponse
from partnermon.models.partners import Partner
from partnermon.models.practice import MomentOfTruth, Practice

if TYPE_CHECKING:
    from partnermon.models.accounts import User

FOLLOW_UP_STATUSES = ("open", "contacted", "resolved")
# Mild: an email will do; serious: ring them; brand: the client says the practice looks worse — meet them.
SEVERITIES = ("mild", "serious", "brand")
# The rules that can open a follow-up, in the order they are shown.
REASONS = ("dissatisfied", "brand_harm", "contact_request")
FOLLOW_UP_ACTIONS = ("opened", "updated", "contacted", "attempted", "resolved", "reopened", "reassigned", "escalated",
                     "reminded", "stepped_up", "stepped_down", "top_told", "checked_in")
FOLLOW_UP_CHANNELS = ("phone", "email", "meeting", "other")
# The ladder, from least to most personal (DESIGN.md §1): the rung says how the client should be contacted.
RUNGS = ("email", "phone", "meeting")
# What became of the client, recorded when a follow-up is resolved.
OUTCOMES = ("stayed", "moved", "left", "unknown")
# A recovery check-in waits until due, is sent (a personal link), then is answered or expires; it is skipped
# (with the reason) when the client cannot or should not be asked, and withdrawn when its follow-up reopens.
CHECK_IN_STATUSES = ("scheduled", "sent", "answered", "expired", "skipped", "withdrawn")
# The client's answer to "Did {practice} put things right?".
CHECK_IN_ANSWERS = ("yes", "partly", "no")


class FollowUp(Base):
    __tablename__ = "follow_up"
    __table_args__ = (
        # The deadline job reads open follow-ups by due time; lists read a practice's by status.
        Index("ix_follow_up_status_due", "status", "contact_due_at"),
        Index("ix_follow_up_practice_status", "practice_id", "status", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"))
    # Erasing a client's responses takes their follow-ups (and the notes about them) with them.
    response_id: Mapped[int] = mapped_column(ForeignKey("feedback_response.id", ondelete="CASCADE"), unique=True)
    # None for an answer through the open link (no personal link behind it).
    request_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_request.id", ondelete="SET NULL"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    moment_id: Mapped[int | None] = mapped_column(ForeignKey("moment_of_truth.id", ondelete="SET NULL"))
    # The person who should contact the client: the request's adviser, else an owner. Never None while the
    # practice has an active owner; None only if it has lost them all (then every owner is told).
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    severity: Mapped[str] = mapped_column(String(10))
    # Which rules fired (REASONS), kept so the alert, the list and the export can say why.
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The client should have been contacted by then (business time; reset when reopened).
    contact_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contacted_channel: Mapped[str | None] = mapped_column(String(10))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The outcome's note (free text, required to resolve) and what became of the client (OUTCOMES; None
    # before resolving, and for follow-ups resolved before outcomes were recorded).
    outcome: Mapped[str] = mapped_column(Text, default="")
    outcome_kind: Mapped[str | None] = mapped_column(String(12))
    # "moved": the partner of this practice the client now deals with instead.
    moved_to_partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id", ondelete="SET NULL"))
    # The rung of the ladder it stands on (RUNGS); starts where the severity calls for, steps up and down.
    rung: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
    # When the owners were told it reached the top rung: once per follow-up (claimed by a conditional UPDATE).
    top_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the owners were told it is overdue and when the assignee was reminded: each happens once per
    # deadline (a reopened follow-up gets a new deadline and both are cleared).
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assignee_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    practice: Mapped[Practice] = relationship()
    response: Mapped[FeedbackResponse] = relationship()
    request: Mapped[FeedbackRequest | None] = relationship()
    partner: Mapped[Partner] = relationship(foreign_keys=[partner_id])
    moved_to_partner: Mapped[Partner | None] = relationship(foreign_keys=[moved_to_partner_id])
    moment: Mapped[MomentOfTruth | None] = relationship()
    assignee: Mapped["User | None"] = relationship()
    events: Mapped[list["FollowUpEvent"]] = relationship(
        back_populates="follow_up", cascade="all, delete-orphan", order_by="FollowUpEvent.id")


class FollowUpEvent(Base):
    """One step in a follow-up's history: who, when, by which channel, and their note."""

    __tablename__ = "follow_up_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_up.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Kept as text as well as an id (as in the audit log) so the history still reads right after a user
    # is removed, and so steps nobody signed in for ("partnermon", "the client") can be told apart.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(12))
    channel: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")

    follow_up: Mapped[FollowUp] = relationship(back_populates="events")


class RecoveryCheckIn(Base):
    """One short personal link, a set time after a follow-up is resolved: did the practice put things right?

    Made (status ``scheduled``, no token yet) when the follow-up is resolved; the token is made and its hash
    stored only when the email is sent, so a link never exists before it is due. A follow-up resolved again
    after reopening gets a new check-in (``round``). The rung and the assignee are those on which the client
    was reached when it was resolved, so recovery can be measured by rung and by adviser even if the
    follow-up later moves. Token rules as for feedback links (DESIGN.md §8): SHA-256 stored, expiring, a GET
    records nothing.
    """

    __tablename__ = "recovery_check_in"
    __table_args__ = (UniqueConstraint("follow_up_id", "round", name="uq_recovery_check_in_round"),
                      Index("ix_recovery_check_in_status_due", "status", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_up.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(default=1)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    reached_rung: Mapped[str] = mapped_column(String(10))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    client_name: Mapped[str] = mapped_column(String(200), default="")
    client_email: Mapped[str] = mapped_column(String(254), default="")
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    skipped_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")

    follow_up: Mapped[FollowUp] = relationship()
    partner: Mapped[Partner] = relationship()
    assignee: Mapped["User | None"] = relationship()


__all__ = ["CHECK_IN_ANSWERS", "CHECK_IN_STATUSES", "FOLLOW_UP_ACTIONS", "FOLLOW_UP_CHANNELS", "FOLLOW_UP_STATUSES", "FollowUp", "FollowUpEvent", "OUTCOMES",
           "REASONS", "RecoveryCheckIn", "RUNGS", "SEVERITIES"]
