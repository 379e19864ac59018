"""Charts as SVG, drawn by pygal, for the pages and the monthly PDF alike (one chart code for both).

pygal's output is trimmed to what a static chart needs: no script (the pages allow none; a PDF has no use for
one), no tooltips (they need the script), and none of pygal's three stylesheets per chart. Those carry 7 kB of
rules scoped to the chart's id, which a CSP without 'unsafe-inline' would need a nonce on each, and which
WeasyPrint would match against every element of the report, once per chart. The few rules a chart needs are in
``static/charts.css``, shared by the pages and the report; the series colours become SVG attributes. Every
chart has a description inside the SVG, and callers show the numbers as a table too.
"""

from __future__ import annotations

import re
import sys
from typing import Sequence

import pygal
from markupsafe import Markup
from pygal.style import Style

# pygal appends an old-style import hook (for its map plug-ins, unused here) to sys.meta_path; on Python 3.11
# every failed import anywhere in the process then raises an ImportWarning through it. Take it out again.
sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, pygal.PluginImportFixer)]

PALETTE = ("#1f4e79", "#b3261e", "#1e7a3c", "#8a5a00", "#6b3fa0", "#0f7b8a", "#a33f74", "#4d5b6a")
_REMOVE = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<!--.*?-->|<desc class=\"[^\"]*\">.*?</desc>"
                     r"|<title>.*?</title>", re.S)
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="[^"]*"')
_SERIES = re.compile(r'<g class="series serie-(\d+) color-\1"')


def _colours(brand: str | None) -> tuple[str, ...]:
    return ((brand,) if brand else ()) + tuple(c for c in PALETTE if c != brand)


def _style(colours: tuple[str, ...]) -> Style:
    return Style(background="transparent", plot_background="transparent", colors=colours,
                 label_font_size=12, major_label_font_size=12, value_font_size=11, title_font_size=15,
                 legend_font_size=12)


def _finish(svg: str, description: str, colours: tuple[str, ...]) -> Markup:
    svg = _STYLE_ATTRIBUTE.sub("", _REMOVE.sub("", svg))
    # Presentation attributes, not CSS: allowed by the pages' CSP, and overridden by charts.css where it says so
    # (a line's path has no fill).
    svg = _SERIES.sub(lambda m: f'{m[0]} stroke="{colours[int(m[1]) % len(colours)]}" '
                                f'fill="{colours[int(m[1]) % len(colours)]}"', svg)
    desc = Markup("<desc>{}</desc>").format(description)
    svg = svg.replace("<defs>", str(desc) + "<defs>", 1)
    return Markup(svg.replace(' id=""', '', 1).replace("<svg ", '<svg role="img" focusable="false" ', 1))


def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], *, description: str,
               y_title: str = "", value_format: str = "{:.0f}", y_range: tuple[float, float] | None = None,
               brand: str | None = None, width: int = 640, height: int = 260, label_every: int = 1) -> Markup:
    """A line per series over the labels (months); None leaves a gap (no data that month). ``label_every``
    labels only every n-th point (the PDF: each label is a text WeasyPrint lays out)."""
    colours = _colours(brand)
    chart = pygal.Line(js=[], disable_xml_declaration=True, width=width, height=height, style=_style(colours),
                       show_legend=len(series) > 1, legend_at_bottom=True, legend_at_bottom_columns=3,
                       x_label_rotation=0, show_minor_x_labels=label_every == 1, x_labels_major_every=label_every,
                       dots_size=3, allow_interruptions=True,
                       range=y_range, y_title=y_title, title=title, margin=8, truncate_legend=40,
                       value_formatter=lambda v: value_format.format(v) if v is not None else "no data",
                       print_values=False, show_y_guides=True, truncate_label=-1, max_scale=6, min_scale=3,
                       no_prefix=True)
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return _finish(chart.render(is_unicode=True), description, colours)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float | None], *, description: str,
              value_format: str = "{:.1f}", brand: str | None = None, width: int = 640,
              height: int | None = None) -> Markup:
    """One horizontal bar per label, in the order given (e.g. partners by brand damage)."""
    colours = _colours(brand)
    chart = pygal.HorizontalBar(js=[], disable_xml_declaration=True, width=width,
                                height=height or max(160, 34 * len(labels) + 70), style=_style(colours),
                                show_legend=False, title=title, margin=8, print_values=False,
                                value_formatter=lambda v: value_format.format(v) if v is not None else "no data",
                                truncate_label=28, max_scale=6, no_prefix=True)
    # pygal draws the first label at the bottom; reverse so the list reads top-down as given.
    chart.x_labels = list(reversed(labels))
    chart.add(title, list(reversed(values)))
    return _finish(chart.render(is_unicode=True), description, colours)
