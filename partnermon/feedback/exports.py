"""Feedback requests and responses as export rows: one dict per row, read in batches so a big export never
sits in memory. ``partnermon.exports`` writes them as CSV (formula-neutralised) or JSON; the web download
and ``partnermon export`` share these generators, and the filters of ``feedback.staff``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from partnermon.feedback.links import RATING_LABELS
from partnermon.feedback.staff import effective_status
from partnermon.models import FeedbackRequest, FeedbackResponse, MomentOfTruth, Partner, Touchpoint, User

REQUEST_FIELDS = ("id", "created_at", "client_name", "client_email", "partner", "touchpoint", "moment", "adviser",
                  "status", "source", "external_ref", "expires_at", "sent_at", "opened_at", "answered_at",
                  "revoked_at", "throttle_overridden")
RESPONSE_FIELDS = ("id", "request_id", "created_at", "updated_at", "verified", "client_name", "client_email",
                   "partner", "touchpoint", "moment", "satisfaction", "satisfaction_label", "recommend", "effort",
                   "brand_effect", "comment", "wants_contact", "contact_channel", "contact_phone")
BATCH = 1000


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def request_rows(session: Session, now: datetime, conditions: list[ColumnElement[bool]], *,
                 newest_first: bool = False) -> Iterator[dict[str, Any]]:
    """Requests matching ``staff.request_conditions(...)``, with their effective status."""
    order = (FeedbackRequest.created_at.desc(), FeedbackRequest.id.desc()) if newest_first else (
        FeedbackRequest.created_at, FeedbackRequest.id)
    query = (select(FeedbackRequest, effective_status(now), Partner.name, Touchpoint.name, MomentOfTruth.name, User.email)
             .join(Partner, Partner.id == FeedbackRequest.partner_id)
             .outerjoin(Touchpoint, Touchpoint.id == FeedbackRequest.touchpoint_id)
             .outerjoin(MomentOfTruth, MomentOfTruth.id == FeedbackRequest.moment_id)
             .outerjoin(User, User.id == FeedbackRequest.adviser_id)
             .where(*conditions).order_by(*order)
             .execution_options(yield_per=BATCH))
    for request, status, partner, touchpoint, moment, adviser in session.execute(query):
        yield {
            "id": request.id, "created_at": _when(request.created_at), "client_name": request.client_name,
            "client_email": request.client_email, "partner": partner, "touchpoint": touchpoint or "",
            "moment": moment or "", "adviser": adviser or "", "status": status, "source": request.source,
            "external_ref": request.external_ref or "", "expires_at": _when(request.expires_at),
            "sent_at": _when(request.sent_at), "opened_at": _when(request.opened_at),
            "answered_at": _when(request.answered_at), "revoked_at": _when(request.revoked_at),
            "throttle_overridden": request.throttle_overridden,
        }


def response_rows(session: Session, conditions: list[ColumnElement[bool]], *,
                  newest_first: bool = False) -> Iterator[dict[str, Any]]:
    """Responses matching ``staff.response_conditions(...)``. The client is the personal link's, or for an
    open-link answer whoever the client said they were (unverified)."""
    order = (FeedbackResponse.created_at.desc(), FeedbackResponse.id.desc()) if newest_first else (
        FeedbackResponse.created_at, FeedbackResponse.id)
    query = (select(FeedbackResponse, Partner.name, Touchpoint.name, MomentOfTruth.name,
                    func.coalesce(FeedbackRequest.client_name, FeedbackResponse.client_name),
                    func.coalesce(FeedbackRequest.client_email, FeedbackResponse.client_email))
             .join(Partner, Partner.id == FeedbackResponse.partner_id)
             .outerjoin(FeedbackRequest, FeedbackRequest.id == FeedbackResponse.request_id)
             .outerjoin(Touchpoint, Touchpoint.id == FeedbackRequest.touchpoint_id)
             .outerjoin(MomentOfTruth, MomentOfTruth.id == FeedbackResponse.moment_id)
             .where(*conditions).order_by(*order)
             .execution_options(yield_per=BATCH))
    for response, partner, touchpoint, moment, client_name, client_email in session.execute(query):
        yield {
            "id": response.id, "request_id": response.request_id, "created_at": _when(response.created_at),
            "updated_at": _when(response.updated_at), "verified": response.verified,
            "client_name": client_name or "", "client_email": client_email or "", "partner": partner,
            "touchpoint": touchpoint or "", "moment": moment or "", "satisfaction": response.satisfaction,
            "satisfaction_label": RATING_LABELS.get(response.satisfaction, ""), "recommend": response.recommend,
            "effort": response.effort, "brand_effect": response.brand_effect or "", "comment": response.comment,
            "wants_contact": response.wants_contact, "contact_channel": response.contact_channel or "",
            "contact_phone": response.contact_phone,
        }
