"""Charts as SVG, drawn by pygal, for the pages and the monthly PDF alike (one chart code for both).

pygal's own script is never included (``js=[]`` and the inline loader removed): the pages allow no inline
script, and a PDF has no use for one. Its stylesheet is kept, carrying the page's CSP nonce when one is
given. Every chart has a title and a description inside the SVG; callers also show the numbers as a table,
the text alternative a screen reader or a print-out can use.
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

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="[^"]*"')
_COMMENT = re.compile(r"<!--.*?-->", re.S)
PALETTE = ("#1f4e79", "#b3261e", "#1e7a3c", "#8a5a00", "#6b3fa0", "#0f7b8a", "#a33f74", "#4d5b6a")


def _style(brand: str | None) -> Style:
    colours = ((brand,) if brand else ()) + tuple(c for c in PALETTE if c != brand)
    return Style(background="transparent", plot_background="transparent", foreground="#1b1f24",
                 foreground_strong="#1b1f24", foreground_subtle="#d8dde3", opacity=".9", opacity_hover="1",
                 colors=colours, font_family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
                 label_font_size=12, major_label_font_size=12, value_font_size=11, title_font_size=15,
                 legend_font_size=12, tooltip_font_size=12)


def _finish(svg: str, description: str, nonce: str | None) -> Markup:
    svg = _COMMENT.sub("", _SCRIPT.sub("", svg))
    # Tooltips need pygal's script; their inline styles would only be refused by the page's CSP.
    svg = _STYLE_ATTRIBUTE.sub("", svg)
    svg = svg.replace('<style type="text/css">', f'<style nonce="{nonce}">' if nonce else "<style>", 1)
    desc = Markup("<desc>{}</desc>").format(description)
    svg = svg.replace("<defs>", str(desc) + "<defs>", 1)
    return Markup(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))


def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], *, description: str,
               y_title: str = "", value_format: str = "{:.0f}", y_range: tuple[float, float] | None = None,
               brand: str | None = None, nonce: str | None = None, width: int = 640, height: int = 260) -> Markup:
    """A line per series over the labels (months); None leaves a gap (no data that month)."""
    chart = pygal.Line(js=[], disable_xml_declaration=True, width=width, height=height, style=_style(brand),
                       show_legend=len(series) > 1, legend_at_bottom=True, legend_at_bottom_columns=3,
                       x_label_rotation=0, show_minor_x_labels=True, dots_size=3, allow_interruptions=True,
                       range=y_range, y_title=y_title, title=title, margin=8, truncate_legend=40,
                       value_formatter=lambda v: value_format.format(v) if v is not None else "no data",
                       print_values=False, show_y_guides=True, truncate_label=-1)
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return _finish(chart.render(is_unicode=True), description, nonce)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float | None], *, description: str,
              value_format: str = "{:.1f}", brand: str | None = None, nonce: str | None = None,
              width: int = 640, height: int | None = None) -> Markup:
    """One horizontal bar per label, in the order given (e.g. partners by brand damage)."""
    chart = pygal.HorizontalBar(js=[], disable_xml_declaration=True, width=width,
                                height=height or max(160, 34 * len(labels) + 70), style=_style(brand),
                                show_legend=False, title=title, margin=8, print_values=False,
                                value_formatter=lambda v: value_format.format(v) if v is not None else "no data",
                                truncate_label=28)
    # pygal draws the first label at the bottom; reverse so the list reads top-down as given.
    chart.x_labels = list(reversed(labels))
    chart.add(title, list(reversed(values)))
    return _finish(chart.render(is_unicode=True), description, nonce)
