"""All outbound network traffic of the probes: HTTP(S) on ``requests``, certificate reads and DNS lookups.

This is the ONLY module that talks to partner sites (DESIGN.md §6), and it holds every outbound safety
rule (DESIGN.md §8): http and https only; each name is resolved once and every address it resolves to
must be globally routable (or inside ``allow_cidrs``); the connection goes to that checked address —
never a second lookup — while TLS is still verified for the host name; every redirect hop is checked
again (at most ``max_redirects``); connect, per-read and total deadlines; a cap on bytes read.

How, on the field's libraries: each fetch is a ``requests.Session`` (``trust_env`` off: no proxy or
.netrc from the environment) with ``probes.fetch_transport``'s adapter mounted for http and https. The adapter's urllib3
connections open their own socket — resolve, check every address, connect to a checked one — and urllib3
then does TLS on it with ``server_hostname`` the name, so SNI and the certificate check are for the name.
Redirects are followed here, hop by hop through the same adapter (requests would read a redirect's whole
body before we could look at it). Bodies are streamed up to the cap; urllib3 decodes chunked framing and
gzip/deflate (sent although we ask for identity) with a bounded output (urllib3 2.6 and later, which
pyproject.toml requires), so the cap bounds what is held.

The total deadline is hard: every blocking call gets min(its own limit, time left), and a watchdog (``probes.fetch_state``) shuts
a fetch's socket down when its deadline passes, which ends any read in progress — so a server dripping its
headers one byte a second (every single read succeeding) cannot hold a probe past ``total_timeout``.
Name resolution has no timeout in the C library, so it runs on a small shared thread pool and is waited
for only until the deadline.

It must not import anything of partnermon, keep connections (or cookies) between calls, or raise anything
but FetchError for a problem at the other end. Errors are sentences a practice owner can read.

One fetch's deadline, timings and address checks are ``probes.fetch_state``; the urllib3 connections and
the requests adapter are ``probes.fetch_transport``. The plain data it takes and gives (FetchPolicy,
FetchResponse, FetchError, Blocked) lives in
``probes.fetch_types``, and DNS record lookups (``lookup``) in ``probes.fetch_dns``; both are re-exported
here: import everything from ``probes.fetch``.
"""

from __future__ import annotations

import re
import time
from typing import Any, Sequence
from urllib.parse import urljoin

import requests
import urllib3.exceptions

from probes.certinfo import CertificateInfo, CertificateParseError, read_certificate
from probes.fetch_dns import lookup
from probes.fetch_state import BODY, CONNECTING, WAITING, FetchState, check_address, watch
from probes.fetch_transport import CertificateRejected, ProbeSession, open_connection
from probes.fetch_types import DEFAULT_USER_AGENT, Blocked, FetchError, FetchPolicy, FetchResponse
from probes.network_words import causes
from probes.safety import Target, UnsafeUrl, parse_url
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

__all__ = [
    "DEFAULT_USER_AGENT", "Blocked", "CertificateInfo", "FetchError", "FetchPolicy", "FetchResponse",
    "check_address", "check_destination", "fetch", "fetch_certificate", "lookup",
]


def _target(url: str, fetch: FetchState) -> Target:
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


def _request_headers(fetch: FetchState, headers: Sequence[tuple[str, str]]) -> dict[str, bytes]:
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


def _read_body(raw: Any, fetch: FetchState) -> tuple[bytes, bool]:
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


def _exchange(session: ProbeSession, fetch: FetchState, method: str, headers: Sequence[tuple[str, str]],
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


def _body_failure(fetch: FetchState, exc: Exception, response: requests.Response) -> FetchError:
    cut = next((e for e in causes(exc) if isinstance(e, urllib3.exceptions.IncompleteRead)), None)
    length = response.headers.get("content-length", "")
    if cut is not None and not fetch.expired and length.isdigit():
        return fetch.error("read", f"The connection closed after {response.raw.tell():,} of {int(length):,} bytes")
    return fetch.failure(exc)


def fetch(url: str, *, policy: FetchPolicy, method: str = "GET", headers: Sequence[tuple[str, str]] = (),
          body: bytes | str | None = None, follow_redirects: bool = True) -> FetchResponse:
    """Request ``url`` under ``policy``'s rules and deadlines. Raises FetchError (Blocked for a refusal)."""
    state = FetchState(policy)
    method = (method or "GET").strip().upper()
    payload = body.encode("utf-8") if isinstance(body, str) else body
    send_headers = list(headers)
    target = _target(url, state)
    redirects: list[str] = []
    session = ProbeSession(state)
    watch(state)
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


def check_destination(url: str, *, policy: FetchPolicy) -> list[str]:
    """The checked addresses ``url`` would be sent to, sending nothing: for refusing an address when it is
    typed (a webhook's URL) rather than at the first request. Every request still checks again when it
    connects, since a name may resolve elsewhere by then (DNS rebinding). Raises FetchError (Blocked for
    a refusal, phase "dns" when the name has no address) within ``total_timeout``."""
    state = FetchState(policy)
    try:
        target = _target(url, state)
        state.hop(target)
        return state.addresses(target)
    finally:
        state.finish()


def fetch_certificate(url: str, *, policy: FetchPolicy) -> CertificateInfo:
    """The certificate an https server presents — read even when it is expired, for another name or
    untrusted — with ``verified`` and ``problem`` saying so in plain words. Same safety rules as fetch.
    Raises FetchError when there is no certificate to read (DNS, connection, not TLS at all)."""
    state = FetchState(policy)
    target = _target(url, state)
    if target.scheme != "https":
        raise FetchError("A certificate check needs an https:// address", "url", Timings())
    state.hop(target)
    connection = open_connection(state, target)
    watch(state)
    try:
        connection.connect()
        info = _verified_certificate(state.certificate_der)
        if info is None:
            raise state.error("tls", f"The certificate of {target.host} could not be read")
        return info
    except CertificateRejected as exc:
        if exc.certificate is None:
            raise
        return exc.certificate
    finally:
        connection.close()
        state.finish()
