"""Plain words for what goes wrong on the network: errno values, failed name lookups, deadlines.

Pure text helpers for ``probes.fetch`` (and the kinds that speak of time limits); no sockets here.
"""

from __future__ import annotations

import errno
import socket


def seconds(value: float) -> str:
    return f"{value:g} s"


ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "no route to the host",
    errno.ETIMEDOUT: "no answer",
    errno.EADDRNOTAVAIL: "address not available",
    errno.ECONNABORTED: "connection aborted",
    errno.EPIPE: "connection closed",
}


GAI_WORDS = {socket.EAI_NONAME: ": no such name", socket.EAI_AGAIN: ": the name servers did not answer"}
if hasattr(socket, "EAI_NODATA"):                 # glibc: the name exists but has no addresses
    GAI_WORDS[socket.EAI_NODATA] = ": it has no addresses"


def ip_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def error_words(exc: OSError) -> str:
    if exc.errno in ERRNO_WORDS:
        return ERRNO_WORDS[exc.errno]
    if exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return "network error"


def phase_of(doing: str) -> str:
    """The FetchError phase for what the hop was doing (the words used in timeout messages)."""
    if doing.startswith("waiting"):
        return "first_byte"
    if doing.startswith("sending"):
        return "request"
    if doing.startswith("setting up"):
        return "tls"
    return "read"
