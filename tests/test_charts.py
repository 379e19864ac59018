"""Charts (partnermon.scoring.charts): pygal's SVG with its look written onto the elements, for the pages and the PDF.

No stylesheet travels with a chart, so what the tests check is that the attributes are there, that the SVG is
plain SVG a browser's HTML parser takes (no ``ns0:`` prefixes), and that the lightening for WeasyPrint (one path
for a series' dots, no hidden guides) keeps every point."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from partnermon.scoring.charts import DOT_SIZE, SVG_NS, bar_chart, line_chart

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
    assert root.get("aria-label") == "Acme's index <by month>"    # its name for screen readers (axe svg-img-alt)
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


# --- charts that tell the truth (issue 14) ---------------------------------------------------------------

def axis_labels(svg: object, axis: str) -> list[str]:
    group = next(g for g in parsed(str(svg)).iter(q("g")) if g.get("class", "").split()[:2] == ["axis", axis])
    return [t.text or "" for t in group.iter(q("text"))]


def all_text(svg: object) -> list[str]:
    """Each text element's words (pygal wraps a long axis title into tspans)."""
    return [" ".join(" ".join(t.itertext()).split()) for t in parsed(str(svg)).iter(q("text"))]


def test_a_narrow_p95_axis_has_distinct_round_ticks_and_says_it_is_zoomed() -> None:
    # 0.78–0.83 s: the ticks used to read "0.8 s" six times. Four parts of about 0.0125 s round up to a step of
    # 0.02 s, from 0.78 (39 steps) to 0.84 (42 steps), shown with the two decimals that step needs.
    svg = line_chart("p95", MONTHS, {"p95": [0.78, 0.80, 0.81, 0.79, 0.82, 0.83]}, description="d",
                     value_format="{:.1f} s")
    assert axis_labels(svg, "y") == ["0.78 s", "0.80 s", "0.82 s", "0.84 s"]
    # From 0 the values would fill 6 % of the height: the axis is zoomed, and the chart says where it starts.
    assert "axis starts at 0.78 s" in " ".join(all_text(svg))   # pygal wraps the title onto two lines
    assert "it starts at 0.78 s, not 0" in parsed(str(svg))[0].text


def test_a_rate_axis_starts_at_zero_with_round_ticks() -> None:
    # Dissatisfied clients from 11 % to 38 %: the axis ran 16–32 %, below the lowest value and above zero.
    svg = line_chart("Dissatisfied", MONTHS, {"d": [12, 14, 11, 15, 13, 38]}, description="d", value_format="{:.0f} %")
    assert axis_labels(svg, "y") == ["0 %", "10 %", "20 %", "30 %", "40 %"]
    assert "axis starts" not in " ".join(all_text(svg))


def test_a_near_full_availability_axis_is_a_labelled_zoom_with_distinct_ticks() -> None:
    # 99.5–100 %: span 0.5 in four parts of 0.125 → a step of 0.2, from 99.4 to 100.0, one decimal.
    svg = line_chart("Availability", MONTHS, {"a": [99.9, 99.95, 100, 99.5, 99.8, 99.99]}, description="d",
                     value_format="{:.2f} %")
    assert axis_labels(svg, "y") == ["99.4 %", "99.6 %", "99.8 %", "100.0 %"]
    assert "axis starts at 99.4 %" in " ".join(all_text(svg))


def test_an_empty_series_says_no_data_instead_of_drawing_an_axis_and_a_line() -> None:
    svg = line_chart("Dissatisfied clients (%)", MONTHS, {"d": [None] * 6}, description="By month.",
                     value_format="{:.0f} %")
    texts = all_text(svg)
    assert "No data for these months" in texts
    assert not [t for t in texts if t.endswith("%") and t[0].isdigit()]     # no "1 %, 1 %, 0 %" axis
    assert not [p for p in parsed(str(svg)).iter(q("path")) if "line" in p.get("class", "")]
    assert parsed(str(svg))[0].text == "By month. No data for these months."


def test_the_damage_chart_follows_the_tables_order_draws_each_interval_and_states_the_rule() -> None:
    from types import SimpleNamespace

    from partnermon.scoring.charts import damage_chart

    def score(name: str, value: float, low: float, high: float) -> SimpleNamespace:
        return SimpleNamespace(partner=SimpleNamespace(name=name), damage=SimpleNamespace(value=value, low=low, high=high))

    # Ranked by the low end: Acme (low 5) before Bravo (low 3), though Bravo's estimate (12) is the larger.
    board = [score("Acme", 9.0, 5.0, 14.0), score("Bravo", 12.0, 3.0, 30.0), SimpleNamespace(partner=None, damage=None)]
    root = parsed(str(damage_chart(board, description="d")))
    names = [t.text for g in root.iter(q("g")) if g.get("class") == "axis y" for t in g.iter(q("text"))]
    assert names == ["Acme", "Bravo"]
    assert any("low end of each interval" in (t.text or "") for t in root.iter(q("text")))
    # The axis runs 0–30 in steps of 10 (30 split in four is 7.5, rounded up to 10).
    ticks = [t.text for g in root.iter(q("g")) if g.get("class") == "axis x" for t in g.iter(q("text"))]
    assert ticks == ["0", "10", "20", "30"]
    x_of = {t.text: float(t.get("x")) for g in root.iter(q("g")) if g.get("class") == "axis x" for t in g.iter(q("text"))}
    per_unit = (x_of["30"] - x_of["0"]) / 30
    rows = [g for g in root.iter(q("g")) if g.get("class") == "interval"]
    for row, (value, low, high) in zip(rows, [(9.0, 5.0, 14.0), (12.0, 3.0, 30.0)]):
        bar = next(r for r in row.iter(q("rect")) if r.get("class") == "range")
        assert float(bar.get("x")) == pytest.approx(x_of["0"] + low * per_unit, abs=0.1)
        assert float(bar.get("width")) == pytest.approx((high - low) * per_unit, abs=0.1)
        dot = next(row.iter(q("circle")))
        assert float(dot.get("cx")) == pytest.approx(x_of["0"] + value * per_unit, abs=0.1)
        whiskers = next(p for p in row.iter(q("path")) if p.get("class") == "whiskers").get("d")
        assert f"H{x_of['0'] + high * per_unit:.1f}" in whiskers     # the line runs from the low end to the high
