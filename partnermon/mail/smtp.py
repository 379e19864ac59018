"""Talking to the SMTP server named by PARTNERMON_SMTP_URL. The only module that imports smtplib.

Errors are sorted into two kinds the sender acts on: a temporary failure (connection trouble,
4xx replies, authentication problems an operator can fix) is retried later; a permanent
failure (a 5xx reply about the message or recipient) is not.
"""

from __future__ import annotations

import smtplib
import ssl
import time
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


class _Deadline:
    """Mixed into smtplib's clients: every write and reply-read shares one deadline (``deadline``, on the
    monotonic clock), so one message cannot take longer than its sender's lease, however slowly the
    server trickles its replies. smtplib's own timeout bounds each step, not the whole message."""

    deadline: float | None = None
    sock: object
    timeout: float

    def _arm(self) -> None:
        if self.deadline is None or self.sock is None:
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the mail server took too long over this message")
        self.sock.settimeout(min(self.timeout, left))  # type: ignore[attr-defined]

    def clear_deadline(self) -> None:
        self.deadline = None
        if self.sock is not None:
            self.sock.settimeout(self.timeout)  # type: ignore[attr-defined]

    def send(self, s: bytes | str) -> None:
        self._arm()
        super().send(s)  # type: ignore[misc]

    def getreply(self) -> tuple[int, bytes]:
        self._arm()
        return super().getreply()  # type: ignore[misc]


class _SMTP(_Deadline, smtplib.SMTP):
    pass


class _SMTP_SSL(_Deadline, smtplib.SMTP_SSL):
    pass


class SmtpTransport:
    """One connection for a batch of messages: ``with SmtpTransport(target) as t: t.send(msg)``."""

    def __init__(self, target: SmtpTarget):
        self.target = target
        self._client: _SMTP | _SMTP_SSL | None = None

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

    def _connect(self) -> _SMTP | _SMTP_SSL:
        t = self.target
        context = ssl.create_default_context()
        client: _SMTP | _SMTP_SSL
        if t.mode == "tls":
            client = _SMTP_SSL(t.host, t.port, timeout=t.timeout, context=context)
        else:
            client = _SMTP(t.host, t.port, timeout=t.timeout)
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
        """Send one message; TemporaryFailure if the server has not accepted it within ``within`` seconds."""
        if self._client is None:
            raise TemporaryFailure("The connection to the mail server was lost earlier in this batch.")
        self._client.deadline = time.monotonic() + within
        try:
            refused = self._client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _by_code(code, reply) from None
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, exc.smtp_error) from None
        except (OSError, smtplib.SMTPException) as exc:
            # The connection is unusable now (half a command may be on the wire); the next batch opens a fresh one.
            self._client.close()
            self._client = None
            raise TemporaryFailure(f"Lost the connection to the mail server: {_reason(exc)}") from None
        finally:
            if self._client is not None:
                self._client.clear_deadline()
        if refused:
            code, reply = next(iter(refused.values()))
            raise _by_code(code, reply)


def _by_code(code: int, reply: bytes | str) -> Exception:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{code} {text}".strip()[:400]
    return PermanentFailure(message) if 500 <= code < 600 else TemporaryFailure(message)


def _reason(exc: BaseException) -> str:
    return (str(exc) or exc.__class__.__name__)[:300]
