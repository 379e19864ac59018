"""One fetch's state: its deadline over every redirect hop, the hop's target, timings and peer, and the
watchdog that enforces the deadline (part of probes.fetch, which holds the outbound rules of DESIGN.md §8).

``FetchState.open`` is where the address rules are applied: the name is resolved once (on a small shared
thread pool, since the C library's lookup has no timeout), every address it resolves to is checked, and
the socket connects to a checked one. The total deadline is hard: every blocking call gets min(its own limit,
time left), and one watchdog thread per process shuts a fetch's sockets down when its deadline passes, which
ends any read in progress — so a server dripping its headers one byte a second cannot hold a probe past
``total_timeout``.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from probes.fetch_types import Blocked, FetchError, FetchPolicy
from probes.network_words import GAI_WORDS, causes, error_words, failure_words, ip_port, phase_of, seconds
from probes.safety import Target, address_problem
from probes.spec import Timings

# What a fetch is doing, in the words its timeout messages use (network_words.phase_of reads them).
CONNECTING = "connecting"
TLS = "setting up the secure connection"
SENDING = "sending the request"
WAITING = "waiting for the first byte"
HEADERS = "reading the headers"
BODY = "reading the page"


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


class FetchState:
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
    sockets down (``FetchState.expire``). Finished fetches are simply skipped when their time comes."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._due: list[tuple[float, int, FetchState]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, fetch: FetchState) -> None:
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



def watch(state: FetchState) -> None:
    """Put ``state``'s deadline in the watchdog's hands."""
    _watchdog.watch(state)
