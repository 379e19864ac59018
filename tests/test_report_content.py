"""The monthly report's content and rendering (issue 7): real PDFs drawn by WeasyPrint, read back with pypdf.

The report must show the dashboard's numbers for the same month, escape whatever users typed, keep long words
and other scripts on the page, say something useful for an empty month, paginate 60 partners, and load
nothing but its own assets.
"""

from __future__ import annotations

import io
import re
import time
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from partnermon.demo import generate
from partnermon.models import FollowUp, Practice
from partnermon.reports import content, render
from partnermon.reports.render import RefusedURL, ReportURLFetcher, render_html, render_pdf, render_report
from partnermon.scoring import board as board_
from partnermon.scoring.periods import month_of
from tests import factories
from tests.conftest import NOW
from tests.factories import Cast
from tests.probe_servers import ProbeServer
from tests.scoring_fixtures import harbour_november, respond, respond_many, utc

NOVEMBER = date(2026, 11, 1)


def november(practice: Practice):  # type: ignore[no-untyped-def]
    return month_of(NOVEMBER, practice.timezone)


def pdf_of(session: Session, practice: Practice, period=None):  # type: ignore[no-untyped-def]
    report = content.gather(session, NOW, practice, period or november(practice))
    html = render_html(report)
    return report, html, render_report(report)   # as the worker makes it


def pages_text(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def folded(text: str) -> str:
    return " ".join(text.split())


# --- sections, contents, numbers ---------------------------------------------------------------------------

def test_it_renders_every_section_with_contents_page_numbers_and_running_header(session: Session) -> None:
    generate(session, NOW, months=2, partners=3, touchpoints=6, responses=100)
    session.commit()
    practice = session.query(Practice).filter_by(slug="demo").one()
    report, html, pdf = pdf_of(session, practice)

    assert '<html lang="en">' in html
    assert f"<title>{report.title}</title>" in html
    reader = PdfReader(io.BytesIO(pdf.data))
    assert reader.metadata is not None and reader.metadata.title == report.title
    assert pdf.pages == len(reader.pages) and not pdf.refused
    texts = pages_text(pdf.data)
    whole = folded(" ".join(texts))
    for heading in ("Contents", "Summary", "Partner league table", "Doing the most damage to your brand",
                    "Biggest changes since Oct 2026", "How partnermon scores partners", "Moments of truth"):
        assert heading in whole
    assert practice.name in texts[0] and "November 2026" in texts[0]
    # The running header comes from report.css's @page boxes (it was loaded); and so do page numbers.
    assert f"Page 2 of {pdf.pages}" in texts[1] and practice.name in texts[1]
    contents = folded(texts[1])
    starts = section_pages(reader)
    for section in report.sections:
        # Each contents line ends in the number of the page its section starts on.
        assert re.search(rf"{re.escape(section.name)}[ .]*{starts[section.name] + 1}\b", contents), section.name


def test_league_table_numbers_are_the_dashboards_for_the_same_month(session: Session, cast: Cast) -> None:
    harbour_november(session, cast, NOW)
    report, html, pdf = pdf_of(session, cast.harbour)
    dashboard = board_.build(session, NOW, cast.harbour, november(cast.harbour))

    assert [s.partner.id for s in report.board.scores] == [s.partner.id for s in dashboard.scores]
    league = folded(next(t for t in pages_text(pdf.data) if "Partner league table" in t and "Brand" in t))
    for mine, theirs in zip(report.board.scores, dashboard.scores):
        assert mine.damage == theirs.damage and mine.index == theirs.index
        assert mine.feedback == theirs.feedback and mine.probes.bh_availability == theirs.probes.bh_availability
        # The twelve-month history's last month is the board's month, to the last digit.
        section = next(s for s in report.sections if s.score.partner.id == theirs.partner.id)
        assert section.trends.scores[-1].damage == theirs.damage
        assert section.trends.periods[-1] == dashboard.period
        if theirs.damage is not None:
            assert theirs.damage.value is not None and theirs.index is not None and theirs.index.value is not None
            assert f"{theirs.damage.value:.1f}" in league and f"{theirs.index.value:.0f}" in league
        if theirs.probes.bh_availability.value is not None:
            assert f"{theirs.probes.bh_availability.value * 100:.2f} %" in league
    acme = next(s for s in dashboard.scores if s.partner.id == cast.acme.id)
    assert f"{acme.feedback.dissatisfaction.value * 100:.0f} %" in league and f"n={acme.feedback.n}" in league
    assert "not enough answers yet (0 of 5)" in league   # Coral: none; Beacon's NPS: nobody answered recommend
    assert "too little feedback" in league
    # Quay's partner never appears in Harbour's report.
    assert "Zenith" not in html


def test_summary_counts_follow_ups_and_business_hours_outages(session: Session, cast: Cast) -> None:
    harbour_november(session, cast, NOW)
    # The fixture sets statuses only; give them the times the follow-up service would have stamped.
    for row in session.query(FollowUp).filter_by(practice_id=cast.harbour.id):
        if row.status != "open":
            row.contacted_at = row.contact_due_at - timedelta(hours=1)
        if row.status == "resolved":
            row.resolved_at = row.contacted_at
    session.commit()
    report = content.gather(session, NOW, cast.harbour, november(cast.harbour))
    dashboard = board_.build(session, NOW, cast.harbour, november(cast.harbour))

    # The fixture's four follow-ups were opened in November; one is resolved; one fell due an hour ago uncontacted
    # (two were contacted in time, the last is not due yet).
    assert (report.follow_ups.opened, report.follow_ups.closed, report.follow_ups.overdue) == (4, 1, 1)
    # Outages outside maintenance, as the scores count them; 30 min in business hours plus the open one's so far.
    assert report.incidents.outages == sum(s.probes.incidents for s in dashboard.scores) == 2
    assert report.incidents.in_business_hours >= 1 and report.incidents.bh_seconds >= 1800
    assert report.top_damage and report.top_damage[0].score.partner.id == cast.acme.id
    assert report.top_damage[0].why.startswith("Worst at Claims and hardship (high stake)")


# --- what users typed ----------------------------------------------------------------------------------------

def test_user_text_is_escaped_and_never_fetched(session: Session, cast: Cast) -> None:
    with ProbeServer() as server:
        server.route("/tracker.png", body=b"not an image")
        evil = factories.partner(session, NOW, cast.harbour, "<script>alert(1)</script>", exposure="10")
        tracker = f'<img src="{server.url("/tracker.png")}">'
        answer = respond(session, evil, utc(2026, 11, 5), "claim", satisfaction=1)
        answer.comment = f"<b>bold</b> and {tracker} end"
        respond_many(session, evil, utc(2026, 11, 6), 5, "claim", satisfaction=2)
        cast.harbour.name = f"Harbour {tracker}"
        session.commit()
        report, html, pdf = pdf_of(session, cast.harbour)

    assert "<script>" not in html and "<b>bold" not in html and "<img src=\"http" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    whole = folded(" ".join(pages_text(pdf.data)))
    assert "<script>alert(1)</script>" in whole
    assert "<b>bold</b> and" in whole
    assert server.requests == [] and pdf.refused == []


def test_long_words_and_greek_and_cyrillic_names_stay_on_the_page(session: Session, cast: Cast) -> None:
    names = ["Страхование Жизни «Ромашка»", "Ασφαλιστική Ωμέγα"]
    long_word = "Unbelievably" * 25
    for name in names:
        partner = factories.partner(session, NOW, cast.harbour, name, exposure="50")
        answer = respond(session, partner, utc(2026, 11, 5), "claim", satisfaction=1)
        answer.comment = f"{long_word} https://example.test/{'a' * 200}"
        respond_many(session, partner, utc(2026, 11, 6), 5, "claim", satisfaction=4)
    session.commit()
    report, html, pdf = pdf_of(session, cast.harbour)

    reader = PdfReader(io.BytesIO(pdf.data))
    whole = folded(" ".join(pages_text(pdf.data)))
    for name in names:
        assert name in whole
    assert long_word in "".join(whole.split())       # all of it, broken across lines
    for page in reader.pages:
        # No line of text runs on past the page: the long word was wrapped into lines of the column's width.
        lines = [re.sub(r"\.{4,}", " … ", line) for line in (page.extract_text() or "").splitlines()]   # contents leaders
        longest = max(lines, key=len, default="")
        assert len(longest) < 160, longest


def test_comments_leave_out_the_clients_name_email_and_phone(session: Session, cast: Cast) -> None:
    for i in range(5):
        answer = respond(session, cast.acme, utc(2026, 11, 5, i), "claim", satisfaction=1 + i % 5)
        answer.comment = "Ask Marjorie Quill on 07700 900123 or marjorie@home.test, she waited weeks"
        answer.client_name, answer.client_email = "Marjorie Quill", "mq@home.test"
    session.commit()
    report, html, pdf = pdf_of(session, cast.harbour)

    section = next(s for s in report.sections if s.score.partner.id == cast.acme.id)
    assert len(section.comments) == 4                    # the most negative, the most positive, two more
    assert section.comments[0].why_chosen == "most negative" and section.comments[0].satisfaction == 1
    whole = " ".join(pages_text(pdf.data))
    for secret in ("Marjorie", "Quill", "07700", "marjorie@home.test", "mq@home.test"):
        assert secret not in whole and secret not in html
    assert "she waited weeks" in folded(whole)


# --- an empty month, and sixty partners ------------------------------------------------------------------------

def test_a_month_with_no_data_is_a_short_report_on_how_to_start(session: Session, cast: Cast) -> None:
    report, html, pdf = pdf_of(session, cast.harbour, month_of(date(2026, 10, 1), cast.harbour.timezone))

    assert report.empty and pdf.pages <= 4
    whole = folded(" ".join(pages_text(pdf.data)))
    assert "No feedback yet: how to start" in whole and "Set up probes" in whole and "Ask your clients" in whole
    assert "Acme Insurance" in whole
    assert "Partner league table" not in whole


def test_only_calendar_months_make_a_report(session: Session, cast: Cast) -> None:
    from partnermon.scoring.periods import rolling

    with pytest.raises(ValueError, match="calendar month"):
        content.gather(session, NOW, cast.harbour, rolling(NOW, cast.harbour.timezone))


def test_sixty_partners_each_start_a_page_and_are_all_in_the_contents(session: Session) -> None:
    generate(session, NOW, slug="big", partners=60, touchpoints=60, months=1, responses=300)
    session.commit()
    practice = session.query(Practice).filter_by(slug="big").one()
    started = time.perf_counter()
    report, html, pdf = pdf_of(session, practice)
    print(f"60 partners: {pdf.pages} pages, {len(pdf.data):,} bytes in {time.perf_counter() - started:.1f} s")

    assert len(report.sections) == 60 and pdf.pages >= 61
    marks = section_pages(PdfReader(io.BytesIO(pdf.data)))
    starts = [marks[s.name] for s in report.sections]
    assert len(set(starts)) == 60 and starts == sorted(starts)
    texts = pages_text(pdf.data)
    contents = folded(" ".join(t for t in texts[:4] if "Contents" in t or "Partners" in t))
    assert all(s.name in contents for s in report.sections)
    for section, page in zip(report.sections, starts):
        assert section.name in folded(texts[page]).split(" Page ")[0]


def section_pages(reader: PdfReader) -> dict[str, int]:
    """Heading → page index, from the bookmarks WeasyPrint makes of every heading."""
    return {item.title: reader.get_destination_page_number(item) for item in _flatten(reader.outline)}


def _flatten(outline):  # type: ignore[no-untyped-def]
    for item in outline:
        if isinstance(item, list):
            yield from _flatten(item)
        else:
            yield item


# --- the URL fetcher --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://127.0.0.1/", "https://example.com/x.css", "file:///etc/passwd",
                                 "partnermon-asset:../paths.py", "partnermon-asset:app.css/../../../etc/passwd",
                                 "partnermon-asset:nothing-here.css", "ftp://127.0.0.1/x"])
def test_the_fetcher_refuses_anything_but_its_own_assets(url: str) -> None:
    fetcher = ReportURLFetcher()
    with pytest.raises(RefusedURL):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_the_fetcher_serves_report_css_and_data_uris() -> None:
    fetcher = ReportURLFetcher()
    css = fetcher.fetch(render.PDF_STYLESHEET)
    assert b"@page" in css.read() and css.content_type == "text/css"
    image = fetcher.fetch("data:image/png;base64,iVBORw0KGgo=")
    assert image.read() == b"\x89PNG\r\n\x1a\n" and image.content_type == "image/png"


def test_rendering_refuses_loopback_and_local_files_and_loads_its_stylesheet() -> None:
    with ProbeServer() as server:
        server.route("/style.css", body=b"body { color: red }", headers={"Content-Type": "text/css"})
        html = (f'<html lang="en"><head><title>t</title><link rel="stylesheet" href="{render.PDF_STYLESHEET}">'
                f'<link rel="stylesheet" href="{server.url("/style.css")}"><link rel="stylesheet" href="file:///etc/passwd">'
                f'</head><body><h2 class="section-title">Hello</h2><img src="{server.url("/x.png")}">'
                '<img src="file:///etc/hostname"></body></html>')
        pdf = render_pdf(html)
    assert server.requests == []
    assert sorted(pdf.refused) == sorted([server.url("/style.css"), "file:///etc/passwd", server.url("/x.png"),
                                          "file:///etc/hostname"])
    assert pages_text(pdf.data)[0].count("Hello") == 2      # the heading and report.css's running head


def test_a_logo_is_embedded_only_as_the_image_types_an_upload_may_have(session: Session, cast: Cast) -> None:
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
           b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
    cast.harbour.logo, cast.harbour.logo_mime = png, "image/png"
    session.commit()
    report, html, pdf = pdf_of(session, cast.harbour)
    assert report.logo_uri is not None and report.logo_uri.startswith("data:image/png;base64,")
    assert pdf.refused == []

    # Written straight into the column (set_logo refuses SVG): an SVG that would fetch local files is dropped.
    cast.harbour.logo = b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>'
    for mime in ("image/svg+xml", 'image/png" onerror="x', "text/html"):
        cast.harbour.logo_mime = mime
        session.commit()
        report, html, pdf = pdf_of(session, cast.harbour)
        assert report.logo_uri is None and "data:" not in html and pdf.refused == []


def test_the_preview_links_the_stylesheet_by_url_and_carries_the_nonce(session: Session, cast: Cast) -> None:
    harbour_november(session, cast, NOW)
    report = content.gather(session, NOW, cast.harbour, november(cast.harbour))
    html = render_html(report, stylesheet_href="/static/report.css", nonce="n0nce")
    assert '<link rel="stylesheet" href="/static/report.css">' in html and render.ASSET_SCHEME not in html
    styles = re.findall(r"<style\b[^>]*>", html)
    assert styles and all('nonce="n0nce"' in tag for tag in styles)


def test_report_month_helper_counts_back_twelve_months() -> None:
    months = content.months_ending(month_of(date(2026, 2, 1), "Australia/Sydney"))
    assert [m.key for m in months][:2] == ["2025-03", "2025-04"] and months[-1].key == "2026-02" and len(months) == 12
    assert months[-1].start == utc(2026, 1, 31, 13) and months[0].end - months[0].start >= timedelta(days=30)
