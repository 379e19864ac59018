"""Sending webhook deliveries: claim due rows, POST each through ``probes.fetch``, record how it went.

Like every work row (partnermon.claims): a worker claims a batch with a lease, commits, and only then goes
to the network, with no transaction open; it records each outcome only while its claim still holds. A worker
that dies mid-send leaves its rows to be claimed again when the lease ends: a receiver may get an event twice,
always with the same event id, so it can drop the duplicate (at least once, never lost).

Every request goes through ``probes.fetch`` under the webhook policy: the outbound rules of DESIGN.md §8
(the address is checked again at every send, so a name that now resolves to a private address is refused),
deadlines and a byte cap on the answer. Redirects are not followed: a receiver answers where it was told to.

Signing (documented for receivers in the README): header ``partnermon-Signature: t=<unix time>,v1=<hex>``,
where hex is HMAC-SHA256 with the endpoint's secret over ``"<t>." + body``.

Failures are retried after 1 min, 5 min, 30 min, 2 h, 6 h, 12 h and 24 h, then the delivery has failed.
``DISABLE_AFTER`` failed attempts in a row at one endpoint (across its deliveries) turn the endpoint off,
and its owners get one email saying so; their deliveries wait until an owner turns it back on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from partnermon.claims import claim
from partnermon.mail import outbox
from partnermon.models import Practice, User, WebhookDelivery, WebhookEndpoint
from probes.fetch import FetchError, FetchPolicy, fetch

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "partnermon-Signature"
EVENT_ID_HEADER = "partnermon-Event-Id"
EVENT_TYPE_HEADER = "partnermon-Event-Type"
# The wait after each failed attempt; one more attempt than waits.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
           timedelta(hours=6), timedelta(hours=12), timedelta(hours=24))
MAX_ATTEMPTS = len(BACKOFF) + 1
DISABLE_AFTER = 15
BATCH = 20
# Long enough for a whole batch at the policy's total deadline each (20 × 10 s), with room to spare.
LEASE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` with the endpoint's secret."""
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def body_of(payload: dict[str, Any], base_url: str) -> bytes:
    """The bytes sent: the stored event, with its page's ``path`` made a full ``url``. The same on every
    retry (keys sorted, no spaces), so a receiver sees one event as one body."""
    data = dict(payload.get("data") or {})
    if "path" in data:
        data["url"] = base_url.rstrip("/") + str(data.pop("path"))
    return json.dumps({**payload, "data": data}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    disabled: int = 0

    def __bool__(self) -> bool:
        return bool(self.delivered or self.retrying or self.failed or self.disabled)


@dataclass(frozen=True)
class _Claimed:
    delivery_id: int
    endpoint_id: int
    url: str
    secret: str
    event_id: str
    event_type: str
    payload: dict[str, Any]


def _due(now: datetime) -> Any:
    # A "delivering" row is one whose worker may have died: claim() takes it only once its lease is over.
    enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))
    return and_(WebhookDelivery.status.in_(("pending", "delivering")), WebhookDelivery.next_attempt_at <= now,
                WebhookDelivery.endpoint_id.in_(enabled))


def deliver_due(session_factory: Callable[[], Session], now: datetime, policy: FetchPolicy, *, worker_id: str,
                base_url: str, limit: int = BATCH) -> DeliveryReport:
    """Claim up to ``limit`` due deliveries, send each, and record the outcomes."""
    with session_factory() as session:
        ids = claim(session, WebhookDelivery, now, worker_id=worker_id, lease_seconds=LEASE_SECONDS,
                    due=_due(now), order_by=WebhookDelivery.next_attempt_at, limit=limit,
                    extra_values={"status": "delivering"})
        claimed = [_Claimed(d.id, e.id, e.url, e.secret, d.event_id, d.event_type, d.payload) for d, e in session.execute(
            select(WebhookDelivery, WebhookEndpoint).join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.id.in_(ids)).order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id))]
        session.commit()
    report = DeliveryReport()
    turned_off: set[int] = set()
    for item in claimed:
        with session_factory() as session:
            if item.endpoint_id in turned_off:    # turned off by this batch: the rest of its events wait
                _release(session, item.delivery_id, worker_id)
            else:
                code, error = send(item, now, policy, base_url)
                if _record(session, now, item.delivery_id, worker_id, code, error, base_url, report):
                    turned_off.add(item.endpoint_id)
            session.commit()
    return report


def _release(session: Session, delivery_id: int, worker_id: str) -> None:
    session.execute(update(WebhookDelivery)
                    .where(WebhookDelivery.id == delivery_id, WebhookDelivery.claimed_by == worker_id,
                           WebhookDelivery.status == "delivering")
                    .values(status="pending", claimed_by=None, lease_until=None)
                    .execution_options(synchronize_session=False))


def send(item: _Claimed, now: datetime, policy: FetchPolicy, base_url: str) -> tuple[int | None, str | None]:
    """POST one delivery: (status code or None, None when delivered else why not, in words)."""
    body = body_of(item.payload, base_url)
    timestamp = int(now.timestamp())
    headers = [("Content-Type", "application/json"), (EVENT_ID_HEADER, item.event_id),
               (EVENT_TYPE_HEADER, item.event_type), (SIGNATURE_HEADER, signature_header(item.secret, timestamp, body))]
    try:
        response = fetch(item.url, policy=policy, method="POST", headers=headers, body=body, follow_redirects=False)
    except FetchError as exc:
        return None, str(exc)[:300]
    if 200 <= response.status < 300:
        return response.status, None
    excerpt = " ".join(response.text()[:120].split())
    return response.status, (f"HTTP {response.status} {response.reason}".strip() + (f": {excerpt}" if excerpt else ""))[:300]


def _record(session: Session, now: datetime, delivery_id: int, worker_id: str, code: int | None, error: str | None,
            base_url: str, report: DeliveryReport) -> bool:
    """Record one attempt's outcome; True when it turned the endpoint off."""
    delivery = session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.claimed_by == worker_id,
        WebhookDelivery.status == "delivering").with_for_update())
    if delivery is None:
        log.warning("webhook delivery %s: our claim had expired before we recorded it; the new holder will",
                    delivery_id)
        return False
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.last_status_code, delivery.last_error = now, code, error
    delivery.claimed_by = delivery.lease_until = None
    if error is None:
        delivery.status, delivery.delivered_at = "delivered", now
        session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == delivery.endpoint_id)
                        .values(failure_count=0))
        report.delivered += 1
        return False
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = "failed"
        report.failed += 1
    else:
        delivery.status, delivery.next_attempt_at = "pending", now + BACKOFF[delivery.attempts - 1]
        report.retrying += 1
    # In the database, not in Python: two workers failing at once must both count.
    failures = session.scalar(update(WebhookEndpoint).where(WebhookEndpoint.id == delivery.endpoint_id)
                              .values(failure_count=WebhookEndpoint.failure_count + 1)
                              .returning(WebhookEndpoint.failure_count))
    if failures is not None and failures >= DISABLE_AFTER and _disable(session, now, delivery.endpoint_id, error,
                                                                       base_url):
        report.disabled += 1
        return True
    return False


def _disable(session: Session, now: datetime, endpoint_id: int, error: str, base_url: str) -> bool:
    """Turn the endpoint off and tell its practice's owners, once: only the worker whose UPDATE turned it
    off writes the emails (keyed by the moment it was turned off, so a later turning off is news again)."""
    turned_off = session.execute(update(WebhookEndpoint)
                                 .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.enabled.is_(True))
                                 .values(enabled=False, disabled_at=now)
                                 .execution_options(synchronize_session=False)).rowcount == 1
    if not turned_off:
        return False
    endpoint = session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    assert endpoint is not None
    practice = session.get(Practice, endpoint.practice_id)
    owners = session.scalars(select(User).where(User.practice_id == endpoint.practice_id, User.role == "owner",
                                                User.is_active.is_(True)).order_by(User.id))
    for owner in owners:
        outbox.enqueue(session, now, template="webhook_disabled", to=owner.email,
                       dedupe_key=f"webhook-disabled:{endpoint.id}:{now.isoformat()}:{owner.id}", base_url=base_url,
                       practice_id=endpoint.practice_id,
                       context={"practice": practice, "recipient": owner, "endpoint": endpoint, "failures": DISABLE_AFTER,
                                "last_error": error, "link": f"{base_url}/settings/webhooks/{endpoint.id}"})
    return True
