"""Charts as SVG, drawn by pygal, for the pages and the monthly PDF alike (one chart code for both).

pygal's output is trimmed to what a static chart needs: no script (the pages allow none; a PDF has no use for
one), no tooltips (they need the script), and none of pygal's three stylesheets per chart. Those carry 7 kB of
rules scoped to the chart's id, which a CSP without 'unsafe-inline' would need a nonce on each, and which
WeasyPrint would match against every element of the report, once per chart. The look a chart needs instead is
written onto its elements as SVG presentation attributes (``_dress``): no stylesheet at all, so a page needs no
extra CSS and WeasyPrint, drawing 160 charts in a 40-partner report, neither parses nor cascades one per chart.
Every chart has a description inside the SVG, and callers show the numbers as a table too.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
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
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", Arial, sans-serif'
INK, AXIS_TEXT, GUIDE, MAJOR_GUIDE = "#1b1f24", "#3d4650", "#dde2e8", "#c3cad3"
DOT_SIZE = 5        # a point's square marker, in chart pixels


def _colours(brand: str | None) -> tuple[str, ...]:
    return ((brand,) if brand else ()) + tuple(c for c in PALETTE if c != brand)


def _style(colours: tuple[str, ...]) -> Style:
    return Style(background="transparent", plot_background="transparent", colors=colours,
                 label_font_size=12, major_label_font_size=12, value_font_size=11, title_font_size=15,
                 legend_font_size=12)


def _finish(svg: str, description: str, colours: tuple[str, ...]) -> Markup:
    svg = _STYLE_ATTRIBUTE.sub("", _REMOVE.sub("", svg))
    # Presentation attributes, not CSS: allowed by the pages' CSP. Elements that must not take the series colour
    # as a fill (a line's path) say so themselves (_dress).
    svg = _SERIES.sub(lambda m: f'{m[0]} stroke="{colours[int(m[1]) % len(colours)]}" '
                                f'fill="{colours[int(m[1]) % len(colours)]}"', svg)
    return Markup(_dress(svg, description).replace("<svg ", '<svg role="img" focusable="false" ', 1))


def _dress(svg: str, description: str) -> str:
    """pygal's SVG with its look as presentation attributes, which children inherit: fonts and text colours on the
    title, axis and legend groups, strokes on the axis and guide lines, no fill on lines and backgrounds.

    It is also made lighter to draw, which counts in the PDF (WeasyPrint draws an SVG node by node, 160 charts in
    a 40-partner report): hidden overlays and guides are dropped, the groups wrapping each guide and each dot
    are unwrapped, and a series' dots become one path of small squares instead of a circle each. The
    description comes first, in place of pygal's ``<defs>`` (empty once its style and script are gone)."""
    root = ET.fromstring(svg)
    if not root.get("id"):
        root.attrib.pop("id", None)
    root.set("font-family", FONT)
    for defs in root.findall(f"{{{SVG_NS}}}defs"):
        if not len(defs):
            root.remove(defs)
    desc = ET.Element(f"{{{SVG_NS}}}desc")
    desc.text = description
    root.insert(0, desc)
    graph = root.find(f"{{{SVG_NS}}}g")
    vertical = graph is not None and "vertical" in graph.get("class", "").split()
    _dress_children(root, vertical, axis="")
    return _plain_svg(root)


def _plain_svg(root: ET.Element) -> str:
    """Serialised with the SVG namespace as the default one, written out by hand: ElementTree's prefix registry
    is process-wide (pygal and others change it) and would otherwise give ``<ns0:svg>``, which a page's HTML
    parser does not take for SVG."""
    for element in root.iter():
        element.tag = element.tag.rpartition("}")[2]
        for key in [k for k in element.attrib if k.startswith("{")]:
            namespace, _, name = key[1:].partition("}")
            element.attrib[("xlink:" if namespace == XLINK_NS else "") + name] = element.attrib.pop(key)
    root.set("xmlns", SVG_NS)
    if any(k.startswith("xlink:") for element in root.iter() for k in element.attrib):
        root.set("xmlns:xlink", XLINK_NS)
    return ET.tostring(root, encoding="unicode")


_TEXT_GROUPS = {"titles": {"font-size": "15", "fill": INK, "text-anchor": "middle"},
                "legends": {"font-size": "12", "fill": INK}}


def _dress_children(parent: ET.Element, vertical: bool, axis: str) -> None:
    for child in list(parent):
        classes = set(child.get("class", "").split())
        tag = child.tag.rpartition("}")[2]
        if classes & {"tooltip-overlay", "text-overlay"} or _hidden_guide(tag, classes, vertical, axis):
            parent.remove(child)
            continue
        if tag == "g" and "axis" in classes:
            axis = "x" if "x" in classes else "y"
            child.attrib.update({"font-size": "12", "fill": AXIS_TEXT, "stroke": "none",
                                 "text-anchor": "middle" if axis == "x" else "end"})
        for name in classes & _TEXT_GROUPS.keys():
            child.attrib.update(_TEXT_GROUPS[name], stroke="none")
        if "background" in classes:
            child.set("fill", "none")
        if tag == "path" and "line" in classes:
            _dress_line(child, classes, axis)
        _dress_children(child, vertical, axis)
        if tag == "g" and classes & {"dots", "guides"} and not child.attrib.keys() - {"class"}:
            position = list(parent).index(child)
            parent[position:position + 1] = list(child)
        if tag == "g" and "series" in classes:
            _dots_as_one_path(child)


def _hidden_guide(tag: str, classes: set[str], vertical: bool, axis: str) -> bool:
    """Guides run across the plot from the value axis only: a vertical chart draws no vertical guides."""
    return tag == "path" and {"guide", "line"} <= classes and ((vertical and axis == "x") or
                                                               (not vertical and axis == "y"))


def _dots_as_one_path(series: ET.Element) -> None:
    dots = [c for c in series if c.tag.rpartition("}")[2] == "circle"]
    if not dots:
        return
    half = DOT_SIZE / 2
    corners = " ".join(f"M{float(d.get('cx', 0)) - half:.2f} {float(d.get('cy', 0)) - half:.2f}"
                       f"h{DOT_SIZE:g}v{DOT_SIZE:g}h-{DOT_SIZE:g}z" for d in dots)
    for dot in dots:
        series.remove(dot)
    series.append(ET.Element(f"{{{SVG_NS}}}path", {"d": corners, "class": "dots", "stroke-width": "1"}))


def _dress_line(path: ET.Element, classes: set[str], axis: str) -> None:
    if "reactive" in classes or "nofill" in classes:      # a series' line: its colour comes from the series group
        path.attrib.update({"fill": "none", "stroke-width": "2"})
    elif "guide" in classes:
        path.attrib.update({"fill": "none", "stroke-width": ".8", "stroke": MAJOR_GUIDE if "major" in classes else GUIDE})
    elif axis:
        path.attrib.update({"fill": "none", "stroke": INK})


def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], *, description: str,
               y_title: str = "", value_format: str = "{:.0f}", y_range: tuple[float, float] | None = None,
               brand: str | None = None, width: int = 640, height: int = 260, label_every: int = 1,
               show_title: bool = True) -> Markup:
    """A line per series over the labels (months); None leaves a gap (no data that month). ``label_every``
    labels only every n-th point, and ``show_title=False`` leaves the title to the caller's caption (the PDF:
    WeasyPrint lays out and draws an SVG text letter by letter, so each letter in a chart costs)."""
    colours = _colours(brand)
    chart = pygal.Line(js=[], disable_xml_declaration=True, width=width, height=height, style=_style(colours),
                       show_legend=len(series) > 1, legend_at_bottom=True, legend_at_bottom_columns=3,
                       x_label_rotation=0, show_minor_x_labels=label_every == 1, x_labels_major_every=label_every,
                       dots_size=3, allow_interruptions=True,
                       range=y_range, y_title=y_title, title=title if show_title else None, margin=8, truncate_legend=40,
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
