"""A long report laid out in parts on a pool of processes and joined (partnermon.reports.parts and .stitch):
it must read as the very document WeasyPrint makes of the whole report at once — the same text on every page,
contents numbers included, the same outline and every link landing on the same page — with each page numbered.
"""

from __future__ import annotations

import io
import os
import signal

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from partnermon.demo import generate
from partnermon.models import Practice
from partnermon.reports import content, parts
from partnermon.reports.render import css_string, render_html
from partnermon.scoring.periods import last_months
from tests.conftest import NOW


@pytest.fixture()
def long_report(session: Session) -> content.MonthlyReport:
    generate(session, NOW, slug="long", partners=parts.PARTS_FROM_SECTIONS + 2, touchpoints=24, months=3, responses=500)
    session.commit()
    practice = session.query(Practice).filter_by(slug="long").one()
    return content.gather(session, NOW, practice, last_months(NOW, practice.timezone, 2)[0])


def texts(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


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
            if annotation.get("/Subtype") == "/Link" and isinstance(annotation.get("/Dest"), str):
                destination = named.get(str(annotation["/Dest"]))
                found.append((index, reader.get_destination_page_number(destination) if destination else None))
    return found


def test_a_long_report_in_parts_is_the_document_rendered_whole(long_report: content.MonthlyReport) -> None:
    plan = parts.plan(long_report, 2)
    assert plan is not None and len(plan.body) >= 3     # the summary and at least two parts of partners
    whole = parts.render_report(long_report, processes=1)
    split = parts.render_report(long_report, processes=2)

    assert split.pages == whole.pages and not split.refused
    assert texts(split.data) == texts(whole.data)       # contents numbers, running heads and page numbers too
    one, joined = PdfReader(io.BytesIO(whole.data)), PdfReader(io.BytesIO(split.data))
    assert outline(joined) == outline(one) and len(outline(one)) > 3 * len(long_report.sections)
    links = link_targets(joined)
    assert links == link_targets(one)
    assert len(links) > 2 * len(long_report.sections) and None not in {target for _, target in links}
    assert joined.metadata is not None and joined.metadata.title == long_report.title
    assert joined.trailer["/Root"]["/Lang"] == "en"


def test_every_page_is_numbered_out_of_the_total(long_report: content.MonthlyReport) -> None:
    pdf = parts.render_report(long_report, processes=2)
    pages = texts(pdf.data)
    assert len(pages) == pdf.pages
    for number, text in enumerate(pages, start=1):
        assert text.rstrip().endswith(f"Page {number} of {pdf.pages}"), number


def test_the_contents_page_gives_each_partner_the_page_its_section_starts_on(long_report: content.MonthlyReport) -> None:
    pdf = parts.render_report(long_report, processes=2)
    reader = PdfReader(io.BytesIO(pdf.data))
    starts = {title: page for _depth, title, page in outline(reader)}
    contents = " ".join(texts(pdf.data)[1].split())
    for section in long_report.sections:
        assert f"{section.name} {starts[section.name] + 1}" in contents, section.name


def test_the_plan_keeps_short_reports_whole_and_cuts_long_ones_at_partners(long_report: content.MonthlyReport) -> None:
    assert parts.plan(long_report, 1) is None
    plan = parts.plan(long_report, 2)
    assert plan is not None and plan.front.front and plan.body[0].summary
    partner_parts = plan.body[1:]
    assert [s for p in partner_parts for s in p.sections] == list(long_report.sections)
    assert [p.first_partners for p in partner_parts] == [True] + [False] * (len(partner_parts) - 1)
    assert [p.appendix for p in partner_parts] == [False] * (len(partner_parts) - 1) + [True]
    long_report.sections = long_report.sections[:parts.PARTS_FROM_SECTIONS - 1]
    assert parts.plan(long_report, 4) is None


def test_a_part_gets_stand_ins_only_for_the_anchors_it_links_to_but_lacks() -> None:
    html = '<html><body><a href="#here">a</a><a href="#there">b</a><a href="#x&quot;y">c</a><p id="here"></p></body></html>'
    marked, stand_ins = parts.with_stand_ins(html)
    assert stand_ins == {"there", "x&quot;y"}
    assert '<i id="there"></i>' in marked and '<i id="x&amp;quot;y"></i>' in marked
    assert marked.count('id="here"') == 1 and marked.endswith("</div>\n</body></html>")
    assert parts.with_stand_ins('<body><a href="#a">a</a><b id="a"></b></body>') == (
        '<body><a href="#a">a</a><b id="a"></b></body>', frozenset())


def test_the_running_head_is_the_practice_name_as_typed_whatever_it_holds(session: Session) -> None:
    name = 'Quote " Back \\ Brace } </style><script>alert(1)</script> Æsir'
    assert css_string('a "\\</') == '"a\\000020\\000022\\00005c\\00003c\\00002f"'
    generate(session, NOW, slug="odd", partners=2, touchpoints=2, months=1, responses=20)
    practice = session.query(Practice).filter_by(slug="odd").one()
    practice.name = name
    session.commit()
    report = content.gather(session, NOW, practice, last_months(NOW, practice.timezone, 2)[0])
    html = render_html(report)
    assert "<script>" not in html
    pdf = parts.render_report(report, processes=2)
    contents = texts(pdf.data)[1]
    assert f"{name} · {report.period.label}" in contents and "Contents" in contents


def test_a_rendering_process_that_dies_fails_the_report_and_the_next_one_renders(
        long_report: content.MonthlyReport) -> None:
    parts.render_report(long_report, processes=2)
    for pid in list(parts._pool(2)._processes):  # type: ignore[union-attr]
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match="rendering process stopped"):
        parts.render_report(long_report, processes=2)
    again = parts.render_report(long_report, processes=2)
    assert again.pages > len(long_report.sections)
