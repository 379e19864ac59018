"""Talking to the SMTP server named by PARTNERMON_SMTP_URL. The only module that imports smtplib.

Errors are sorted into two kinds the sender acts on: a temporary failure (connection trouble,
4xx replies, authentication problems an operator can fix) is retried later; a permanent
failure (a 5xx reply about the message or recipient) is not.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
from email.message import EmailMessage
from email.utils import formatdate
from types import TracebackType

from partnermon.config import SmtpTarget
from partnermon.models import OutboxEmail


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


def build_message(email: OutboxEmail, mail_from: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = email.to_addr
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    message["Subject"] = email.subject
    message["Message-ID"] = email.message_id
    message["Date"] = formatdate(localtime=False)
    if email.list_unsubscribe:
        # RFC 8058: mail clients offer their own "unsubscribe" button and POST to the URL without a session.
        message["List-Unsubscribe"] = f"<{email.list_unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(email.text_body)
    message.add_alternative(email.html_body, subtype="html")
    if email.attachment_name and email.attachment is not None:
        maintype, _, subtype = (email.attachment_type or "application/octet-stream").partition("/")
        message.add_attachment(email.attachment, maintype=maintype, subtype=subtype, filename=email.attachment_name)
    return message


class SmtpTransport:
    """One connection for a batch of messages: ``with SmtpTransport(target) as t: t.send(msg)``."""

    def __init__(self, target: SmtpTarget):
        self.target = target
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> "SmtpTransport":
        try:
            self._client = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"Could not connect to the mail server {self.target.describe()}: {_reason(exc)}") from None
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (OSError, smtplib.SMTPException):
                self._client.close()
            self._client = None

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if t.mode == "tls":
            client = smtplib.SMTP_SSL(t.host, t.port, timeout=t.timeout, context=context)
        else:
            client = smtplib.SMTP(t.host, t.port, timeout=t.timeout)
        try:
            client.ehlo()
            if t.mode == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if t.username:
                client.login(t.username, t.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            client.close()
            raise TemporaryFailure(
                f"The mail server refused the user name or password in PARTNERMON_SMTP_URL ({_reason(exc)})."
            ) from None
        except BaseException:
            client.close()
            raise
        return client

    def send(self, message: EmailMessage, *, within: float) -> None:
        """Send one message; TemporaryFailure if the server has not accepted it within ``within`` seconds.

        smtplib's timeout bounds each read, not the message: a server that trickles its reply a byte at a
        time never trips it. So a timer shuts the socket at the deadline, which ends any read or write at
        once; the message is then not sent as far as partnermon knows, and its lease has not run out."""
        if self._client is None:
            raise TemporaryFailure("The connection to the mail server was lost earlier in this batch.")
        passed = threading.Event()
        deadline = threading.Timer(within, _shut, args=(self._client.sock, passed))
        deadline.daemon = True
        deadline.start()
        try:
            refused = self._client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise self._failure(exc, cut_off=passed.is_set(), within=within) from None
        finally:
            deadline.cancel()
        if refused:
            code, reply = next(iter(refused.values()))
            raise _by_code(code, reply)

    def _failure(self, exc: OSError | smtplib.SMTPException, *, cut_off: bool, within: float) -> Exception:
        """What a failed send means to the sender: temporary or permanent, with the reason."""
        if not cut_off:
            if isinstance(exc, smtplib.SMTPRecipientsRefused):
                code, reply = next(iter(exc.recipients.values()))
                return _by_code(code, reply)
            if isinstance(exc, smtplib.SMTPResponseException):
                return _by_code(exc.smtp_code, exc.smtp_error)
        # The connection is unusable now (half a command may be on the wire); the next batch opens a fresh one.
        if self._client is not None:
            self._client.close()
            self._client = None
        if cut_off:  # whatever the cut-off read made of half a reply, the server had not accepted it in time
            return TemporaryFailure(f"Lost the connection to the mail server: it had not accepted the message "
                                    f"within {within:g} s.")
        return TemporaryFailure(f"Lost the connection to the mail server: {_reason(exc)}")


def _shut(sock: socket.socket | None, passed: threading.Event) -> None:
    passed.set()
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed: nothing left to stop
            pass


def _by_code(code: int, reply: bytes | str) -> Exception:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{code} {text}".strip()[:400]
    return PermanentFailure(message) if 500 <= code < 600 else TemporaryFailure(message)


def _reason(exc: BaseException) -> str:
    return (str(exc) or exc.__class__.__name__)[:300]
