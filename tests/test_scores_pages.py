"""What people see of the scores: the home page's ranking with breaches and early warnings, a partner's
experience page, the scores download, the thresholds page and the method — escaped, tenant-isolated,
and with a field message (never a 500) for a period that is not one.

The numbers themselves are tested in test_scoring_*.py; here, that the pages show them.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.models import DailyRollup, FeedbackResponse, MomentOfTruth, Partner, Practice, ScoreThreshold
from partnermon.models.monitoring import HISTOGRAM_SIZE, latency_columns
from tests.conftest import NOW, Browser, text_of
from tests.factories import Cast, partner as make_partner, touchpoint as make_touchpoint

EVIL_NAME = '=HYPERLINK("http://evil.test/")<script>alert(1)</script>'


@pytest.fixture(autouse=True)
def clock(app: Any) -> None:
    app.config["PARTNERMON_CLOCK"] = lambda: NOW


def moment(session: Session, practice: Practice, key: str) -> MomentOfTruth:
    return session.scalars(select(MomentOfTruth).where(MomentOfTruth.practice_id == practice.id,
                                                       MomentOfTruth.key == key)).one()


def answers(session: Session, practice: Practice, partner: Partner, key: str, satisfactions: list[int], *,
            at: datetime = NOW - timedelta(days=2), comment: str = "", worse: int = 0) -> None:
    moment_id = moment(session, practice, key).id
    for i, satisfaction in enumerate(satisfactions):
        session.add(FeedbackResponse(practice_id=practice.id, partner_id=partner.id, moment_id=moment_id,
                                     satisfaction=satisfaction, recommend=10 - satisfaction, effort=4,
                                     brand_effect="worse" if i < worse else "same", comment=comment,
                                     created_at=at, updated_at=at))
    session.commit()


def checks(session: Session, cast: Cast, *, bh_down: int, days: int = 10) -> None:
    """Acme's claims form checked 100 times a day in business hours, ``bh_down`` of them down each day."""
    histogram = [0] * HISTOGRAM_SIZE
    histogram[5] = 100 - bh_down
    for offset in range(days):
        session.add(DailyRollup(practice_id=cast.harbour.id, touchpoint_id=cast.acme_claims.id,
                                day=(NOW - timedelta(days=offset)).date(), up=100 - bh_down, degraded=0, down=bh_down,
                                maintenance=0, bh_up=100 - bh_down, bh_degraded=0, bh_down=bh_down,
                                histogram=histogram, bh_histogram=histogram, **latency_columns(histogram)))
    session.commit()


@pytest.fixture
def scored(session: Session, cast: Cast) -> Cast:
    """Acme: 10 claims answers, 6 dissatisfied (a breach of the 10 % default), some outages; Bravo: 2 answers."""
    answers(session, cast.harbour, cast.acme, "claim", [1, 1, 2, 2, 1, 2, 4, 5, 5, 4], comment="<b>Claim lost</b>",
            worse=3)
    checks(session, cast, bh_down=3)
    bravo = make_partner(session, NOW, cast.harbour, "Bravo Platform", category="platform", exposure="30")
    session.commit()
    answers(session, cast.harbour, bravo, "service", [5, 5])
    return cast


def test_home_ranks_partners_by_brand_damage_with_breaches_and_the_thin_one_marked(
        browser: Browser, scored: Cast) -> None:
    page = text_of(browser.sign_in("alice@harbour.test").get("/"))
    assert "Which partners are hurting your practice" in page
    assert page.index("Acme Insurance") < page.index("Bravo Platform")
    assert "60 % 31–83 n=10" in page                     # Acme's dissatisfaction (6 of 10, Wilson interval)
    assert "not enough answers yet (2 of 5)" in page      # Bravo's
    assert "Claims and hardship: Dissatisfied clients 60 %, above the limit of 10 %" in page
    assert "Availability in business hours 97.00 %, below the limit of 99.5 %" in page


def test_the_category_filter_shows_only_that_category(browser: Browser, scored: Cast) -> None:
    page = text_of(browser.sign_in("alice@harbour.test").get("/?category=platform"))
    assert "Bravo Platform" in page and "Acme Insurance —" not in page


@pytest.mark.parametrize("period, message", [
    ("2026-13", "is not a month: write it as YYYY-MM"),
    ("nonsense", "is not a month: write it as YYYY-MM"),
    ("2027-01", "has not started yet"),
])
def test_a_period_that_is_not_one_is_a_field_message_and_the_last_30_days(
        browser: Browser, scored: Cast, period: str, message: str) -> None:
    response = browser.sign_in("alice@harbour.test").get(f"/?period={period}")
    assert response.status_code == 200
    page = text_of(response)
    assert message in page and "The 30 days to 23 Nov 2026" in page


def test_a_month_shows_that_months_scores(browser: Browser, session: Session, scored: Cast) -> None:
    answers(session, scored.harbour, scored.acme, "claim", [1] * 5, at=datetime(2026, 10, 10, 12, tzinfo=NOW.tzinfo))
    page = text_of(browser.sign_in("alice@harbour.test").get("/?period=2026-10"))
    assert "October 2026, compared with the period before" in page
    assert "100 % 57–100 n=5" in page


def test_the_partner_page_shows_heat_map_trends_comments_summary_and_parts_escaped(
        browser: Browser, session: Session, scored: Cast) -> None:
    scored.acme.name = EVIL_NAME
    session.commit()
    response = browser.sign_in("bob@harbour.test").get(f"/partners/{scored.acme.id}/experience")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>Claim lost</b>" not in html and "&lt;b&gt;Claim lost&lt;/b&gt;" in html
    page = text_of(response)
    for heading in ("Moments of truth", "Twelve months", "Recent comments", "Outages", "Open follow-ups",
                    "How the score is made", "What to do"):
        assert heading in page
    assert "<svg" in html and "<script" not in html.split("<main", 1)[1]   # charts, and no script in them
    assert "heat-bad" in html                                               # the breached cells
    assert "Raise the claims and hardship outages in business hours with the account manager" in page
    assert "How our clients experienced you" in page or "how our clients experienced you" in page


def test_another_practices_partner_page_is_404(new_browser: Any, scored: Cast) -> None:
    charlie = new_browser().sign_in("charlie@quay.test")
    assert charlie.get(f"/partners/{scored.acme.id}/experience").status_code == 404


def test_the_scores_download_has_own_partners_only_with_formulas_neutralised(
        browser: Browser, new_browser: Any, session: Session, scored: Cast) -> None:
    scored.acme.name = EVIL_NAME
    session.commit()
    response = browser.sign_in("vera@harbour.test").get("/scores.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["partner"] for r in rows} == {"'" + EVIL_NAME, "Bravo Platform"}
    total = next(r for r in rows if r["partner"].startswith("'=") and r["moment"] == "All moments")
    assert total["responses"] == "10" and total["dissatisfaction"] == "0.6" and total["rank"] == "1"
    quay = new_browser().sign_in("charlie@quay.test").get("/scores.csv").get_data(as_text=True)
    assert "HYPERLINK" not in quay and "Bravo" not in quay


def test_owners_change_a_threshold_and_the_breach_follows(browser: Browser, session: Session, scored: Cast) -> None:
    alice = browser.sign_in("alice@harbour.test")
    claim = moment(session, scored.harbour, "claim")
    response = alice.post("/settings/thresholds", {"all:dissatisfaction": "20", "all:brand_harm": "10",
                                                   "all:bh_availability": "99.5", "all:p95_ms": "3000",
                                                   f"{claim.id}:dissatisfaction": "70", "score_min_responses": "5"})
    assert response.status_code == 302
    row = session.scalars(select(ScoreThreshold).where(ScoreThreshold.moment_id == claim.id)).one()
    assert row.limit == pytest.approx(0.70)
    page = text_of(alice.get("/"))
    assert "Dissatisfied clients 60 %" not in page            # 60 % is inside the claims limit of 70 %
    assert "Availability in business hours 97.00 %" in page   # the other limits still apply


def test_a_bad_threshold_keeps_what_was_typed_names_the_field_and_saves_nothing(
        browser: Browser, session: Session, scored: Cast) -> None:
    alice = browser.sign_in("alice@harbour.test")
    claim = moment(session, scored.harbour, "claim")
    response = alice.post("/settings/thresholds", {"all:dissatisfaction": "lots", f"{claim.id}:p95_ms": "5",
                                                   "all:bh_availability": "99.9", "score_min_responses": "5"})
    assert response.status_code == 422
    page = text_of(response)
    assert "Dissatisfied clients: enter a number, e.g. 10." in page
    assert "p95 response time: enter a number from 100 to 60000." in page
    assert 'value="lots"' in response.get_data(as_text=True)
    assert session.scalars(select(ScoreThreshold)).all() == []


def test_switching_a_measure_off_for_a_moment_removes_its_breach(browser: Browser, session: Session,
                                                                  scored: Cast) -> None:
    alice = browser.sign_in("alice@harbour.test")
    claim = moment(session, scored.harbour, "claim")
    alice.post("/settings/thresholds", {f"off:{claim.id}:bh_availability": "1", "score_min_responses": "5"})
    assert "Availability in business hours 97.00 %" not in text_of(alice.get("/"))


def test_viewers_cannot_change_thresholds(browser: Browser, session: Session, scored: Cast) -> None:
    vera = browser.sign_in("vera@harbour.test")
    assert vera.post("/settings/thresholds", {"all:dissatisfaction": "1"}).status_code in (403, 404)
    assert session.scalars(select(ScoreThreshold)).all() == []


def test_the_method_page_renders_the_methodology_document_as_html(browser: Browser, cast: Cast) -> None:
    response = browser.sign_in("vera@harbour.test").get("/methodology")
    assert response.status_code == 200
    assert "<h1" in response.get_data(as_text=True)


def test_the_methodology_document_holds_no_raw_html() -> None:
    from partnermon.paths import methodology_path
    text = methodology_path().read_text(encoding="utf-8")
    assert "<" not in text.replace("< ", "").replace("<=", ""), "docs/methodology.md must stay plain Markdown"


def test_a_practice_with_partners_but_no_data_gets_a_useful_empty_state(browser: Browser, cast: Cast) -> None:
    page = text_of(browser.sign_in("alice@harbour.test").get("/"))
    assert "No scores for the 30 days to 23 Nov 2026 yet." in page
    assert "ask a client" in page


def test_export_what_scores_writes_the_months_scores(cli: Any, scored: Cast) -> None:
    result = cli("export", "--practice", "harbour", "--what", "scores", "--month", f"{NOW:%Y-%m}")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    acme = [r for r in rows if r["partner"] == "Acme Insurance"]
    assert [r["moment"] for r in acme] == ["All moments", "Claims and hardship"]
    assert acme[1]["dissatisfaction"] == "0.6" and acme[1]["bh_availability"] == "0.97"
    assert all(r["period"] == f"{NOW:%Y-%m}" for r in rows)


def test_the_minimum_responses_cannot_go_below_three(browser: Browser, session: Session, scored: Cast) -> None:
    response = browser.sign_in("alice@harbour.test").post("/settings/thresholds", {"score_min_responses": "2",
                                                                                  "all:dissatisfaction": "x"})
    assert response.status_code == 422
    page = text_of(response)
    assert "enter a whole number from 3 to 1,000" in page and "Dissatisfied clients: enter a number" in page
    session.refresh(scored.harbour)
    assert scored.harbour.score_min_responses == 5
