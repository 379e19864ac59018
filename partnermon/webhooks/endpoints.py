"""The owners' side of webhooks: add an endpoint, turn it on or off, delete it, send it a test event, read
its delivery log. Every lookup is scoped to one practice (another practice's endpoint is NotFound).

An endpoint's URL is refused when it is typed if it resolves to an address the outbound rules forbid
(DESIGN.md §8: loopback, private, link-local…, unless PARTNERMON_PROBE_ALLOW_CIDRS allows it), with the
same check ``probes.fetch`` applies; every delivery checks again, since a name may resolve elsewhere later.
The signing secret is shown once, in the answer to the POST that added the endpoint.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from partnermon import validators as v
from partnermon.accounts import audit
from partnermon.errors import NotFound, ValidationError
from partnermon.models import Practice, User, WebhookDelivery, WebhookEndpoint
from partnermon.webhooks import EVENTS, TEST_EVENT, envelope, queue
from probes.fetch import Blocked, FetchError, FetchPolicy, check_destination

SECRET_PREFIX = "whsec_"
LOG_LENGTH = 50
MAX_ENDPOINTS = 20


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str   # shown to the owner once


def list_endpoints(session: Session, practice_id: int) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.practice_id == practice_id)
                                .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)))


def get_endpoint(session: Session, practice_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                                            WebhookEndpoint.practice_id == practice_id))
    if endpoint is None:
        raise NotFound("No such webhook endpoint in this practice.")
    return endpoint


def _events(form: v.Form, chosen: Iterable[str]) -> list[str]:
    picked = [event for event in EVENTS if event in set(chosen)]
    if not picked:
        form.add("events", "Choose at least one event to send to this endpoint.")
    return picked


def _destination(form: v.Form, url: str, policy: FetchPolicy) -> None:
    try:
        check_destination(url, policy=policy)
    except Blocked as exc:
        form.add("url", f"partnermon never sends webhooks to this address ({str(exc).removeprefix('blocked: ')}). "
                        "Use your receiver's public address.")
    except FetchError as exc:
        form.add("url", f"{exc} Check the address: it must be one partnermon can reach on the internet.")


def add_endpoint(session: Session, now: datetime, practice: Practice, actor: User, url: str | None,
                 events: Iterable[str], policy: FetchPolicy) -> NewEndpoint:
    """A new endpoint with a new signing secret, or ValidationError naming ``url`` or ``events``."""
    form = v.Form()
    checked = form.check(v.web_url, "url", url, required=True)
    picked = _events(form, events)
    if checked is not None:
        _destination(form, checked, policy)
    if len(list_endpoints(session, practice.id)) >= MAX_ENDPOINTS:
        form.add("url", f"A practice can have at most {MAX_ENDPOINTS} endpoints: delete one you no longer use first.")
    form.raise_if_errors()
    assert checked is not None
    secret = SECRET_PREFIX + secrets.token_hex(24)
    endpoint = WebhookEndpoint(practice_id=practice.id, url=checked, events=picked, secret=secret, enabled=True,
                               failure_count=0, created_at=now, created_by_id=actor.id)
    session.add(endpoint)
    session.flush()
    audit.record(session, now, practice.id, actor, "webhook.created", "webhook_endpoint", endpoint.id,
                 f"Added webhook endpoint {checked[:200]} ({', '.join(picked)})")
    return NewEndpoint(endpoint, secret)


def set_enabled(session: Session, now: datetime, endpoint: WebhookEndpoint, actor: User, enabled: bool) -> bool:
    """Turn the endpoint on (its failure count starts again from nought) or off. False if nothing changed."""
    if endpoint.enabled == enabled:
        return False
    endpoint.enabled = enabled
    endpoint.disabled_at = None if enabled else now
    if enabled:
        endpoint.failure_count = 0
    audit.record(session, now, endpoint.practice_id, actor, "webhook.enabled" if enabled else "webhook.disabled",
                 "webhook_endpoint", endpoint.id,
                 f"Turned {'on' if enabled else 'off'} webhook endpoint {endpoint.url[:200]}")
    return True


def delete_endpoint(session: Session, now: datetime, endpoint: WebhookEndpoint, actor: User) -> None:
    """Delete the endpoint and its delivery log; deliveries still waiting are not sent."""
    audit.record(session, now, endpoint.practice_id, actor, "webhook.deleted", "webhook_endpoint", endpoint.id,
                 f"Deleted webhook endpoint {endpoint.url[:200]}")
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    session.delete(endpoint)


def send_test(session: Session, now: datetime, endpoint: WebhookEndpoint, actor: User) -> WebhookDelivery:
    """Queue a ``webhook.test`` event for this endpoint only: the worker sends it within a minute."""
    event_id = str(uuid.uuid4())
    body = envelope(event_id, TEST_EVENT, now, {"endpoint_id": endpoint.id, "sent_by": actor.email,
                                                 "message": "A test event from partnermon.",
                                                 "path": f"/settings/webhooks/{endpoint.id}"})
    return queue(session, now, endpoint, event_id, TEST_EVENT, body)


def recent_deliveries(session: Session, endpoint: WebhookEndpoint, limit: int = LOG_LENGTH) -> list[WebhookDelivery]:
    return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                                .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit)))


def count_waiting(session: Session, endpoint: WebhookEndpoint) -> int:
    return session.scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status.in_(("pending", "delivering")))) or 0


__all__ = ["EVENTS", "NewEndpoint", "ValidationError", "add_endpoint", "count_waiting", "delete_endpoint",
           "get_endpoint", "list_endpoints", "recent_deliveries", "send_test", "set_enabled"]
