"""Issue 14, "honest numbers": one test per defect found, each failing on the code as it was. Every figure is
worked out by hand in the comments (z = 1.959964, z² = 3.841459), never copied from the code's output, and
checked where people read it: the page, the export and the PDF.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from partnermon import schema
from partnermon.db import make_engine, make_session_factory
from partnermon.models import Practice
from partnermon.reports import content
from partnermon.reports.render import render_report
from partnermon.scoring import board, periods, thresholds
from partnermon.scoring.exports import score_rows
from tests import factories
from tests.conftest import NOW, Browser, text_of
from tests.factories import Cast
from tests.scoring_fixtures import daily, respond, respond_many, utc
from tests.test_report_content import pages_text

A = 1e-4
NOV = utc(2026, 11, 5)


@pytest.fixture(autouse=True)
def clock(app: Any) -> None:
    app.config["PARTNERMON_CLOCK"] = lambda: NOW


def november(practice: Practice) -> periods.Period:
    return periods.month_of(date(2026, 11, 1), practice.timezone)


def page(browser: Browser, url: str) -> str:
    return text_of(browser.get(url))


def export(session: Session, practice: Practice) -> list[dict[str, Any]]:
    return list(score_rows(session, NOW, practice, november(practice)))


def row(rows: list[dict[str, Any]], partner: str, moment: str) -> dict[str, Any]:
    return next(r for r in rows if r["partner"] == partner and r["moment"] == moment)


def pdf_text(session: Session, practice: Practice) -> str:
    report = content.gather(session, NOW, practice, november(practice))
    return " ".join(" ".join(pages_text(render_report(report).data)).split())


# --- brand harm divides by the clients who answered the brand question ------------------------------------

def test_brand_harm_is_a_share_of_those_who_answered_the_brand_question(
        browser: Browser, session: Session, cast: Cast) -> None:
    # 20 claims answers: 11 answered the brand question (3 "worse", 8 "same"), 9 skipped it; 2 of those who
    # skipped were dissatisfied. Brand harm is 3/11 = 27.27 % (it was 3/20 = 15 % of every response).
    respond_many(session, cast.acme, NOV, 3, "claim", satisfaction=4, brand_effect="worse")
    respond_many(session, cast.acme, NOV + timedelta(hours=1), 8, "claim", satisfaction=5, brand_effect="same")
    respond_many(session, cast.acme, NOV + timedelta(hours=2), 2, "claim", satisfaction=1)
    respond_many(session, cast.acme, NOV + timedelta(hours=3), 7, "claim", satisfaction=5)
    session.commit()
    (acme,) = board.build(session, NOW, cast.harbour, november(cast.harbour)).scores
    (claims,) = acme.moments
    # Wilson 3/11: denominator 1 + 3.841459/11 = 1.349224; centre (0.272727 + 0.174612)/1.349224 = 0.331554;
    # half 1.959964·√(0.018032 + 0.007937)/1.349224 = 0.234141 → (0.0974, 0.5657)
    brand = claims.readings.brand_harm
    assert (brand.n, brand.value, brand.estimate.low, brand.estimate.high) == pytest.approx((11, 3 / 11, 0.0974, 0.5657),
                                                                                         abs=A)
    # The formula's feedback harm: the 11 brand answers reach the minimum of 5, so they count. A response that
    # skipped the brand question is judged by its satisfaction alone: harmful are the 3 "worse" and the 2
    # dissatisfied skippers, 5 of all 20 responses (25 %); the 7 satisfied skippers count as not harmful.
    assert claims.feedback_harm_uses_brand and claims.feedback_harm is not None
    assert claims.feedback_harm.value == pytest.approx(5 / 20)
    rows = export(session, cast.harbour)
    claims_row = row(rows, "Acme Insurance", "Claims and hardship")
    assert (claims_row["brand_harm"], claims_row["brand_harm_n"], claims_row["responses"]) == (0.272727, 11, 20)
    assert claims_row["feedback_harm"] == 0.25 and claims_row["feedback_harm_uses_brand"] is True
    text = page(browser.sign_in("alice@harbour.test"), f"/partners/{cast.acme.id}/experience?period=2026-11")
    assert "27 % 10–57 n=11" in text and "15 %" not in text


def test_below_the_brand_questions_own_minimum_feedback_harm_is_dissatisfaction_alone(
        session: Session, cast: Cast) -> None:
    # 10 responses, only 4 answered the brand question (all "worse"), 1 other dissatisfied: brand harm is not
    # shown (4 of 5) and not used — feedback harm is 1 dissatisfied of 10, not 5 of 10.
    respond_many(session, cast.acme, NOV, 4, "claim", satisfaction=4, brand_effect="worse")
    respond_many(session, cast.acme, NOV + timedelta(hours=1), 1, "claim", satisfaction=2)
    respond_many(session, cast.acme, NOV + timedelta(hours=2), 5, "claim", satisfaction=5)
    session.commit()
    (acme,) = board.build(session, NOW, cast.harbour, november(cast.harbour)).scores
    (claims,) = acme.moments
    assert (claims.readings.brand_harm.shown, claims.readings.brand_harm.not_enough()) == (
        False, "not enough answers yet (4 of 5)")
    assert not claims.feedback_harm_uses_brand
    assert claims.feedback_harm is not None and claims.feedback_harm.value == pytest.approx(0.1)
    claims_row = row(export(session, cast.harbour), "Acme Insurance", "Claims and hardship")
    assert (claims_row["brand_harm"], claims_row["brand_harm_n"]) == (None, 4)


# --- the minimum applies to each measure's own answers ----------------------------------------------------

def test_an_nps_from_one_recommend_answer_is_not_shown_in_a_moment_with_five_responses(
        browser: Browser, session: Session, cast: Cast) -> None:
    respond(session, cast.acme, NOV, "claim", satisfaction=1, recommend=0)
    respond_many(session, cast.acme, NOV + timedelta(hours=1), 4, "claim", satisfaction=5)
    session.commit()
    text = page(browser.sign_in("alice@harbour.test"), f"/partners/{cast.acme.id}/experience?period=2026-11")
    assert "not enough answers yet (1 of 5)" in text and "-100" not in text
    claims_row = row(export(session, cast.harbour), "Acme Insurance", "Claims and hardship")
    assert (claims_row["nps"], claims_row["nps_low"], claims_row["nps_n"], claims_row["dissatisfaction_n"]) == (
        None, None, 1, 5)
    assert "-100" not in pdf_text(session, cast.harbour)


# --- no score from nothing ----------------------------------------------------------------------------------

def checks(session: Session, cast: Cast, *, days: int, per_day: int, bh_down: int = 0) -> None:
    for offset in range(days):
        daily(session, cast.acme_claims, date(2026, 11, 2) + timedelta(days=offset), up=per_day - bh_down,
              down=bh_down, bh_up=per_day - bh_down, bh_down=bh_down, buckets={3: per_day - bh_down})


def test_an_index_from_checks_alone_says_so_and_its_interval_is_not_a_point(
        browser: Browser, session: Session, cast: Cast) -> None:
    checks(session, cast, days=10, per_day=100)      # 1,000 business-hours checks, none down; no answers
    session.commit()
    (acme,) = board.build(session, NOW, cast.harbour, november(cast.harbour)).scores
    # Down: Wilson 0/1000, upper 3.841459/1003.841459 = 0.003827; slow: half of the same, 0.001913; either:
    # 1 − 0.996173·0.998087 = 0.005733 → index 100 (99.4267–100): "100 99–100"; a narrower one is widened below
    assert acme.index is not None and acme.index.low == pytest.approx(99.4267, abs=A)
    assert acme.basis == "from checks only: no client has answered yet"
    home = page(browser.sign_in("alice@harbour.test"), "/?period=2026-11")
    assert "100 99–100" in home and "100 100–100" not in home
    assert "from checks only: no client has answered yet" in home
    assert "from checks only: no client has answered yet" in pdf_text(session, cast.harbour)


def test_a_partner_with_only_thin_answers_has_no_index_no_damage_and_ranks_last(
        browser: Browser, session: Session, cast: Cast) -> None:
    aardvark = factories.partner(session, NOW, cast.harbour, "Aardvark Life", exposure="500")
    respond_many(session, aardvark, NOV, 3, "claim", satisfaction=5)     # 3 of 5: nothing measured
    checks(session, cast, days=1, per_day=100, bh_down=10)               # Acme: 10 of 100 down
    session.commit()
    scores = board.build(session, NOW, cast.harbour, november(cast.harbour)).scores
    assert [s.partner.name for s in scores] == ["Acme Insurance", "Aardvark Life"]   # not by name: by evidence
    assert (scores[1].index, scores[1].damage, scores[1].basis) == (None, None, None)
    total = row(export(session, cast.harbour), "Aardvark Life", "All moments")
    assert (total["rank"], total["experience_index"], total["brand_damage"]) == (None, None, None)
    assert total["left_out"] == "Claims and hardship: 3 of 5 answers needed, and nothing else measured"
    home = page(browser.sign_in("alice@harbour.test"), "/?period=2026-11")
    aardvark_row = home[home.index("Aardvark Life"):]
    assert aardvark_row.split("Aardvark Life", 1)[1].lstrip().startswith("Other · 500 clients not measured yet")
    partner_page = page(browser, f"/partners/{aardvark.id}/experience?period=2026-11")
    assert "Not measured yet" in partner_page and "100 100–100" not in partner_page


def test_moments_left_out_of_an_index_are_named_with_the_reason_on_the_page_and_in_the_pdf(
        browser: Browser, session: Session, cast: Cast) -> None:
    # Checks on claims (none down), and 9 answers spread over three moments, none of them reaching 5:
    # 1 of 9 dissatisfied is shown for the partner (11 %, n=9), but no moment's feedback is in the index.
    checks(session, cast, days=10, per_day=100)
    respond_many(session, cast.acme, NOV, 3, "service", satisfaction=5)
    respond(session, cast.acme, NOV, "service", satisfaction=1)
    respond_many(session, cast.acme, NOV, 4, "renewal", satisfaction=5)
    respond(session, cast.acme, NOV, "advocacy", satisfaction=5)
    session.commit()
    text = page(browser.sign_in("alice@harbour.test"), f"/partners/{cast.acme.id}/experience?period=2026-11")
    assert "Index from checks only: too few answers yet (9 in all, 5 needed per moment)." in text
    said = ("Left out of the index: Everyday service (4 of 5 answers needed, and nothing else measured); Renewal and "
            "price changes (4 of 5 answers needed, and nothing else measured); Recommending (1 of 5 answers needed, and "
            "nothing else measured).")
    assert said in text and said in pdf_text(session, cast.harbour)


# --- comparisons read true ---------------------------------------------------------------------------------

def test_a_value_compared_with_a_limit_has_the_digits_that_make_the_comparison_true(
        browser: Browser, session: Session, cast: Cast) -> None:
    daily(session, cast.acme_claims, date(2026, 11, 2), up=9946, down=54, bh_up=9946, bh_down=54, buckets={3: 9946})
    session.commit()
    # 9,946 of 10,000 = 99.46 %: at two decimals it already differs from 99.50 (one decimal would say 99.5).
    said = "Availability in business hours 99.46 %, below the limit of 99.5 %"
    assert said in page(browser.sign_in("alice@harbour.test"), "/?period=2026-11")
    partner_page = browser.get(f"/partners/{cast.acme.id}/experience?period=2026-11").get_data(as_text=True)
    assert 'heat-bad">99.46 %' in partner_page
    assert said in pdf_text(session, cast.harbour)


def test_a_share_just_over_its_limit_gets_the_decimal_that_shows_it(session: Session, cast: Cast) -> None:
    # 1 dissatisfied of 9.9 % … : 10.4 % (52 of 500) against 10 %: "10 %" would read as on the limit.
    respond_many(session, cast.acme, NOV, 52, "claim", satisfaction=1)
    respond_many(session, cast.acme, NOV + timedelta(hours=2), 448, "claim", satisfaction=5)
    session.commit()
    (breach,) = board.build(session, NOW, cast.harbour, november(cast.harbour)).breaches
    assert breach.describe() == "Dissatisfied clients 10.4 %, above the limit of 10 %"


# --- one denominator per statement --------------------------------------------------------------------------

def test_every_count_in_how_the_score_is_made_names_its_total(browser: Browser, session: Session, cast: Cast) -> None:
    # All hours: 8,448 answered checks (2,379 slower than 3 s) and 60 down; business hours: 2,040 checks, 30 down.
    daily(session, cast.acme_claims, date(2026, 11, 2), up=8448, down=60, bh_up=2010, bh_down=30,
          buckets={3: 8448 - 2379, 14: 2379})
    session.commit()
    text = page(browser.sign_in("alice@harbour.test"), f"/partners/{cast.acme.id}/experience?period=2026-11")
    assert ("30 of 2,040 business-hours checks down; 2,379 of 8,448 answered checks slower than 3 s (counted half)"
            in text)


# --- probe intervals respect runs of failures ---------------------------------------------------------------

def month_of_checks(session: Session, cast: Cast, down_by_day: dict[int, int]) -> None:
    """November 2026 at one check every 5 minutes (288 a day, all in business hours for simplicity)."""
    for day in range(1, 31):
        down = down_by_day.get(day, 0)
        daily(session, cast.acme_claims, date(2026, 11, day), up=288 - down, down=down, bh_up=288 - down,
              bh_down=down, buckets={3: 288 - down})
    session.commit()


@pytest.mark.parametrize("shape", ["one outage", "blips"])
def test_a_three_hour_outage_gives_a_wider_interval_than_the_same_downtime_in_36_blips(
        session: Session, cast: Cast, shape: str) -> None:
    # 36 of 8,640 checks down (3 hours) either way: p = 0.0041667, Σm = 8,640, 30 days of m = 288; p·m = 1.2.
    if shape == "one outage":
        # All 36 on 12 November: Σ(y − p·m)² = (36 − 1.2)² + 29·1.2² = 1211.04 + 41.76 = 1252.8; the variance over
        # days 30/29 · 1252.8/8640² = 1.7361e-5 against p(1 − p)/8640 = 4.8025e-7 for independent checks:
        # design effect 36.1506, effective n 239.00; Wilson(0.0041667, 239): denominator 1.016073, centre
        # (0.0041667 + 0.0080365)/1.016073 = 0.012010, half 1.959964·√(0.00001736 + 0.00008404)/1.016073 =
        # 0.019276 → down (0.000734, 0.023287), availability (97.6713 %, 99.9266 %)
        month_of_checks(session, cast, {12: 36})
        expected = (0.976713, 0.999266, 36.1506)
    else:
        # One or two 5-minute blips on every day (2 on six days, 1 on the other 24): Σ(y − p·m)² = 6·0.8² +
        # 24·0.2² = 4.8, variance 30/29 · 4.8/8640² = 6.65e-8, less than for independent checks: design effect 1.
        # Wilson(36, 8640): denominator 1.0004446, centre (0.0041667 + 0.00022231)/1.0004446 = 0.0043871,
        # half 1.959964·√(4.8025e-7 + 1.2865e-8)/1.0004446 = 0.0013753 → (0.0030118, 0.0057624)
        month_of_checks(session, cast, {day: 2 if day <= 6 else 1 for day in range(1, 31)})
        expected = (0.994238, 0.996988, 1.0)
    (acme,) = board.build(session, NOW, cast.harbour, november(cast.harbour)).scores
    availability = acme.probes.bh_availability
    assert availability.value == pytest.approx(1 - 36 / 8640)
    assert (availability.low, availability.high, availability.design_effect) == pytest.approx(expected, abs=A)
    width = availability.high - availability.low
    # the outage's interval is 8 times wider (2.26 points against 0.28)
    assert (width > 0.02) if shape == "one outage" else (width < 0.003)


# --- the default dissatisfaction limit ---------------------------------------------------------------------

def test_new_practices_get_a_10_percent_dissatisfaction_limit(session: Session, cast: Cast) -> None:
    limit = thresholds.limits_of(session, cast.harbour.id).for_moment(None, "dissatisfaction")
    assert (limit.limit, limit.customised) == (0.10, False)


def test_practices_that_existed_before_keep_their_20_percent_through_migration_0011(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        schema.upgrade(engine, "0009")
        # Written as rows of the 0009 schema: today's models have columns later migrations add.
        with engine.begin() as conn:
            for slug in ("old", "chose"):
                conn.execute(text(
                    "INSERT INTO practice (slug, name, timezone, business_start_minute, business_end_minute, "
                    "business_days, brand_colour, created_at) VALUES (:slug, :slug, 'Europe/London', 540, 1050, 31, "
                    "'#000000', '2026-01-01 00:00:00')"), {"slug": slug})
            conn.execute(text(
                "INSERT INTO score_threshold (practice_id, moment_id, measure, \"limit\", enabled, updated_at) "
                "SELECT id, NULL, 'dissatisfaction', 0.30, 1, '2026-01-01 00:00:00' FROM practice WHERE slug = 'chose'"))
        schema.upgrade(engine)
        sessions = make_session_factory(engine)
        with sessions() as s:
            stored = {p.slug: thresholds.limits_of(s, p.id).for_moment(None, "dissatisfaction").limit
                      for p in s.scalars(select(Practice))}
            assert stored == {"old": 0.20, "chose": 0.30}
            factories.practice(s, NOW, "new", "New Practice")
            s.commit()
            new = s.scalars(select(Practice).where(Practice.slug == "new")).one()
            assert thresholds.limits_of(s, new.id).for_moment(None, "dissatisfaction").limit == 0.10
    finally:
        engine.dispose()


# --- every measure at n = 0, 1, 4, 5 and 1,000 --------------------------------------------------------------

# (satisfied, dissatisfied, worse, promoters, detractors, easy) of n clients who answered every question, and
# the hand-computed Wilson / adjusted-Wald figures: Wilson k/n = (p + z²/2n ± z·√(p(1−p)/n + z²/4n²))/(1 + z²/n).
FIXTURES = {
    0: ((0, 0, 0, 0, 0, 0), {}),
    # 1/1 → (0.2065, 1); 0/1 → (0, 0.7935); NPS one promoter: n' 4, P' 0.4375, D' 0.1875 → (−48.4986, 98.4986)
    1: ((1, 0, 1, 1, 0, 1), {"csat": (1.0, 0.2065, 1.0), "dissatisfaction": (0.0, 0.0, 0.7935),
                             "brand_harm": (1.0, 0.2065, 1.0), "nps": (100.0, -48.4986, 98.4986),
                             "ces": (1.0, 0.2065, 1.0)}),
    # 3/4: denominator 1.960365, centre (0.75 + 0.480182)/1.960365 = 0.627532, half 0.326947 → (0.3006, 0.9544);
    # 1/4 mirrors it → (0.0456, 0.6994); NPS 2 promoters, 1 detractor: 25; n' 7, P' 2.75/7, D' 1.75/7, centre
    # 0.142857, variance (0.642857 − 0.020408)/7 = 0.088921, half 0.584458 → (−44.1598, 72.7312)
    4: ((3, 1, 1, 2, 1, 3), {"csat": (0.75, 0.3006, 0.9544), "dissatisfaction": (0.25, 0.0456, 0.6994),
                             "brand_harm": (0.25, 0.0456, 0.6994), "nps": (25.0, -44.1598, 72.7312),
                             "ces": (0.75, 0.3006, 0.9544)}),
    # 4/5 → (0.3755, 0.9638); 2/5 → (0.1176, 0.7693); NPS 3 and 1 of 5 → (−29.7827, 79.7827)
    5: ((4, 2, 2, 3, 1, 4), {"csat": (0.8, 0.3755, 0.9638), "dissatisfaction": (0.4, 0.1176, 0.7693),
                             "brand_harm": (0.4, 0.1176, 0.7693), "nps": (40.0, -29.7827, 79.7827),
                             "ces": (0.8, 0.3755, 0.9638)}),
    # 700/1000: denominator 1.003841, centre (0.7 + 0.001921)/1.003841 = 0.699234, half 0.028375 →
    # (0.6709, 0.7276); 200/1000 → (0.1764, 0.2259); NPS 500 and 200 → (25.0770, 34.7435)
    1000: ((700, 200, 200, 500, 200, 700), {"csat": (0.7, 0.6709, 0.7276), "dissatisfaction": (0.2, 0.1764, 0.2259),
                                            "brand_harm": (0.2, 0.1764, 0.2259), "nps": (30.0, 25.0770, 34.7435),
                                            "ces": (0.7, 0.6709, 0.7276)}),
}


@pytest.mark.parametrize("n", sorted(FIXTURES))
def test_every_feedback_measure_at_n_matches_the_hand_computation_and_the_minimum(n: int) -> None:
    from partnermon.scoring.measures import FeedbackCounts
    (satisfied, dissatisfied, worse, promoters, detractors, easy), expected = FIXTURES[n]
    counts = FeedbackCounts(n=n, satisfied=satisfied, dissatisfied=dissatisfied, brand_n=n, brand_harm=worse,
                            recommend_n=n, promoters=promoters, detractors=detractors, effort_n=n, easy=easy)
    readings = counts.readings(5)
    for key in ("csat", "dissatisfaction", "brand_harm", "nps", "ces"):
        reading = getattr(readings, key)
        assert reading.n == n
        assert reading.shown == (n >= 5)
        if n == 0:
            assert reading.estimate.value is None and reading.value is None
            continue
        estimate = reading.estimate
        assert (estimate.value, estimate.low, estimate.high) == pytest.approx(expected[key], abs=A)
        if n < 5:
            assert reading.value is None and reading.not_enough() == f"not enough answers yet ({n} of 5)"


# --- the scores download carries each measure's n ------------------------------------------------------------

def test_the_scores_download_has_a_column_for_each_measures_n(browser: Browser, session: Session, cast: Cast) -> None:
    respond_many(session, cast.acme, NOW - timedelta(days=2), 6, "claim", satisfaction=5, recommend=9)
    session.commit()
    body = browser.sign_in("alice@harbour.test").get("/scores.csv").get_data(as_text=True)
    claims = next(r for r in csv.DictReader(io.StringIO(body)) if r["moment"] == "Claims and hardship")
    assert {k: claims[k] for k in ("csat_n", "dissatisfaction_n", "brand_harm_n", "nps_n", "ces_n")} == {
        "csat_n": "6", "dissatisfaction_n": "6", "brand_harm_n": "0", "nps_n": "6", "ces_n": "0"}
    assert claims["brand_harm"] == "" and claims["nps"] == "100.0"
