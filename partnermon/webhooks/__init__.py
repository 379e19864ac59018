"""Webhooks out (issue 21): events POSTed, signed, to the endpoints a practice's owners add.

``emit`` is the one way an event starts: it writes one delivery row per enabled endpoint that subscribed to
the event, in the caller's transaction — so an event exists exactly when the change behind it is committed,
never for a change rolled back, and is never lost once committed. ``partnermon.webhooks.events`` builds each
event's payload from the object it is about; ``delivery`` sends them; ``endpoints`` is the owners' side.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.models import WebhookDelivery, WebhookEndpoint

# Every event an endpoint may subscribe to, with the words the settings page shows.
EVENTS: dict[str, str] = {
    "response.created": "A client answered a feedback request",
    "follow_up.opened": "A follow-up was opened",
    "follow_up.overdue": "A follow-up passed its deadline without a contact",
    "follow_up.resolved": "A follow-up was resolved",
    "incident.opened": "A touchpoint went down (or degraded)",
    "incident.resolved": "A touchpoint's incident ended",
    "warning.raised": "An early warning was raised",
    "report.ready": "A monthly report is ready",
}
# Sent only by "Send test event", to the one endpoint it was asked for; nobody subscribes to it.
TEST_EVENT = "webhook.test"


def envelope(event_id: str, event_type: str, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": event_id, "type": event_type, "created": now.isoformat(timespec="seconds"), "data": data}


def emit(session: Session, now: datetime, practice_id: int, event_type: str, payload: dict[str, Any]) -> str | None:
    """Queue ``event_type`` with ``payload`` (small, JSON-ready: ids and main fields, a ``path`` to its page)
    for each of the practice's enabled endpoints that subscribed to it. Returns the event id, the same for
    every endpoint and every retry, or None when no endpoint wants it. Joins the caller's transaction."""
    assert event_type in EVENTS, event_type
    endpoints = [endpoint for endpoint in session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.practice_id == practice_id, WebhookEndpoint.enabled.is_(True)))
        if event_type in (endpoint.events or [])]
    if not endpoints:
        return None
    event_id = str(uuid.uuid4())
    body = envelope(event_id, event_type, now, payload)
    for endpoint in endpoints:
        queue(session, now, endpoint, event_id, event_type, body)
    return event_id


def queue(session: Session, now: datetime, endpoint: WebhookEndpoint, event_id: str, event_type: str,
          body: dict[str, Any]) -> WebhookDelivery:
    delivery = WebhookDelivery(practice_id=endpoint.practice_id, endpoint_id=endpoint.id, event_id=event_id,
                               event_type=event_type, payload=body, status="pending", attempts=0,
                               next_attempt_at=now, created_at=now)
    session.add(delivery)
    return delivery
