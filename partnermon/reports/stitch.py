"""A report's parts, each a PDF of its own (partnermon.reports.parts), joined into one document with pypdf:
the pages in order, every link resolved, one outline of the headings, and "Page N of M" on every page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject, DecodedStreamObject, DictionaryObject, Fit, IndirectObject, NameObject, TextStringObject,
)

# The page number as report.css draws it in a single document: 8 pt, #5a6472, its right edge on the right
# margin (15 mm), its baseline in the middle of the 18 mm bottom margin. Helvetica has Liberation Sans's metrics.
PAGE_NUMBER_SIZE = 8.0
PAGE_NUMBER_RIGHT_PT = 15 / 25.4 * 72
PAGE_NUMBER_BASELINE_PT = 22.6
PAGE_NUMBER_COLOUR = b"0.353 0.392 0.447 rg"
_FONT_NAME = "/PartnermonPageNumber"
_HELVETICA_WIDTHS = {" ": 278, "P": 667, "a": 556, "g": 556, "e": 556, "o": 556, "f": 278} | dict.fromkeys("0123456789", 556)


@dataclass
class Bookmark:
    level: int          # 1 for h1 … 6 for h6, as WeasyPrint counts them
    label: str
    page: int           # index within its part
    left: float         # PDF points
    top: float


@dataclass
class RenderedPart:
    data: bytes
    pages: int
    anchors: dict[str, int]                       # anchor → page index within the part
    bookmarks: list[Bookmark] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def join(parts: list[RenderedPart]) -> bytes:
    """One PDF of ``parts`` in order (see ``Binding``)."""
    binding = Binding()
    for part in reversed(parts):
        binding.put_in_front(part)
    return binding.finish()


class Binding:
    """A PDF put together from the back: ``put_in_front`` each part, the last part first, then ``finish``. The
    front part's document information (title, language) is the whole's.

    Links: a part links to other parts' anchors through stand-ins of its own (``parts.with_stand_ins``). pypdf
    keeps a link to a named destination the joined document already has, and of two destinations with one
    name keeps the first it was given; so with the parts added last first, a link resolves to the real anchor
    in a later part. (A link back to an earlier part would resolve to its stand-in: the report has none, and a
    test compares every link with a single document's.) The back can be bound while the front is being laid
    out, which is why this is not one call."""

    def __init__(self) -> None:
        self.writer = PdfWriter()
        self.parts: list[RenderedPart] = []
        self.front: PdfReader | None = None

    def put_in_front(self, part: RenderedPart) -> None:
        self.front = PdfReader(io.BytesIO(part.data))
        self.writer.merge(0, self.front, import_outline=False)
        self.parts.insert(0, part)

    def finish(self) -> bytes:
        writer, first = self.writer, self.front
        _outline(writer, self.parts)
        _number_pages(writer)
        if first is not None and first.metadata:
            writer.add_metadata(dict(first.metadata))
        lang = first.trailer["/Root"].get("/Lang") if first is not None else None
        if lang is not None:
            writer._root_object[NameObject("/Lang")] = TextStringObject(str(lang))
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()


def _outline(writer: PdfWriter, parts: list[RenderedPart]) -> None:
    """The headings of every part as one outline, nested by level as WeasyPrint nests a single document's."""
    open_items: list[tuple[int, IndirectObject]] = []     # (level, item) from the outermost in
    offset = 0
    for part in parts:
        for mark in part.bookmarks:
            while open_items and open_items[-1][0] >= mark.level:
                open_items.pop()
            item = writer.add_outline_item(title=mark.label, page_number=offset + mark.page,
                                           parent=open_items[-1][1] if open_items else None,
                                           fit=Fit.xyz(left=mark.left, top=mark.top, zoom=0))
            open_items.append((mark.level, item))
        offset += part.pages


def page_number_text(number: int, total: int) -> str:
    return f"Page {number} of {total}"


def _number_pages(writer: PdfWriter) -> None:
    """Write "Page N of M" on every page: a content stream of its own after the page's, which runs inside q/Q
    so that whatever state the page's drawing leaves does not move or colour the number."""
    total = len(writer.pages)
    # pypdf has no public call for a new indirect object; streams and shared dictionaries must be indirect.
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"), NameObject("/Encoding"): NameObject("/WinAnsiEncoding")}))
    save, restore = writer._add_object(_stream(b"q\n")), writer._add_object(_stream(b"\nQ\n"))
    for index, page in enumerate(writer.pages):
        text = page_number_text(index + 1, total)
        width = sum(_HELVETICA_WIDTHS[ch] for ch in text) * PAGE_NUMBER_SIZE / 1000
        x = float(page.mediabox.right) - PAGE_NUMBER_RIGHT_PT - width
        number = writer._add_object(_stream(
            b"q %s BT %s %.2f Tf %.2f %.2f Td (%s) Tj ET Q\n"
            % (PAGE_NUMBER_COLOUR, _FONT_NAME.encode(), PAGE_NUMBER_SIZE, x, PAGE_NUMBER_BASELINE_PT, text.encode("ascii"))))
        contents = page.raw_get("/Contents") if "/Contents" in page else None
        drawn = contents.get_object() if contents is not None else ArrayObject()
        page[NameObject("/Contents")] = ArrayObject([save, *(drawn if isinstance(drawn, ArrayObject) else [contents]),
                                                     restore, number])
        if "/Resources" not in page:
            page[NameObject("/Resources")] = DictionaryObject()
        resources = page["/Resources"]
        if "/Font" not in resources:
            resources[NameObject("/Font")] = DictionaryObject()
        resources["/Font"][NameObject(_FONT_NAME)] = font

def _stream(data: bytes) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream
