"""requests' transport for probes.fetch: urllib3 connections that obey the outbound rules (DESIGN.md §8).

The adapter gives every hop a fresh one-connection pool whose connection opens its socket through
``FetchState.open`` (resolve once, check every address, connect to a checked one); urllib3 then does TLS on
it with ``server_hostname`` the name, so SNI and the certificate check are for the name. requests' own pool
manager refuses, so a requests version that routed around the adapter would fail closed.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from datetime import datetime, timezone
from functools import lru_cache, partial
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection

from probes.certinfo import CertificateInfo, CertificateParseError, describe_problem, name_matches, read_certificate
from probes.fetch_state import BODY, HEADERS, SENDING, TLS, WAITING, FetchState
from probes.fetch_types import FetchError
from probes.network_words import error_words, seconds
from probes.safety import Target


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


class _GuardedHTTPConnection(HTTPConnection):
    """A urllib3 connection whose socket is opened by ``FetchState.open`` (resolve once, check every address,
    connect to a checked one), and which notes when the request went and when the headers came."""

    def __init__(self, *args: Any, fetch: FetchState, target: Target, only: str | None = None, **kwargs: Any) -> None:
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

    def __init__(self, sock: Any, *args: Any, fetch: FetchState, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self.fetch = fetch

    def _read_status(self) -> Any:
        fetch = self.fetch
        if fetch.doing == WAITING and self.fp.peek(1):         # peek: at most one read, nothing consumed
            fetch.timings.first_byte_ms = (time.perf_counter() - fetch.sent_at) * 1000
            fetch.doing = HEADERS
        return super()._read_status()  # type: ignore[misc]


class CertificateRejected(FetchError):
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


def open_connection(fetch: FetchState, target: Target, *, verify: bool = True, only: str | None = None
                ) -> _GuardedHTTPSConnection:
    return _GuardedHTTPSConnection(target.host, target.port, fetch=fetch, target=target, only=only,
                                   ssl_context=_tls_context(fetch.policy.ca_file, verify))


def _rejected(fetch: FetchState, target: Target, failure: ssl.SSLCertVerificationError) -> CertificateRejected:
    """Connect again to the same checked address without verifying, to read the certificate that failed
    and say in plain words what is wrong with it."""
    info = None
    second = FetchState(fetch.policy, end=fetch.end)
    look = open_connection(second, target, verify=False, only=fetch.peer)
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
    error = fetch.error("tls", message, CertificateRejected)
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

    def __init__(self, fetch: FetchState) -> None:
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


class ProbeSession(requests.Session):
    """One fetch's session: nothing from the environment, and redirects left to ``fetch`` (requests reads
    a redirect's whole body to find the next one, even when asked not to follow it)."""

    def __init__(self, fetch: FetchState) -> None:
        super().__init__()
        self.trust_env = False
        self.adapter = _GuardedAdapter(fetch)
        self.mount("http://", self.adapter)
        self.mount("https://", self.adapter)

    def get_redirect_target(self, resp: requests.Response) -> None:
        return None

