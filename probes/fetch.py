"""All outbound network traffic of the probes: HTTP(S) on ``requests``, certificate reads and DNS lookups.

This is the ONLY module that talks to partner sites (DESIGN.md §6), and it holds every outbound safety
rule (DESIGN.md §8): http and https only; each name is resolved once and every address it resolves to
must be globally routable (or inside ``allow_cidrs``); the connection goes to that checked address —
never a second lookup — while TLS is still verified for the host name; every redirect hop is checked
again (at most ``max_redirects``); connect, per-read and total deadlines; a cap on bytes read.

How, on the field's libraries: each fetch is a ``requests.Session`` (``trust_env`` off: no proxy or
.netrc from the environment) with ``_GuardedAdapter`` mounted for http and https. The adapter's urllib3
connections open their own socket — resolve, check every address, connect to a checked one — and urllib3
then does TLS on it with ``server_hostname`` the name, so SNI and the certificate check are for the name.
Redirects are followed here, hop by hop through the same adapter (requests would read a redirect's whole
body before we could look at it). Bodies are streamed up to the cap; urllib3 decodes chunked framing and
gzip/deflate (sent although we ask for identity) with a bounded output (urllib3 2.6 and later, which
pyproject.toml requires), so the cap bounds what is held.

The total deadline is hard: every blocking call gets min(its own limit, time left), and ``_Watchdog`` shuts
a fetch's socket down when its deadline passes, which ends any read in progress — so a server dripping its
headers one byte a second (every single read succeeding) cannot hold a probe past ``total_timeout``.
Name resolution has no timeout in the C library, so it runs on a small shared thread pool and is waited
for only until the deadline.

It must not import anything of partnermon, keep connections (or cookies) between calls, or raise anything
but FetchError for a problem at the other end. Errors are sentences a practice owner can read.

The plain data it takes and gives (FetchPolicy, FetchResponse, FetchError, Blocked) lives in
``probes.fetch_types``, and DNS record lookups (``lookup``) in ``probes.fetch_dns``; both are re-exported
here: import everything from ``probes.fetch``.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import os
import re
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timezone
from functools import lru_cache, partial
from typing import Any, Sequence
from urllib.parse import urljoin

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection

from probes.certinfo import CertificateInfo, CertificateParseError, describe_problem, name_matches, read_certificate
from probes.fetch_dns import lookup
from probes.fetch_types import DEFAULT_USER_AGENT, Blocked, FetchError, FetchPolicy, FetchResponse
from probes.network_words import GAI_WORDS, causes, error_words, failure_words, ip_port, phase_of, seconds
from probes.safety import Target, UnsafeUrl, address_problem, parse_url
from probes.spec import Timings

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
# Headers that must not follow a redirect to another site (a partner's login must not leak elsewhere).
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
# Headers fetch decides itself: framing, the connection, compression, who we are. A caller's copy of
# these is dropped rather than sent twice (a second Host or Content-Length is a smuggling risk).
_RESERVED_HEADERS = frozenset({
    "host", "connection", "content-length", "transfer-encoding", "accept-encoding", "user-agent", "te",
    "upgrade", "keep-alive", "proxy-connection", "trailer", "expect",
})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

# What a fetch is doing, in the words its timeout messages use (network_words.phase_of reads them).
CONNECTING = "connecting"
TLS = "setting up the secure connection"
SENDING = "sending the request"
WAITING = "waiting for the first byte"
HEADERS = "reading the headers"
BODY = "reading the page"

__all__ = [
    "DEFAULT_USER_AGENT", "Blocked", "CertificateInfo", "FetchError", "FetchPolicy", "FetchResponse",
    "check_address", "fetch", "fetch_certificate", "lookup",
]


def check_address(ip: str, policy: FetchPolicy) -> str | None:
    """None when a probe may connect to ``ip``, else why not ("10.0.0.5 is a private address")."""
    return address_problem(ip, policy.allow_cidrs, policy.allow_private)


_dns_pool: ThreadPoolExecutor | None = None
_dns_pool_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _dns_pool
    with _dns_pool_lock:
        if _dns_pool is None:
            _dns_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="probe-dns")
        return _dns_pool


def _system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)))


@lru_cache(maxsize=16)
def _tls_context(ca_file: str | None, verify: bool) -> ssl.SSLContext:
    """One context per trust setting (the system store, plus ``ca_file``): building one loads the whole
    store, far too slow per probe. Not requests' certifi bundle: a probe trusts what the machine trusts."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    if not verify:                        # only to read a certificate that failed, to explain why
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


# --- one fetch: its deadline, the current hop, the watchdog --------------------------------------

class _Fetch:
    """One fetch's deadline (redirects included), the current hop's target, timings and peer, and the
    sockets the watchdog may shut down when the deadline passes."""

    def __init__(self, policy: FetchPolicy, end: float | None = None) -> None:
        self.policy = policy
        self.start = time.perf_counter()
        self.end = self.start + policy.total_timeout if end is None else end
        self.target: Target | None = None
        self.timings = Timings()
        self.peer = ""
        self.doing = CONNECTING
        self.connected_at = self.sent_at = 0.0
        self.certificate_der: bytes | None = None        # the hop's server certificate, for https
        self.expired = False              # set by the watchdog
        self._done = False
        self._lock = threading.Lock()
        self._held: list[socket.socket] = []

    def left(self) -> float:
        return self.end - time.perf_counter()

    def hop(self, target: Target) -> None:
        self.release()
        self.target, self.timings, self.peer, self.doing = target, Timings(), "", CONNECTING
        self.certificate_der = None

    # errors

    def error(self, phase: str, message: str, cls: type[FetchError] = FetchError) -> FetchError:
        self.timings.total_ms = (time.perf_counter() - self.start) * 1000
        return cls(message, phase, self.timings)          # the hop ends with the error: no copy needed

    def out_of_time(self, doing: str | None = None) -> FetchError:
        return self.error("timeout", f"Took longer than the {seconds(self.policy.total_timeout)} limit for the "
                                     f"whole request (while {doing or self.doing})")

    def limit(self, own: float, doing: str) -> float:
        """A blocking call's timeout: its own limit or the time left, whichever is shorter."""
        left = self.left()
        if left <= 0 or self.expired:
            raise self.out_of_time(doing)
        return min(own, left)

    def timed_out(self, doing: str, message: str) -> FetchError:
        """A timeout fired: the total deadline's, or the phase's own limit (``message``)."""
        return self.out_of_time(doing) if self.expired or self.left() <= 0 else self.error(phase_of(doing), message)

    # the watchdog's hold on the sockets

    def hold(self, sock: socket.socket) -> None:
        """Let the watchdog shut ``sock`` down at the deadline. It holds a duplicate descriptor of its own,
        so it can never act on a number the socket's owner has closed and the system has reused."""
        with self._lock:
            if self.expired:
                raise self.out_of_time(CONNECTING)
            self._held.append(sock.dup())

    def expire(self) -> None:
        """The deadline has passed (the watchdog's thread): end whatever read or write is in progress."""
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._held:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def release(self, done: bool = False) -> None:
        """Close the watchdog's duplicates (they would keep a finished hop's connection open)."""
        with self._lock:
            self._done = self._done or done
            for sock in self._held:
                sock.close()
            self._held.clear()

    def finish(self) -> None:
        self.release(done=True)

    # resolve, check, connect

    def addresses(self, target: Target) -> list[str]:
        host, started = target.host, time.perf_counter()
        if target.host_is_ip:
            ips = [host]                                  # no lookup happened: dns_ms stays None
        else:
            try:
                ips = self._resolve(host, target.port)
            finally:                                      # a failed lookup's time is worth reporting too
                self.timings.dns_ms = (time.perf_counter() - started) * 1000
        for ip in ips:
            problem = check_address(ip, self.policy)
            if problem is not None:
                where = "" if ip == host else f" ({host} resolves to it)"
                raise self.error("blocked", f"blocked: {problem}{where}", Blocked)
        return ips

    def _resolve(self, host: str, port: int) -> list[str]:
        try:
            if self.policy.resolver is not None:           # the seam runs inline: it is for tests
                ips = list(self.policy.resolver(host, port))
            else:
                future = _pool().submit(_system_resolve, host, port)
                ips = future.result(timeout=self.limit(self.policy.total_timeout, f"looking up {host}"))
        except FutureTimeout:
            raise self.out_of_time(f"looking up {host}") from None
        except socket.gaierror as exc:
            raise self.error("dns", f"DNS lookup failed for {host}{GAI_WORDS.get(exc.errno, '')}") from None
        except OSError:
            raise self.error("dns", f"DNS lookup failed for {host}") from None
        if not ips:
            raise self.error("dns", f"DNS lookup failed for {host}: it has no addresses")
        return ips

    def open(self, target: Target, only: str | None = None) -> socket.socket:
        """A connected socket to a checked address of ``target`` (or to ``only``, checked before)."""
        ips = [only] if only else self.addresses(target)
        started, port, failure = time.perf_counter(), target.port, ""
        for ip in ips:                                    # all checked; try them in the resolver's order
            sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.limit(self.policy.connect_timeout, CONNECTING))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.connect((ip, port))
                self.hold(sock)
                # The TLS handshake or the request comes next: a read's own limit, within the deadline.
                doing = TLS if target.scheme == "https" else SENDING
                sock.settimeout(self.limit(self.policy.read_timeout, doing))
            except FetchError:
                sock.close()
                raise
            except TimeoutError:
                sock.close()
                if self.left() <= 0:
                    raise self.out_of_time(CONNECTING) from None
                failure = f"({ip_port(ip, port)}): no answer within {seconds(self.policy.connect_timeout)}"
                continue
            except OSError as exc:
                sock.close()
                failure = f"({ip_port(ip, port)}): {error_words(exc)}"
                continue
            self.connected_at = time.perf_counter()
            self.timings.connect_ms = (self.connected_at - started) * 1000
            self.peer, self.doing = ip, doing
            return sock
        self.timings.connect_ms = (time.perf_counter() - started) * 1000
        raise self.error("connect", f"Could not connect to {target.host} {failure}")

    def failure(self, exc: BaseException) -> FetchError:
        """A FetchError for whatever requests, urllib3, http.client or the socket raised during the hop."""
        own = next((e for e in causes(exc) if isinstance(e, FetchError)), None)
        if own is not None:
            return own
        if self.expired or self.left() <= 0:
            return self.out_of_time()
        phase, message = failure_words(exc, self.doing, self.policy.read_timeout)
        return self.error(phase, message)


class _Watchdog:
    """One thread for every fetch in the process: when a fetch's deadline passes, it shuts that fetch's
    sockets down (``_Fetch.expire``). Finished fetches are simply skipped when their time comes."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._due: list[tuple[float, int, _Fetch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, fetch: _Fetch) -> None:
        with self._wake:
            heapq.heappush(self._due, (fetch.end, next(self._order), fetch))
            if self._thread is None or not self._thread.is_alive():      # first use, or after a fork
                self._thread = threading.Thread(target=self._run, name="probe-deadlines", daemon=True)
                self._thread.start()
            elif self._due[0][2] is fetch:
                self._wake.notify()

    def _run(self) -> None:
        with self._wake:
            while True:
                now = time.perf_counter()
                while self._due and self._due[0][0] <= now:
                    heapq.heappop(self._due)[2].expire()
                self._wake.wait(self._due[0][0] - now if self._due else None)


_watchdog = _Watchdog()


def _new_watchdog_after_fork() -> None:
    # A forked child inherits the watchdog's lock perhaps held by a thread that did not come along, and
    # none of the parent's fetches are its own: it starts with a watchdog of its own.
    global _watchdog
    _watchdog = _Watchdog()


os.register_at_fork(after_in_child=_new_watchdog_after_fork)


# --- requests' transport: connections that obey the rules -------------------------------------

class _GuardedHTTPConnection(HTTPConnection):
    """A urllib3 connection whose socket is opened by ``_Fetch.open`` (resolve once, check every address,
    connect to a checked one), and which notes when the request went and when the headers came."""

    def __init__(self, *args: Any, fetch: _Fetch, target: Target, only: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fetch, self.target, self.only = fetch, target, only
        self.response_class = partial(_TimedResponse, fetch=fetch)   # http.client makes the response

    def _new_conn(self) -> socket.socket:
        return self.fetch.open(self.target, self.only)

    def request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self.fetch.doing = SENDING
        super().request(*args, **kwargs)
        self.fetch.sent_at = time.perf_counter()
        self.fetch.doing = WAITING

    def getresponse(self) -> Any:  # type: ignore[override]
        response = super().getresponse()
        fetch = self.fetch
        if fetch.expired:            # the watchdog's shutdown can look like headers that simply ended
            response.close()
            raise fetch.out_of_time()
        fetch.doing = BODY
        return response


class _TimedResponse(http.client.HTTPResponse):
    """http.client's response, noting when its first byte arrives (the first-byte time, and from then on
    a stall is in the headers rather than before any answer)."""

    def __init__(self, sock: Any, *args: Any, fetch: _Fetch, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self.fetch = fetch

    def _read_status(self) -> Any:
        fetch = self.fetch
        if fetch.doing == WAITING and self.fp.peek(1):         # peek: at most one read, nothing consumed
            fetch.timings.first_byte_ms = (time.perf_counter() - fetch.sent_at) * 1000
            fetch.doing = HEADERS
        return super()._read_status()  # type: ignore[misc]


class _CertificateRejected(FetchError):
    """The certificate failed verification. ``certificate`` is what a second look found in it (None if
    that look failed); the message says what is wrong with it."""

    certificate: CertificateInfo | None = None


class _GuardedHTTPSConnection(_GuardedHTTPConnection, HTTPSConnection):
    """The same, with urllib3's TLS on the checked socket: ``server_hostname`` is the connection's host,
    the NAME, so SNI and the certificate check are for it, never for the IP."""

    def connect(self) -> None:
        fetch, host = self.fetch, self.target.host
        try:
            super().connect()
        except FetchError:
            raise
        except ssl.SSLCertVerificationError as exc:
            raise _rejected(fetch, self.target, exc) from None
        except TimeoutError:
            raise fetch.timed_out(TLS, f"No answer to the secure (TLS) handshake from {host} within "
                                       f"{seconds(fetch.policy.read_timeout)}") from None
        except ssl.SSLError as exc:
            if fetch.expired:
                raise fetch.out_of_time(TLS) from None
            reason = (exc.reason or "handshake failure").replace("_", " ").lower()
            if "wrong version number" in reason or "record layer failure" in reason:
                reason = "the server did not answer with TLS (is the address really https?)"
            raise fetch.error("tls", f"The secure connection (TLS) to {host} failed: {reason}") from None
        except OSError as exc:
            if fetch.expired:
                raise fetch.out_of_time(TLS) from None
            raise fetch.error("tls", f"The secure connection (TLS) to {host} failed: {error_words(exc)}") from None
        fetch.timings.tls_ms = (time.perf_counter() - fetch.connected_at) * 1000
        # Read now: with "Connection: close" the socket is gone by the time the body has been read.
        fetch.certificate_der = self.sock.getpeercert(binary_form=True) if self.sock is not None else None


class _Pool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _TlsPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


def _connection(fetch: _Fetch, target: Target, *, verify: bool = True, only: str | None = None
                ) -> _GuardedHTTPSConnection:
    return _GuardedHTTPSConnection(target.host, target.port, fetch=fetch, target=target, only=only,
                                   ssl_context=_tls_context(fetch.policy.ca_file, verify))


def _rejected(fetch: _Fetch, target: Target, failure: ssl.SSLCertVerificationError) -> _CertificateRejected:
    """Connect again to the same checked address without verifying, to read the certificate that failed
    and say in plain words what is wrong with it."""
    info = None
    second = _Fetch(fetch.policy, end=fetch.end)
    look = _connection(second, target, verify=False, only=fetch.peer)
    try:
        look.connect()
        info = read_certificate(second.certificate_der) if second.certificate_der else None
    except (FetchError, CertificateParseError, ssl.SSLError, OSError):
        info = None
    finally:
        look.close()
        second.finish()
    if info is not None:
        info.hostname_matches = name_matches(info.names, target.host)
        info.problem = describe_problem(info, target.host, datetime.now(timezone.utc),
                                        verify_code=failure.verify_code, verify_message=failure.verify_message)
    if info is not None and info.problem:
        message = info.problem
    else:
        message = f"The certificate of {target.host} is not valid: " \
                  f"{(failure.verify_message or 'it could not be verified').rstrip('.')}"
    error = fetch.error("tls", message, _CertificateRejected)
    error.certificate = info
    return error


class _RefusingPoolManager:
    """Stands where requests keeps its pool manager: any use of it is a bug that would skip the address checks."""

    def clear(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"probes.fetch: requests tried its own pool manager ({name}), which skips the "
                           "outbound address checks; refused")


class _GuardedAdapter(HTTPAdapter):
    """requests' transport for one fetch: a fresh pool of guarded connections for each hop's target.
    Trust is the connections' SSL context, so requests' certificate settings (certifi) are not used."""

    def __init__(self, fetch: _Fetch) -> None:
        super().__init__(max_retries=0)
        self.fetch = fetch
        self.pools: list[HTTPConnectionPool] = []

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        # requests' own pool manager connects wherever the system's resolver says. Every request must come
        # through get_connection_with_tls_context below; should a version of requests route around it (2.32.0
        # and 2.32.1 did), the stock pool manager refuses rather than connecting unchecked: fail closed.
        self.poolmanager = _RefusingPoolManager()

    def get_connection_with_tls_context(self, request: Any, verify: Any, proxies: Any = None,
                                        cert: Any = None) -> HTTPConnectionPool:
        fetch = self.fetch
        target = fetch.target                     # what the request was made for (requests may requote it)
        assert target is not None
        if target.scheme == "https":
            pool: HTTPConnectionPool = _TlsPool(target.host, target.port, maxsize=1, fetch=fetch, target=target,
                                                ssl_context=_tls_context(fetch.policy.ca_file, True))
        else:
            pool = _Pool(target.host, target.port, maxsize=1, fetch=fetch, target=target)
        self.pools.append(pool)
        return pool

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        pass

    def close(self) -> None:
        for pool in self.pools:
            pool.close()
        self.pools.clear()
        super().close()


class _ProbeSession(requests.Session):
    """One fetch's session: nothing from the environment, and redirects left to ``fetch`` (requests reads
    a redirect's whole body to find the next one, even when asked not to follow it)."""

    def __init__(self, fetch: _Fetch) -> None:
        super().__init__()
        self.trust_env = False
        self.adapter = _GuardedAdapter(fetch)
        self.mount("http://", self.adapter)
        self.mount("https://", self.adapter)

    def get_redirect_target(self, resp: requests.Response) -> None:
        return None


# --- public entry points ------------------------------------------------------------------------

def _target(url: str, fetch: _Fetch) -> Target:
    try:
        return parse_url(url)
    except UnsafeUrl as exc:
        timings = Timings(total_ms=(time.perf_counter() - fetch.start) * 1000)
        raise (Blocked(str(exc), timings=timings) if exc.blocked else FetchError(str(exc), "url", timings)) \
            from None


def _verified_certificate(der: bytes | None) -> CertificateInfo | None:
    try:
        info = read_certificate(der) if der else None
    except CertificateParseError:
        return None
    if info is not None:
        info.verified = info.hostname_matches = True          # OpenSSL just checked chain, name and dates
    return info


def _request_headers(fetch: _Fetch, headers: Sequence[tuple[str, str]]) -> dict[str, bytes]:
    """What fetch sends: its own framing and identity, then the caller's headers (checked: no line breaks
    or bad names; reserved ones dropped). Text that is not Latin-1 goes as UTF-8, as browsers send it."""
    target = fetch.target
    assert target is not None
    chosen: dict[str, str] = {"Host": target.authority, "User-Agent": fetch.policy.user_agent,
                              "Accept-Encoding": "identity", "Connection": "close"}
    for name, value in headers:
        name, value = str(name).strip(), str(value).strip()
        if not _TOKEN.fullmatch(name):
            raise fetch.error("request", f"“{name[:40]}” is not a valid header name")
        if any(c in value for c in "\r\n\0"):
            raise fetch.error("request", f"The {name} header has a line break in it")
        if name.lower() not in _RESERVED_HEADERS:
            chosen[name] = value
    if not any(name.lower() == "accept" for name in chosen):
        chosen["Accept"] = "*/*"
    return {name: _header_bytes(value) for name, value in chosen.items()}


def _header_bytes(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _read_body(raw: Any, fetch: _Fetch) -> tuple[bytes, bool]:
    """At most ``max_bytes`` of decoded body, and whether it was cut there. urllib3 decompresses no more
    than it is asked for, and the compressed bytes read are capped too (a "bomb" ends at the cap)."""
    cap = fetch.policy.max_bytes
    parts: list[bytes] = []
    size = 0
    while True:
        data = raw.read(min(_CHUNK, cap + 1 - size), decode_content=True)   # one byte over tells us there was more
        if not data:
            return b"".join(parts), False
        size += len(data)
        parts.append(data)
        if size > cap or raw.tell() > cap + _CHUNK:
            return b"".join(parts)[:cap], True


def _exchange(session: _ProbeSession, fetch: _Fetch, method: str, headers: Sequence[tuple[str, str]],
              body: bytes | None, follow: bool) -> FetchResponse:
    """One hop. The body of a redirect that will be followed is not read."""
    target = fetch.target
    assert target is not None
    if not _TOKEN.fullmatch(method):
        raise fetch.error("request", f"“{method[:20]}” is not an HTTP method")
    sent = _request_headers(fetch, headers)             # requests adds Content-Length
    try:
        request = requests.Request(method, target.url, headers=sent, data=body).prepare()
    except (requests.RequestException, ValueError) as exc:
        raise fetch.error("url", f"{target.url[:80]} could not be requested: {exc}") from None
    try:
        response = session.send(request, stream=True, allow_redirects=False,
                                timeout=(fetch.limit(fetch.policy.connect_timeout, CONNECTING),
                                         fetch.limit(fetch.policy.read_timeout, WAITING)))
    except FetchError:
        raise
    except Exception as exc:           # requests', urllib3's, http.client's and the socket's errors
        raise fetch.failure(exc) from None
    try:
        status, location = response.status_code, response.headers.get("location")
        content, truncated = b"", False
        if not (follow and status in REDIRECT_STATUSES and location):
            try:
                content, truncated = _read_body(response.raw, fetch)
            except FetchError:
                raise
            except Exception as exc:
                raise _body_failure(fetch, exc, response) from None
            if fetch.expired:              # the watchdog's shutdown ends a body read to the close as if done
                raise fetch.out_of_time(BODY)
        certificate = _verified_certificate(fetch.certificate_der) if target.scheme == "https" else None
        fetch.timings.total_ms = (time.perf_counter() - fetch.start) * 1000
        return FetchResponse(url=target.url, status=status, reason=response.reason or "",
                             headers=list(response.raw.headers.items()), body=content, truncated=truncated,
                             timings=fetch.timings, peer_address=fetch.peer, certificate=certificate)
    finally:
        response.close()


def _body_failure(fetch: _Fetch, exc: Exception, response: requests.Response) -> FetchError:
    cut = next((e for e in causes(exc) if isinstance(e, urllib3.exceptions.IncompleteRead)), None)
    length = response.headers.get("content-length", "")
    if cut is not None and not fetch.expired and length.isdigit():
        return fetch.error("read", f"The connection closed after {response.raw.tell():,} of {int(length):,} bytes")
    return fetch.failure(exc)


def fetch(url: str, *, policy: FetchPolicy, method: str = "GET", headers: Sequence[tuple[str, str]] = (),
          body: bytes | str | None = None, follow_redirects: bool = True) -> FetchResponse:
    """Request ``url`` under ``policy``'s rules and deadlines. Raises FetchError (Blocked for a refusal)."""
    state = _Fetch(policy)
    method = (method or "GET").strip().upper()
    payload = body.encode("utf-8") if isinstance(body, str) else body
    send_headers = list(headers)
    target = _target(url, state)
    redirects: list[str] = []
    session = _ProbeSession(state)
    _watchdog.watch(state)
    try:
        while True:
            state.hop(target)
            response = _exchange(session, state, method, send_headers, payload, follow_redirects)
            status, location = response.status, response.header("location")
            if not (follow_redirects and status in REDIRECT_STATUSES and location):
                response.redirects = redirects
                return response
            if len(redirects) >= policy.max_redirects:
                looped = target.url in redirects
                raise FetchError(f"Gave up after {policy.max_redirects} redirects"
                                 + (" (they go round in a loop)" if looped else ""), "redirect", response.timings)
            redirects.append(target.url)
            next_target = _target(urljoin(target.url, location.strip()), state)
            if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
                method, payload = "GET", None          # what browsers do; the body was for the first address
                send_headers = [(k, v) for k, v in send_headers if k.lower() != "content-type"]
            if (next_target.scheme, next_target.host, next_target.port) != (target.scheme, target.host, target.port):
                send_headers = [(k, v) for k, v in send_headers if k.lower() not in _CREDENTIAL_HEADERS]
            target = next_target
    finally:
        session.close()
        state.finish()


def fetch_certificate(url: str, *, policy: FetchPolicy) -> CertificateInfo:
    """The certificate an https server presents — read even when it is expired, for another name or
    untrusted — with ``verified`` and ``problem`` saying so in plain words. Same safety rules as fetch.
    Raises FetchError when there is no certificate to read (DNS, connection, not TLS at all)."""
    state = _Fetch(policy)
    target = _target(url, state)
    if target.scheme != "https":
        raise FetchError("A certificate check needs an https:// address", "url", Timings())
    state.hop(target)
    connection = _connection(state, target)
    _watchdog.watch(state)
    try:
        connection.connect()
        info = _verified_certificate(state.certificate_der)
        if info is None:
            raise state.error("tls", f"The certificate of {target.host} could not be read")
        return info
    except _CertificateRejected as exc:
        if exc.certificate is None:
            raise
        return exc.certificate
    finally:
        connection.close()
        state.finish()
