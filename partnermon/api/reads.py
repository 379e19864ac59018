"""What the read API answers: a practice's partners, touchpoints with their state, incidents, feedback requests
and responses, and follow-ups, each as a plain dict, listed a cursor page at a time or fetched by id.

Every query filters on the key's practice first; another practice's id is simply not found (NotFound), as on the
pages. Nothing here returns a token hash, and responses carry the client's name and email exactly as the
practice's own export shows them (the personal link's client, or for an open-link answer who the client said
they were, with ``verified`` false).

``updated_at`` and ``updated_since``: most rows keep no single "last changed" time, so each kind uses the best
it has, documented in the OpenAPI description of each list (RESOURCES[...].changed_doc) and here:

* partners: ``created_at`` (edits to a partner are not timed);
* touchpoints: their probe's ``updated_at`` (every check, state change or edit), else ``created_at``;
* incidents: ``resolved_at``, else ``started_at``;
* feedback requests: the latest of created, sent, opened, answered and revoked;
* feedback responses: ``updated_at`` (a client may change their answers);
* follow-ups: the latest timeline event (contacted, resolved, reopened, reassigned, stepped), else ``opened_at``.

``updated_since`` keeps rows whose time above is at or after it; the rows still come in id order, so paging
stays stable. To stay in sync, pass the ``as_of`` of the first page of your last full read as the next
``updated_since``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from partnermon.api import pagination
from partnermon.errors import NotFound
from partnermon.feedback.links import RATING_LABELS
from partnermon.feedback.staff import effective_status
from partnermon.models import (
    FeedbackRequest, FeedbackResponse, FollowUp, FollowUpEvent, Incident, MomentOfTruth, Partner, Probe, Touchpoint,
    User,
)


def _ref(id_: int | None, name: str | None) -> dict[str, Any] | None:
    return None if id_ is None else {"id": id_, "name": name}


def _moment(id_: int | None, key: str | None, name: str | None) -> dict[str, Any] | None:
    return None if id_ is None else {"id": id_, "key": key, "name": name}


def _latest(*times: datetime | None) -> datetime:
    return max(t for t in times if t is not None)


@dataclass(frozen=True)
class Resource:
    """One kind of row: its query (model first), its practice column, what "changed since" means, and the dict."""

    model: Any
    query: Callable[[datetime], Select[Any]]
    changed_since: Callable[[datetime], ColumnElement[bool]]
    as_dict: Callable[[Any], dict[str, Any]]
    not_found: str


# --- partners ---------------------------------------------------------------------------------------------

def _partner_query(now: datetime) -> Select[Any]:
    return select(Partner)


def _partner(row: Any) -> dict[str, Any]:
    partner: Partner = row[0]
    return {"id": partner.id, "name": partner.name, "category": partner.category, "website": partner.website,
            "exposure": partner.exposure, "account_manager_name": partner.account_manager_name,
            "account_manager_email": partner.account_manager_email,
            "account_manager_phone": partner.account_manager_phone, "is_own_practice": partner.is_own_practice,
            "created_at": partner.created_at, "updated_at": partner.created_at}


# --- touchpoints --------------------------------------------------------------------------------------------

def _touchpoint_query(now: datetime) -> Select[Any]:
    return (select(Touchpoint, Partner.name, MomentOfTruth.key, MomentOfTruth.name, Probe)
            .join(Partner, Partner.id == Touchpoint.partner_id)
            .join(MomentOfTruth, MomentOfTruth.id == Touchpoint.moment_id)
            .outerjoin(Probe, Probe.touchpoint_id == Touchpoint.id))


def _touchpoint(row: Any) -> dict[str, Any]:
    touchpoint, partner_name, moment_key, moment_name, probe = row
    state: dict[str, Any] = {"status": "not_checked", "checked": False, "enabled": False, "interval_seconds": None,
                             "last_checked_at": None, "last_error": None, "certificate_expires_at": None,
                             "open_incident_id": None}
    if probe is not None:
        state = {"status": probe.state, "checked": True, "enabled": probe.enabled,
                 "interval_seconds": probe.interval_seconds, "last_checked_at": probe.last_checked_at,
                 "last_error": probe.last_error, "certificate_expires_at": probe.certificate_expires_at,
                 "open_incident_id": probe.open_down_incident_id or probe.open_degraded_incident_id}
    return {"id": touchpoint.id, "name": touchpoint.name, "url": touchpoint.url,
            "partner": _ref(touchpoint.partner_id, partner_name),
            "moment": _moment(touchpoint.moment_id, moment_key, moment_name), "state": state,
            "created_at": touchpoint.created_at,
            "updated_at": probe.updated_at if probe is not None else touchpoint.created_at}


# --- incidents ----------------------------------------------------------------------------------------------

def _incident_query(now: datetime) -> Select[Any]:
    return (select(Incident, Touchpoint.name, Touchpoint.partner_id, Partner.name)
            .join(Touchpoint, Touchpoint.id == Incident.touchpoint_id)
            .join(Partner, Partner.id == Touchpoint.partner_id))


def _incident(row: Any) -> dict[str, Any]:
    incident, touchpoint_name, partner_id, partner_name = row
    return {"id": incident.id, "kind": incident.kind, "open": incident.resolved_at is None,
            "touchpoint": _ref(incident.touchpoint_id, touchpoint_name), "partner": _ref(partner_id, partner_name),
            "started_at": incident.started_at, "resolved_at": incident.resolved_at,
            "in_maintenance": incident.in_maintenance, "seconds_total": incident.seconds_total,
            "seconds_in_business_hours": incident.seconds_in_business_hours,
            "first_error": incident.first_error, "last_error": incident.last_error,
            "updated_at": incident.resolved_at or incident.started_at}


# --- feedback requests --------------------------------------------------------------------------------------

def _request_query(now: datetime) -> Select[Any]:
    return (select(FeedbackRequest, effective_status(now), Partner.name, Touchpoint.name, MomentOfTruth.key,
                   MomentOfTruth.name, User.email, FeedbackResponse.id)
            .join(Partner, Partner.id == FeedbackRequest.partner_id)
            .outerjoin(Touchpoint, Touchpoint.id == FeedbackRequest.touchpoint_id)
            .outerjoin(MomentOfTruth, MomentOfTruth.id == FeedbackRequest.moment_id)
            .outerjoin(User, User.id == FeedbackRequest.adviser_id)
            .outerjoin(FeedbackResponse, FeedbackResponse.request_id == FeedbackRequest.id))


def _request_changed(since: datetime) -> ColumnElement[bool]:
    r = FeedbackRequest
    return or_(r.created_at >= since, r.sent_at >= since, r.opened_at >= since, r.answered_at >= since,
               r.revoked_at >= since)


def _request(row: Any) -> dict[str, Any]:
    req, status, partner_name, touchpoint_name, moment_key, moment_name, adviser_email, response_id = row
    return {"id": req.id, "status": status, "source": req.source, "client_name": req.client_name,
            "client_email": req.client_email, "partner": _ref(req.partner_id, partner_name),
            "touchpoint": _ref(req.touchpoint_id, touchpoint_name),
            "moment": _moment(req.moment_id, moment_key, moment_name), "adviser_email": adviser_email,
            "external_ref": req.external_ref, "throttle_overridden": req.throttle_overridden,
            "response_id": response_id, "created_at": req.created_at, "expires_at": req.expires_at,
            "sent_at": req.sent_at, "opened_at": req.opened_at, "answered_at": req.answered_at,
            "revoked_at": req.revoked_at,
            "updated_at": _latest(req.created_at, req.sent_at, req.opened_at, req.answered_at, req.revoked_at)}


# --- feedback responses -------------------------------------------------------------------------------------

def _response_query(now: datetime) -> Select[Any]:
    return (select(FeedbackResponse, Partner.name, FeedbackRequest.touchpoint_id, Touchpoint.name, MomentOfTruth.key,
                   MomentOfTruth.name, func.coalesce(FeedbackRequest.client_name, FeedbackResponse.client_name),
                   func.coalesce(FeedbackRequest.client_email, FeedbackResponse.client_email))
            .join(Partner, Partner.id == FeedbackResponse.partner_id)
            .outerjoin(FeedbackRequest, FeedbackRequest.id == FeedbackResponse.request_id)
            .outerjoin(Touchpoint, Touchpoint.id == FeedbackRequest.touchpoint_id)
            .outerjoin(MomentOfTruth, MomentOfTruth.id == FeedbackResponse.moment_id))


def _response(row: Any) -> dict[str, Any]:
    answer, partner_name, touchpoint_id, touchpoint_name, moment_key, moment_name, client_name, client_email = row
    return {"id": answer.id, "request_id": answer.request_id, "verified": answer.verified,
            "client_name": client_name or "", "client_email": client_email or "",
            "partner": _ref(answer.partner_id, partner_name), "touchpoint": _ref(touchpoint_id, touchpoint_name),
            "moment": _moment(answer.moment_id, moment_key, moment_name), "satisfaction": answer.satisfaction,
            "satisfaction_label": RATING_LABELS.get(answer.satisfaction, ""), "recommend": answer.recommend,
            "effort": answer.effort, "brand_effect": answer.brand_effect, "comment": answer.comment,
            "wants_contact": answer.wants_contact, "contact_channel": answer.contact_channel,
            "contact_phone": answer.contact_phone, "created_at": answer.created_at, "updated_at": answer.updated_at}


# --- follow-ups ---------------------------------------------------------------------------------------------

_moved_to = aliased(Partner)
_last_event = (select(func.max(FollowUpEvent.at)).where(FollowUpEvent.follow_up_id == FollowUp.id)
               .correlate(FollowUp).scalar_subquery())


def _follow_up_query(now: datetime) -> Select[Any]:
    return (select(FollowUp, Partner.name, MomentOfTruth.key, MomentOfTruth.name, User.email, User.name,
                   _moved_to.name, _last_event)
            .join(Partner, Partner.id == FollowUp.partner_id)
            .outerjoin(MomentOfTruth, MomentOfTruth.id == FollowUp.moment_id)
            .outerjoin(User, User.id == FollowUp.assignee_id)
            .outerjoin(_moved_to, _moved_to.id == FollowUp.moved_to_partner_id))


def _follow_up_changed(since: datetime) -> ColumnElement[bool]:
    return or_(FollowUp.opened_at >= since,
               exists().where(FollowUpEvent.follow_up_id == FollowUp.id, FollowUpEvent.at >= since))


def _follow_up(row: Any) -> dict[str, Any]:
    follow_up, partner_name, moment_key, moment_name, assignee_email, assignee_name, moved_to_name, last_event = row
    return {"id": follow_up.id, "status": follow_up.status, "rung": follow_up.rung, "severity": follow_up.severity,
            "urgent": follow_up.urgent, "reasons": list(follow_up.reasons or []),
            "response_id": follow_up.response_id, "request_id": follow_up.request_id,
            "partner": _ref(follow_up.partner_id, partner_name),
            "moment": _moment(follow_up.moment_id, moment_key, moment_name),
            "assignee": None if assignee_email is None else {"name": assignee_name, "email": assignee_email},
            "opened_at": follow_up.opened_at, "contact_due_at": follow_up.contact_due_at,
            "contacted_at": follow_up.contacted_at, "contacted_channel": follow_up.contacted_channel,
            "resolved_at": follow_up.resolved_at, "outcome_kind": follow_up.outcome_kind,
            "outcome": follow_up.outcome, "moved_to_partner": _ref(follow_up.moved_to_partner_id, moved_to_name),
            "updated_at": _latest(follow_up.opened_at, last_event)}


RESOURCES: dict[str, Resource] = {
    "partners": Resource(Partner, _partner_query, lambda since: Partner.created_at >= since, _partner,
                         "No such partner in your practice."),
    "touchpoints": Resource(
        Touchpoint, _touchpoint_query,
        lambda since: func.coalesce(Probe.updated_at, Touchpoint.created_at) >= since, _touchpoint,
        "No such touchpoint in your practice."),
    "incidents": Resource(Incident, _incident_query,
                          lambda since: func.coalesce(Incident.resolved_at, Incident.started_at) >= since, _incident,
                          "No such incident in your practice."),
    "feedback_requests": Resource(FeedbackRequest, _request_query, _request_changed, _request,
                                  "No such feedback request in your practice."),
    "feedback_responses": Resource(FeedbackResponse, _response_query,
                                   lambda since: FeedbackResponse.updated_at >= since, _response,
                                   "No such feedback response in your practice."),
    "follow_ups": Resource(FollowUp, _follow_up_query, _follow_up_changed, _follow_up,
                           "No such follow-up in your practice."),
}


def list_rows(session: Session, now: datetime, practice_id: int, kind: str, *, after: int, limit: int,
              since: datetime | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One cursor page of the practice's rows of ``kind`` (a key of RESOURCES) and the next page's cursor."""
    resource = RESOURCES[kind]
    query = resource.query(now).where(resource.model.practice_id == practice_id)
    if since is not None:
        query = query.where(resource.changed_since(since))
    found = pagination.page(session, query, resource.model.id, after=after, limit=limit)
    return [resource.as_dict(row) for row in found.rows], found.next_cursor


def get_row(session: Session, now: datetime, practice_id: int, kind: str, row_id: int) -> dict[str, Any]:
    """One row of the practice's, or NotFound (also for another practice's id, so nothing leaks)."""
    resource = RESOURCES[kind]
    row = session.execute(resource.query(now).where(resource.model.practice_id == practice_id,
                                                    resource.model.id == row_id)).first()
    if row is None:
        raise NotFound(resource.not_found)
    return resource.as_dict(row)
