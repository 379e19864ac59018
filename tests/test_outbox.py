"""The email outbox end to end: enqueue with the caller's change, claim, send to a real SMTP server
on loopback (aiosmtpd), retry with backoff, fail for good, log when no server is configured.

Time is only ever the ``now`` passed in; nothing here sleeps to wait for the sender.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from threading import Barrier
from typing import Callable

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from partnermon import jobs
from partnermon.accounts import service as accounts
from partnermon.config import ConfigError
from partnermon.mail import outbox
from partnermon.mail.sender import (
    MAX_ATTEMPTS, SendReport, claim_due, mark_failed, mark_retry, mark_sent, send_claimed,
)
from partnermon.config import SmtpTarget, parse_smtp_url
from partnermon.mail.smtp import SmtpTransport
from partnermon.models import OutboxEmail
from partnermon.runtime import Runtime
from tests.conftest import NOW, sessions_waiting_on_a_lock, text_of
from tests.factories import Cast
from tests.smtp_server import (  # noqa: F401 - fixtures
    SmtpServer, TlsFiles, make_smtp_server, smtp_server, tls_files, trust_test_ca,
)

MAIL_FROM = "Harbour via partnermon <noreply@partnermon.test>"
MINUTE = timedelta(minutes=1)
LEASE = timedelta(seconds=120)


# --- helpers ------------------------------------------------------------------------------------

def with_smtp(runtime: Runtime, url: str) -> Runtime:
    """The same database, with PARTNERMON_SMTP_URL and PARTNERMON_MAIL_FROM set."""
    settings = runtime.settings.with_overrides(smtp_url=url, mail_from=MAIL_FROM)
    return Runtime(settings, runtime.engine, runtime.session_factory)


def transport_factory(server: SmtpServer) -> Callable[[], SmtpTransport]:
    target = parse_smtp_url(server.url())
    return lambda: SmtpTransport(target)


def rows(runtime: Runtime) -> list[OutboxEmail]:
    """Every outbox row as the database has it now (read in a session of its own)."""
    with runtime.session_factory() as s:
        return list(s.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def row(runtime: Runtime, email_id: int) -> OutboxEmail:
    with runtime.session_factory() as s:
        email = s.get(OutboxEmail, email_id)
        assert email is not None
        return email


def invite(session: Session, runtime: Runtime, cast: Cast, email: str = "newbie@harbour.test",
           practice: str = "harbour") -> OutboxEmail:
    """Invite someone (which queues the invitation email), commit, and return that email."""
    where = cast.harbour if practice == "harbour" else cast.quay
    actor = cast.alice if practice == "harbour" else cast.charlie
    accounts.invite_user(session, NOW, where, email=email, role="adviser", name="Nina New",
                         actor=actor, base_url=runtime.settings.base_url)
    session.commit()
    with runtime.session_factory() as s:
        queued = s.scalar(select(OutboxEmail).where(OutboxEmail.to_addr == email))
        assert queued is not None
        return queued


def enqueue(session: Session, runtime: Runtime, cast: Cast, *, to: str, key: str) -> OutboxEmail:
    """An invitation email put in the outbox directly (the caller commits)."""
    return outbox.enqueue(
        session, NOW, template="invitation", to=to, dedupe_key=key, base_url=runtime.settings.base_url,
        practice_id=cast.harbour.id,
        context={"user": cast.bob, "practice": cast.harbour, "inviter": "Alice",
                 "link": f"{runtime.settings.base_url}/invitation/{key}", "expires_at": NOW + timedelta(days=7)},
    )


def queue_many(session: Session, runtime: Runtime, cast: Cast, count: int) -> list[int]:
    ids = [enqueue(session, runtime, cast, to=f"person{i}@harbour.test", key=f"test:{i}").id for i in range(count)]
    session.commit()
    return ids


def outbox_count(runtime: Runtime) -> int:
    with runtime.session_factory() as s:
        return s.scalar(select(func.count()).select_from(OutboxEmail)) or 0


# --- delivery -----------------------------------------------------------------------------------

def test_it_delivers_a_queued_invitation_with_its_message_id_sender_recipient_subject_and_both_parts(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer) -> None:
    queued = invite(session, runtime, cast)
    live = with_smtp(runtime, smtp_server.url())

    report = jobs.send_emails(live, NOW, worker="w1")

    assert report == SendReport(sent=1)
    [received] = smtp_server.wait_for(1)
    message = received.message
    assert message["Message-ID"] == queued.message_id
    assert queued.message_id.endswith("@partnermon.test>")
    assert message["From"] == MAIL_FROM
    assert message["To"] == "newbie@harbour.test"
    assert message["Subject"] == "alice@harbour.test invited you to Harbour Advice on partnermon" == queued.subject
    assert message["Date"]
    assert received.mail_from == "noreply@partnermon.test"
    assert received.rcpt_tos == ["newbie@harbour.test"]
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert "/invitation/" in plain.get_content() and "Hello Nina New," in plain.get_content()
    assert 'href="http://partnermon.test/invitation/' in html.get_content()

    sent = row(runtime, queued.id)
    assert (sent.status, sent.sent_at, sent.attempts, sent.last_error) == ("sent", NOW, 1, None)
    assert (sent.claimed_by, sent.lease_until) == (None, None)


def test_it_never_sends_an_email_again_once_it_was_sent(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer) -> None:
    invite(session, runtime, cast)
    live = with_smtp(runtime, smtp_server.url())
    assert jobs.send_emails(live, NOW, worker="w1") == SendReport(sent=1)

    assert jobs.send_emails(live, NOW, worker="w1") == SendReport()
    assert jobs.send_emails(live, NOW + timedelta(days=30), worker="w2") == SendReport()
    assert len(smtp_server.messages) == 1


# --- enqueue ------------------------------------------------------------------------------------

def test_it_adds_no_email_when_the_callers_transaction_rolls_back(
        session: Session, runtime: Runtime, cast: Cast) -> None:
    accounts.invite_user(session, NOW, cast.harbour, email="ghost@harbour.test", role="viewer",
                         actor=cast.alice, base_url=runtime.settings.base_url)
    session.flush()
    session.rollback()

    assert outbox_count(runtime) == 0
    assert accounts.by_email(session, "ghost@harbour.test") is None


def test_it_keeps_one_email_per_dedupe_key(session: Session, runtime: Runtime, cast: Cast) -> None:
    first = enqueue(session, runtime, cast, to="bob@harbour.test", key="digest:bob:2026-11")
    again = enqueue(session, runtime, cast, to="bob@harbour.test", key="digest:bob:2026-11")
    session.commit()
    later = enqueue(session, runtime, cast, to="bob@harbour.test", key="digest:bob:2026-11")
    session.commit()

    assert first.id == again.id == later.id
    assert outbox_count(runtime) == 1


def test_it_keeps_one_email_and_the_callers_transaction_when_two_transactions_race_on_a_dedupe_key(
        runtime: Runtime, cast: Cast) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes the write lock at BEGIN (IMMEDIATE), so two writers cannot race here")
    with runtime.session_factory() as a:
        winner = enqueue(a, runtime, cast, to="bob@harbour.test", key="race")  # inserted, not committed

        def loser() -> tuple[int, int]:
            with runtime.session_factory() as b:
                other = enqueue(b, runtime, cast, to="vera@harbour.test", key="other")
                # b does not see a's uncommitted row, so it inserts too: that waits for a's commit.
                same = enqueue(b, runtime, cast, to="bob@harbour.test", key="race")
                b.commit()
                return other.id, same.id

        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(loser)
            waiting = sessions_waiting_on_a_lock(runtime.engine, future)
            a.commit()   # before any assert: a failed one must not leave the other waiting forever
            assert waiting == 1, "the second transaction never waited on the first one's row"
            other_id, same_id = future.result(timeout=10)

    assert same_id == winner.id
    assert [(e.dedupe_key, e.to_addr) for e in rows(runtime)] == [
        ("race", "bob@harbour.test"), ("other", "vera@harbour.test"),
    ]
    assert other_id == rows(runtime)[1].id


# --- the mail server down, busy or refusing ----------------------------------------------------

def test_it_retries_with_backoff_while_the_mail_server_is_down_and_delivers_once_when_it_is_back(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer) -> None:
    queued = invite(session, runtime, cast)
    live = with_smtp(runtime, smtp_server.url())
    smtp_server.stop()

    assert jobs.send_emails(live, NOW, worker="w1") == SendReport(retried=1)
    email = row(runtime, queued.id)
    assert (email.status, email.attempts, email.next_attempt_at) == ("queued", 1, NOW + MINUTE)
    assert email.last_error is not None and "Could not connect to the mail server 127.0.0.1:" in email.last_error
    assert (email.claimed_by, email.lease_until) == (None, None)

    # Not due yet: nothing is tried.
    assert jobs.send_emails(live, NOW + 30 * timedelta(seconds=1), worker="w1") == SendReport()
    assert row(runtime, queued.id).attempts == 1

    # Still down at the next try: the wait doubles.
    assert jobs.send_emails(live, NOW + MINUTE, worker="w1") == SendReport(retried=1)
    email = row(runtime, queued.id)
    assert (email.status, email.attempts, email.next_attempt_at) == ("queued", 2, NOW + 3 * MINUTE)

    smtp_server.start()  # the same port again
    assert jobs.send_emails(live, NOW + 2 * MINUTE, worker="w1") == SendReport()
    assert smtp_server.messages == []

    assert jobs.send_emails(live, NOW + 3 * MINUTE + timedelta(seconds=1), worker="w1") == SendReport(sent=1)
    [received] = smtp_server.wait_for(1)
    assert received.message["Message-ID"] == queued.message_id
    email = row(runtime, queued.id)
    assert (email.status, email.sent_at, email.last_error) == ("sent", NOW + 3 * MINUTE + timedelta(seconds=1), None)

    assert jobs.send_emails(live, NOW + timedelta(days=1), worker="w2") == SendReport()
    assert len(smtp_server.messages) == 1


def test_it_retries_a_4xx_reply_with_backoff_until_the_server_accepts(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer) -> None:
    queued = invite(session, runtime, cast)
    live = with_smtp(runtime, smtp_server.url())
    smtp_server.answer("DATA", "451 4.3.0 Mailbox busy, try again later")

    assert jobs.send_emails(live, NOW, worker="w1") == SendReport(retried=1)
    email = row(runtime, queued.id)
    assert (email.status, email.attempts, email.next_attempt_at) == ("queued", 1, NOW + MINUTE)
    assert email.last_error == "451 4.3.0 Mailbox busy, try again later"

    assert jobs.send_emails(live, NOW + MINUTE, worker="w1") == SendReport(retried=1)
    email = row(runtime, queued.id)
    assert (email.status, email.attempts, email.next_attempt_at) == ("queued", 2, NOW + 3 * MINUTE)

    smtp_server.accept_everything()
    assert jobs.send_emails(live, NOW + 3 * MINUTE, worker="w1") == SendReport(sent=1)
    assert len(smtp_server.wait_for(1)) == 1
    email = row(runtime, queued.id)
    assert (email.status, email.attempts, email.sent_at, email.last_error) == ("sent", 3, NOW + 3 * MINUTE, None)


def test_it_marks_an_email_failed_on_a_5xx_reply_and_never_retries_it(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer) -> None:
    queued = invite(session, runtime, cast)
    live = with_smtp(runtime, smtp_server.url())
    smtp_server.answer("DATA", "550 5.7.1 Message rejected as spam")

    assert jobs.send_emails(live, NOW, worker="w1") == SendReport(failed=1)
    email = row(runtime, queued.id)
    assert (email.status, email.attempts, email.last_error) == ("failed", 1, "550 5.7.1 Message rejected as spam")
    assert (email.claimed_by, email.lease_until, email.sent_at) == (None, None, None)

    smtp_server.accept_everything()
    for later in (NOW + MINUTE, NOW + timedelta(hours=2), NOW + timedelta(days=30)):
        assert jobs.send_emails(live, later, worker="w2") == SendReport()
    assert smtp_server.messages == []
    assert row(runtime, queued.id).status == "failed"


def test_it_shows_a_failed_email_with_its_error_to_its_practice_owner_and_to_no_other_practice(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer, browser, new_browser) -> None:  # type: ignore[no-untyped-def]
    failed = invite(session, runtime, cast, email="newbie@harbour.test")
    delivered = invite(session, runtime, cast, email="other@harbour.test")
    smtp_server.answer("RCPT", "550 5.1.1 newbie@harbour.test: no such mailbox", to="newbie@harbour.test")
    assert jobs.send_emails(with_smtp(runtime, smtp_server.url()), NOW, worker="w1") == SendReport(sent=1, failed=1)
    assert row(runtime, failed.id).status == "failed"
    assert row(runtime, delivered.id).status == "sent"

    browser.sign_in("alice@harbour.test")
    page = browser.get("/admin/emails?status=failed")
    assert page.status_code == 200
    shown = text_of(page)
    assert "newbie@harbour.test" in shown
    assert failed.subject in shown
    assert "550 5.1.1 newbie@harbour.test: no such mailbox" in shown
    assert "other@harbour.test" not in shown  # sent, so not under "failed"

    charlie = new_browser().sign_in("charlie@quay.test")
    for url in ("/admin/emails?status=failed", "/admin/emails"):
        page = charlie.get(url)
        assert page.status_code == 200
        shown = text_of(page)
        assert "newbie@harbour.test" not in shown
        assert "no such mailbox" not in shown
    assert "No failed emails." in text_of(charlie.get("/admin/emails?status=failed"))


def test_it_sends_the_rest_of_a_batch_when_the_server_refuses_some_recipients(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer) -> None:
    ids = queue_many(session, runtime, cast, 3)
    smtp_server.answer("RCPT", "550 5.1.1 No such user here", to="person1@harbour.test")
    smtp_server.answer("RCPT", "450 4.2.1 Mailbox temporarily unavailable", to="person2@harbour.test")

    report = jobs.send_emails(with_smtp(runtime, smtp_server.url()), NOW, worker="w1")

    assert report == SendReport(sent=1, retried=1, failed=1)
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [["person0@harbour.test"]]
    assert [(e.status, e.last_error) for e in rows(runtime)] == [
        ("sent", None),
        ("failed", "550 5.1.1 No such user here"),
        ("queued", "450 4.2.1 Mailbox temporarily unavailable"),
    ]
    assert row(runtime, ids[2]).next_attempt_at == NOW + MINUTE


def test_it_retries_the_rest_of_a_batch_when_the_server_closes_the_connection_and_sends_it_next_pass(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer) -> None:
    queue_many(session, runtime, cast, 3)
    live = with_smtp(runtime, smtp_server.url())
    smtp_server.answer("DATA", "421 4.3.2 Service shutting down", times=1)

    assert jobs.send_emails(live, NOW, worker="w1") == SendReport(retried=3)
    emails = rows(runtime)
    assert [(e.status, e.attempts, e.next_attempt_at) for e in emails] == [("queued", 1, NOW + MINUTE)] * 3
    assert emails[0].last_error == "421 4.3.2 Service shutting down"
    assert smtp_server.messages == []

    assert jobs.send_emails(live, NOW + MINUTE, worker="w1") == SendReport(sent=3)
    assert sorted(m.rcpt_tos[0] for m in smtp_server.wait_for(3)) == [f"person{i}@harbour.test" for i in range(3)]


def test_it_caps_the_backoff_at_an_hour_and_gives_up_after_max_attempts(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer) -> None:
    capped, last = queue_many(session, runtime, cast, 2)
    session.execute(update(OutboxEmail).where(OutboxEmail.id == capped).values(attempts=9))
    session.execute(update(OutboxEmail).where(OutboxEmail.id == last).values(attempts=MAX_ATTEMPTS - 1))
    session.commit()
    smtp_server.answer("DATA", "451 4.3.0 Try again later")

    assert jobs.send_emails(with_smtp(runtime, smtp_server.url()), NOW, worker="w1") == SendReport(retried=1, failed=1)

    email = row(runtime, capped)
    assert (email.status, email.attempts, email.next_attempt_at) == ("queued", 10, NOW + timedelta(hours=1))
    email = row(runtime, last)
    assert (email.status, email.attempts) == ("failed", MAX_ATTEMPTS)
    assert email.last_error == f"Gave up after {MAX_ATTEMPTS} attempts: 451 4.3.0 Try again later"


# --- claims -------------------------------------------------------------------------------------

def test_it_resends_an_email_whose_sender_died_after_claiming_it_once_the_lease_expires_and_only_once(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer) -> None:
    queued = invite(session, runtime, cast)
    lease = int(LEASE.total_seconds())

    assert claim_due(session, NOW, worker_id="w1", lease_seconds=lease) == [queued.id]
    # w1 dies here, before sending anything.
    claimed = row(runtime, queued.id)
    assert (claimed.status, claimed.claimed_by, claimed.lease_until) == ("queued", "w1", NOW + LEASE)

    assert claim_due(session, NOW + LEASE - timedelta(seconds=1), worker_id="w2", lease_seconds=lease) == []
    assert claim_due(session, NOW + LEASE, worker_id="w2", lease_seconds=lease) == []

    taken_over_at = NOW + LEASE + timedelta(seconds=1)
    ids = claim_due(session, taken_over_at, worker_id="w2", lease_seconds=lease)
    assert ids == [queued.id]
    # Before w2 is done, a late failure from w1 does not touch w2's claim.
    assert mark_retry(session, taken_over_at, queued.id, "w1", 1, "timed out") is False
    held = row(runtime, queued.id)
    assert (held.status, held.claimed_by, held.sent_at) == ("queued", "w2", None)

    report = send_claimed(session, taken_over_at, ids, transport_factory(smtp_server)(), worker_id="w2",
                          mail_from=MAIL_FROM)
    assert report == SendReport(sent=1)
    [received] = smtp_server.wait_for(1)
    assert received.message["Message-ID"] == queued.message_id

    # w1 comes back to life and tries to record an outcome: its claim is gone, nothing changes.
    before = row(runtime, queued.id)
    assert mark_sent(session, NOW + timedelta(minutes=5), queued.id, "w1") is False
    assert mark_retry(session, NOW + timedelta(minutes=5), queued.id, "w1", 1, "timed out") is False
    assert mark_failed(session, NOW + timedelta(minutes=5), queued.id, "w1", "550 no") is False
    after = row(runtime, queued.id)
    assert (after.status, after.sent_at, after.last_error, after.next_attempt_at, after.claimed_by) == (
        "sent", taken_over_at, None, before.next_attempt_at, None)

    live = with_smtp(runtime, smtp_server.url())
    for later in (taken_over_at, NOW + timedelta(hours=1), NOW + timedelta(days=30)):
        for worker in ("w1", "w2", "w3"):
            assert jobs.send_emails(live, later, worker=worker) == SendReport()
    assert len(smtp_server.messages) == 1


def test_it_gives_two_workers_claiming_at_the_same_moment_disjoint_sets_that_cover_every_due_email(
        session: Session, runtime: Runtime, cast: Cast) -> None:
    ids = queue_many(session, runtime, cast, 5)

    first = claim_due(session, NOW, worker_id="w1", lease_seconds=120, limit=3)
    second = claim_due(session, NOW, worker_id="w2", lease_seconds=120, limit=3)

    assert len(first) == 3 and len(second) == 2
    assert set(first).isdisjoint(second)
    assert sorted(first + second) == ids
    assert {e.id: e.claimed_by for e in rows(runtime)} == {**{i: "w1" for i in first}, **{i: "w2" for i in second}}
    assert claim_due(session, NOW, worker_id="w3", lease_seconds=120) == []


def test_it_gives_concurrent_workers_disjoint_claims_that_cover_every_due_email(
        session: Session, runtime: Runtime, cast: Cast) -> None:
    ids = queue_many(session, runtime, cast, 12)
    workers = ["w1", "w2", "w3"]
    start = Barrier(len(workers))

    def claim_as(worker: str) -> list[int]:
        with runtime.session_factory() as own:
            start.wait(timeout=10)
            return claim_due(own, NOW, worker_id=worker, lease_seconds=120, limit=len(ids))

    with ThreadPoolExecutor(len(workers)) as pool:
        claimed = [f.result(timeout=30) for f in [pool.submit(claim_as, w) for w in workers]]

    everything = [i for batch in claimed for i in batch]
    assert sorted(everything) == ids  # every due email once: disjoint and complete
    holders = {e.id: e.claimed_by for e in rows(runtime)}
    for worker, batch in zip(workers, claimed):
        assert all(holders[i] == worker for i in batch)


# --- no SMTP configured -------------------------------------------------------------------------

def test_it_logs_each_email_once_and_keeps_it_queued_when_no_smtp_server_is_configured(
        session: Session, runtime: Runtime, cast: Cast, caplog: pytest.LogCaptureFixture) -> None:
    assert runtime.mail_transport_factory is None
    queued = invite(session, runtime, cast)
    caplog.set_level(logging.WARNING, logger="partnermon.mail.sender")

    assert jobs.send_emails(runtime, NOW) == SendReport(logged=1)

    [record] = [r for r in caplog.records if r.name == "partnermon.mail.sender"]
    logged = record.getMessage()
    assert "PARTNERMON_SMTP_URL is not set" in logged
    assert "To: newbie@harbour.test" in logged
    assert f"Subject: {queued.subject}" in logged
    email = row(runtime, queued.id)
    assert (email.status, email.logged_at, email.attempts, email.sent_at) == ("queued", NOW, 0, None)

    caplog.clear()
    assert jobs.send_emails(runtime, NOW + timedelta(hours=1)) == SendReport()
    assert [r for r in caplog.records if r.name == "partnermon.mail.sender"] == []

    # A new email is logged on the next pass, the old one is not logged again.
    invite(session, runtime, cast, email="second@harbour.test")
    assert jobs.send_emails(runtime, NOW + timedelta(hours=2)) == SendReport(logged=1)
    messages = [r.getMessage() for r in caplog.records if r.name == "partnermon.mail.sender"]
    assert len(messages) == 1 and "To: second@harbour.test" in messages[0]
    assert [e.status for e in rows(runtime)] == ["queued", "queued"]


# --- PARTNERMON_SMTP_URL ------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "target"), [
    ("smtp://mail.example.test", SmtpTarget("mail.example.test", 25, "plain")),
    ("smtp://mail.example.test:2525", SmtpTarget("mail.example.test", 2525, "plain")),
    ("smtp://mail.example.test?starttls=1", SmtpTarget("mail.example.test", 587, "starttls")),
    ("smtp://mail.example.test:2587?starttls=true", SmtpTarget("mail.example.test", 2587, "starttls")),
    ("smtp://mail.example.test?starttls=0", SmtpTarget("mail.example.test", 25, "plain")),
    ("smtps://mail.example.test", SmtpTarget("mail.example.test", 465, "tls")),
    ("smtps://mail.example.test:4650", SmtpTarget("mail.example.test", 4650, "tls")),
    ("smtp://apikey@mail.example.test?starttls=yes", SmtpTarget("mail.example.test", 587, "starttls", "apikey")),
    ("smtp://user%40harbour.test:p%40ss%3Aw%2Frd%25@mail.example.test:587?starttls=1",
     SmtpTarget("mail.example.test", 587, "starttls", "user@harbour.test", "p@ss:w/rd%")),
])
def test_it_reads_the_host_port_mode_and_credentials_from_an_smtp_url(url: str, target: SmtpTarget) -> None:
    assert parse_smtp_url(url) == target


@pytest.mark.parametrize("url", [
    "http://mail.example.test", "mail.example.test", "smtp://", "smtp://:25", "imap://mail.example.test",
    "smtp://mail.example.test:port",
])
def test_it_refuses_an_smtp_url_it_cannot_use_with_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="PARTNERMON_SMTP_URL"):
        parse_smtp_url(url)


# --- TLS and AUTH -------------------------------------------------------------------------------

USER, PASSWORD = "mailer@harbour.test", "p@ss:w/rd%"


def test_it_delivers_over_starttls_after_logging_in_with_an_escaped_user_name_and_password(
        session: Session, runtime: Runtime, cast: Cast, make_smtp_server, trust_test_ca: TlsFiles) -> None:  # type: ignore[no-untyped-def]
    server = make_smtp_server(mode="starttls", tls=trust_test_ca, users={USER: PASSWORD})
    queued = invite(session, runtime, cast)
    url = server.url(user=USER, password=PASSWORD)
    assert "%40" in url and "?starttls=1" in url

    assert jobs.send_emails(with_smtp(runtime, url), NOW, worker="w1") == SendReport(sent=1)

    [received] = server.wait_for(1)
    assert (received.tls, received.login) == (True, USER)
    assert received.message["Message-ID"] == queued.message_id
    assert row(runtime, queued.id).status == "sent"


def test_it_delivers_over_implicit_tls(
        session: Session, runtime: Runtime, cast: Cast, make_smtp_server, trust_test_ca: TlsFiles) -> None:  # type: ignore[no-untyped-def]
    server = make_smtp_server(mode="tls", tls=trust_test_ca, users={USER: PASSWORD})
    queued = invite(session, runtime, cast)
    url = server.url(user=USER, password=PASSWORD)
    assert url.startswith("smtps://")

    assert jobs.send_emails(with_smtp(runtime, url), NOW, worker="w1") == SendReport(sent=1)

    [received] = server.wait_for(1)
    assert (received.tls, received.login) == (True, USER)
    assert received.message["Message-ID"] == queued.message_id
    assert row(runtime, queued.id).status == "sent"


def test_it_retries_rather_than_fails_when_the_server_refuses_the_password_and_sends_once_it_is_fixed(
        session: Session, runtime: Runtime, cast: Cast, make_smtp_server, trust_test_ca: TlsFiles) -> None:  # type: ignore[no-untyped-def]
    server = make_smtp_server(mode="starttls", tls=trust_test_ca, users={USER: PASSWORD})
    queued = invite(session, runtime, cast)

    wrong = with_smtp(runtime, server.url(user=USER, password="not the password"))
    assert jobs.send_emails(wrong, NOW, worker="w1") == SendReport(retried=1)

    email = row(runtime, queued.id)
    assert (email.status, email.attempts, email.next_attempt_at) == ("queued", 1, NOW + MINUTE)
    assert email.last_error is not None and "user name or password" in email.last_error
    assert "PARTNERMON_SMTP_URL" in email.last_error and "not the password" not in email.last_error
    assert (USER, False) in server.auth_attempts
    assert server.messages == []

    right = with_smtp(runtime, server.url(user=USER, password=PASSWORD))
    assert jobs.send_emails(right, NOW + MINUTE, worker="w1") == SendReport(sent=1)
    assert len(server.wait_for(1)) == 1


def test_it_does_not_send_to_a_server_whose_certificate_it_cannot_verify(
        session: Session, runtime: Runtime, cast: Cast, make_smtp_server, tls_files: TlsFiles,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # only the system's CAs: the test CA is unknown
    server = make_smtp_server(mode="starttls", tls=tls_files, users={USER: PASSWORD})
    queued = invite(session, runtime, cast)

    live = with_smtp(runtime, server.url(user=USER, password=PASSWORD))
    assert jobs.send_emails(live, NOW, worker="w1") == SendReport(retried=1)

    email = row(runtime, queued.id)
    assert email.status == "queued"
    assert email.last_error is not None and "certificate verify failed" in email.last_error.lower()
    assert server.auth_attempts == [] and server.messages == []
