"""The monthly report as HTML (one template, ``templates/reports/monthly.html``, for the PDF and the browser
preview alike) and as a PDF drawn by WeasyPrint: one document, laid out once. Page numbers, the running head,
the contents page's numbers, the outline and internal links are all WeasyPrint's own, from report.css
(``counter(page)``, ``string-set``, ``target-counter()``, headings' bookmarks); nothing edits the PDF afterwards.
A long report takes longer; reports are claimed rows, so several workers render different practices side by side.

WeasyPrint fetches whatever a document references, so it gets a URL fetcher that answers only for the
project's own report assets (``partnermon-asset:report.css``, files directly in ``partnermon/static``) and
for ``data:`` URIs (the practice's logo). Every other URL — http(s), file:, anything a partner name or a
comment might smuggle in — is refused with an exception, which WeasyPrint logs and skips. User text is
escaped by the template (autoescape); the fetcher is the second wall, not the first.
"""

from __future__ import annotations

import base64
import html
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.request import DataHandler, Request

from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from partnermon.followups import measures as loop_measures
from partnermon.mail import rendering
from partnermon.monitoring.status import describe_duration
from partnermon.paths import STATIC_DIR
from partnermon.promises.verdicts import describe_target, scope_label
from partnermon.reports.content import MonthlyReport
from partnermon.reports.sections import PartnerSection
from partnermon.scoring.charts import damage_chart as ranking_chart
from partnermon.scoring.partner_page import TREND_CHARTS, trend_chart_title, trend_charts

ASSET_SCHEME = "partnermon-asset:"
STYLESHEET = "report.css"
PDF_STYLESHEET = ASSET_SCHEME + STYLESHEET
TEMPLATE = "reports/monthly.html"
DAMAGE_CHART_PARTNERS = 15
MIN_CHART_MONTHS = 3
_ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(css|png|jpe?g|svg)$")
_ASSET_TYPES = {"css": "text/css", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
                "svg": "image/svg+xml"}
_HEADING = re.compile(r"<(/?)h([1-5])\b")
log = logging.getLogger(__name__)


class RefusedURL(ValueError):
    """A report tried to load something that is not one of its own assets."""


class ReportURLFetcher(URLFetcher):
    """Serves ``partnermon-asset:NAME`` from partnermon/static and ``data:`` URIs; refuses everything else.

    Refusals are kept in ``refused`` (tests read it; a real report should have none)."""

    def __init__(self, static_dir: Path = STATIC_DIR) -> None:
        super().__init__(allowed_protocols=("partnermon-asset", "data"), allow_redirects=False, fail_on_errors=False)
        self.static_dir = static_dir
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith(ASSET_SCHEME):
            name = url[len(ASSET_SCHEME):].split("#", 1)[0]
            path = self.static_dir / name
            if _ASSET_NAME.match(name) and path.is_file():
                return URLFetcherResponse(url, path.read_bytes(),
                                          {"Content-Type": _ASSET_TYPES[name.rsplit(".", 1)[1]]})
        elif url.startswith("data:"):
            opened = DataHandler().data_open(Request(url))
            return URLFetcherResponse(url, opened.read(), {"Content-Type": opened.headers["Content-Type"]})
        self.refused.append(url)
        log.warning("The report referenced %s, which is not one of its own assets: not loaded.", url[:200])
        raise RefusedURL(f"A report loads only its own assets and data: URIs, not {url[:200]}")


@dataclass
class RenderedPdf:
    data: bytes
    pages: int
    refused: list[str] = field(default_factory=list)


def render_html(report: MonthlyReport, *, stylesheet_href: str = PDF_STYLESHEET, nonce: str | None = None) -> str:
    """The report as one HTML document.

    For the PDF keep the defaults. For the browser preview pass ``stylesheet_href="/static/report.css"``
    (``url_for("static", filename="report.css")``) and the page's CSP ``nonce``, which the inline style with
    the practice's colour carries. Charts carry their look as SVG attributes (partnermon.scoring.charts)."""
    brand = report.accent
    charts = {s.anchor: section_charts(s, brand) for s in report.sections if s.score.has_data}
    chart_titles = {key: trend_chart_title(report.sections[0].trends, key) for key in TREND_CHARTS} if report.sections else {}
    chart = ranking_chart(report.board.scores, brand=brand, width=640, limit=DAMAGE_CHART_PARTNERS,
                          description="Partners by estimated brand damage, in the order of the league table, "
                                      "which gives each with its interval.")
    damage_chart = as_image(chart) if chart is not None else None
    return rendering.render(TEMPLATE, report=report, board=report.board, charts=charts, chart_titles=chart_titles,
                            damage_chart=damage_chart, methodology=appendix(report.methodology),
                            stylesheet_href=stylesheet_href, nonce=nonce, describe_duration=describe_duration,
                            plural=plural, loss_sentence=loop_measures.loss_sentence,
                            recovery_sentence=loop_measures.recovery_sentence, rung_label=loop_measures.rung_label,
                            describe_target=describe_target, scope_label=scope_label)


def render_report(report: MonthlyReport) -> RenderedPdf:
    """The report's PDF: its HTML laid out by WeasyPrint in this process, as one document."""
    return render_pdf(render_html(report))


def render_pdf(html: str) -> RenderedPdf:
    """``html`` as a PDF, loading nothing but the report's own assets (``ReportURLFetcher``)."""
    fetcher = ReportURLFetcher()
    document = HTML(string=html, url_fetcher=fetcher, media_type="print").render()
    return RenderedPdf(document.write_pdf(), len(document.pages), fetcher.refused)


def appendix(methodology: Markup) -> Markup:
    """docs/methodology.md one heading level down, its title the appendix's section title."""
    shifted = _HEADING.sub(lambda m: f"<{m[1]}h{int(m[2]) + 1}", str(methodology))
    return Markup(shifted.replace("<h2", '<h2 class="section-title"', 1))


def section_charts(section: PartnerSection, brand: str) -> dict[str, Markup]:
    """A partner's twelve-month charts, drawn by the dashboard's chart code. Fewer than three months with a
    value make no trend (the league table already compares with last month): such charts are left out, as for
    a new practice or a partner that is not probed. Their titles are the figures' captions (``chart_titles``):
    laid out as HTML lines they cost a fraction of SVG text, which WeasyPrint draws letter by letter."""
    charts = trend_charts(section.trends, section.name, brand=brand, width=640, height=220, min_months=MIN_CHART_MONTHS,
                          label_every=3, show_titles=False)
    return {key: as_image(chart) for key, chart in charts.items()}


_DESCRIPTION = re.compile(r"<desc>(.*?)</desc>", re.S)


def as_image(svg: Markup) -> Markup:
    """A chart as an ``<img>`` of its SVG (a data: URI), for the PDF.

    Inline, the SVG's elements would join the report's own: WeasyPrint matches every report rule against each
    of them, 160 charts over, which was a quarter of a 40-partner report's time. As an image it is a document
    of its own with no stylesheet (its look is in attributes). Its description becomes the image's alt text."""
    text = str(svg)
    found = _DESCRIPTION.search(text)
    # The description as text (the SVG escapes only what its element text needs), escaped again for the attribute.
    alt = html.unescape(found.group(1)) if found else ""
    uri = "data:image/svg+xml;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")
    return Markup('<img class="chart-image" src="{}" alt="{}">').format(uri, alt)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"
