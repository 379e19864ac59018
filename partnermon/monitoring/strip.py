"""A touchpoint's availability strip as SVG: one column a day, the top cell its availability in all hours, the
lower cell (on a shaded band) in business hours, none on days the practice is closed.

Written out as text rather than through the template: 180 cells, each with its title, cost a touchpoint page
2 ms in Jinja (bench/dashboard.py). Every colour is also said in words, in the cell's title and in the key the
page prints under the strip, and every day is in the page's table.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from partnermon.monitoring.history import Day, band
from partnermon.monitoring.status import describe_availability

COLOURS = {"good": "#1e7a3c", "fair": "#8fbf6a", "poor": "#e0a030", "bad": "#b3261e", "none": "#c3cad3"}
CELL = 10   # a day's column, in strip units (the SVG stretches to the page's width)


def share_text(working: int, checks: int) -> str:
    """99.20% of 1,440 checks — or "no checks"."""
    if not checks:
        return "no checks"
    return f"{describe_availability(working / checks)} of {checks:,} check{'' if checks == 1 else 's'}"


def availability_strip(days: list[Day], label: str) -> Markup:
    """The strip's SVG; ``label`` names it for screen readers (what it shows, with its totals)."""
    width = len(days) * CELL
    parts = [f'<svg viewBox="0 0 {width} 46" width="100%" height="46" preserveAspectRatio="none" role="img" '
             f'focusable="false" aria-label="{escape(label)}">',
             f'<rect x="0" y="31" width="{width}" height="15" fill="#eef0f3" class="bh-band"/>']
    for index, day in enumerate(days):
        x, name = index * CELL + 1, day.day.strftime("%a %d %b")
        top = band(day.availability)
        parts.append(f'<rect x="{x}" y="0" width="8" height="28" class="cell band-{top}" fill="{COLOURS[top]}">'
                     f'<title>{name}: {share_text(day.working, day.checks)}</title></rect>')
        if day.business_day:
            lower = band(day.bh_availability)
            parts.append(f'<rect x="{x}" y="33" width="8" height="11" class="cell bh band-{lower}" '
                         f'fill="{COLOURS[lower]}"><title>{name}, business hours: '
                         f'{share_text(day.bh_working, day.bh_checks)}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))
