"""Charts as SVG, drawn by pygal, for the pages and the monthly PDF alike (one chart code for both); the
ranking chart with each partner's interval is drawn here by hand, as pygal has no error bars.

pygal's output is trimmed to what a static chart needs: no script (the pages allow none; a PDF has no use for
one), no tooltips (they need the script), and none of pygal's three stylesheets per chart. Those carry 7 kB of
rules scoped to the chart's id, which a CSP without 'unsafe-inline' would need a nonce on each, and which
WeasyPrint would match against every element of the report, once per chart. The look a chart needs instead is
written onto its elements as SVG presentation attributes (``_dress``): no stylesheet at all, so a page needs no
extra CSS and WeasyPrint, drawing 160 charts in a 40-partner report, neither parses nor cascades one per chart.
Every chart has a description inside the SVG, and callers show the numbers as a table too.

Axis ticks are chosen here, not by pygal: round steps (1, 2 or 5 times a power of ten), labelled with as many
decimals as the step needs and no more, so that no two ticks read the same ("0.8 s" six times). A value axis
starts at 0 unless that would flatten the values into a line, and a zoomed axis says so on the chart. A chart
with no values at all says "no data" instead of drawing axes around nothing.
"""

from __future__ import annotations

import math
import re
import sys
import xml.etree.ElementTree as ET
from typing import Sequence

import pygal
from markupsafe import Markup, escape
from pygal.style import Style

# pygal appends an old-style import hook (for its map plug-ins, unused here) to sys.meta_path; on Python 3.11
# every failed import anywhere in the process then raises an ImportWarning through it. Take it out again.
sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, pygal.PluginImportFixer)]

PALETTE = ("#1f4e79", "#b3261e", "#1e7a3c", "#8a5a00", "#6b3fa0", "#0f7b8a", "#a33f74", "#4d5b6a")
_REMOVE = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<!--.*?-->|<desc class=\"[^\"]*\">.*?</desc>"
                     r"|<title>.*?</title>", re.S)
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="[^"]*"')
_SERIES = re.compile(r'<g class="series serie-(\d+) color-\1"')
_SWATCH = re.compile(r'<rect [^>]*class="color-(\d+) reactive"')
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", Arial, sans-serif'
INK, AXIS_TEXT, GUIDE, MAJOR_GUIDE = "#1b1f24", "#3d4650", "#dde2e8", "#c3cad3"
DOT_SIZE = 5        # a point's square marker, in chart pixels
# A value axis starts at 0 unless the values would then fill less than this share of its height; such an axis is
# zoomed, and says so on the chart (availability between 99.2 % and 100 % would be a flat line at the top).
ZOOM_BELOW = 0.1
NO_DATA = "No data for these months"


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
    # A legend's swatch takes its series' colour the same way.
    svg = _SWATCH.sub(lambda m: f'{m[0]} fill="{colours[int(m[1]) % len(colours)]}"', svg)
    # An image's name must be on the svg itself (aria-label); the <desc> inside is not read as one.
    return Markup(_dress(svg, description).replace(
        "<svg ", f'<svg role="img" focusable="false" aria-label="{escape(description)}" ', 1))


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


# --- axes -------------------------------------------------------------------------------------------------

def nice_step(span: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 × 10ⁿ) that cuts ``span`` into about ``ticks - 1`` parts (Heckbert's nice numbers)."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    rough = span / max(ticks - 1, 1)
    power = 10 ** math.floor(math.log10(rough))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= rough * 0.999:
            # 2.5 only above the units: a quarter of a second reads well, 0.025 % does not.
            if factor == 2.5 and power < 1:
                continue
            return factor * power
    return 10 * power


def decimals_for(step: float) -> int:
    """How many decimals make every multiple of ``step`` read differently (0.25 → 2, 0.5 → 1, 20 → 0)."""
    for places in range(0, 7):
        if abs(round(step, places) - step) < step * 1e-6:
            return places
    return 6


def nice_ticks(low: float, high: float, *, ticks: int = 5) -> list[float]:
    """Round ticks from at or below ``low`` to at or above ``high``."""
    if high < low:
        low, high = high, low
    if high == low:   # one value (or all alike): a small span around it, so it sits inside the axis
        pad = abs(high) * 0.1 or 1.0
        low, high = (low - pad if low - pad >= 0 or low < 0 else 0.0), high + pad
    step = nice_step(high - low, ticks)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    places = decimals_for(step)
    return [round(n * step, places) for n in range(first, last + 1)]


def value_axis(values: Sequence[float], *, zoom: bool | None = None) -> tuple[list[float], bool]:
    """The ticks of a value axis for ``values`` and whether the axis is zoomed (does not start at 0).

    ``zoom=None`` decides: from 0 unless the values would then fill less than ``ZOOM_BELOW`` of the height."""
    low, high = min(values), max(values)
    if low >= 0:
        flattened = high > 0 and (high - low) / high < ZOOM_BELOW
        if zoom is False or (zoom is None and not flattened):
            return nice_ticks(0.0, high), False
    ticks = nice_ticks(low, high)
    return ticks, ticks[0] > 0


_PRECISION = re.compile(r"\{:(,?)\.\d+f\}")


def tick_format(value_format: str, step: float) -> str:
    """``value_format`` ("{:.1f} s") with the decimals a tick of ``step`` needs ("{:.2f} s" for a step of 0.05)."""
    return _PRECISION.sub(lambda m: "{:" + m[1] + f".{decimals_for(step)}f}}", value_format, count=1)


def _no_data_chart(title: str | None, description: str, width: int, height: int, message: str = NO_DATA) -> Markup:
    """A frame that says there is nothing to draw: no axes around nothing, no flat line at 0."""
    root = ET.Element("svg", {"role": "img", "aria-label": description + " " + message + ".", "focusable": "false",
                              "width": str(width), "height": str(height), "viewBox": f"0 0 {width} {height}",
                              "font-family": FONT, "xmlns": SVG_NS})
    ET.SubElement(root, "desc").text = description + " " + message + "."
    if title:
        ET.SubElement(root, "text", {"x": str(width / 2), "y": "22", "font-size": "15", "fill": INK,
                                     "text-anchor": "middle"}).text = title
    ET.SubElement(root, "rect", {"x": "8", "y": "34" if title else "8", "width": str(width - 16),
                                 "height": str(height - (42 if title else 16)), "fill": "none", "stroke": GUIDE})
    ET.SubElement(root, "text", {"x": str(width / 2), "y": str(height / 2 + 10), "font-size": "13",
                                 "fill": AXIS_TEXT, "text-anchor": "middle", "class": "no-data"}).text = message
    return Markup(ET.tostring(root, encoding="unicode"))


# --- charts -----------------------------------------------------------------------------------------------

def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], *, description: str,
               y_title: str = "", value_format: str = "{:.0f}", y_range: tuple[float, float] | None = None,
               brand: str | None = None, width: int = 640, height: int = 260, label_every: int = 1,
               show_title: bool = True, zoom: bool | None = None) -> Markup:
    """A line per series over the labels (months); None leaves a gap (no data that month). ``label_every``
    labels only every n-th point, and ``show_title=False`` leaves the title to the caller's caption (the PDF:
    WeasyPrint lays out and draws an SVG text letter by letter, so each letter in a chart costs).

    The value axis runs over ``y_range`` if given, else from 0 (``value_axis``; ``zoom=True`` asks for an axis
    around the values, which then says where it starts). Without a single value the chart says so."""
    values = [v for vs in series.values() for v in vs if v is not None]
    if not values:
        return _no_data_chart(title if show_title else None, description, width, height)
    if y_range is not None:
        ticks, zoomed = nice_ticks(*y_range), False
        ticks = [t for t in ticks if y_range[0] <= t <= y_range[1]] or ticks
    else:
        ticks, zoomed = value_axis(values, zoom=zoom)
    tick_text = tick_format(value_format, ticks[1] - ticks[0] if len(ticks) > 1 else 1.0)
    if zoomed:
        note = f"zoomed: axis starts at {tick_text.format(ticks[0])}"
        y_title = f"{y_title} ({note})" if y_title else note.capitalize()
        description += f" The value axis is zoomed: it starts at {tick_text.format(ticks[0])}, not 0."
    colours = _colours(brand)
    chart = pygal.Line(js=[], disable_xml_declaration=True, width=width, height=height, style=_style(colours),
                       show_legend=len(series) > 1, legend_at_bottom=True, legend_at_bottom_columns=3,
                       x_label_rotation=0, show_minor_x_labels=label_every == 1, x_labels_major_every=label_every,
                       dots_size=3, allow_interruptions=True, range=(ticks[0], ticks[-1]), y_labels=ticks,
                       y_title=y_title, title=title if show_title else None, margin=8, truncate_legend=40,
                       value_formatter=lambda v: tick_text.format(v) if v is not None else "no data",
                       print_values=False, show_y_guides=True, truncate_label=-1, no_prefix=True)
    chart.x_labels = list(labels)
    for name, points in series.items():
        chart.add(name, list(points))
    return _finish(chart.render(is_unicode=True), description, colours)


# Days an incident covered are shaded behind the lines, in these colours (and named in the legend).
INCIDENT_SHADES = {"down": ("Incident: down", "#f4c7c3"), "degraded": ("Incident: degraded", "#f6e3b4")}
RESPONSE_SERIES = (("p50 (median)", PALETTE[0]), ("p95", PALETTE[5]))


def response_time_chart(labels: Sequence[str], p50: Sequence[float | None], p95: Sequence[float | None],
                        incidents: Sequence[str | None], *, description: str, width: int = 720, height: int = 300,
                        label_every: int = 15, no_data: str = "No response times in these days") -> Markup:
    """Median and p95 response times (ms) per label (a day) as two lines, gaps where a day has none, on an axis
    from 0 with round ticks; each day an incident covered (``incidents[i]`` is "down", "degraded" or None) is a
    shaded column behind them.

    Drawn here rather than by pygal, which shades no columns; and a touchpoint page draws one on every view, where
    pygal's 90-point line took a quarter of the page's time (bench/dashboard.py)."""
    values = [v for v in (*p50, *p95) if v is not None]
    if not values:
        return _no_data_chart(None, description, width, height, no_data)
    ticks, _ = value_axis(values, zoom=False)
    tick_text = tick_format("{:,.0f} ms", ticks[1] - ticks[0] if len(ticks) > 1 else 1.0)
    marked = sum(1 for mark in incidents if mark)
    description += (f" Days an incident covered are shaded ({marked} of {len(labels)})." if marked
                    else " No incident in these days.")
    left, right, top, bottom = 76, 12, 10, height - 56
    column = (width - right - left) / max(len(labels), 1)
    span = (ticks[-1] - ticks[0]) or 1.0

    def x(index: int) -> float:
        return left + column * (index + 0.5)

    def y(value: float) -> float:
        return bottom - (value - ticks[0]) / span * (bottom - top)

    root = ET.Element("svg", {"role": "img", "aria-label": description, "focusable": "false", "width": str(width),
                              "height": str(height), "viewBox": f"0 0 {width} {height}", "font-family": FONT,
                              "xmlns": SVG_NS})
    ET.SubElement(root, "desc").text = description
    shades = ET.SubElement(root, "g", {"class": "incidents", "stroke": "none"})
    for index, mark in enumerate(incidents):
        if mark in INCIDENT_SHADES:
            ET.SubElement(shades, "rect", {"x": f"{left + column * index:.1f}", "y": str(top), "width": f"{column:.1f}",
                                           "height": str(bottom - top), "fill": INCIDENT_SHADES[mark][1],
                                           "class": f"incident {mark}"})
    axis = ET.SubElement(root, "g", {"class": "axis y", "font-size": "12", "fill": AXIS_TEXT, "text-anchor": "end"})
    for tick in ticks:
        ET.SubElement(axis, "path", {"d": f"M{left} {y(tick):.1f}H{width - right}", "stroke": GUIDE,
                                     "stroke-width": ".8", "fill": "none", "class": "guide"})
        ET.SubElement(axis, "text", {"x": str(left - 6), "y": f"{y(tick) + 4:.1f}"}).text = tick_text.format(tick)
    days = ET.SubElement(root, "g", {"class": "axis x", "font-size": "12", "fill": AXIS_TEXT, "text-anchor": "middle"})
    for index in range(0, len(labels), max(label_every, 1)):
        ET.SubElement(days, "text", {"x": f"{x(index):.1f}", "y": str(bottom + 17)}).text = labels[index]
    ET.SubElement(root, "path", {"d": f"M{left} {top}V{bottom}H{width - right}", "stroke": INK, "fill": "none",
                                 "class": "axis-line"})
    for (name, colour), points in zip(RESPONSE_SERIES, (p50, p95)):
        steps, pen_down = [], False
        for index, value in enumerate(points):
            if value is None:
                pen_down = False
                continue
            # A day alone between gaps is a zero-length stroke: its round cap draws it as a dot.
            steps.append(f"L{x(index):.1f} {y(value):.1f}" if pen_down else f"M{x(index):.1f} {y(value):.1f}h0")
            pen_down = True
        ET.SubElement(root, "path", {"d": "".join(steps), "stroke": colour, "stroke-width": "2", "fill": "none",
                                     "stroke-linejoin": "round", "stroke-linecap": "round", "class": "series"})
    key = ET.SubElement(root, "g", {"class": "legends", "font-size": "12", "fill": INK})
    entries = [*((name, colour, "line") for name, colour in RESPONSE_SERIES),
               *((name, shade, "shade") for kind, (name, shade) in INCIDENT_SHADES.items() if kind in incidents)]
    for position, (name, colour, look) in enumerate(entries):
        at, base = left + 150 * position, height - 12
        if look == "line":
            ET.SubElement(key, "path", {"d": f"M{at} {base - 4}h18", "stroke": colour, "stroke-width": "2.5"})
        else:
            ET.SubElement(key, "rect", {"x": str(at), "y": str(base - 11), "width": "18", "height": "12", "fill": colour})
        ET.SubElement(key, "text", {"x": str(at + 24), "y": str(base)}).text = name
    return Markup(ET.tostring(root, encoding="unicode"))


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float | None], *, description: str,
              value_format: str = "{:.1f}", brand: str | None = None, width: int = 640,
              height: int | None = None) -> Markup:
    """One horizontal bar per label, in the order given, on an axis from 0 with round ticks."""
    present = [v for v in values if v is not None]
    height = height or max(160, 34 * len(labels) + 70)
    if not present:
        return _no_data_chart(title, description, width, height)
    ticks, _ = value_axis(present + [0.0], zoom=False)
    tick_text = tick_format(value_format, ticks[1] - ticks[0] if len(ticks) > 1 else 1.0)
    colours = _colours(brand)
    chart = pygal.HorizontalBar(js=[], disable_xml_declaration=True, width=width, height=height,
                                style=_style(colours), show_legend=False, title=title, margin=8, print_values=False,
                                range=(ticks[0], ticks[-1]), y_labels=ticks,
                                value_formatter=lambda v: tick_text.format(v) if v is not None else "no data",
                                truncate_label=28, no_prefix=True)
    # pygal draws the first label at the bottom; reverse so the list reads top-down as given.
    chart.x_labels = list(reversed(labels))
    chart.add(title, list(reversed(values)))
    return _finish(chart.render(is_unicode=True), description, colours)


def interval_chart(title: str, labels: Sequence[str], values: Sequence[float], intervals: Sequence[tuple[float, float]],
                   *, description: str, rule: str, value_format: str = "{:.1f}", brand: str | None = None,
                   width: int = 640) -> Markup:
    """One row per label, in the order given (the table's), each with its estimate as a dot and its 95 %
    interval as a bar with whiskers, on an axis from 0; ``rule`` says under the title how the rows are ordered.

    Drawn here rather than by pygal, which has no error bars: a bar as long as the estimate would hide what the
    ranking rests on (the lower end of the interval), and a longer bar below a shorter one would look wrong."""
    colour = _colours(brand)[0]
    label_width, right, top, row = 190, 16, 62, 30
    height = top + row * len(labels) + 44
    root = ET.Element("svg", {"role": "img", "aria-label": f"{description} {rule}", "focusable": "false",
                              "width": str(width), "height": str(height), "viewBox": f"0 0 {width} {height}",
                              "font-family": FONT, "xmlns": SVG_NS})
    ET.SubElement(root, "desc").text = f"{description} {rule}"
    ET.SubElement(root, "text", {"x": "8", "y": "20", "font-size": "15", "fill": INK}).text = title
    ET.SubElement(root, "text", {"x": "8", "y": "40", "font-size": "12", "fill": AXIS_TEXT,
                                 "class": "rule"}).text = rule
    if not labels:
        ET.SubElement(root, "text", {"x": str(width / 2), "y": str(top + 20), "font-size": "13", "fill": AXIS_TEXT,
                                     "text-anchor": "middle", "class": "no-data"}).text = "No partner to rank yet"
        return Markup(ET.tostring(root, encoding="unicode"))
    ticks, _ = value_axis([0.0, *values, *(high for _, high in intervals)], zoom=False)
    tick_text = tick_format(value_format, ticks[1] - ticks[0] if len(ticks) > 1 else 1.0)
    x0, x1 = label_width, width - right
    scale = (x1 - x0) / (ticks[-1] - ticks[0] or 1)

    def x(v: float) -> str:
        return f"{x0 + (v - ticks[0]) * scale:.1f}"

    bottom = top + row * len(labels)
    axis = ET.SubElement(root, "g", {"class": "axis x", "font-size": "12", "fill": AXIS_TEXT,
                                     "text-anchor": "middle"})
    for tick in ticks:
        ET.SubElement(axis, "path", {"d": f"M{x(tick)} {top - 6}V{bottom}", "stroke": MAJOR_GUIDE if tick == ticks[0]
                                     else GUIDE, "stroke-width": ".8", "fill": "none", "class": "guide"})
        ET.SubElement(axis, "text", {"x": x(tick), "y": str(bottom + 16)}).text = tick_text.format(tick)
    rows = ET.SubElement(root, "g", {"class": "series", "stroke": colour, "fill": colour})
    names = ET.SubElement(root, "g", {"class": "axis y", "font-size": "12", "fill": INK, "text-anchor": "end",
                                      "stroke": "none"})
    for index, (label, value, (low, high)) in enumerate(zip(labels, values, intervals)):
        middle = top + row * index + row / 2
        shown = label if len(label) <= 28 else label[:27] + "…"
        ET.SubElement(names, "text", {"x": str(x0 - 8), "y": f"{middle + 4:.1f}"}).text = shown
        item = ET.SubElement(rows, "g", {"class": "interval"})
        ET.SubElement(item, "title").text = (f"{label}: {tick_text.format(value)} "
                                             f"({tick_text.format(low)}–{tick_text.format(high)})")
        ET.SubElement(item, "rect", {"x": x(low), "y": f"{middle - 6:.1f}", "height": "12", "fill-opacity": ".22",
                                     "stroke": "none", "width": f"{max((high - low) * scale, 0.5):.1f}",
                                     "class": "range"})
        ET.SubElement(item, "path", {"d": f"M{x(low)} {middle - 8:.1f}v16M{x(low)} {middle:.1f}H{x(high)}"
                                          f"M{x(high)} {middle - 8:.1f}v16", "fill": "none", "stroke-width": "1.5",
                                     "class": "whiskers"})
        ET.SubElement(item, "circle", {"cx": x(value), "cy": f"{middle:.1f}", "r": "4.5", "stroke": "#ffffff",
                                       "stroke-width": "1", "class": "estimate"})
    key = ET.SubElement(root, "g", {"class": "legends", "font-size": "12", "fill": AXIS_TEXT})
    ET.SubElement(key, "circle", {"cx": str(x0 + 5), "cy": str(height - 10), "r": "4.5", "fill": colour})
    ET.SubElement(key, "text", {"x": str(x0 + 14), "y": str(height - 6)}).text = "estimate"
    ET.SubElement(key, "path", {"d": f"M{x0 + 90} {height - 16}v12M{x0 + 90} {height - 10}h28M{x0 + 118} "
                                     f"{height - 16}v12", "stroke": colour, "stroke-width": "1.5", "fill": "none"})
    ET.SubElement(key, "text", {"x": str(x0 + 126), "y": str(height - 6)}).text = "95 % interval"
    return Markup(ET.tostring(root, encoding="unicode"))


DAMAGE_TITLE = "Brand damage (clients, high-stake equivalent)"
DAMAGE_RULE = "In the table's order: by the low end of each interval, the damage we are surest of first."


def damage_chart(scores: Sequence[object], *, description: str, brand: str | None = None, width: int = 640,
                 limit: int = 10) -> Markup | None:
    """The ranking chart of a board's ``scores`` (already ranked; each with ``partner.name`` and a ``damage``
    estimate carrying ``value``, ``low`` and ``high``): the first ``limit`` partners with a damage estimate, in
    the board's order. None when no partner has one."""
    ranked = [s for s in scores if getattr(getattr(s, "damage", None), "value", None) is not None][:limit]
    if not ranked:
        return None
    damages = [s.damage for s in ranked]  # type: ignore[attr-defined]
    return interval_chart(DAMAGE_TITLE, [s.partner.name for s in ranked],  # type: ignore[attr-defined]
                          [d.value for d in damages], [(d.low, d.high) for d in damages], description=description,
                          rule=DAMAGE_RULE, brand=brand, width=width)
