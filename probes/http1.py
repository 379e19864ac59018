"""The HTTP/1.1 message format for ``probes.fetch``: building a request, and reading one response
(status line, headers, body framed by Content-Length, chunked coding or the end of the connection) into
a sink that stops at the byte cap — after decompressing, if the server compressed anyway.

Pure: no sockets here. ``probes.fetch`` owns the connection and hands ``ResponseReader`` a function
that returns the next bytes (enforcing the deadlines). Every problem is an ``HttpFormatError`` whose
text a practice owner can read; fetch adds the timings.
"""

from __future__ import annotations

import re
import zlib
from typing import Callable, Sequence

MAX_LINE = 16 * 1024          # one status or header line
MAX_HEAD = 128 * 1024         # all the response headers together
MAX_HEADERS = 256

# Headers fetch decides itself: framing, the connection, compression, who we are. A caller's copy of
# these is dropped rather than sent twice (a second Host or Content-Length is a smuggling risk).
RESERVED_HEADERS = frozenset({
    "host", "connection", "content-length", "transfer-encoding", "accept-encoding", "user-agent", "te",
    "upgrade", "keep-alive", "proxy-connection", "trailer", "expect",
})

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_STATUS = re.compile(rb"^HTTP/(\d)\.(\d) (\d{3})(?: (.*))?$")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


class HttpFormatError(ValueError):
    """The request could not be written, or the response could not be read. ``phase`` is the FetchError
    phase it belongs to ("request", "first_byte" or "read")."""

    def __init__(self, message: str, phase: str = "read") -> None:
        super().__init__(message)
        self.phase = phase


def build_request(method: str, path: str, authority: str, *, user_agent: str,
                  headers: Sequence[tuple[str, str]] = (), body: bytes | None = None) -> bytes:
    if not _TOKEN.match(method):
        raise HttpFormatError(f"“{method[:20]}” is not an HTTP method", "request")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {authority}", f"User-Agent: {user_agent}",
             "Accept-Encoding: identity", "Connection: close"]
    has_accept = False
    for name, value in headers:
        name, value = str(name).strip(), str(value).strip()
        if not _TOKEN.match(name):
            raise HttpFormatError(f"“{name[:40]}” is not a valid header name", "request")
        if any(c in value for c in "\r\n\0"):
            raise HttpFormatError(f"The {name} header has a line break in it", "request")
        lowered = name.lower()
        if lowered in RESERVED_HEADERS:
            continue
        has_accept = has_accept or lowered == "accept"
        lines.append(f"{name}: {value}")
    if not has_accept:
        lines.append("Accept: */*")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    head = "\r\n".join(lines) + "\r\n\r\n"
    try:
        raw = head.encode("latin-1")
    except UnicodeEncodeError:
        raw = head.encode("utf-8")       # what browsers do with non-Latin header text
    return raw + (body or b"")


def parse_status_line(line: bytes) -> tuple[int, str]:
    match = _STATUS.match(line.rstrip(b"\r\n"))
    if match is None:
        shown = line[:40].decode("latin-1").strip() or "an empty line"
        raise HttpFormatError(f"The server did not answer with HTTP (it sent “{shown}”)")
    return int(match.group(3)), (match.group(4) or b"").decode("latin-1").strip()


def parse_header_lines(lines: Sequence[bytes]) -> list[tuple[str, str]]:
    """Header lines (without the blank line) as (name, value); folded lines are joined, lines that
    are not headers are skipped as browsers do."""
    headers: list[tuple[str, str]] = []
    for raw in lines:
        line = raw.rstrip(b"\r\n").decode("latin-1")
        if line[:1] in (" ", "\t") and headers:                  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if sep and _TOKEN.match(name):
            headers.append((name, value.strip()))
    if len(headers) > MAX_HEADERS:
        raise HttpFormatError(f"The response has more than {MAX_HEADERS} headers")
    return headers


def header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def content_length(headers: Sequence[tuple[str, str]]) -> int | None:
    values = {v.strip() for k, v in headers if k.lower() == "content-length"}
    values = {part.strip() for v in values for part in v.split(",")}
    if not values:
        return None
    if len(values) > 1 or not next(iter(values)).isdigit():
        raise HttpFormatError("The response has an invalid Content-Length")
    return int(next(iter(values)))


def is_chunked(headers: Sequence[tuple[str, str]]) -> bool | None:
    """True for chunked, False for another transfer coding (read to the end), None when absent."""
    codings = [c.strip().lower() for k, v in headers if k.lower() == "transfer-encoding" for c in v.split(",")]
    codings = [c for c in codings if c]
    if not codings:
        return None
    return codings[-1] == "chunked"


def chunk_size(line: bytes) -> int:
    text = line.split(b";", 1)[0].strip()
    try:
        if not text or len(text) > 16:
            raise ValueError
        return int(text, 16)
    except ValueError:
        raise HttpFormatError("The response's chunked encoding is broken") from None


def charset_of(content_type: str | None) -> str | None:
    match = _CHARSET.search(content_type or "")
    return match.group(1) if match else None


class BodySink:
    """Collects at most ``cap`` bytes of body, decompressing gzip/deflate first if the server sent it
    compressed although we asked for identity — so the cap bounds what we hold, not what was sent."""

    def __init__(self, cap: int, content_encoding: str | None = None) -> None:
        self.cap = cap
        self.size = 0
        self.truncated = False
        self._parts: list[bytes] = []
        coding = (content_encoding or "").strip().lower()
        self._coding = coding if coding in ("gzip", "x-gzip", "deflate") else ""
        self._inflater = self._new_inflater(raw=False) if self._coding else None
        self._fed_any = False

    def _new_inflater(self, *, raw: bool) -> "zlib._Decompress":
        if raw:
            return zlib.decompressobj(-zlib.MAX_WBITS)
        # 32 + MAX_WBITS: accept a gzip or a zlib header ("deflate" in the wild means either)
        return zlib.decompressobj(32 + zlib.MAX_WBITS)

    @property
    def full(self) -> bool:
        return self.size >= self.cap

    def feed(self, data: bytes) -> None:
        if self.truncated or not data:
            return
        room = self.cap - self.size
        if self._inflater is not None:
            data = self._inflate(data, room + 1)     # one byte over the room tells us there was more
        if len(data) > room:
            data = data[:room]
            self.truncated = True
        if data:
            self._parts.append(data)
            self.size += len(data)

    def _inflate(self, data: bytes, limit: int) -> bytes:
        assert self._inflater is not None
        try:
            out = self._inflater.decompress(data, limit)
        except zlib.error:
            if self._fed_any or self._coding != "deflate":
                raise HttpFormatError(f"The page says it is compressed ({self._coding}) "
                                      "but it could not be decompressed") from None
            self._inflater = self._new_inflater(raw=True)           # raw deflate, no zlib header
            return self._inflate(data, limit)
        self._fed_any = True
        return out

    def body(self) -> bytes:
        return b"".join(self._parts)


# The words fetch's receive function gets, so a timeout can say what was going on.
WAITING = "waiting for the first byte"
HEADERS = "reading the headers"
BODY = "reading the page"


class ResponseReader:
    """One response, read from ``recv(doing)`` — which returns the next bytes, b"" at the end of the
    stream, and raises (fetch's errors) on timeouts. Reads no further than the message needs."""

    def __init__(self, recv: Callable[[str], bytes]) -> None:
        self._recv = recv
        self._buf = bytearray()
        self.eof = False

    def _fill(self, doing: str) -> bool:
        if self.eof:
            return False
        data = self._recv(doing)
        if not data:
            self.eof = True
            return False
        self._buf += data
        return True

    def readline(self, doing: str) -> bytes | None:
        """The next line including its end, or None if the stream ends first."""
        start = 0
        while True:
            end = self._buf.find(b"\n", start)
            if end >= 0:
                line = bytes(self._buf[:end + 1])
                del self._buf[:end + 1]
                return line
            if len(self._buf) > MAX_LINE:
                raise HttpFormatError("The response has a line too long to be HTTP")
            start = len(self._buf)
            if not self._fill(doing):
                return None

    def read_some(self, most: int, doing: str) -> bytes:
        """Up to ``most`` bytes; b"" at the end of the stream."""
        if not self._buf and not self._fill(doing):
            return b""
        chunk = bytes(self._buf[:most])
        del self._buf[:most]
        return chunk

    def read_head(self, on_status_line: Callable[[], None]) -> tuple[int, str, list[tuple[str, str]]]:
        """Status, reason and headers of the final response (1xx interim responses are skipped).
        ``on_status_line`` is called when the first status line has arrived (the first-byte time)."""
        first = True
        while True:
            line = self.readline(WAITING if first else HEADERS)
            for _ in range(4):                         # tolerate a few stray blank lines before it
                if line not in (b"\r\n", b"\n"):
                    break
                line = self.readline(WAITING if first else HEADERS)
            if line is None:
                raise HttpFormatError("The server closed the connection without answering",
                                      "first_byte" if first else "read")
            if first:
                on_status_line()
                first = False
            status, reason = parse_status_line(line)
            lines: list[bytes] = []
            size = 0
            while True:
                line = self.readline(HEADERS)
                if line is None:
                    raise HttpFormatError("The connection closed in the middle of the response headers")
                if line in (b"\r\n", b"\n"):
                    break
                size += len(line)
                if size > MAX_HEAD:
                    raise HttpFormatError("The response headers are too large")
                lines.append(line)
            headers = parse_header_lines(lines)
            if not 100 <= status < 200 or status == 101:     # 100 Continue, 103 Early Hints: more to come
                return status, reason, headers

    def read_body(self, status: int, method: str, headers: list[tuple[str, str]], cap: int) -> tuple[bytes, bool]:
        """The body (at most ``cap`` bytes) and whether it was cut there."""
        if method == "HEAD" or status in (204, 304) or status < 200:
            return b"", False
        sink = BodySink(cap, header(headers, "content-encoding"))
        chunked = is_chunked(headers)
        length = content_length(headers) if chunked is None else None
        if chunked:
            self._read_chunked(sink)
        elif length is not None:
            left = length
            while left > 0 and not sink.full:
                data = self.read_some(min(left, 65536), BODY)
                if not data:
                    raise HttpFormatError(f"The connection closed after {length - left:,} of {length:,} bytes")
                left -= len(data)
                sink.feed(data)
            sink.truncated = sink.truncated or left > 0
        else:                                          # the body ends when the connection does
            while not sink.full:
                data = self.read_some(65536, BODY)
                if not data:
                    break
                sink.feed(data)
            # Stopped at the cap before the end: we cannot know whether more was coming, so say cut.
            sink.truncated = sink.truncated or (sink.full and not self.eof)
        return sink.body(), sink.truncated

    def _read_chunked(self, sink: BodySink) -> None:
        broken = "The connection closed in the middle of the page"
        while True:
            line = self.readline(BODY)
            if line is None:
                raise HttpFormatError(broken)
            size = chunk_size(line)
            if size == 0:
                return                                 # trailers are of no interest
            while size > 0:
                if sink.full:
                    sink.truncated = True
                    return
                data = self.read_some(min(size, 65536), BODY)
                if not data:
                    raise HttpFormatError(broken)
                size -= len(data)
                sink.feed(data)
            if self.readline(BODY) is None:
                raise HttpFormatError(broken)
