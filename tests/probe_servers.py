"""Real HTTP(S) servers on loopback for probe tests (no mocks), and the fixtures that start them.

``ProbeServer`` is a threaded ``http.server`` on 127.0.0.1 (or another loopback address) and a free
port. Tests register what each path does, then probe it:

    server.route("/", body=b"<h1>Claims</h1>", headers={"Content-Type": "text/html"}, delay=0.0)
    server.redirect("/old", "/new")                    server.redirect_chain("/hop", 5)
    server.drip("/slow", n=20, interval=0.2)           server.drip_headers("/slower", n=20, interval=0.2)
    server.huge("/big", size=50_000_000)               server.drop("/cut", after=100, announce=1000)
    server.chunked("/parts", [b"a", b"b"])             server.echo("/echo")   # the request back as JSON
    server.raw("/junk", b"SSH-2.0-nope\\r\\n")          server.handle("/custom", fn)  # fn(handler, request)
    server.hits("/") -> 1                              server.requests -> [Request(...), ...]

``fake_resolver({"partner.test": ["127.0.0.1"]})`` is a FetchPolicy.resolver that maps names to addresses
(and counts lookups), for probing a name that must reach this server.

It works outside pytest too (a benchmark starts one with a response delay):

    with ProbeServer() as server:
        server.route("/", body=b"ok", delay=0.01)
        fetch(server.url("/"), policy=...)

HTTPS: ``ProbeServer(tls=cert_files)`` with certificates from ``tests.certs``; ``server.sni`` lists the
names clients asked for (to prove a probe sent the host name, not the IP). The fixtures make a test CA
with valid, expired, wrong-name and self-signed certificates, and a ``policy`` that trusts that CA and
allows 127.0.0.1 only. Import the fixtures by name into a test module, as test_outbox.py does for SMTP.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import socketserver
import ssl
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from probes.fetch import FetchPolicy
from tests.certs import CertAuthority, CertFiles, self_signed
from tests.server_pool import server_pool

HOST = "127.0.0.1"
Handler = Callable[["_RequestHandler", "Request"], None]


@dataclass(frozen=True)
class Request:
    """One request as the server received it."""
    method: str
    path: str                          # with the query string
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass
class _Route:
    handler: Handler
    delay: float = 0.0


@dataclass
class ProbeServer:
    host: str = HOST
    tls: CertFiles | ssl.SSLContext | None = None
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._routes: dict[str, _Route] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> "ProbeServer":
        assert self._httpd is None, "already running"
        context = None
        if self.tls is not None:
            context = self.tls if isinstance(self.tls, ssl.SSLContext) else self.tls.server_context()
            context.sni_callback = self._record_sni
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server_class = type("_Server", (_Server,), {"address_family": family})
        self._httpd = server_class((self.host, self.port), _RequestHandler, owner=self, context=context)
        self.port = self._httpd.server_address[1]
        self._stopping.clear()
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=f"probe-server-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening; slow behaviours (drip, huge) still running notice and end at once."""
        self._stopping.set()
        if self._httpd is not None:
            httpd, self._httpd = self._httpd, None
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "ProbeServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    def url(self, path: str = "/", *, host: str | None = None) -> str:
        """This server's URL for ``path``; ``host`` replaces the address (e.g. a name a test resolver maps)."""
        name = host or self.host
        name = f"[{name}]" if ":" in name else name
        return f"{self.scheme}://{name}:{self.port}{path}"

    # what arrived

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path.split("?", 1)[0] == path)

    def last(self, path: str | None = None) -> Request:
        with self._lock:
            return [r for r in self.requests if path is None or r.path.split("?", 1)[0] == path][-1]

    # behaviours

    def handle(self, path: str, handler: Handler, *, delay: float = 0.0) -> None:
        """Answer ``path`` (without query) with ``handler(request_handler, request)``."""
        with self._lock:
            self._routes[path] = _Route(handler, delay)

    def route(self, path: str, *, status: int = 200, body: bytes | str = b"", headers: dict[str, str] | None = None,
              delay: float = 0.0) -> None:
        """A plain response, sent after ``delay`` seconds (nothing at all is sent before that)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.handle(path, lambda h, r: h.respond(status, data, headers or {}), delay=delay)

    def redirect(self, path: str, to: str, *, status: int = 302) -> None:
        """Redirect to ``to`` — relative or absolute, any URL at all."""
        self.route(path, status=status, headers={"Location": to})

    def redirect_chain(self, prefix: str, hops: int, *, body: bytes = b"arrived", status: int = 302) -> str:
        """``prefix``/0 → /1 → … → /``hops`` (which answers 200 ``body``): ``hops`` redirects. Returns the
        first path."""
        for i in range(hops):
            self.redirect(f"{prefix}/{i}", f"{prefix}/{i + 1}", status=status)
        self.route(f"{prefix}/{hops}", body=body)
        return f"{prefix}/0"

    def echo(self, path: str, *, status: int = 200) -> None:
        """The request back as JSON: method, path, headers (list of pairs) and body (text)."""
        def answer(h: _RequestHandler, r: Request) -> None:
            payload = {"method": r.method, "path": r.path, "headers": r.headers,
                       "body": r.body.decode("utf-8", "replace")}
            h.respond(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})
        self.handle(path, answer)

    def chunked(self, path: str, parts: list[bytes], *, headers: dict[str, str] | None = None) -> None:
        def answer(h: _RequestHandler, r: Request) -> None:
            h.start(200, {**(headers or {}), "Transfer-Encoding": "chunked"})
            for part in parts:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            h.wfile.write(b"0\r\n\r\n")
        self.handle(path, answer)

    def drip(self, path: str, *, n: int = 20, interval: float = 0.2, byte: bytes = b".") -> None:
        """Headers at once (Content-Length n), then the body one byte every ``interval`` seconds."""
        def answer(h: _RequestHandler, r: Request) -> None:
            h.start(200, {"Content-Length": str(n)})
            for _ in range(n):
                h.wfile.write(byte)
                h.wfile.flush()
                if self._stopping.wait(interval):
                    return
        self.handle(path, answer)

    def drip_headers(self, path: str, *, n: int = 40, interval: float = 0.2) -> None:
        """The status line at once, then a header one byte every ``interval`` seconds."""
        def answer(h: _RequestHandler, r: Request) -> None:
            h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(n):
                h.wfile.write(b"z")
                h.wfile.flush()
                if self._stopping.wait(interval):
                    return
            h.wfile.write(b"\r\nContent-Length: 2\r\n\r\nok")
        self.handle(path, answer)

    def huge(self, path: str, *, size: int = 50_000_000, chunked: bool = False) -> None:
        """``size`` bytes of body, streamed as the client reads (never held in memory)."""
        block = b"x" * 65536

        def answer(h: _RequestHandler, r: Request) -> None:
            h.start(200, {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(size)})
            left = size
            while left > 0 and not self._stopping.is_set():
                part = block[:min(left, len(block))]
                h.wfile.write(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
                left -= len(part)
            if chunked:
                h.wfile.write(b"0\r\n\r\n")
        self.handle(path, answer)

    def drop(self, path: str, *, after: int = 100, announce: int = 1000, reset: bool = False) -> None:
        """Announce ``announce`` bytes, send ``after`` of them, then hang up (``reset``: with a TCP RST)."""
        def answer(h: _RequestHandler, r: Request) -> None:
            h.start(200, {"Content-Length": str(announce)})
            h.wfile.write(b"y" * after)
            h.wfile.flush()
            h.hang_up(reset=reset)
        self.handle(path, answer)

    def raw(self, path: str, data: bytes) -> None:
        """Exactly ``data`` and hang up: for servers that are not HTTP servers at all."""
        def answer(h: _RequestHandler, r: Request) -> None:
            h.wfile.write(data)
            h.wfile.flush()
            h.hang_up()
        self.handle(path, answer)

    # called on the server's threads

    def _record_sni(self, sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        with self._lock:
            self.sni.append(name)

    def _dispatch(self, handler: "_RequestHandler", request: Request) -> None:
        with self._lock:
            self.requests.append(request)
            route = self._routes.get(request.path.split("?", 1)[0])
        if route is None:
            handler.respond(404, b"not found", {"Content-Type": "text/plain"})
            return
        if route.delay and self._stopping.wait(route.delay):
            return
        route.handler(handler, request)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], *, owner: ProbeServer,
                 context: ssl.SSLContext | None) -> None:
        self.owner = owner
        self.context = context
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks our own name up (getfqdn): slow or hanging without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.context is None:
            return super().finish_request(request, client_address)
        # The handshake happens here, on the connection's own thread, so a client that never finishes
        # it (or rejects our certificate, as the tests want) holds up nobody else.
        try:
            request.settimeout(10)
            secure = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(secure, client_address)
        finally:
            secure.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass       # clients hanging up mid-response is what half the tests are about


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.close_connection = True
        self.server.owner._dispatch(self, Request(self.command, self.path, list(self.headers.items()), body))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any

    def start(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if not any(k.lower() == "connection" for k in headers):
            self.send_header("Connection", "close")
        self.end_headers()

    def respond(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        given = {k.lower() for k in headers}
        extra = {} if {"content-length", "transfer-encoding"} & given else {"Content-Length": str(len(body))}
        self.start(status, {**headers, **extra})
        if self.command != "HEAD":
            self.wfile.write(body)

    def hang_up(self, *, reset: bool = False) -> None:
        if reset:       # SO_LINGER 0: close() sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()


class DrippingTlsServer:
    """A TLS server that sends its whole answer as ONE encrypted record, one byte every ``interval``
    seconds: no single read by the client ever completes a record, so only a deadline on the whole
    TLS read can stop it. (``ProbeServer.drip`` sends a record per byte, which is a different test.)"""

    def __init__(self, context: ssl.SSLContext, *, interval: float = 0.05, host: str = HOST) -> None:
        self.context, self.interval = context, interval
        self._listener = socket.create_server((host, 0))
        self.host, self.port = host, self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name=f"tls-drip-{self.port}")

    def url(self, path: str = "/") -> str:
        return f"https://{self.host}:{self.port}{path}"

    def start(self) -> "DrippingTlsServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)      # wakes a blocked accept(); close() alone does not
        except OSError:
            pass
        self._listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            tls = self.context.wrap_bio(incoming, outgoing, server_side=True)
            try:
                self._pump(conn, incoming, outgoing, tls.do_handshake)
                self._pump(conn, incoming, outgoing, lambda: tls.read(65536))     # the request
                tls.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"a" * 5000)
                record = outgoing.read()
                for i in range(len(record)):
                    conn.sendall(record[i:i + 1])
                    if self._stopping.wait(self.interval):
                        return
            except (OSError, ssl.SSLError):
                return

    @staticmethod
    def _pump(conn: socket.socket, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO, step: Callable[[], Any]) -> None:
        while True:
            try:
                step()
                conn.sendall(outgoing.read())
                return
            except ssl.SSLWantReadError:
                conn.sendall(outgoing.read())
                data = conn.recv(65536)
                if not data:
                    raise OSError("client went away")
                incoming.write(data)


# --- certificates, a resolver, fixtures ----------------------------------------------------------

class FakeResolver:
    """For FetchPolicy.resolver: answers names from ``mapping`` (unknown names fail as DNS does) and
    records every call in ``calls`` — to prove a fetch looked a name up exactly once."""

    def __init__(self, mapping: dict[str, list[str]]) -> None:
        self.mapping = mapping
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.mapping:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(self.mapping[host])


def fake_resolver(mapping: dict[str, list[str]]) -> FakeResolver:
    return FakeResolver(mapping)


@dataclass(frozen=True)
class ProbeCerts:
    ca: Path                 # what a client must trust
    valid: CertFiles         # localhost, 127.0.0.1, ::1, partner.test
    expired: CertFiles       # the same names, expired three days ago
    wrong_host: CertFiles    # other.test only
    self_signed: CertFiles   # the same names as valid, but no CA vouches for it

    def get(self, variant: str) -> CertFiles:
        return getattr(self, variant)


NAMES = ("localhost", "127.0.0.1", "::1", "partner.test")


def make_probe_certs(directory: Path) -> ProbeCerts:
    ca = CertAuthority(directory)
    now = dt.datetime.now(dt.timezone.utc)
    return ProbeCerts(
        ca=ca.cert_path,
        valid=ca.issue("valid", NAMES),
        # an hour past three days, so "3 days ago" does not depend on how long the tests take
        expired=ca.issue("expired", NAMES, not_before=now - dt.timedelta(days=90),
                         not_after=now - dt.timedelta(days=3, hours=1)),
        wrong_host=ca.issue("wrong-host", ["other.test"]),
        self_signed=self_signed(directory, "self-signed", NAMES),
    )


def make_policy(certs: ProbeCerts, **changes: Any) -> FetchPolicy:
    """What tests probe with: 127.0.0.1 allowed, the test CA trusted, short deadlines."""
    base = FetchPolicy(allow_cidrs=("127.0.0.1/32",), ca_file=str(certs.ca), connect_timeout=2.0,
                       read_timeout=3.0, total_timeout=5.0)
    return base.with_changes(**changes)


@pytest.fixture(scope="session")
def probe_certs(tmp_path_factory: pytest.TempPathFactory) -> ProbeCerts:
    return make_probe_certs(tmp_path_factory.mktemp("probe-certs"))


@pytest.fixture
def policy(probe_certs: ProbeCerts) -> FetchPolicy:
    return make_policy(probe_certs)


@pytest.fixture
def make_probe_server(probe_certs: ProbeCerts) -> Iterator[Callable[..., ProbeServer]]:
    """``make_probe_server(tls="valid" | "expired" | "wrong_host" | "self_signed" | None, host=...)``;
    every server started stops after the test."""
    yield from server_pool(lambda tls=None, host=HOST: ProbeServer(
        host=host, tls=probe_certs.get(tls) if tls else None))


@pytest.fixture
def probe_server(make_probe_server: Callable[..., ProbeServer]) -> ProbeServer:
    """Plain HTTP on 127.0.0.1."""
    return make_probe_server()


@pytest.fixture
def https_server(make_probe_server: Callable[..., ProbeServer]) -> ProbeServer:
    """HTTPS on 127.0.0.1 with a certificate from the test CA for localhost, 127.0.0.1 and partner.test."""
    return make_probe_server("valid")
