"""The monthly report as HTML (one template, ``templates/reports/monthly.html``, for the PDF and the browser
preview alike) and as a PDF drawn by WeasyPrint.

WeasyPrint fetches whatever a document references, so it gets a URL fetcher that answers only for the
project's own report assets (``partnermon-asset:report.css``, files directly in ``partnermon/static``) and
for ``data:`` URIs (the practice's logo). Every other URL — http(s), file:, anything a partner name or a
comment might smuggle in — is refused with an exception, which WeasyPrint logs and skips. User text is
escaped by the template (autoescape); the fetcher is the second wall, not the first.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.request import DataHandler, Request

from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from partnermon import rendering
from partnermon.charts import bar_chart, line_chart
from partnermon.monitoring.status import describe_duration
from partnermon.paths import STATIC_DIR
from partnermon.reports.content import MonthlyReport
from partnermon.reports.sections import PartnerSection

ASSET_SCHEME = "partnermon-asset:"
STYLESHEET = "report.css"
PDF_STYLESHEET = ASSET_SCHEME + STYLESHEET
TEMPLATE = "reports/monthly.html"
DAMAGE_CHART_PARTNERS = 15
MIN_CHART_MONTHS = 3
SERIES = {"index": "index", "feedback": "dissatisfaction", "availability": "bh_availability", "speed": "p95_s"}
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
    (``url_for("static", filename="report.css")``) and the page's CSP ``nonce``: the inline styles (the
    practice's colour, the charts' own) carry it."""
    brand = report.accent
    charts = {s.anchor: section_charts(s, brand, nonce) for s in report.sections if s.score.has_data}
    ranked = [s for s in report.board.scores if s.damage is not None][:DAMAGE_CHART_PARTNERS]
    damage_chart = None
    if ranked:
        damage_chart = for_print(bar_chart(
            "Brand damage (clients, high-stake equivalent)", [s.partner.name for s in ranked],
            [s.damage.value for s in ranked if s.damage], brand=brand, nonce=nonce, width=640,
            description="Partners by estimated brand damage, most first; the league table gives each with its interval."),
            nonce)
    return rendering.render(TEMPLATE, report=report, board=report.board, charts=charts, damage_chart=damage_chart,
                            methodology=appendix(report.methodology), stylesheet_href=stylesheet_href, nonce=nonce,
                            describe_duration=describe_duration, plural=plural)


def appendix(methodology: Markup) -> Markup:
    """docs/methodology.md one heading level down, its title the appendix's section title."""
    shifted = _HEADING.sub(lambda m: f"<{m[1]}h{int(m[2]) + 1}", str(methodology))
    return Markup(shifted.replace("<h2", '<h2 class="section-title"', 1))


_STYLE_BLOCK = re.compile(r"<style\b[^>]*>.*?</style>", re.S)
_TOOLTIP = re.compile(r"<desc class=\"[^\"]*\">.*?</desc>|<title>.*?</title>", re.S)
_CHART_ID = re.compile(r'<svg [^>]*\bid="(chart-[0-9a-f-]+)"')
_SERIES_COLOUR = re.compile(r"\.color-(\d+)[^{}]*\{stroke:(#[0-9a-fA-F]{3,6});fill:#[0-9a-fA-F]{3,6}\}")
_PRINT_RULES = (
    "{s}{{font-family:'Liberation Sans','DejaVu Sans',Arial,sans-serif}}"
    "{s} .title{{font-size:15px;fill:#1b1f24;text-anchor:middle}}"
    "{s} .axis text{{font-size:12px;fill:#3d4650}}{s} .axis.x text{{text-anchor:middle}}{s} .axis.y text{{text-anchor:end}}"
    "{s} .axis .line{{stroke:#1b1f24}}{s} .guide.line{{fill:none}}{s} .axis .guide.line{{stroke:#d8dde3;stroke-width:.8}}"
    "{s} .vertical .axis.x .guide.line,{s} .horizontal .axis.y .guide.line{{opacity:0}}"
    "{s} .background{{fill:transparent}}{s} .nofill{{fill:none}}{s} text{{stroke:none}}"
    "{s} .reactive{{fill-opacity:.9;stroke-opacity:.9;stroke-width:1}}{s} .line.reactive{{stroke-width:2}}"
    "{s} .dot{{stroke-width:1px;fill-opacity:1}}{s} .tooltip{{visibility:hidden}}"
)


def for_print(svg: Markup, nonce: str | None) -> Markup:
    """A chart's SVG with pygal's three stylesheets (7 kB of screen rules: hover, transitions, tooltips) swapped
    for the dozen rules a printed chart needs, and its per-point tooltips dropped. WeasyPrint matches every
    rule against every element, so this halves the time a chart takes to lay out; the chart itself — axes,
    series, colours, the description — is the dashboard's, unchanged."""
    text = str(svg)
    found = _CHART_ID.search(text)
    if found is None:
        return svg
    scope = "#" + found.group(1)
    colours = "".join(f"{scope} .color-{i}{{stroke:{c};fill:{c}}}" for i, c in _SERIES_COLOUR.findall(text))
    style = Markup("<style{}>{}</style>").format(Markup(f' nonce="{nonce}"') if nonce else "",
                                                  Markup(_PRINT_RULES.format(s=scope) + colours))
    text = _STYLE_BLOCK.sub("", text)
    text = _TOOLTIP.sub("", text).replace("<defs>", "<defs>" + str(style), 1)
    return Markup(text)


def section_charts(section: PartnerSection, brand: str, nonce: str | None) -> dict[str, Markup]:
    """A partner's four twelve-month charts, drawn by the dashboard's chart code."""
    trends, name = section.trends, section.name
    axis = [p.month_label for p in trends.periods]
    size = {"brand": brand, "nonce": nonce, "width": 640, "height": 240}
    charts = {
        "index": line_chart(f"Experience index, {trends.labels[0]} to {trends.labels[-1]}", axis,
                            {name: trends.series("index")}, y_range=(0, 100),
                            description=f"{name}'s experience index (0–100) month by month.", **size),
        "feedback": line_chart("Dissatisfied clients (%)", axis, {"Dissatisfied": trends.series("dissatisfaction")},
                               value_format="{:.0f} %", description="The share of responses that were dissatisfied, "
                               "month by month (months with too few responses are left out).", **size),
        "availability": line_chart("Availability in business hours (%)", axis,
                                   {"Available": trends.series("bh_availability")}, value_format="{:.2f} %",
                                   description="The share of business-hours checks that found the partner's "
                                               "touchpoints working, month by month.", **size),
        "speed": line_chart("p95 response time (s)", axis, {"p95": trends.series("p95_s")}, value_format="{:.1f} s",
                            description="95 % of checks were answered within this many seconds, month by month.",
                            **size),
    }
    # Fewer than three months with a value make no trend (the league table already compares with last month):
    # such charts are left out, as for a new practice or a partner that is not probed.
    return {key: for_print(chart, nonce) for key, chart in charts.items()
            if sum(v is not None for v in trends.series(SERIES[key])) >= MIN_CHART_MONTHS}


def render_document(html: str) -> RenderedPdf:
    """The PDF, its page count (from WeasyPrint's layout, so no PDF parser is needed) and any refused URLs."""
    fetcher = ReportURLFetcher()
    document = HTML(string=html, url_fetcher=fetcher, media_type="print").render()
    return RenderedPdf(document.write_pdf(), len(document.pages), fetcher.refused)


def render_pdf(html: str) -> bytes:
    return render_document(html).data


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"
