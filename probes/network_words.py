"""Plain words for what goes wrong on the network: errno values, failed name lookups, deadlines.

Pure text helpers for ``probes.fetch`` (and the kinds that speak of time limits); no sockets here.
``failure_words`` reads the errors requests, urllib3, http.client and the socket raise, without raising any.
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
from typing import Any

import urllib3.exceptions


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


def causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: requests wraps urllib3's errors, which wrap http.client's and the socket's."""
    found: list[BaseException] = []
    todo: list[Any] = [exc]
    while todo and len(found) < 16:
        error = todo.pop(0)
        if not isinstance(error, BaseException) or any(error is seen for seen in found):
            continue
        found.append(error)
        todo += [error.__cause__, error.__context__, getattr(error, "reason", None), *error.args]
    return found


def failure_words(exc: BaseException, doing: str, read_timeout: float) -> tuple[str, str]:
    """(phase, sentence) for an error raised while ``doing`` (fetch's words: "waiting for the first byte",
    "reading the page", ...) — the total deadline is fetch's to judge, before asking here."""
    found = causes(exc)

    def first(*types: type[BaseException]) -> Any:
        return next((e for e in found if isinstance(e, types)), None)

    waiting = doing.startswith("waiting")
    if first(TimeoutError, urllib3.exceptions.TimeoutError):
        limit = seconds(read_timeout)
        return phase_of(doing), (f"No first byte within {limit}" if waiting else f"No data for {limit} while {doing}")
    if waiting and first(http.client.RemoteDisconnected):
        return "first_byte", "The server closed the connection without answering"
    not_http = first(http.client.BadStatusLine)
    if not_http is not None:
        shown = str(not_http.line)[:40].strip() or "an empty line"
        return "read", f"The server did not answer with HTTP (it sent “{shown}”)"
    if first(http.client.LineTooLong):
        return "read", "The response has a line too long to be HTTP"
    if first(urllib3.exceptions.InvalidChunkLength):
        return "read", "The response's chunked encoding is broken"
    if first(urllib3.exceptions.DecodeError):
        return "read", "The page says it is compressed but it could not be decompressed"
    other = first(http.client.HTTPException)
    if other is not None:
        if "headers" in str(other):                               # http.client: "got more than 100 headers"
            return "read", "The response has too many headers"
        return "read", "The connection closed in the middle of the page"
    broken = first(OSError)
    words = ("the secure connection broke" if isinstance(broken, ssl.SSLError)
             else error_words(broken) if broken is not None else "the connection broke")
    return phase_of(doing), f"The connection failed while {doing}: {words}"
