"""A long report is one WeasyPrint document (partnermon.reports.render.render_report): its page numbers, running
head, contents numbers, outline and internal links all come from report.css and the headings. Read back per page
with pypdf: every page reads "Page i of N", each contents number is the page its section starts on, every
heading is in the outline, every link lands on a page, and the practice's name heads each page as typed.
"""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from partnermon.demo import generate
from partnermon.models import Practice
from partnermon.reports import content
from partnermon.reports.render import RenderedPdf, render_html, render_report
from partnermon.scoring.periods import last_months
from tests.conftest import NOW

PARTNERS = 12


@pytest.fixture()
def long_report(session: Session) -> tuple[content.MonthlyReport, RenderedPdf]:
    generate(session, NOW, slug="long", partners=PARTNERS, touchpoints=24, months=3, responses=500)
    session.commit()
    practice = session.query(Practice).filter_by(slug="long").one()
    report = content.gather(session, NOW, practice, last_months(NOW, practice.timezone, 2)[0])
    return report, render_report(report)


def texts(data: bytes) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages]


def outline(reader: PdfReader) -> list[tuple[int, str, int | None]]:
    def walk(items, depth):  # type: ignore[no-untyped-def]
        for item in items:
            if isinstance(item, list):
                yield from walk(item, depth + 1)
            else:
                yield depth, item.title, reader.get_destination_page_number(item)
    return list(walk(reader.outline, 0))


def link_targets(reader: PdfReader) -> list[tuple[int, int | None]]:
    """(page of the link, page it lands on) for every internal link, in order."""
    named = reader.named_destinations
    found = []
    for index, page in enumerate(reader.pages):
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") != "/Link":
                continue
            dest = annotation.get("/Dest")
            if dest is None and "/A" in annotation:
                dest = annotation["/A"].get_object().get("/D")
            if isinstance(dest, str):
                destination = named.get(str(dest))
                found.append((index, reader.get_destination_page_number(destination) if destination else None))
            elif dest is not None:
                found.append((index, reader.get_page_number(dest[0].get_object())))
    return found


def test_every_page_is_numbered_out_of_the_total(long_report) -> None:  # type: ignore[no-untyped-def]
    report, pdf = long_report
    pages = texts(pdf.data)
    assert len(pages) == pdf.pages > 2 * PARTNERS and not pdf.refused
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {pdf.pages}" in text, number
        assert f"Page {number + 1} of" not in text


def test_the_contents_page_gives_each_section_the_page_it_starts_on(long_report) -> None:  # type: ignore[no-untyped-def]
    report, pdf = long_report
    reader = PdfReader(io.BytesIO(pdf.data))
    pages = texts(pdf.data)
    starts = {title: page for _depth, title, page in outline(reader)}
    contents = pages[1]
    assert "Contents" in contents
    for title in ("Summary", "Partner league table", *[s.name for s in report.sections]):
        page = starts[title]
        assert page is not None and f"{title} {page + 1}" in contents, title
        assert title in pages[page], title                          # the section does start there
    appendix = next(page for _depth, title, page in outline(reader) if title.startswith("Early warnings: how we know")
                    or title.startswith("How partnermon scores"))   # the appendix's first heading
    assert appendix is not None and f"Appendix: how the scores work {appendix + 1}" in contents


def test_the_outline_holds_every_heading_nested_and_every_link_lands(long_report) -> None:  # type: ignore[no-untyped-def]
    report, pdf = long_report
    reader = PdfReader(io.BytesIO(pdf.data))
    marks = outline(reader)
    assert len(marks) > 3 * PARTNERS
    # The cover's h1 (the practice) holds the chapters' h2s, which hold their h3s.
    assert [title for depth, title, _page in marks if depth == 0] == [report.practice_name]
    chapters = [title for depth, title, _page in marks if depth == 1]
    assert "Contents" in chapters and "Summary" in chapters
    assert all(section.name in chapters for section in report.sections)
    assert any(depth == 2 and title == "Moments of truth" for depth, title, _page in marks)
    starts = [page for _depth, title, page in marks if title in {s.name for s in report.sections}]
    assert starts == sorted(starts) and len(set(starts)) == PARTNERS
    links = link_targets(reader)
    assert len(links) > 2 * PARTNERS and None not in {target for _, target in links}
    # The contents page's links land on the pages its numbers give.
    from_contents = {target for page, target in links if page == 1}
    assert set(starts) <= from_contents
    assert reader.metadata is not None and reader.metadata.title == report.title
    assert reader.trailer["/Root"]["/Lang"] == "en"


def test_the_running_head_is_the_practice_name_as_typed_whatever_it_holds(session: Session) -> None:
    name = 'Quote " Back \\ Brace } </style><script>alert(1)</script> Æsir Ωμέγα Київ'
    generate(session, NOW, slug="odd", partners=2, touchpoints=2, months=1, responses=20)
    practice = session.query(Practice).filter_by(slug="odd").one()
    practice.name = name
    session.commit()
    report = content.gather(session, NOW, practice, last_months(NOW, practice.timezone, 2)[0])
    html = render_html(report)
    assert "<script>" not in html and "</style><script>" not in html
    pdf = render_report(report)
    pages = texts(pdf.data)
    assert "Contents" in pages[1]
    for text in pages[1:]:
        assert f"{name} · {report.period.label}" in text
