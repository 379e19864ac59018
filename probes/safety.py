"""The outbound safety rules for probes (DESIGN.md §8), as pure functions.

A practice types the addresses partnermon probes, so a probe must never become a way into our own
network: only http and https, and only addresses that are globally routable (unless an operator lists
them in PARTNERMON_PROBE_ALLOW_CIDRS). This module decides; ``probes.fetch`` enforces, by checking
every address a name resolves to and then connecting to that very address.

Nothing here touches the network: no sockets, no name lookups. It judges URL text and IP address text
(``socket.inet_aton`` is used only as the C library's parser of IPv4 text, so "2130706433", "0x7f000001"
and "127.1" are read exactly as the connection would read them).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from functools import lru_cache
from typing import Union
from urllib.parse import quote, urlsplit

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

SCHEMES = {"http": 80, "https": 443}

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# IANA's special-purpose registries, most specific first. Whatever is listed here is refused (unless
# allowed); what is not listed must still pass ``is_global``. 192.0.0.9/10 and a few anycast blocks are
# technically global, but no partner site lives there, so refusing them costs nothing.
_V4_RULES: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_V4("0.0.0.0/32"), "unspecified"),
    (_V4("0.0.0.0/8"), "reserved"),              # "this network"
    (_V4("10.0.0.0/8"), "private"),
    (_V4("100.64.0.0/10"), "shared (CGNAT)"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local"),       # includes the cloud metadata service 169.254.169.254
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.0.0.0/24"), "reserved"),           # IETF protocol assignments
    (_V4("192.0.2.0/24"), "documentation"),
    (_V4("192.88.99.0/24"), "reserved"),         # old 6to4 relay anycast
    (_V4("192.168.0.0/16"), "private"),
    (_V4("198.18.0.0/15"), "benchmarking"),
    (_V4("198.51.100.0/24"), "documentation"),
    (_V4("203.0.113.0/24"), "documentation"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("255.255.255.255/32"), "broadcast"),
    (_V4("240.0.0.0/4"), "reserved"),
)

# IPv6 forms that carry an IPv4 address inside: the packet ends up at that IPv4 address (a dual-stack
# socket connects ::ffff:127.0.0.1 to 127.0.0.1), so they are judged by it. (network, form, first bit)
_V6_EMBEDDING: tuple[tuple[ipaddress.IPv6Network, str, int], ...] = (
    (_V6("::ffff:0:0/96"), "IPv4-mapped", 96),
    (_V6("64:ff9b::/96"), "NAT64", 96),
    (_V6("2002::/16"), "6to4", 16),
    (_V6("::/96"), "IPv4-compatible", 96),       # deprecated, but still parsed by some stacks
)

_V6_RULES: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("64:ff9b:1::/48"), "private"),          # local-use NAT64
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "private"),               # old site-local
    (_V6("fc00::/7"), "private"),                # unique local
    (_V6("ff00::/8"), "multicast"),
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("3fff::/20"), "documentation"),
    (_V6("2001::/23"), "reserved"),              # IETF protocol assignments, Teredo, benchmarking, ORCHID
    (_V6("2000::/3"), ""),                       # global unicast: no objection from this table
)


class UnsafeUrl(ValueError):
    """A URL that cannot be probed. ``blocked`` is True when a safety rule refused it (rather than the
    text simply not being a URL)."""

    def __init__(self, message: str, *, blocked: bool) -> None:
        super().__init__(message)
        self.blocked = blocked


@dataclass(frozen=True)
class Target:
    """One request's destination, taken apart: what to resolve, where to connect, what to send."""

    scheme: str
    host: str            # lower-case ASCII (IDNA) name or canonical IP text, IPv6 without brackets
    port: int
    path: str            # request target: "/path?query", always starting with "/"

    @property
    def default_port(self) -> bool:
        return SCHEMES[self.scheme] == self.port

    @property
    def host_is_ip(self) -> bool:
        return _as_ip(self.host) is not None

    @property
    def authority(self) -> str:
        """The Host header: the name, bracketed if IPv6, with the port when it is not the default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.default_port else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.authority}{self.path}"

    def with_host(self, host: str) -> "Target":
        return Target(self.scheme, host, self.port, self.path)


# --- addresses ----------------------------------------------------------------------------------

@lru_cache(maxsize=64)
def parse_cidrs(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """The allow list as networks. Parsed once per distinct tuple (policies are reused for every probe).
    Raises ValueError naming the bad entry."""
    networks = []
    for text in cidrs:
        try:
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not an IP network (expected e.g. 10.1.2.0/24)") from None
    return tuple(networks)


def _as_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"      # "an unspecified", "an IPv4-mapped", "a 6to4"


def _kind_of_v4(ip: ipaddress.IPv4Address) -> str | None:
    for network, kind in _V4_RULES:
        if ip in network:
            return kind
    return None if ip.is_global else "reserved"


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    for network, form, first_bit in _V6_EMBEDDING:
        if ip in network:
            bits = (int(ip) >> (128 - first_bit - 32)) & 0xFFFFFFFF
            return form, ipaddress.IPv4Address(bits)
    return None


def _allowed(ip: IPAddress, allow: tuple[IPNetwork, ...]) -> bool:
    return any(ip.version == net.version and ip in net for net in allow)


def address_problem(text: str, allow_cidrs: tuple[str, ...] = (), allow_private: bool = False) -> str | None:
    """None when a probe may connect to IP address ``text``; otherwise why not, as a sentence fragment
    ("10.0.0.5 is a private address")."""
    if allow_private:
        return None
    shown = text.strip()
    ip = _as_ip(shown.split("%", 1)[0])            # getaddrinfo may append an IPv6 zone ("%eth0")
    if ip is None:
        return f"{shown[:60]} is not an IP address"
    allow = parse_cidrs(tuple(allow_cidrs))
    if _allowed(ip, allow):
        return None
    if isinstance(ip, ipaddress.IPv4Address):
        kind = _kind_of_v4(ip)
        return None if kind is None else f"{shown} is {_article(kind)} {kind} address"
    if ip in _V6_RULES[0][0] or ip in _V6_RULES[1][0]:       # :: and ::1 before the ::/96 embedding
        kind = "unspecified" if ip in _V6_RULES[0][0] else "loopback"
        return f"{shown} is {_article(kind)} {kind} address"
    embedded = _embedded_v4(ip)
    if embedded is not None:
        form, v4 = embedded
        if _allowed(v4, allow):
            return None
        kind = _kind_of_v4(v4)
        if kind is None:
            return None
        note = "" if str(v4) in shown else f" ({v4})"
        return f"{shown} is {_article(form)} {form} {kind} address{note}"
    for network, kind in _V6_RULES:
        if ip in network:
            return f"{shown} is {_article(kind)} {kind} address" if kind else None
    return f"{shown} is a reserved address"          # outside 2000::/3: not allocated for the internet


# --- URLs ---------------------------------------------------------------------------------------

# What may appear in a host name after IDNA: letters, digits, hyphen, underscore (seen in the wild), dots.
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_.-]{0,251}[a-z0-9_.])?$")
# Characters left alone when re-quoting a path: RFC 3986 pchar, "/", "?" and an existing %-escape.
_PATH_SAFE = "/?:@!$&'()*+,;=-._~%"


def parse_url(url: str) -> Target:
    """Take ``url`` apart for a request, refusing what the rules forbid. Raises UnsafeUrl."""
    text = url.strip() if isinstance(url, str) else ""
    if not text:
        raise UnsafeUrl("There is no address to probe", blocked=False)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise UnsafeUrl(f"{text[:80]} is not a valid address (check the port and brackets)", blocked=False) \
            from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeUrl("blocked: only http and https addresses can be probed", blocked=True)
    if "@" in parts.netloc or parts.username is not None:
        # user@host is a classic way to make a URL look like it goes somewhere it does not.
        raise UnsafeUrl("blocked: addresses with a user name or password in them (user@host) can't be probed",
                        blocked=True)
    raw_host = parts.hostname or ""
    if not raw_host:
        raise UnsafeUrl("blocked: the address has no host name", blocked=True)
    host = _normalise_host(raw_host)
    if port == 0:
        raise UnsafeUrl(f"{text[:80]} has port 0, which is not a real port", blocked=False)
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if not path.startswith("/"):
        path = "/" + path
    if parts.query:
        path += "?" + quote(parts.query, safe=_PATH_SAFE)
    return Target(scheme, host, port or SCHEMES[scheme], path)


def _normalise_host(raw: str) -> str:
    ip = _as_ip(raw.split("%", 1)[0])
    if ip is not None:
        if "%" in raw:
            raise UnsafeUrl("blocked: addresses with an IPv6 zone (%) can't be probed", blocked=True)
        return str(ip)
    legacy = _legacy_ipv4(raw)
    if legacy is not None:
        return legacy
    return normalise_name(raw)


def _legacy_ipv4(raw: str) -> str | None:
    """Decimal, hex, octal and short IPv4 forms (http://2130706433/, http://0x7f000001/, http://127.1/)
    as the canonical dotted quad, or None when ``raw`` is a name. getaddrinfo would read them the same
    way; canonicalising here means the Host header and TLS check name the address really used."""
    if not re.fullmatch(r"[0-9a-fA-FxX.]+", raw) or not raw[:1].isdigit():
        return None
    try:
        return socket.inet_ntoa(socket.inet_aton(raw))
    except OSError:
        return None


def normalise_name(raw: str) -> str:
    """A host name as lower-case ASCII (IDNA), without a trailing dot. Raises UnsafeUrl."""
    try:
        ascii_host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UnsafeUrl(f"{raw[:60]} is not a valid host name", blocked=False) from None
    if ascii_host.endswith("."):
        ascii_host = ascii_host[:-1]
    if not _HOST_NAME.match(ascii_host) or ".." in ascii_host:
        raise UnsafeUrl(f"{raw[:60]} is not a valid host name", blocked=False)
    return ascii_host
