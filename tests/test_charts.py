"""Charts (partnermon.charts): pygal's SVG with its look written onto the elements, for the pages and the PDF.

No stylesheet travels with a chart, so what the tests check is that the attributes are there, that the SVG is
plain SVG a browser's HTML parser takes (no ``ns0:`` prefixes), and that the lightening for WeasyPrint (one path
for a series' dots, no hidden guides) keeps every point."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from partnermon.charts import DOT_SIZE, SVG_NS, bar_chart, line_chart

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun"]


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def q(tag: str) -> str:
    return f"{{{SVG_NS}}}{tag}"


def test_a_line_chart_is_plain_svg_with_its_look_as_attributes() -> None:
    svg = str(line_chart("Index", MONTHS, {"Acme": [80, 82, None, 79, 85, 90]}, description="Acme's index <by month>",
                         brand="#aa3300"))
    assert svg.startswith('<svg role="img" focusable="false" ')
    assert "ns0:" not in svg and "<style" not in svg and "<script" not in svg and "style=" not in svg
    root = parsed(svg)
    assert root.tag == q("svg") and "sans-serif" in root.get("font-family", "")
    # The description is escaped text, first inside the chart.
    assert root[0].tag == q("desc") and root[0].text == "Acme's index <by month>"
    axes = {g.get("class"): g for g in root.iter(q("g")) if "axis" in g.get("class", "").split()}
    y_axis = next(g for name, g in axes.items() if " y" in f" {name}")
    assert y_axis.get("font-size") == "12" and y_axis.get("text-anchor") == "end" and y_axis.get("fill")
    series = [g for g in root.iter(q("g")) if "series" in g.get("class", "").split()]
    assert series and all(g.get("stroke") == "#aa3300" for g in series)
    line = next(p for p in root.iter(q("path")) if "reactive" in p.get("class", "").split())
    assert line.get("fill") == "none" and line.get("stroke-width") == "2"


def test_dots_become_one_path_with_a_square_for_every_value() -> None:
    values = [80, 82, None, 79, 85, 90]
    root = parsed(str(line_chart("Index", MONTHS, {"Acme": values}, description="d")))
    assert not list(root.iter(q("circle")))
    dots = [p for p in root.iter(q("path")) if p.get("class") == "dots"]
    assert len(dots) == 1
    assert dots[0].get("d").count(f"h{DOT_SIZE:g}v{DOT_SIZE:g}") == sum(v is not None for v in values)


def test_a_vertical_chart_draws_no_vertical_guides_and_keeps_its_horizontal_ones() -> None:
    root = parsed(str(line_chart("Index", MONTHS, {"Acme": [1, 2, 3, 4, 5, 6]}, description="d")))
    x_axis = next(g for g in root.iter(q("g")) if g.get("class", "").split()[:2] == ["axis", "x"])
    y_axis = next(g for g in root.iter(q("g")) if g.get("class", "").split()[:2] == ["axis", "y"])
    assert not [p for p in x_axis.iter(q("path")) if "guide" in p.get("class", "")]
    guides = [p for p in y_axis.iter(q("path")) if "guide" in p.get("class", "")]
    assert guides and all(p.get("stroke") not in (None, "none") for p in guides)
    # Every month still has its label.
    assert [t.text for t in x_axis.iter(q("text"))] == MONTHS


def test_the_output_does_not_depend_on_elementtrees_process_wide_prefixes() -> None:
    saved = dict(ET._namespace_map)   # the registry itself, put back as it was
    ET.register_namespace("pfx", SVG_NS)    # as another library might
    try:
        svg = str(bar_chart("Damage", ["A & B", "C"], [3.0, 1.5], description="d"))
    finally:
        ET._namespace_map.clear()
        ET._namespace_map.update(saved)
    assert svg.startswith("<svg ") and "pfx:" not in svg and 'xmlns="http://www.w3.org/2000/svg"' in svg
    labels = [t.text for t in parsed(svg).iter(q("text"))]
    assert "A & B" in labels   # the label is text, escaped in the SVG and read back whole


def test_a_title_can_be_left_to_the_callers_caption() -> None:
    with_title = parsed(str(line_chart("Index over the year", MONTHS, {"A": [1, 2, 3, 4, 5, 6]}, description="d")))
    without = parsed(str(line_chart("Index over the year", MONTHS, {"A": [1, 2, 3, 4, 5, 6]}, description="d",
                                    show_title=False)))
    assert "Index over the year" in [t.text for t in with_title.iter(q("text"))]
    assert "Index over the year" not in [t.text for t in without.iter(q("text"))]


def test_a_charts_image_in_the_report_carries_its_description_escaped_as_alt_text() -> None:
    from partnermon.reports.render import as_image

    image = str(as_image(line_chart("Index", MONTHS, {"A": [1, 2, 3, 4, 5, 6]},
                                    description='"Quote" <b>Partner</b> & co\'s index')))
    assert image.endswith('alt="&#34;Quote&#34; &lt;b&gt;Partner&lt;/b&gt; &amp; co&#39;s index">')
