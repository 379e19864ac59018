"""A real SMTP server on loopback for the outbox tests (aiosmtpd's threaded Controller).

``SmtpServer`` listens on 127.0.0.1 on a free port and records every message it accepts, parsed.
It can be told to answer a command with a given reply (``answer("DATA", "451 ...")``), can be
stopped and started again on the same port (the mail server going down and coming back), can be made
slow (``before_accepting``: awaited on the server's loop before each message is accepted), can ask
for a user name and password (AUTH PLAIN/LOGIN), and can speak STARTTLS or implicit TLS with a
certificate made here by a throw-away certificate authority (``make_tls_files``).

The transport verifies certificates with ``ssl.create_default_context()``; the ``trust_test_ca``
fixture points OpenSSL's SSL_CERT_FILE at the test CA so that verification passes for real.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator, Literal
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.certs import CertAuthority
from tests.server_pool import server_pool

HOST = "127.0.0.1"
Mode = Literal["plain", "starttls", "tls"]
Command = Literal["MAIL", "RCPT", "DATA"]


# --- certificates -------------------------------------------------------------------------------

@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path     # the certificate authority a client must trust (PEM)
    cert: Path        # the server's certificate (PEM), issued by that CA for localhost and 127.0.0.1
    key: Path         # the server's private key (PEM)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_tls_files(directory: Path) -> TlsFiles:
    """A throw-away CA (tests/certs.py) and a server certificate it issued for localhost and 127.0.0.1."""
    authority = CertAuthority(directory, name="partnermon SMTP test CA")
    server = authority.issue("server", ["localhost", HOST])
    return TlsFiles(ca_cert=authority.cert_path, cert=server.cert, key=server.key)


# --- the server ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Received:
    """One message the server accepted."""
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    login: str | None     # the user that authenticated on this connection, if any
    tls: bool             # whether the connection was encrypted (STARTTLS or implicit TLS)


@dataclass
class _Rule:
    command: Command
    reply: str
    to: str | None            # only for this recipient (None: any)
    remaining: int | None     # how many more times (None: until cleared)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class SmtpServer:
    def __init__(self, *, mode: Mode = "plain", tls: TlsFiles | None = None,
                 users: dict[str, str] | None = None, port: int | None = None):
        if mode != "plain" and tls is None:
            raise ValueError(f"mode {mode!r} needs TLS files")
        self.mode = mode
        self.tls = tls
        self.users = dict(users or {})
        self.host = HOST
        self.port = port or free_port()
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._rules: list[_Rule] = []
        self.auth_attempts: list[tuple[str, bool]] = []   # (user name, succeeded)
        # Awaited with a message's recipients before the server accepts it: a slow server. It runs on the
        # server's event loop, so other connections are served meanwhile.
        self.before_accepting: Callable[[list[str]], Awaitable[None]] | None = None
        self._controller: Controller | None = None

    # lifecycle

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> "SmtpServer":
        """Listen on this server's port (the same one after a stop)."""
        assert self._controller is None, "already running"
        kwargs: dict[str, Any] = {}
        if self.mode == "starttls":
            assert self.tls is not None
            kwargs.update(tls_context=self.tls.server_context(), require_starttls=True, auth_require_tls=True)
        elif self.mode == "tls":
            assert self.tls is not None
            # aiosmtpd only knows about STARTTLS; on an implicit-TLS socket AUTH is offered when
            # auth_require_tls is off (the connection is encrypted all the same).
            kwargs.update(ssl_context=self.tls.server_context(), auth_require_tls=False)
        else:
            kwargs.update(auth_require_tls=False)
        if self.users:
            kwargs["authenticator"] = self._authenticate
        controller = Controller(_Handler(self), hostname=self.host, port=self.port,
                                server_hostname="smtp.partnermon.test", ready_timeout=5.0, **kwargs)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            controller, self._controller = self._controller, None
            controller.stop()

    # configuration

    def url(self, *, user: str | None = None, password: str | None = None) -> str:
        """A PARTNERMON_SMTP_URL for this server (user and password %-escaped)."""
        scheme = "smtps" if self.mode == "tls" else "smtp"
        auth = ""
        if user is not None:
            auth = quote(user, safe="") + (":" + quote(password, safe="") if password is not None else "") + "@"
        query = "?starttls=1" if self.mode == "starttls" else ""
        return f"{scheme}://{auth}{self.host}:{self.port}{query}"

    def answer(self, command: Command, reply: str, *, to: str | None = None, times: int | None = None) -> None:
        """Answer ``command`` with ``reply`` (e.g. "451 4.3.0 Try later") instead of accepting it;
        only for recipient ``to`` if given, only ``times`` times if given."""
        with self._lock:
            self._rules.append(_Rule(command, reply, to, times))

    def accept_everything(self) -> None:
        with self._lock:
            self._rules.clear()

    # what arrived

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The messages once at least ``count`` arrived (aiosmtpd records a message before it
        answers DATA, so this normally returns at once); fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages
            if len(messages) >= count or time.monotonic() >= deadline:
                assert len(messages) >= count, f"expected {count} messages, got {len(messages)}"
                return messages
            time.sleep(0.01)

    # called on the server's thread

    def _reply_for(self, command: Command, recipients: list[str]) -> str | None:
        with self._lock:
            for rule in self._rules:
                if rule.command != command or (rule.to is not None and rule.to not in recipients):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                return rule.reply
        return None

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        ok = self.users.get(login) == auth_data.password.decode("utf-8", "replace")
        with self._lock:
            self.auth_attempts.append((login, ok))
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)

    def _record(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)


class _Handler:
    """aiosmtpd hooks: refuse what the server was told to refuse, record the rest."""

    def __init__(self, owner: SmtpServer):
        self.owner = owner

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        if self.owner.users and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if reply := self.owner._reply_for("MAIL", []):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if reply := self.owner._reply_for("RCPT", [address]):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if reply := self.owner._reply_for("DATA", list(envelope.rcpt_tos)):
            return reply
        if self.owner.before_accepting is not None:
            await self.owner.before_accepting(list(envelope.rcpt_tos))
        raw = envelope.original_content or b""
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        transport = server.transport
        self.owner._record(Received(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            message=message,
            raw=raw,
            login=session.auth_data if session.authenticated else None,
            tls=transport is not None and transport.get_extra_info("ssl_object") is not None,
        ))
        return "250 2.0.0 Message accepted"


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trust_test_ca(monkeypatch: pytest.MonkeyPatch, tls_files: TlsFiles) -> TlsFiles:
    """Make ssl.create_default_context() (OpenSSL's default verify paths) trust the test CA."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.ca_cert))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return tls_files


@pytest.fixture
def make_smtp_server() -> Iterator[Callable[..., SmtpServer]]:
    """Start servers with ``make_smtp_server(mode=..., tls=..., users=...)``; all stop afterwards."""
    yield from server_pool(SmtpServer)


@pytest.fixture
def smtp_server(make_smtp_server: Callable[..., SmtpServer]) -> SmtpServer:
    """A plain SMTP server on loopback that accepts everything (no AUTH, no TLS)."""
    return make_smtp_server()
