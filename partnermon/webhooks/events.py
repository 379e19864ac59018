"""One function per event: the event's payload, from the object it is about, handed to ``webhooks.emit``.

Each event site calls one of these in its own transaction (one line there). A payload is small: the object's
id and main fields, and ``path``, its page (the sender makes it a full ``url``). Never a token or its hash,
and none of the client's contact details or words: a receiver that needs more asks the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from partnermon.models import EarlyWarning, FeedbackResponse, FollowUp, Incident, Report
from partnermon.webhooks import emit


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def response_created(session: Session, now: datetime, response: FeedbackResponse) -> None:
    emit(session, now, response.practice_id, "response.created", {
        "response_id": response.id, "request_id": response.request_id, "partner_id": response.partner_id,
        "moment_id": response.moment_id, "satisfaction": response.satisfaction, "recommend": response.recommend,
        "effort": response.effort, "brand_effect": response.brand_effect, "wants_contact": response.wants_contact,
        "verified": response.verified, "dissatisfied": response.is_dissatisfied,
        "path": f"/feedback/responses/{response.id}",
    })


def _follow_up(follow_up: FollowUp) -> dict[str, Any]:
    return {
        "follow_up_id": follow_up.id, "response_id": follow_up.response_id, "partner_id": follow_up.partner_id,
        "moment_id": follow_up.moment_id, "status": follow_up.status, "severity": follow_up.severity,
        "urgent": follow_up.urgent, "rung": follow_up.rung, "reasons": list(follow_up.reasons or []),
        "assignee_id": follow_up.assignee_id, "opened_at": _time(follow_up.opened_at),
        "contact_due_at": _time(follow_up.contact_due_at), "path": f"/follow-ups/{follow_up.id}",
    }


def follow_up_opened(session: Session, now: datetime, follow_up: FollowUp) -> None:
    emit(session, now, follow_up.practice_id, "follow_up.opened", _follow_up(follow_up))


def follow_up_overdue(session: Session, now: datetime, follow_up: FollowUp) -> None:
    emit(session, now, follow_up.practice_id, "follow_up.overdue", _follow_up(follow_up))


def follow_up_resolved(session: Session, now: datetime, follow_up: FollowUp) -> None:
    emit(session, now, follow_up.practice_id, "follow_up.resolved", {
        **_follow_up(follow_up), "resolved_at": _time(follow_up.resolved_at), "outcome_kind": follow_up.outcome_kind,
        "moved_to_partner_id": follow_up.moved_to_partner_id,
    })


def _incident(incident: Incident) -> dict[str, Any]:
    partner_id = incident.touchpoint.partner_id
    return {
        "incident_id": incident.id, "touchpoint_id": incident.touchpoint_id, "partner_id": partner_id,
        "kind": incident.kind, "started_at": _time(incident.started_at), "resolved_at": _time(incident.resolved_at),
        "error": incident.last_error, "in_maintenance": incident.in_maintenance,
        "seconds_total": incident.seconds_total,
        "path": f"/partners/{partner_id}/touchpoints/{incident.touchpoint_id}",
    }


def incident_opened(session: Session, now: datetime, incident: Incident) -> None:
    emit(session, now, incident.practice_id, "incident.opened", _incident(incident))


def incident_resolved(session: Session, now: datetime, incident: Incident) -> None:
    emit(session, now, incident.practice_id, "incident.resolved", _incident(incident))


def warning_raised(session: Session, now: datetime, warning: EarlyWarning) -> None:
    emit(session, now, warning.practice_id, "warning.raised", {
        "warning_id": warning.id, "partner_id": warning.partner_id, "moment_id": warning.moment_id,
        "measure": warning.measure, "direction": warning.direction, "previous_value": warning.previous_value,
        "current_value": warning.current_value, "test": warning.test, "p_value": warning.p_value,
        "path": f"/partners/{warning.partner_id}/experience",
    })


def report_ready(session: Session, now: datetime, report: Report) -> None:
    emit(session, now, report.practice_id, "report.ready", {
        "report_id": report.id, "month": report.month, "pages": report.pages, "bytes": report.bytes,
        "generated_at": _time(report.generated_at), "path": f"/reports/{report.month}.pdf",
    })
