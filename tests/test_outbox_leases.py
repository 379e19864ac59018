"""The outbox under a slow mail server: every email goes out once, even when a batch outlives its lease.

The server (tests/smtp_server.py) is made slow by a hook it awaits before accepting each message; the hook
moves the test's clock on, so "slow" costs no real time. Nothing here sleeps to wait for the sender.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy.orm import Session

from partnermon import jobs
from partnermon.mail.sender import SendReport, claim_due, mark_sent, send_claimed
from partnermon.config import parse_smtp_url
from partnermon.mail.smtp import SmtpTransport, TemporaryFailure
from partnermon.runtime import Runtime
from tests.conftest import NOW
from tests.factories import Cast
from tests.smtp_server import SmtpServer, make_smtp_server, smtp_server  # noqa: F401 - fixtures
from tests.test_outbox import MAIL_FROM, LEASE, queue_many, row, transport_factory, with_smtp


class Clock:
    """The test's time, moved on by the slow server; read from the senders' threads."""

    def __init__(self, start: datetime):
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, by: timedelta) -> None:
        with self._lock:
            self._now += by


def test_it_sends_every_email_once_when_a_slow_server_makes_a_batch_outlive_its_lease(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer) -> None:
    queue_many(session, runtime, cast, 5)
    live = with_smtp(runtime, smtp_server.url())
    clock = Clock(NOW)
    lease_ran_out, second_sender_done = threading.Event(), threading.Event()

    async def fifty_seconds_a_message(recipients: list[str]) -> None:
        clock.advance(timedelta(seconds=50))
        if recipients == ["person2@harbour.test"] and not lease_ran_out.is_set():
            # The first sender's third message: 150 s into its batch, the 120 s lease on the batch has run
            # out. Hold this message while a second sender works the outbox (other connections are served).
            lease_ran_out.set()
            await asyncio.get_running_loop().run_in_executor(None, second_sender_done.wait, 10)

    smtp_server.before_accepting = fifty_seconds_a_message
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(jobs.send_emails, live, NOW, worker="w1", clock=clock)
        assert lease_ran_out.wait(10)
        second = jobs.send_emails(live, clock(), worker="w2", clock=clock)
        second_sender_done.set()
        first_report = first.result(timeout=30)

    delivered = Counter(m.rcpt_tos[0] for m in smtp_server.messages)
    assert delivered == {f"person{i}@harbour.test": 1 for i in range(5)}
    # The second sender took over the two the first had not reached; the first skipped them.
    assert second == SendReport(sent=2)
    assert first_report == SendReport(sent=3, taken_over=2)


def test_it_records_a_message_the_server_accepted_after_the_lease_ran_out_and_the_new_holder_does_not_send_it(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer) -> None:
    [queued] = queue_many(session, runtime, cast, 1)
    lease = int(LEASE.total_seconds())
    assert claim_due(session, NOW, worker_id="w1", lease_seconds=lease) == [queued]
    taken_over_at = NOW + LEASE + timedelta(seconds=1)
    assert claim_due(session, taken_over_at, worker_id="w2", lease_seconds=lease) == [queued]

    # w1's server accepted the message late; w1 says so before w2 gets to it.
    assert mark_sent(session, taken_over_at, queued, "w1") is True
    report = send_claimed(session, taken_over_at, [queued], transport_factory(smtp_server)(), worker_id="w2",
                          mail_from=MAIL_FROM, lease_seconds=lease)

    assert report == SendReport(taken_over=1)
    assert smtp_server.messages == []
    assert (row(runtime, queued).status, row(runtime, queued).claimed_by) == ("sent", None)


def test_the_transport_gives_up_on_a_message_the_server_takes_longer_than_its_share_of_the_lease_to_accept(
        smtp_server: SmtpServer) -> None:
    stalled = threading.Event()

    async def stall(recipients: list[str]) -> None:
        # Never answers DATA while the test runs (released at the end so the server can stop).
        await asyncio.get_running_loop().run_in_executor(None, stalled.wait, 10)

    smtp_server.before_accepting = stall
    message = _message()
    started = time.monotonic()
    try:
        with SmtpTransport(parse_smtp_url(smtp_server.url())) as transport:
            with pytest.raises(TemporaryFailure, match="Lost the connection"):
                transport.send(message, within=0.3)
    finally:
        stalled.set()
    # smtplib's own timeout (20 s a step) would have let it wait far longer.
    assert time.monotonic() - started < 5


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = MAIL_FROM
    message["To"] = "person0@harbour.test"
    message["Subject"] = "Slow"
    message.set_content("Slow.")
    return message


class TricklingMailServer:
    """A loopback SMTP server that accepts everything but answers the message's DATA a byte at a time, never
    finishing the line: each read gets a byte within smtplib's timeout, so only a deadline for the whole
    message can stop the client."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection, connection.makefile("rb") as lines:
            connection.sendall(b"220 trickle.test ESMTP\r\n")
            for line in lines:
                verb = line[:4].upper()
                if verb == b"DATA":
                    connection.sendall(b"354 go on\r\n")
                    for body_line in lines:
                        if body_line == b".\r\n":
                            break
                    try:
                        while not self.done.wait(0.2):  # the server's slowness, not the test waiting
                            connection.sendall(b"2")
                    except OSError:  # the client hung up: what the test wants
                        return
                    return
                connection.sendall(b"250 ok\r\n" if verb != b"QUIT" else b"221 bye\r\n")

    def close(self) -> None:
        self.done.set()
        self.listener.close()
        self.thread.join(5)


def test_the_transport_gives_up_on_a_server_that_trickles_its_reply_a_byte_at_a_time() -> None:
    server = TricklingMailServer()
    outcome: list[BaseException | None] = []

    def send() -> None:
        try:
            with SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{server.port}")) as transport:
                transport.send(_message(), within=1.0)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            outcome.append(exc)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    sender.join(15)  # smtplib's own timeout (a step, 20 s) would never fire: each byte arrives in time
    try:
        assert not sender.is_alive(), "still waiting for the trickling server after 15 s"
        assert isinstance(outcome[0], TemporaryFailure) and "Lost the connection" in str(outcome[0])
    finally:
        server.close()
