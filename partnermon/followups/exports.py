"""Follow-ups as export rows (``partnermon export --what followups``): one dict per follow-up opened in a
period, read in batches, with what became of the client and its latest recovery check-in (issue 19). ``partnermon.exports`` writes them as CSV (formula-neutralised: notes and client
names are typed by people) or JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from partnermon.models import FeedbackRequest, FeedbackResponse, MomentOfTruth, Partner, User
from partnermon.models.followups import FollowUp, RecoveryCheckIn

FOLLOW_UP_FIELDS = ("id", "opened_at", "status", "urgent", "severity", "reasons", "verified", "client_name",
                    "client_email", "partner", "moment", "assignee", "contact_due_at", "contacted_at",
                    "contacted_channel", "late", "escalated_at", "resolved_at", "outcome", "rung", "outcome_kind",
                    "moved_to_partner", "check_in_round", "check_in_status", "check_in_due_at", "check_in_reached_rung",
                    "check_in_answer", "check_in_answered_at")
BATCH = 1000


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def follow_up_rows(session: Session, now: datetime, practice_id: int, start: datetime, end: datetime
                   ) -> Iterator[dict[str, Any]]:
    """Follow-ups opened in [start, end). ``late``: contacted after the deadline, or still not contacted
    and past it now."""
    assignee = aliased(User)
    moved_to = aliased(Partner)
    check_in = aliased(RecoveryCheckIn)
    # The latest round only: a follow-up reopened and resolved again has a check-in per resolution.
    latest_round = (select(func.max(RecoveryCheckIn.round)).where(RecoveryCheckIn.follow_up_id == FollowUp.id)
                    .correlate(FollowUp).scalar_subquery())
    query = (select(FollowUp, FeedbackResponse.verified, Partner.name, MomentOfTruth.name, assignee.email,
                    func.coalesce(FeedbackRequest.client_name, FeedbackResponse.client_name),
                    func.coalesce(FeedbackRequest.client_email, FeedbackResponse.client_email), moved_to.name,
                    check_in)
             .join(FeedbackResponse, FeedbackResponse.id == FollowUp.response_id)
             .outerjoin(FeedbackRequest, FeedbackRequest.id == FollowUp.request_id)
             .join(Partner, Partner.id == FollowUp.partner_id)
             .outerjoin(MomentOfTruth, MomentOfTruth.id == FollowUp.moment_id)
             .outerjoin(assignee, assignee.id == FollowUp.assignee_id)
             .outerjoin(moved_to, moved_to.id == FollowUp.moved_to_partner_id)
             .outerjoin(check_in, (check_in.follow_up_id == FollowUp.id) & (check_in.round == latest_round))
             .where(FollowUp.practice_id == practice_id, FollowUp.opened_at >= start, FollowUp.opened_at < end)
             .order_by(FollowUp.opened_at, FollowUp.id)
             .execution_options(yield_per=BATCH))
    for follow_up, verified, partner, moment, assignee_email, client_name, client_email, moved_to_name, check in (
            session.execute(query)):
        contacted = follow_up.contacted_at
        late = contacted > follow_up.contact_due_at if contacted else (
            follow_up.status == "open" and follow_up.contact_due_at <= now)
        yield {
            "id": follow_up.id, "opened_at": _when(follow_up.opened_at), "status": follow_up.status,
            "urgent": follow_up.urgent, "severity": follow_up.severity, "reasons": list(follow_up.reasons),
            "verified": verified, "client_name": client_name or "", "client_email": client_email or "",
            "partner": partner, "moment": moment or "", "assignee": assignee_email or "",
            "contact_due_at": _when(follow_up.contact_due_at), "contacted_at": _when(contacted),
            "contacted_channel": follow_up.contacted_channel or "", "late": late,
            "escalated_at": _when(follow_up.escalated_at), "resolved_at": _when(follow_up.resolved_at),
            "outcome": follow_up.outcome, "rung": follow_up.rung, "outcome_kind": follow_up.outcome_kind or "",
            "moved_to_partner": moved_to_name or "",
            "check_in_round": check.round if check else None, "check_in_status": check.status if check else "",
            "check_in_due_at": _when(check.due_at) if check else None,
            "check_in_reached_rung": check.reached_rung if check else "",
            "check_in_answer": (check.answer or "") if check else "",
            "check_in_answered_at": _when(check.answered_at) if check else None,
        }
