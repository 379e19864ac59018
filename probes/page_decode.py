"""From a response body to text a page reader can read — or a plain reason why not.

A body is refused only when it is not a page at all (a PDF, an image, a JSON API answer, binary); text
that is not UTF-8 is decoded as a browser would (the declared charset, a byte-order mark, a ``<meta
charset>``, else windows-1252) and said so, and an over-long page is cut with a note.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

MAX_PAGE_CHARS = 2_000_000
_PAGE_TYPES = {"", "text/html", "application/xhtml+xml", "text/plain"}
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9_.:-]{1,40})", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_MAGIC = ((b"%PDF-", "a PDF document"), (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
          (b"GIF8", "a GIF image"), (b"PK\x03\x04", "a ZIP archive"), (b"\x1f\x8b", "gzip-compressed data"))


@dataclass
class Decoded:
    text: str | None                      # None: refused
    refused: str | None = None            # why it is not judged, in plain words
    notes: list[str] = field(default_factory=list)


def decode_page(body: str | bytes, content_type: str | None = None) -> Decoded:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in _PAGE_TYPES and not media.startswith("text/"):
        return Decoded(None, f"not a web page: the server said it is {media}")
    if isinstance(body, str):
        return _cut(Decoded(body))
    head = body[:8]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return Decoded(None, f"not a web page: it is {what}")
    if b"\x00" in body[:1024] and not body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Decoded(None, "not a web page: it is binary data, not text")  # as browsers sniff: text has no NUL
    return _cut(_decode(body, content_type))


def _decode(body: bytes, content_type: str | None) -> Decoded:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return Decoded(body.decode(codec, "replace"))
    declared = _known(_CHARSET.search(content_type or "")) or _known(_META_CHARSET.search(body[:4096]))
    if declared:
        return Decoded(body.decode(declared, "replace"))
    try:
        return Decoded(body.decode("utf-8"))
    except UnicodeDecodeError:
        # What browsers assume for an undeclared page that is not UTF-8 (the WHATWG default for Latin text).
        return Decoded(body.decode("cp1252", "replace"), notes=["not UTF-8 and no charset given: read as windows-1252"])


def _known(match: re.Match | None) -> str | None:
    if match is None:
        return None
    name = match.group(1)
    name = name.decode("ascii", "replace") if isinstance(name, bytes) else name
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return "cp1252" if codec in ("latin-1", "iso8859-1") else codec  # browsers read "latin-1" as windows-1252


def _cut(decoded: Decoded) -> Decoded:
    if decoded.text is not None and len(decoded.text) > MAX_PAGE_CHARS:
        decoded.notes.append(f"only the first {MAX_PAGE_CHARS:,} characters of {len(decoded.text):,} were read")
        decoded.text = decoded.text[:MAX_PAGE_CHARS]
    return decoded
