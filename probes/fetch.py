"""All outbound network traffic of the probes: HTTP(S) requests, certificate reads and DNS lookups.

This is the ONLY module that talks to partner sites (DESIGN.md §6), and it enforces the outbound
safety rules (DESIGN.md §8): http and https only; each name is resolved once and every address it
resolves to must be globally routable (or inside ``allow_cidrs``); the connection goes to that checked
address — never a second lookup — while TLS is still verified for the host name; every redirect hop is
checked again (at most ``max_redirects``); connect, per-read and total deadlines; a cap on bytes held.

How the total deadline stays hard without a watchdog thread: every blocking socket call (connect, each
send, each recv, the TLS handshake) gets a timeout of min(its own limit, time left), and CPython bounds
each such call by its timeout as a whole (TLS reads and handshakes included), so a server dripping one
byte a second cannot hold a probe past ``total_timeout``. Name resolution has no timeout in the C
library, so it runs on a small shared thread pool and is waited for only until the deadline.

It must not: import anything of partnermon, use requests/urllib3 (we need the timing split and the
connect-to-checked-address rule), keep connections open between calls, or raise anything but
FetchError for a problem at the other end. Errors are sentences a practice owner can read.

The plain data it takes and gives (FetchPolicy, FetchResponse, FetchError, Blocked) lives in
``probes.fetch_types`` and is re-exported here: import everything from ``probes.fetch``.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Sequence
from urllib.parse import urljoin

from probes import http1
from probes.certinfo import CertificateInfo, CertificateParseError, describe_problem, name_matches, read_certificate
from probes.fetch_types import (
    DEFAULT_USER_AGENT, RECORD_TYPES, Blocked, FetchError, FetchPolicy, FetchResponse, parse_nameserver,
)
from probes.network_words import GAI_WORDS, error_words, ip_port, phase_of, seconds
from probes.safety import Target, UnsafeUrl, address_problem, normalise_name, parse_url
from probes.spec import Timings

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_RECV = 64 * 1024
# Headers that must not follow a redirect to another site (a partner's login must not leak elsewhere).
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})

__all__ = [
    "DEFAULT_USER_AGENT", "Blocked", "CertificateInfo", "FetchError", "FetchPolicy", "FetchResponse",
    "check_address", "fetch", "fetch_certificate", "lookup",
]


def check_address(ip: str, policy: FetchPolicy) -> str | None:
    """None when a probe may connect to ``ip``, else why not ("10.0.0.5 is a private address")."""
    return address_problem(ip, policy.allow_cidrs, policy.allow_private)


# --- the deadline and the pieces of one hop ------------------------------------------------------

class _Clock:
    """The whole fetch's deadline (redirects included)."""

    __slots__ = ("start", "end", "total")

    def __init__(self, total: float) -> None:
        self.start = time.perf_counter()
        self.total = total
        self.end = self.start + total

    def left(self) -> float:
        return self.end - time.perf_counter()

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.start) * 1000


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
    """One context per trust setting: building one loads the whole system store, far too slow per probe."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    if not verify:                        # only to read a certificate that failed, to explain why
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context


class _Hop:
    """One request to one address: resolve, check, connect, TLS, send, read. Always closes."""

    def __init__(self, target: Target, policy: FetchPolicy, clock: _Clock) -> None:
        self.target = target
        self.policy = policy
        self.clock = clock
        self.timings = Timings()
        self.sock: socket.socket | None = None
        self.peer = ""
        self._deadline_binds = False     # whether the last timeout set was the total deadline's

    # errors and deadlines

    def error(self, phase: str, message: str, cls: type[FetchError] = FetchError) -> FetchError:
        self.timings.total_ms = self.clock.elapsed_ms()
        return cls(message, phase, self.timings)          # the hop ends with the error: no copy needed

    def expired(self, doing: str) -> FetchError:
        return self.error("timeout", f"Took longer than the {seconds(self.clock.total)} limit for the whole "
                                     f"request (while {doing})")

    def arm(self, sock: socket.socket, limit: float, doing: str) -> None:
        left = self.clock.left()
        if left <= 0:
            raise self.expired(doing)
        self._deadline_binds = left < limit
        sock.settimeout(min(limit, left))

    def timed_out(self, doing: str, message: str) -> FetchError:
        """A timeout fired: the total deadline's, or the phase's own limit (``message``)."""
        return self.expired(doing) if self._deadline_binds else self.error(phase_of(doing), message)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    # resolve, check, connect

    def addresses(self) -> list[str]:
        host, started = self.target.host, time.perf_counter()
        if self.target.host_is_ip:
            ips = [host]                                  # no lookup happened: dns_ms stays None
        else:
            try:
                ips = self._resolve(host)
            finally:                                      # a failed lookup's time is worth reporting too
                self.timings.dns_ms = (time.perf_counter() - started) * 1000
        for ip in ips:
            problem = check_address(ip, self.policy)
            if problem is not None:
                where = "" if ip == host else f" ({host} resolves to it)"
                raise self.error("blocked", f"blocked: {problem}{where}", Blocked)
        return ips

    def _resolve(self, host: str) -> list[str]:
        try:
            if self.policy.resolver is not None:           # the seam runs inline: it is for tests
                ips = list(self.policy.resolver(host, self.target.port))
            else:
                left = self.clock.left()
                if left <= 0:
                    raise self.expired("looking up the name")
                future = _pool().submit(_system_resolve, host, self.target.port)
                ips = future.result(timeout=left)
        except FutureTimeout:
            raise self.expired(f"looking up {host}") from None
        except socket.gaierror as exc:
            raise self.error("dns", f"DNS lookup failed for {host}{GAI_WORDS.get(exc.errno, '')}") from None
        except OSError:
            raise self.error("dns", f"DNS lookup failed for {host}") from None
        if not ips:
            raise self.error("dns", f"DNS lookup failed for {host}: it has no addresses")
        return ips

    def connect(self, ips: list[str]) -> socket.socket:
        started, port, failure = time.perf_counter(), self.target.port, ""
        for ip in ips:                                    # all checked; try them in the resolver's order
            sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
            try:
                self.arm(sock, self.policy.connect_timeout, "connecting")
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.connect((ip, port))
            except FetchError:
                sock.close()
                raise
            except TimeoutError:
                sock.close()
                if self._deadline_binds:
                    raise self.expired("connecting") from None
                failure = f"({ip_port(ip, port)}): no answer within {seconds(self.policy.connect_timeout)}"
                continue
            except OSError as exc:
                sock.close()
                failure = f"({ip_port(ip, port)}): {error_words(exc)}"
                continue
            self.timings.connect_ms = (time.perf_counter() - started) * 1000
            self.sock, self.peer = sock, ip
            return sock
        self.timings.connect_ms = (time.perf_counter() - started) * 1000
        raise self.error("connect", f"Could not connect to {self.target.host} {failure}")

    def handshake(self, context: ssl.SSLContext) -> ssl.SSLSocket:
        assert self.sock is not None
        started, host = time.perf_counter(), self.target.host
        self.arm(self.sock, self.policy.read_timeout, "setting up the secure connection")
        raw, self.sock = self.sock, None
        try:
            # server_hostname is the NAME: SNI and certificate checks are for it, never for the IP.
            self.sock = context.wrap_socket(raw, server_hostname=host)
        except ssl.SSLCertVerificationError:
            raise                                           # fetch explains it (needs a second look)
        except TimeoutError:
            raise self.timed_out("setting up the secure connection",
                                 f"No answer to the secure (TLS) handshake from {host} within "
                                 f"{seconds(self.policy.read_timeout)}") from None
        except ssl.SSLError as exc:
            reason = (exc.reason or "handshake failure").replace("_", " ").lower()
            if "wrong version number" in reason or "record layer failure" in reason:
                reason = "the server did not answer with TLS (is the address really https?)"
            raise self.error("tls", f"The secure connection (TLS) to {host} failed: {reason}") from None
        except OSError as exc:
            raise self.error("tls", f"The secure connection (TLS) to {host} failed: {error_words(exc)}") from None
        finally:
            raw.close()                                     # detached by wrap_socket; closes it on failure
        self.timings.tls_ms = (time.perf_counter() - started) * 1000
        return self.sock

    # send and read

    def send(self, data: bytes) -> None:
        assert self.sock is not None
        view, sent = memoryview(data), 0
        try:
            while sent < len(view):                         # own loop: sendall's timeout is per call
                self.arm(self.sock, self.policy.read_timeout, "sending the request")
                sent += self.sock.send(view[sent:sent + _RECV])
        except TimeoutError:
            raise self.timed_out("sending the request",
                                 f"{self.target.host} did not take the request within "
                                 f"{seconds(self.policy.read_timeout)}") from None
        except OSError as exc:
            raise self.error("request", f"Could not send the request to {self.target.host}: {error_words(exc)}") \
                from None

    def recv(self, doing: str) -> bytes:
        """The next bytes from the server (b"" at the end), within the read and total deadlines."""
        assert self.sock is not None
        self.arm(self.sock, self.policy.read_timeout, doing)
        try:
            return self.sock.recv(_RECV)
        except TimeoutError:
            limit = seconds(self.policy.read_timeout)
            message = (f"No first byte within {limit}" if doing == http1.WAITING
                       else f"No data for {limit} while {doing}")
            raise self.timed_out(doing, message) from None
        except OSError as exc:                              # ssl.SSLError is an OSError too
            words = "the secure connection broke" if isinstance(exc, ssl.SSLError) else error_words(exc)
            raise self.error(phase_of(doing), f"The connection failed while {doing}: {words}") from None


# --- public entry points ------------------------------------------------------------------------

def _target(url: str, clock: _Clock) -> Target:
    try:
        return parse_url(url)
    except UnsafeUrl as exc:
        timings = Timings(total_ms=clock.elapsed_ms())
        raise (Blocked(str(exc), timings=timings) if exc.blocked else FetchError(str(exc), "url", timings)) \
            from None


def _verified_certificate(sock: ssl.SSLSocket, host: str) -> CertificateInfo | None:
    der = sock.getpeercert(binary_form=True)
    try:
        info = read_certificate(der) if der else None
    except CertificateParseError:
        return None
    if info is not None:
        info.verified = info.hostname_matches = True          # OpenSSL just checked chain, name and dates
    return info


def _explain_certificate(target: Target, ip: str, policy: FetchPolicy, clock: _Clock,
                         failure: ssl.SSLCertVerificationError) -> CertificateInfo | None:
    """Connect again to the same checked address without verifying, to read the certificate that
    failed and say in plain words what is wrong with it. None if that second look fails."""
    hop = _Hop(target, policy, clock)
    try:
        hop.connect([ip])
        sock = hop.handshake(_tls_context(policy.ca_file, False))
        der = sock.getpeercert(binary_form=True)
        info = read_certificate(der) if der else None
    except (FetchError, CertificateParseError, ssl.SSLError, OSError):
        return None
    finally:
        hop.close()
    if info is None:
        return None
    info.hostname_matches = name_matches(info.names, target.host)
    info.problem = describe_problem(info, target.host, datetime.now(timezone.utc),
                                    verify_code=failure.verify_code, verify_message=failure.verify_message)
    return info


def _tls_failure(hop: _Hop, info: CertificateInfo | None, failure: ssl.SSLCertVerificationError) -> FetchError:
    if info is not None and info.problem:
        return hop.error("tls", info.problem)
    detail = (failure.verify_message or "it could not be verified").rstrip(".")
    return hop.error("tls", f"The certificate of {hop.target.host} is not valid: {detail}")


def _exchange(target: Target, policy: FetchPolicy, clock: _Clock, method: str,
              headers: Sequence[tuple[str, str]], body: bytes | None, follow: bool) -> FetchResponse:
    """One hop. The body of a redirect that will be followed is not read."""
    hop = _Hop(target, policy, clock)
    try:
        ips = hop.addresses()
        hop.connect(ips)
        certificate = None
        if target.scheme == "https":
            try:
                sock = hop.handshake(_tls_context(policy.ca_file, True))
            except ssl.SSLCertVerificationError as exc:
                info = _explain_certificate(target, hop.peer, policy, clock, exc)
                raise _tls_failure(hop, info, exc) from None
            certificate = _verified_certificate(sock, target.host)
        try:
            request = http1.build_request(method, target.path, target.authority, user_agent=policy.user_agent,
                                          headers=headers, body=body)
        except http1.HttpFormatError as exc:
            raise hop.error(exc.phase, str(exc)) from None
        hop.send(request)
        sent_at = time.perf_counter()

        def first_byte() -> None:
            hop.timings.first_byte_ms = (time.perf_counter() - sent_at) * 1000

        reader = http1.ResponseReader(hop.recv)
        try:
            status, reason, response_headers = reader.read_head(first_byte)
            content, truncated = b"", False
            if not (follow and status in REDIRECT_STATUSES and http1.header(response_headers, "location")):
                content, truncated = reader.read_body(status, method, response_headers, policy.max_bytes)
        except http1.HttpFormatError as exc:
            raise hop.error(exc.phase, str(exc)) from None
        hop.timings.total_ms = clock.elapsed_ms()
        return FetchResponse(url=target.url, status=status, reason=reason, headers=response_headers, body=content,
                             truncated=truncated, timings=hop.timings, peer_address=hop.peer,
                             certificate=certificate)
    finally:
        hop.close()


def fetch(url: str, *, policy: FetchPolicy, method: str = "GET", headers: Sequence[tuple[str, str]] = (),
          body: bytes | str | None = None, follow_redirects: bool = True) -> FetchResponse:
    """Request ``url`` under ``policy``'s rules and deadlines. Raises FetchError (Blocked for a refusal)."""
    clock = _Clock(policy.total_timeout)
    method = (method or "GET").strip().upper()
    payload = body.encode("utf-8") if isinstance(body, str) else body
    send_headers = list(headers)
    target = _target(url, clock)
    redirects: list[str] = []
    while True:
        response = _exchange(target, policy, clock, method, send_headers, payload, follow_redirects)
        status, location = response.status, response.header("location")
        if not (follow_redirects and status in REDIRECT_STATUSES and location):
            response.redirects = redirects
            return response
        if len(redirects) >= policy.max_redirects:
            looped = target.url in redirects
            raise FetchError(f"Gave up after {policy.max_redirects} redirects"
                             + (" (they go round in a loop)" if looped else ""), "redirect", response.timings)
        redirects.append(target.url)
        next_target = _target(urljoin(target.url, location.strip()), clock)
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method, payload = "GET", None          # what browsers do; the body was for the first address
            send_headers = [(k, v) for k, v in send_headers if k.lower() != "content-type"]
        if (next_target.scheme, next_target.host, next_target.port) != (target.scheme, target.host, target.port):
            send_headers = [(k, v) for k, v in send_headers if k.lower() not in _CREDENTIAL_HEADERS]
        target = next_target


def fetch_certificate(url: str, *, policy: FetchPolicy) -> CertificateInfo:
    """The certificate an https server presents — read even when it is expired, for another name or
    untrusted — with ``verified`` and ``problem`` saying so in plain words. Same safety rules as fetch.
    Raises FetchError when there is no certificate to read (DNS, connection, not TLS at all)."""
    clock = _Clock(policy.total_timeout)
    target = _target(url, clock)
    if target.scheme != "https":
        raise FetchError("A certificate check needs an https:// address", "url", Timings())
    hop = _Hop(target, policy, clock)
    try:
        hop.connect(hop.addresses())
        try:
            sock = hop.handshake(_tls_context(policy.ca_file, True))
        except ssl.SSLCertVerificationError as exc:
            hop.close()
            info = _explain_certificate(target, hop.peer, policy, clock, exc)
            if info is None:
                raise _tls_failure(hop, None, exc) from None
            return info
        info = _verified_certificate(sock, target.host)
        if info is None:
            raise hop.error("tls", f"The certificate of {target.host} could not be read")
        return info
    finally:
        hop.close()


def lookup(name: str, record_types: Sequence[str], *, policy: FetchPolicy) -> dict[str, list[str]]:
    """DNS records of ``name``: {type: [values]} for A, AAAA, CNAME, MX ("10 mail.example.com") and TXT,
    an empty list where there is no such record. Raises FetchError (phase "dns") when the name does not
    exist or no answer came within ``total_timeout``. Queries go to ``policy.dns_nameservers`` (or the
    system's), never to the partner, so the address rules do not apply here."""
    import dns.exception
    import dns.nameserver
    import dns.resolver

    started = time.perf_counter()
    limit = policy.total_timeout
    try:
        host = normalise_name(name.strip())
    except UnsafeUrl:
        raise FetchError(f"DNS lookup failed: {name[:60]!s} is not a valid host name", "dns") from None
    types = [t.strip().upper() for t in record_types]
    unknown = [t for t in types if t not in RECORD_TYPES]
    if unknown:
        raise ValueError(f"record types must be among {', '.join(RECORD_TYPES)}, not {', '.join(unknown)}")

    def failure(detail: str) -> FetchError:
        elapsed = (time.perf_counter() - started) * 1000
        return FetchError(f"DNS lookup failed for {host}{detail}", "dns", Timings(dns_ms=elapsed, total_ms=elapsed))

    try:
        resolver = dns.resolver.Resolver(configure=not policy.dns_nameservers)
    except dns.exception.DNSException:
        raise failure(": this machine has no DNS servers configured") from None
    if policy.dns_nameservers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(*parse_nameserver(s)) for s in policy.dns_nameservers]
    resolver.timeout = min(policy.read_timeout, limit)
    records: dict[str, list[str]] = {}
    for rtype in dict.fromkeys(types):
        left = limit - (time.perf_counter() - started)
        if left <= 0:
            raise failure(f": no answer within {seconds(limit)}")
        try:
            answer = resolver.resolve(host, rtype, raise_on_no_answer=False, lifetime=left, search=False)
        except dns.resolver.NXDOMAIN:
            raise failure(": no such name") from None
        except dns.exception.Timeout:
            raise failure(f": no answer within {seconds(limit)}") from None
        except dns.resolver.NoNameservers:
            raise failure(": the name servers could not answer") from None
        except dns.exception.DNSException:
            raise failure("") from None
        records[rtype] = [_record_text(rtype, r) for r in answer.rrset] if answer.rrset is not None else []
    return records


def _record_text(rtype: str, rdata: Any) -> str:
    if rtype in ("A", "AAAA"):
        return str(rdata.address)
    if rtype == "CNAME":
        return str(rdata.target.to_text(omit_final_dot=True))
    if rtype == "MX":
        return f"{rdata.preference} {rdata.exchange.to_text(omit_final_dot=True)}"
    return "".join(part.decode("utf-8", "replace") for part in rdata.strings)
