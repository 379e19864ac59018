"""Webhooks out (issue 21): signed, retried, at least once with a stable event id, never to a private address.

The receiver is a real HTTP server on loopback, written here, that checks each signature with its own HMAC
code (as a practice's developer would, from the README). Time is passed in: the job runs at advancing ``now``.
Alice owns Harbour Advice; Charlie owns Quay Wealth and must never see Harbour's endpoints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.claims import claim
from partnermon.errors import ValidationError
from partnermon.followups import deadlines, service as followup_service
from partnermon.models import FollowUp, Incident, OutboxEmail, WebhookDelivery, WebhookEndpoint
from partnermon.monitoring import incidents
from partnermon.practices.business_hours import BusinessHours
from partnermon.reports import jobs as report_jobs
from partnermon.reports.storage import ReportStore
from partnermon.runtime import Runtime
from partnermon.scoring import periods
from partnermon.webhooks import EVENTS, delivery, emit, endpoints
from probes.fetch import FetchPolicy
from tests.conftest import NOW, text_of
from tests.factories import Cast
from tests.probe_servers import fake_resolver
from tests.test_followups import answer
from tests.test_probe_runs import make_probe

BASE = "http://partnermon.test"
LOOPBACK = FetchPolicy(allow_cidrs=("127.0.0.1/32",), connect_timeout=2, read_timeout=2, total_timeout=3,
                       max_bytes=16_384, max_redirects=0)


# --- the receiver -------------------------------------------------------------------------------------------

def verify(secret: str, header: str, body: bytes, now: datetime, tolerance: int = 300) -> bool:
    """What a receiver does, written from the README and nothing of partnermon's: split the header, recompute
    HMAC-SHA256 over "<t>.<body>", compare in constant time, and refuse an old timestamp."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", "")) and abs(now.timestamp() - timestamp) <= tolerance


@dataclass
class Received:
    event_id: str
    event_type: str
    body: bytes
    signature: str
    answered: int


@dataclass
class Receiver:
    """A webhook receiver on loopback. ``fail_first``: how many times it answers 500 to each event id before
    it accepts that event (a receiver that is down for a while, then recovers)."""

    fail_first: int = 0
    always_fail: bool = False
    received: list[Received] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, event_id: str) -> int:
        with self._lock:
            seen = sum(1 for r in self.received if r.event_id == event_id)
        return 500 if self.always_fail or seen < self.fail_first else 204

    def accepted_ids(self) -> list[str]:
        return [r.event_id for r in self.received if r.answered < 300]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            event_id = self.headers.get("partnermon-Event-Id", "")
            status = hook.answer(event_id)
            with hook._lock:
                hook.received.append(Received(event_id, self.headers.get("partnermon-Event-Type", ""), body,
                                              self.headers.get("partnermon-Signature", ""), status))
            self.send_response(status)
            self.send_header("Content-Length", "12")
            self.end_headers()
            self.wfile.write(b"receiver says"[:12])

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/partnermon"
    yield hook
    server.shutdown()
    server.server_close()


def add(session: Session, cast: Cast, url: str, events: list[str] | None = None,
        policy: FetchPolicy = LOOPBACK) -> endpoints.NewEndpoint:
    made = endpoints.add_endpoint(session, NOW, cast.harbour, cast.alice, url, events or list(EVENTS), policy)
    session.commit()
    return made


def run(runtime: Runtime, at: datetime, policy: FetchPolicy = LOOPBACK, worker: str = "w1") -> delivery.DeliveryReport:
    return delivery.deliver_due(runtime.session_factory, at, policy, worker_id=worker, base_url=BASE)


def deliveries(session: Session) -> list[WebhookDelivery]:
    return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)
                                .execution_options(populate_existing=True)))


def fresh(session: Session, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    session.refresh(endpoint)
    return endpoint


# --- signing ------------------------------------------------------------------------------------------------

def test_a_receiver_verifies_the_signature_with_its_own_hmac_code(session: Session, runtime: Runtime, cast: Cast,
                                                                  receiver: Receiver) -> None:
    made = add(session, cast, receiver.url, ["follow_up.opened"])
    assert made.secret.startswith("whsec_") and len(made.secret) == 6 + 48
    event_id = emit(session, NOW, cast.harbour.id, "follow_up.opened", {"follow_up_id": 7, "path": "/follow-ups/7"})
    session.commit()
    assert run(runtime, NOW).delivered == 1
    [got] = receiver.received
    assert got.event_id == event_id and got.event_type == "follow_up.opened"
    assert got.signature.startswith(f"t={int(NOW.timestamp())},v1=")
    assert verify(made.secret, got.signature, got.body, NOW)
    # The check means something: another secret, a changed body or an old timestamp all fail it.
    assert not verify("whsec_someone-else", got.signature, got.body, NOW)
    assert not verify(made.secret, got.signature, got.body.replace(b"7", b"8"), NOW)
    assert not verify(made.secret, got.signature, got.body, NOW + timedelta(minutes=6))
    event = json.loads(got.body)
    assert event == {"id": event_id, "type": "follow_up.opened", "created": "2026-11-23T10:00:00+00:00",
                     "data": {"follow_up_id": 7, "url": "http://partnermon.test/follow-ups/7"}}


# --- retries: at least once, never lost, duplicates only with the same id ----------------------------------

def test_a_receiver_that_fails_then_recovers_gets_every_event_with_retries_at_the_backoff(
        session: Session, runtime: Runtime, cast: Cast, receiver: Receiver) -> None:
    receiver.fail_first = 2
    made = add(session, cast, receiver.url)
    emitted = [emit(session, NOW, cast.harbour.id, "incident.opened", {"incident_id": n}) for n in range(5)]
    session.commit()
    assert len(set(emitted)) == 5

    assert run(runtime, NOW).retrying == 5                              # attempt 1: all refused
    assert {(d.status, d.attempts, d.next_attempt_at, d.last_status_code) for d in deliveries(session)} == {
        ("pending", 1, NOW + timedelta(minutes=1), 500)}
    assert not run(runtime, NOW + timedelta(seconds=59))                # not due yet: nothing is sent
    assert len(receiver.received) == 5
    assert run(runtime, NOW + timedelta(minutes=1)).retrying == 5       # attempt 2: refused again
    assert {d.next_attempt_at for d in deliveries(session)} == {NOW + timedelta(minutes=6)}
    assert fresh(session, made.endpoint).failure_count == 10
    assert run(runtime, NOW + timedelta(minutes=6)).delivered == 5      # attempt 3: the receiver is back

    assert {(d.status, d.attempts, d.delivered_at) for d in deliveries(session)} == {
        ("delivered", 3, NOW + timedelta(minutes=6))}
    assert sorted(receiver.accepted_ids()) == sorted(emitted)           # every event accepted exactly once
    for event_id in emitted:                                            # and each retry was the same event
        copies = [r for r in receiver.received if r.event_id == event_id]
        assert len(copies) == 3 and len({r.body for r in copies}) == 1
        assert json.loads(copies[0].body)["id"] == event_id
        assert all(verify(made.secret, r.signature, r.body, NOW + timedelta(minutes=6), tolerance=3600)
                   for r in copies)
    assert fresh(session, made.endpoint).failure_count == 0             # a success starts the count again
    assert not run(runtime, NOW + timedelta(days=1))                    # nothing left to send


def test_a_worker_that_died_after_sending_leaves_a_duplicate_with_the_same_event_id(
        session: Session, runtime: Runtime, cast: Cast, receiver: Receiver) -> None:
    add(session, cast, receiver.url, ["response.created"])
    event_id = emit(session, NOW, cast.harbour.id, "response.created", {"response_id": 1})
    session.commit()
    # A worker claims it, sends it (the receiver accepts), and dies before recording anything.
    [claimed_id] = claim(session, WebhookDelivery, NOW, worker_id="dead", lease_seconds=delivery.LEASE_SECONDS,
                         due=delivery._due(NOW), order_by=WebhookDelivery.id, limit=1,
                         extra_values={"status": "delivering"})
    session.commit()
    [row] = deliveries(session)
    endpoint = session.get(WebhookEndpoint, row.endpoint_id)
    assert endpoint is not None
    delivery.send(delivery._Claimed(claimed_id, endpoint.id, endpoint.url, endpoint.secret, row.event_id, row.event_type,
                                    row.payload), NOW, LOOPBACK, BASE)
    assert not run(runtime, NOW + timedelta(seconds=delivery.LEASE_SECONDS - 1), worker="w2")   # still leased
    assert run(runtime, NOW + timedelta(seconds=delivery.LEASE_SECONDS + 1), worker="w2").delivered == 1
    assert receiver.accepted_ids() == [event_id, event_id]              # at least once: the same id twice
    assert receiver.received[0].body == receiver.received[1].body
    assert [d.status for d in deliveries(session)] == ["delivered"]


def test_an_event_emitted_in_a_rolled_back_transaction_is_never_sent(session: Session, runtime: Runtime, cast: Cast,
                                                                     receiver: Receiver) -> None:
    add(session, cast, receiver.url)
    emit(session, NOW, cast.harbour.id, "warning.raised", {"warning_id": 1})
    session.rollback()
    assert deliveries(session) == []
    assert not run(runtime, NOW)
    assert receiver.received == []


def test_events_go_only_to_the_practices_own_subscribed_enabled_endpoints(session: Session, cast: Cast,
                                                                           receiver: Receiver) -> None:
    wants = add(session, cast, receiver.url, ["report.ready"]).endpoint
    add(session, cast, receiver.url + "/other", ["incident.opened"])
    off = add(session, cast, receiver.url + "/off", ["report.ready"]).endpoint
    endpoints.set_enabled(session, NOW, off, cast.alice, False)
    quay = endpoints.add_endpoint(session, NOW, cast.quay, cast.charlie, receiver.url, ["report.ready"], LOOPBACK)
    session.commit()
    assert emit(session, NOW, cast.harbour.id, "follow_up.resolved", {}) is None   # nobody subscribed
    emit(session, NOW, cast.harbour.id, "report.ready", {"report_id": 1})
    session.commit()
    assert [d.endpoint_id for d in deliveries(session)] == [wants.id]
    assert quay.endpoint.id != wants.id


# --- the address rules ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://10.0.0.5/hook", "http://169.254.169.254/latest/meta-data",
                                 "http://127.0.0.1:8080/hook", "http://[::1]/hook", "http://192.168.1.20/hook",
                                 "http://intranet.harbour.test/hook"])
def test_a_url_at_a_private_address_is_refused_when_it_is_saved(session: Session, cast: Cast, url: str) -> None:
    policy = FetchPolicy(resolver=fake_resolver({"intranet.harbour.test": ["10.20.30.40"]}))
    with pytest.raises(ValidationError) as refused:
        endpoints.add_endpoint(session, NOW, cast.harbour, cast.alice, url, ["response.created"], policy)
    assert "never sends webhooks to this address" in refused.value.errors["url"]
    session.rollback()
    assert endpoints.list_endpoints(session, cast.harbour.id) == []


def test_a_name_that_later_resolves_to_a_private_address_is_refused_at_delivery(
        session: Session, runtime: Runtime, cast: Cast, receiver: Receiver) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    names = {"hooks.harbour.test": ["127.0.0.1"]}
    policy = LOOPBACK.with_changes(resolver=fake_resolver(names))
    add(session, cast, f"http://hooks.harbour.test:{port}/hooks", ["response.created"], policy)
    names["hooks.harbour.test"] = ["10.0.0.7"]                           # DNS rebinding after the check
    emit(session, NOW, cast.harbour.id, "response.created", {"response_id": 1})
    session.commit()
    assert run(runtime, NOW, policy).retrying == 1
    [row] = deliveries(session)
    assert row.status == "pending" and row.last_status_code is None
    assert row.last_error is not None and "blocked" in row.last_error and "10.0.0.7" in row.last_error
    assert receiver.received == []


def test_other_problems_with_the_form_are_named_by_field(session: Session, cast: Cast) -> None:
    with pytest.raises(ValidationError) as refused:
        endpoints.add_endpoint(session, NOW, cast.harbour, cast.alice, "ftp://example.com/x", [], LOOPBACK)
    assert set(refused.value.errors) == {"url", "events"}
    with pytest.raises(ValidationError) as unknown:
        endpoints.add_endpoint(session, NOW, cast.harbour, cast.alice, "https://93.184.215.14/", ["nope"], LOOPBACK)
    assert set(unknown.value.errors) == {"events"}


# --- repeated failure -----------------------------------------------------------------------------------------

def test_repeated_failure_turns_the_endpoint_off_with_one_email_and_turning_it_on_resends(
        session: Session, runtime: Runtime, cast: Cast, receiver: Receiver) -> None:
    receiver.always_fail = True
    made = add(session, cast, receiver.url, ["incident.resolved"])
    emitted = [emit(session, NOW, cast.harbour.id, "incident.resolved", {"incident_id": n})
               for n in range(delivery.DISABLE_AFTER + 2)]
    session.commit()
    report = run(runtime, NOW)
    assert (report.retrying, report.disabled) == (delivery.DISABLE_AFTER, 1)   # it stopped at the limit
    endpoint = fresh(session, made.endpoint)
    assert (endpoint.enabled, endpoint.disabled_at, endpoint.failure_count) == (False, NOW, delivery.DISABLE_AFTER)
    [email] = session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "webhook_disabled")).all()
    assert email.to_addr == "alice@harbour.test" and receiver.url in email.text_body
    assert "HTTP 500" in email.text_body

    # Off: nothing is sent, however long it waits, and no second email.
    assert not run(runtime, NOW + timedelta(days=3))
    assert len(receiver.received) == delivery.DISABLE_AFTER
    assert session.scalar(select(OutboxEmail.id).where(OutboxEmail.kind == "webhook_disabled",
                                                       OutboxEmail.id != email.id)) is None

    receiver.always_fail = False
    assert endpoints.set_enabled(session, NOW + timedelta(days=3), endpoint, cast.alice, True)
    session.commit()
    assert fresh(session, endpoint).failure_count == 0
    run(runtime, NOW + timedelta(days=3))
    assert sorted(receiver.accepted_ids()) == sorted(emitted)           # none lost while it was off


def test_a_delivery_gives_up_after_its_last_attempt(session: Session, runtime: Runtime, cast: Cast,
                                                    receiver: Receiver) -> None:
    receiver.always_fail = True
    add(session, cast, receiver.url, ["report.ready"])
    emit(session, NOW, cast.harbour.id, "report.ready", {"report_id": 1})
    session.commit()
    at = NOW
    for wait in (timedelta(0), *delivery.BACKOFF):
        at += wait
        run(runtime, at)
    [row] = deliveries(session)
    assert (row.status, row.attempts) == ("failed", delivery.MAX_ATTEMPTS) == ("failed", 8)
    assert at - NOW == timedelta(hours=44, minutes=36)                  # 1 + 5 + 30 min + 2 + 6 + 12 + 24 h
    assert not run(runtime, at + timedelta(days=30))


# --- every event from its real code path ----------------------------------------------------------------------

def sent_types(session: Session) -> list[str]:
    return [d.event_type for d in deliveries(session)]


def test_responses_and_follow_ups_emit_their_events(session: Session, runtime: Runtime, cast: Cast,
                                                   receiver: Receiver) -> None:
    add(session, cast, receiver.url)
    response = answer(session, cast, {"satisfaction": "1"})
    assert sent_types(session) == ["response.created", "follow_up.opened"]
    follow_up = session.scalars(select(FollowUp)).one()

    deadlines.check_deadlines(session, follow_up.contact_due_at + timedelta(minutes=1), BASE)
    session.commit()
    assert sent_types(session)[2:] == ["follow_up.overdue"]

    followup_service.record_resolved(session, NOW + timedelta(days=3), follow_up, cast.alice, outcome="stayed",
                                     note="Called Dana; Acme paid the claim.")
    session.commit()
    assert sent_types(session)[3:] == ["follow_up.resolved"]

    run(runtime, NOW + timedelta(days=3))
    bodies = {r.event_type: json.loads(r.body) for r in receiver.received}
    assert bodies["response.created"]["data"]["response_id"] == response.id
    assert bodies["response.created"]["data"]["satisfaction"] == 1
    assert bodies["response.created"]["data"]["url"] == f"{BASE}/feedback/responses/{response.id}"
    assert bodies["follow_up.resolved"]["data"]["outcome_kind"] == "stayed"
    assert bodies["follow_up.opened"]["data"]["url"] == f"{BASE}/follow-ups/{follow_up.id}"
    assert not any("token" in key or "email" in key for body in bodies.values() for key in body["data"])


def test_incidents_emit_opened_and_resolved(session: Session, cast: Cast, receiver: Receiver) -> None:
    add(session, cast, receiver.url, ["incident.opened", "incident.resolved"])
    probe = make_probe(session, cast, failure_threshold=2, success_threshold=1)
    hours = BusinessHours.of(cast.harbour)
    incidents.apply_outcome(session, probe, "down", NOW, "HTTP 503", False, hours)
    assert sent_types(session) == []
    incidents.apply_outcome(session, probe, "down", NOW + timedelta(minutes=1), "HTTP 503", False, hours)
    session.commit()
    assert sent_types(session) == ["incident.opened"]
    incidents.apply_outcome(session, probe, "up", NOW + timedelta(minutes=2), None, False, hours)
    session.commit()
    assert sent_types(session) == ["incident.opened", "incident.resolved"]
    incident = session.scalars(select(Incident)).one()
    data = deliveries(session)[1].payload["data"]
    assert (data["incident_id"], data["kind"], data["partner_id"], data["seconds_total"]) == (
        incident.id, "down", cast.acme.id, 120)


def test_a_rendered_report_emits_report_ready(session: Session, runtime: Runtime, cast: Cast,
                                              receiver: Receiver) -> None:
    add(session, cast, receiver.url, ["report.ready"])
    report_jobs.request_report(session, NOW, cast.harbour, periods.parse("2026-10", NOW, "Europe/London"), None)
    session.commit()
    report_jobs.render_due(runtime.session_factory, lambda: NOW, "w1", store=ReportStore(runtime.settings.reports_path),
                           renderer=lambda s, n, p, m: (b"%PDF-1.4 test\n", 1), base_url=BASE,
                           secret_key="test-secret-key")
    [row] = deliveries(session)
    assert (row.event_type, row.payload["data"]["month"], row.payload["data"]["pages"]) == ("report.ready", "2026-10", 1)


# --- the owners' pages ----------------------------------------------------------------------------------------

def test_an_owner_adds_an_endpoint_and_sees_the_secret_once(session: Session, browser: Any, cast: Cast) -> None:
    browser.sign_in("alice@harbour.test")
    assert "No webhooks yet" in text_of(browser.get("/settings/webhooks/"))
    response = browser.post("/settings/webhooks/", {"url": "https://93.184.215.14/partnermon",
                                                    "events": ["response.created", "follow_up.opened"]})
    assert response.status_code == 201
    [endpoint] = endpoints.list_endpoints(session, cast.harbour.id)
    assert endpoint.events == ["response.created", "follow_up.opened"]
    assert endpoint.secret in text_of(response)
    assert response.headers["Cache-Control"].startswith("no-store")
    assert endpoint.secret not in text_of(browser.get("/settings/webhooks/"))
    assert endpoint.secret not in text_of(browser.get(f"/settings/webhooks/{endpoint.id}"))


def test_a_private_address_typed_on_the_page_is_refused_with_a_field_message(session: Session, browser: Any,
                                                                             cast: Cast) -> None:
    browser.sign_in("alice@harbour.test")
    response = browser.post("/settings/webhooks/", {"url": "http://169.254.169.254/latest", "events": ["report.ready"]})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "never sends webhooks to this address" in page and 'id="f-url-error"' in page
    assert 'value="http://169.254.169.254/latest"' in page                   # what was typed is kept
    assert endpoints.list_endpoints(session, cast.harbour.id) == []


def test_the_endpoint_page_sends_a_test_event_turns_off_and_on_and_deletes(session: Session, runtime: Runtime,
                                                                          browser: Any, cast: Cast,
                                                                          receiver: Receiver) -> None:
    endpoint = add(session, cast, receiver.url, ["report.ready"]).endpoint
    browser.sign_in("alice@harbour.test")
    page = f"/settings/webhooks/{endpoint.id}"
    assert "Nothing sent yet" in text_of(browser.get(page))
    assert browser.post(f"{page}/test").status_code == 302
    run(runtime, datetime.now(timezone.utc) + timedelta(minutes=1))     # the page dates the event by the real clock
    [got] = receiver.received
    assert got.event_type == "webhook.test"
    log = text_of(browser.get(page))
    assert "webhook.test" in log and "Delivered" in log and "204" in log

    assert browser.post(f"{page}/enabled", {"enabled": "0"}).status_code == 302
    assert fresh(session, endpoint).enabled is False
    assert "Turn on" in text_of(browser.get(page))
    assert browser.post(f"{page}/enabled", {"enabled": "1"}).status_code == 302
    assert fresh(session, endpoint).enabled is True

    assert browser.post(f"{page}/delete").status_code == 302
    session.expire_all()
    assert endpoints.list_endpoints(session, cast.harbour.id) == [] and deliveries(session) == []
    assert browser.get(page).status_code == 404


def test_the_readmes_verification_code_accepts_a_real_delivery(session: Session, runtime: Runtime, cast: Cast,
                                                               receiver: Receiver) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    code = readme.split("## Webhooks", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - our own README's example, run as a receiver would
    made = add(session, cast, receiver.url, ["report.ready"])
    emit(session, NOW, cast.harbour.id, "report.ready", {"report_id": 1})
    session.commit()
    run(runtime, NOW)
    [got] = receiver.received
    forever = 10 ** 10   # the event is dated by the test's clock, not the machine's
    assert namespace["verify"](made.secret, got.signature, got.body, tolerance=forever)
    assert not namespace["verify"](made.secret, got.signature, got.body + b" ", tolerance=forever)
    assert not namespace["verify"](made.secret, got.signature, got.body)   # weeks old: a replay
