"""A tiny authoritative DNS server on loopback (UDP) for ``probes.fetch.lookup`` tests, built on
dnspython's message API. The zone is a dict:

    zone = {"partner.test": {"A": ["192.0.2.10"], "MX": ["10 mail.partner.test."], "TXT": ["v=spf1 -all"]},
            "www.partner.test": {"CNAME": ["partner.test."]}}
    with DnsServer(zone) as dns:
        lookup("partner.test", ["A"], policy=FetchPolicy(dns_nameservers=(dns.address,)))

Names not in the zone get NXDOMAIN; a name in the zone without the asked type gets an empty answer.
Names in ``silent`` are never answered (a server that times out); names in ``servfail`` get SERVFAIL.
A CNAME is followed within the zone, as a recursive resolver would. ``queries`` records (name, type).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from tests.server_pool import server_pool

Zone = dict[str, dict[str, list[str]]]


def _key(name: dns.name.Name | str) -> str:
    return str(name).lower().rstrip(".")


@dataclass
class DnsServer:
    zone: Zone
    silent: set[str] = field(default_factory=set)
    servfail: set[str] = field(default_factory=set)
    host: str = "127.0.0.1"
    ttl: int = 300
    queries: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.zone = {_key(name): records for name, records in self.zone.items()}
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def address(self) -> str:
        """For FetchPolicy.dns_nameservers."""
        return f"{self.host}:{self.port}"

    def start(self) -> "DnsServer":
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((self.host, 0))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name=f"dns-server-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._sock is None:
            return
        sock, self._sock = self._sock, None
        # A blocked recvfrom does not notice close(); an empty datagram to ourselves wakes it.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as waker:
            waker.sendto(b"", (self.host, self.port))
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        sock.close()

    def __enter__(self) -> "DnsServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        sock = self._sock
        assert sock is not None
        while self._sock is not None:
            try:
                data, peer = sock.recvfrom(4096)
            except OSError:
                return
            if self._sock is None:
                return
            try:
                query = dns.message.from_wire(data)
            except Exception:   # noqa: BLE001 - junk datagrams (and the wake-up) are ignored
                continue
            answer = self._answer(query)
            if answer is not None:
                sock.sendto(answer.to_wire(), peer)

    def _answer(self, query: dns.message.Message) -> dns.message.Message | None:
        question = query.question[0]
        name, rtype = _key(question.name), dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rtype))
        if name in self.silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        if name in self.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        if name not in self.zone:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        for _ in range(8):                  # follow CNAMEs inside the zone
            records = self.zone.get(name, {})
            if rtype in records:
                response.answer.append(self._rrset(name, rtype, records[rtype]))
                break
            if "CNAME" not in records or rtype == "CNAME":
                break
            response.answer.append(self._rrset(name, "CNAME", records["CNAME"]))
            name = _key(records["CNAME"][0])
        return response

    def _rrset(self, name: str, rtype: str, values: list[str]) -> dns.rrset.RRset:
        if rtype == "TXT":
            values = [v if v.startswith('"') else '"' + v.replace('"', '\\"') + '"' for v in values]
        return dns.rrset.from_text(name + ".", self.ttl, "IN", rtype, *values)


ZONE: Zone = {
    "partner.test": {"A": ["192.0.2.10", "192.0.2.11"], "AAAA": ["2001:db8::10"],
                     "MX": ["10 mail.partner.test.", "20 backup.partner.test."],
                     "TXT": ["v=spf1 -all", "hello world"]},
    "www.partner.test": {"CNAME": ["partner.test."]},
    "bare.partner.test": {"TXT": ["only text here"]},
}


@pytest.fixture
def make_dns_server() -> Iterator[Callable[..., DnsServer]]:
    """``make_dns_server(zone, silent=..., servfail=...)``; all stop after the test."""
    yield from server_pool(lambda zone=None, **kwargs: DnsServer(dict(ZONE if zone is None else zone), **kwargs))


@pytest.fixture
def dns_server(make_dns_server: Callable[..., DnsServer]) -> DnsServer:
    """Serves ``ZONE``; "slow.partner.test" never answers, "broken.partner.test" gets SERVFAIL."""
    return make_dns_server(silent={"slow.partner.test"}, servfail={"broken.partner.test"})
