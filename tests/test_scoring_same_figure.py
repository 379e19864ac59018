"""The page, the export and the PDF show the same figure (issue 14): for randomly generated practices, each
partner's experience index, brand damage and dissatisfaction on the home page and in the monthly report's
league table are the export's numbers, written the one way partnermon writes them — or, where the export
has no number, the same words saying why.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any, Callable

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy.orm import Session

from partnermon.reports import content
from partnermon.reports.render import render_report
from partnermon.scoring import formatting, periods
from partnermon.scoring.exports import score_rows
from tests import factories
from tests.conftest import NOW, PASSWORD, Browser, text_of
from tests.scoring_fixtures import daily, respond, utc
from tests.test_report_content import pages_text

_slugs = itertools.count(1)
NAMES = ("Alder Mutual", "Birch Lending", "Cedar Wealth")   # no name is a prefix of a table heading

partner_data = st.fixed_dictionaries({
    "claims": st.lists(st.integers(1, 5), max_size=12),      # satisfaction of each claims answer
    "service": st.lists(st.integers(1, 5), max_size=7),
    "worse": st.integers(0, 6),                              # the first few claims answers say "worse"
    "checks": st.one_of(st.none(), st.tuples(st.integers(1, 5), st.integers(0, 30))),   # (days, down per day)
})


def build(session: Session, data: list[dict[str, Any]]) -> tuple[Any, list[str]]:
    number = next(_slugs)
    practice = factories.practice(session, NOW, f"p{number}", f"Practice {number}")
    factories.user(session, NOW, practice, f"owner{number}@p.test", "owner", PASSWORD)
    names = []
    for i, spec in enumerate(data):
        partner = factories.partner(session, NOW, practice, NAMES[i], exposure=str(10 * (i + 1)))
        names.append(partner.name)
        for j, satisfaction in enumerate(spec["claims"]):
            respond(session, partner, utc(2026, 11, 3) + timedelta(hours=j), "claim", satisfaction=satisfaction,
                    brand_effect="worse" if j < spec["worse"] else None)
        for j, satisfaction in enumerate(spec["service"]):
            respond(session, partner, utc(2026, 11, 4) + timedelta(hours=j), "service", satisfaction=satisfaction)
        if spec["checks"]:
            days, down = spec["checks"]
            tp = factories.touchpoint(session, NOW, partner, "Portal", "service", f"https://{number}-{i}.test/")
            for d in range(days):
                daily(session, tp, date(2026, 11, 2 + d), up=200 - down, down=down, bh_up=200 - down, bh_down=down,
                      buckets={3: 200 - down})
    session.commit()
    return practice, names


def expected_texts(row: dict[str, Any]) -> list[str]:
    if row["experience_index"] is None:
        texts = ["not measured yet"]
    else:
        texts = [f"{formatting.fixed(row['experience_index'], 0)} {formatting.interval(row['index_low'], row['index_high'], 0)}",
                 f"{formatting.fixed(row['brand_damage'], 1)} {formatting.interval(row['damage_low'], row['damage_high'], 1)}"]
    n = row["dissatisfaction_n"]
    if row["dissatisfaction"] is None:
        texts.append(f"not enough answers yet ({n} of 5)")
    else:
        texts.append(f"{formatting.fixed(row['dissatisfaction'] * 100, 0)} % "
                     f"{formatting.interval(row['dissatisfaction_low'] * 100, row['dissatisfaction_high'] * 100, 0)} n={n}")
    return texts


def segment(text: str, name: str, names: list[str]) -> str:
    """The part of a page's text from a partner's name to the next partner's name in the table."""
    start = text.index(name)
    ends = [text.find(other, start + len(name)) for other in names if other != name]
    ends = [e for e in ends if e > 0]
    return text[start:min(ends)] if ends else text[start:start + 600]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.lists(partner_data, min_size=1, max_size=3))
def test_the_page_the_export_and_the_pdf_show_the_same_figures(
        session: Session, new_browser: Callable[[], Browser], app: Any, data: list[dict[str, Any]]) -> None:
    app.config["PARTNERMON_CLOCK"] = lambda: NOW
    practice, names = build(session, data)
    month = periods.month_of(date(2026, 11, 1), practice.timezone)
    rows = {r["partner"]: r for r in score_rows(session, NOW, practice, month) if r["moment"] == "All moments"}
    browser = new_browser().sign_in(f"owner{practice.slug[1:]}@p.test")
    home = text_of(browser.get("/?period=2026-11"))
    if "Partners ranked by brand damage" not in home:
        # Nothing at all was measured: the page says so instead of a table, and the export agrees.
        assert "No scores for November 2026 yet." in home
        assert all(r["responses"] == 0 and r["checks"] == 0 and r["rank"] is None for r in rows.values())
        return
    home = home[home.index("Partners ranked by brand damage"):]
    report = content.gather(session, NOW, practice, month)
    pdf = " ".join(" ".join(pages_text(render_report(report).data)).split())
    league = pdf[pdf.index("Partner league table", pdf.index("Partner league table") + 1):]
    for name in names:
        on_page, in_pdf = segment(home, name, names), segment(league, name, names)
        for text in expected_texts(rows[name]):
            assert text in on_page, (name, text, on_page)
            assert text in in_pdf, (name, text, in_pdf)
