"""The formula at work on a database: ranking by the lower end of brand damage, the minimum number of
responses, thresholds (defaults, per-moment overrides, off switches, bad values) and early warnings."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon.errors import ValidationError
from partnermon.models import Partner, ScoreThreshold
from partnermon.scoring import board, periods, thresholds
from partnermon.scoring.board import Board
from partnermon.scoring.stats import two_proportion_test
from tests import factories
from tests.conftest import NOW
from tests.factories import Cast
from tests.scoring_fixtures import daily, moment, respond_many, utc

A = 1e-4
OCTOBER, NOVEMBER = utc(2026, 10, 5), utc(2026, 11, 5)


def november(session: Session, cast: Cast) -> Board:
    return board.build(session, NOW, cast.harbour, periods.parse("2026-11", NOW, "Europe/London"))


def two_partners(session: Session, cast: Cast):  # type: ignore[no-untyped-def]
    """Alpha and Bravo, with the same exposure, so that only the evidence tells them apart."""
    alpha = factories.partner(session, NOW, cast.harbour, "Alpha Life", exposure="100")
    bravo = factories.partner(session, NOW, cast.harbour, "Bravo Super", exposure="100")
    return alpha, bravo


def feedback(session: Session, partner: Partner, bad: int, good: int, at: datetime = NOVEMBER,
             moment_key: str = "claim", **bad_answers: object) -> None:
    respond_many(session, partner, at, bad, moment_key, **({"satisfaction": 1} | bad_answers))
    respond_many(session, partner, at.replace(hour=12), good, moment_key, satisfaction=5)


def damage(score):  # type: ignore[no-untyped-def]
    return (score.damage.value, score.damage.low, score.damage.high)


# --- ranking -------------------------------------------------------------------------------------------

def test_it_ranks_a_partner_with_200_answers_above_one_with_2_on_noise_alone(session: Session, cast: Cast) -> None:
    alpha, bravo = two_partners(session, cast)
    feedback(session, alpha, bad=2, good=0)       # 2 of 2 dissatisfied: below the minimum of 5
    feedback(session, bravo, bad=60, good=140)    # 60 of 200
    session.commit()
    ranked = november(session, cast).scores
    assert [s.partner.name for s in ranked] == ["Bravo Super", "Acme Insurance", "Alpha Life"]
    # Bravo: 100 clients × stake 3/3 × Wilson 60/200 = (0.3, 0.2407, 0.3668)
    assert damage(ranked[0]) == pytest.approx((30.0, 24.0747, 36.6791), abs=A)
    # Alpha's two answers are shown, not ranked on; Acme has nothing at all. Both come last, by name.
    assert (ranked[2].feedback.n, ranked[2].moments[0].feedback_harm, ranked[2].has_data) == (2, None, False)
    assert ranked[1].moments == [] and not ranked[1].has_data


def test_a_higher_rate_from_five_answers_ranks_below_a_surer_one_from_200(session: Session, cast: Cast) -> None:
    alpha, bravo = two_partners(session, cast)
    feedback(session, alpha, bad=4, good=1)       # 80 %, Wilson 4/5 = (0.3755, 0.9638)
    feedback(session, bravo, bad=120, good=80)    # 60 %, Wilson 120/200 = (0.5308, 0.6654)
    session.commit()
    first, second, _acme = november(session, cast).scores
    assert (first.partner.name, second.partner.name) == ("Bravo Super", "Alpha Life")
    assert damage(first) == pytest.approx((60.0, 53.0837, 66.5394), abs=A)
    assert damage(second) == pytest.approx((80.0, 37.5535, 96.3776), abs=A)   # worse on its face, less sure


def test_six_of_six_dissatisfied_outranks_ten_of_200_because_even_its_lower_bound_is_worse(session: Session,
                                                                                           cast: Cast) -> None:
    alpha, bravo = two_partners(session, cast)
    feedback(session, alpha, bad=6, good=0)       # Wilson 6/6 = (1, 0.6097, 1)
    feedback(session, bravo, bad=10, good=190)    # Wilson 10/200 = (0.05, 0.0274, 0.0896)
    session.commit()
    first, second, _acme = november(session, cast).scores
    assert (first.partner.name, second.partner.name) == ("Alpha Life", "Bravo Super")
    assert damage(first) == pytest.approx((100.0, 60.9666, 100.0), abs=A)
    assert damage(second) == pytest.approx((5.0, 2.7383, 8.9578), abs=A)
    assert (first.index.value, first.index.low, first.index.high) == pytest.approx((0.0, 0.0, 39.0334), abs=A)


def test_below_the_minimum_feedback_is_left_out_and_probes_alone_count(session: Session, cast: Cast) -> None:
    feedback(session, cast.acme, bad=4, good=0)   # every answer dissatisfied, but only 4
    daily(session, cast.acme_claims, date(2026, 11, 2), up=100, bh_up=100, buckets={3: 100})
    session.commit()
    (acme,) = november(session, cast).scores
    (claims,) = acme.moments
    assert (claims.enough_feedback, claims.feedback_harm) == (False, None)
    # harm from 0 of 100 business-hours checks down: Wilson (0, 0, 0.0370); no slow checks: ½ × (0, 0, 0.0370)
    assert (claims.harm.value, claims.harm.low) == (0.0, 0.0)
    assert claims.harm.high == pytest.approx(1 - (1 - 0.0370) * (1 - 0.0185), abs=A)
    assert november(session, cast).breaches == []   # 100 % dissatisfied is not judged on four answers
    cast.harbour.score_min_responses = 4
    session.commit()
    (acme,) = november(session, cast).scores
    assert acme.moments[0].feedback_harm is not None


# --- thresholds ----------------------------------------------------------------------------------------

def breaching_month(session: Session, cast: Cast):  # type: ignore[no-untyped-def]
    """Alpha's claims breach every default; Bravo's service sits exactly on each limit."""
    alpha, bravo = two_partners(session, cast)
    alpha_claims = factories.touchpoint(session, NOW, alpha, "Claims", "claim", "https://alpha.test/")
    bravo_portal = factories.touchpoint(session, NOW, bravo, "Portal", "service", "https://bravo.test/")
    # Alpha: 2 of 6 dissatisfied; 1 "worse" of the 5 who answered the brand question (20 %)
    respond_many(session, alpha, NOVEMBER, 1, "claim", satisfaction=1, brand_effect="worse")
    respond_many(session, alpha, NOVEMBER.replace(hour=12), 4, "claim", satisfaction=5, brand_effect="same")
    feedback(session, alpha, bad=1, good=0)
    feedback(session, bravo, bad=1, good=9, moment_key="service")     # 1 of 10 = 10 %: on the limit
    # Alpha: 990 of 1000 up in business hours (99 % < 99.5 %); p95 3000 + 1000·950/1000 = 3950 ms (> 3 s)
    daily(session, alpha_claims, date(2026, 11, 2), up=990, down=10, bh_up=990, bh_down=10, buckets={14: 990})
    # Bravo: 995 of 1000 (99.5 %: on the limit); p95 2000 + 1000·0.95 = 2950 ms
    daily(session, bravo_portal, date(2026, 11, 2), up=995, down=5, bh_up=995, bh_down=5, buckets={13: 995})
    session.commit()
    return alpha, bravo


def found(scores: Board) -> list[tuple[str, str, str]]:
    return [(b.partner.partner.name, b.moment.moment.key if b.moment.moment else "", b.measure.key)
            for b in scores.breaches]


def test_the_default_thresholds_are_breached_above_their_limits_and_not_on_them(session: Session, cast: Cast) -> None:
    breaching_month(session, cast)
    scores = november(session, cast)
    assert found(scores) == [("Alpha Life", "claim", "dissatisfaction"), ("Alpha Life", "claim", "brand_harm"),
                             ("Alpha Life", "claim", "bh_availability"), ("Alpha Life", "claim", "p95_ms")]
    assert [b.describe() for b in scores.breaches] == [
        "Dissatisfied clients 33 %, above the limit of 10 %",
        "Clients who think less of the practice 20 %, above the limit of 10 %",
        "Availability in business hours 99.00 %, below the limit of 99.5 %",
        "p95 response time 4.0 s, above the limit of 3 s",
    ]


def test_an_owner_can_override_a_limit_per_moment_and_turn_a_measure_off(session: Session, cast: Cast) -> None:
    breaching_month(session, cast)
    claim, service = moment(session, cast.harbour, "claim").id, moment(session, cast.harbour, "service").id
    thresholds.save_limits(session, NOW, cast.harbour.id, list(cast.harbour.moments), {
        "all:dissatisfaction": "40 %",            # every moment: Alpha's 33 % is now inside
        f"{service}:dissatisfaction": "5",         # but service is stricter: Bravo's 10 % breaches
        f"{claim}:p95_ms": "4000",                 # Alpha's 3950 ms is inside for claims
        f"off:{claim}:bh_availability": "on",      # and claims availability is not judged at all
    })
    session.commit()
    assert found(november(session, cast)) == [("Alpha Life", "claim", "brand_harm"),
                                              ("Bravo Super", "service", "dissatisfaction")]
    limits = thresholds.limits_of(session, cast.harbour.id)
    assert limits.for_moment(claim, "dissatisfaction").limit == pytest.approx(0.40)
    assert limits.for_moment(claim, "bh_availability").enabled is False
    assert limits.for_moment(service, "bh_availability") == thresholds.Limit(
        thresholds.MEASURES["bh_availability"], 0.995, True, False)
    # Saving the form empty goes back to the defaults, and leaves no rows behind.
    thresholds.save_limits(session, NOW, cast.harbour.id, list(cast.harbour.moments), {})
    session.commit()
    assert session.scalar(select(func.count()).select_from(ScoreThreshold)) == 0
    assert len(november(session, cast).breaches) == 4


def test_a_bad_limit_is_refused_naming_the_field_and_nothing_is_saved(session: Session, cast: Cast) -> None:
    claim = moment(session, cast.harbour, "claim").id
    thresholds.save_limits(session, NOW, cast.harbour.id, list(cast.harbour.moments), {"all:p95_ms": "5000"})
    session.commit()
    with pytest.raises(ValidationError) as caught:
        thresholds.save_limits(session, NOW, cast.harbour.id, list(cast.harbour.moments), {
            "all:p95_ms": "fast", f"{claim}:dissatisfaction": "150", "all:brand_harm": "5"})
    assert caught.value.errors == {
        "all:p95_ms": "p95 response time: enter a number, e.g. 3000.",
        f"{claim}:dissatisfaction": "Dissatisfied clients: enter a number from 0 to 100.",
    }
    session.commit()
    rows = session.execute(select(ScoreThreshold.moment_id, ScoreThreshold.measure, ScoreThreshold.limit)).all()
    assert rows == [(None, "p95_ms", 5000.0)]   # as before: not even the valid brand-harm field was saved


# --- early warnings ------------------------------------------------------------------------------------

def test_a_significant_rise_is_flagged_worse_with_the_test_that_found_it(session: Session, cast: Cast) -> None:
    alpha, bravo = two_partners(session, cast)
    for at, bad, worse in ((OCTOBER, 10, 5), (NOVEMBER, 30, 8)):     # Alpha gets worse
        feedback(session, alpha, bad=bad, good=100 - bad - worse, at=at)
        respond_many(session, alpha, at.replace(hour=18), worse, "claim", satisfaction=5, brand_effect="worse")
    feedback(session, bravo, bad=30, good=70, at=OCTOBER)             # Bravo gets better
    feedback(session, bravo, bad=10, good=90, at=NOVEMBER)
    session.commit()
    worse, better = november(session, cast).warnings
    # 10/100 → 30/100: pooled 0.2, expected counts 20 and 80 in each month (all ≥ 5: the z-test holds);
    # se √(0.2·0.8·0.02) = 0.056569; z = 0.2/0.056569 = 3.5355; p = 0.000407. Two tests were made: brand harm is
    # "worse" from all of the clients who answered the brand question in both months (5/5 → 8/8: nothing to test),
    # and Bravo answered no brand question. Benjamini–Hochberg over two equal p: min(p·2/2, p·2/1) = 0.000407.
    assert (worse.partner.partner.name, worse.rate.key, worse.direction) == ("Alpha Life", "dissatisfaction", "worse")
    assert (worse.result.statistic, worse.result.p_value, worse.adjusted_p) == pytest.approx(
        (3.53553, 0.000407, 0.000407), abs=1e-5)
    assert worse.describe() == "Dissatisfied clients rose from 10 % to 30 % — unlikely to be chance"
    assert worse.how_we_know() == ("100 then 100 answers; two-proportion z-test: z = 3.54, p < 0.001; adjusted "
                                   "p < 0.001 after Benjamini–Hochberg over 2 comparisons (5 % false discovery rate)")
    assert (better.partner.partner.name, better.rate.key, better.direction) == ("Bravo Super", "dissatisfaction", "better")
    assert (better.result.statistic, better.adjusted_p) == pytest.approx((-3.53553, 0.000407), abs=1e-5)
    assert better.describe() == "Dissatisfied clients fell from 30 % to 10 % — unlikely to be chance"


def test_a_small_change_with_a_big_sample_is_not_flagged_even_when_significant(session: Session, cast: Cast) -> None:
    alpha, bravo = two_partners(session, cast)
    for partner, before, after in ((alpha, 100, 190), (bravo, 100, 300)):
        tp = factories.touchpoint(session, NOW, partner, "Claims", "claim", f"https://{partner.id}.test/")
        for day, down in ((date(2026, 10, 2), before), (date(2026, 11, 2), after)):
            daily(session, tp, day, up=20000 - down, down=down, bh_up=20000 - down, bh_down=down,
                  buckets={3: 20000 - down})
    session.commit()
    # Alpha 0.50 % → 0.95 % of 20,000: z = 0.0045/√(0.00725·0.99275·0.0001) = 5.30, p ≈ 1e-7, yet 0.45 points
    # is under the half point that matters. Bravo 0.5 % → 1.5 %: z = 10.05, and a whole point: flagged.
    alpha_test = two_proportion_test(100, 20000, 190, 20000)
    assert alpha_test is not None and alpha_test.statistic == pytest.approx(5.3042, abs=A) and alpha_test.p_value < 1e-6
    (warning,) = november(session, cast).warnings
    assert (warning.partner.partner.name, warning.rate.key, warning.direction) == ("Bravo Super", "bh_downtime", "worse")
    assert warning.result.statistic == pytest.approx(10.0504, abs=A)


def test_below_the_minimum_number_of_answers_nothing_is_tested(session: Session, cast: Cast) -> None:
    feedback(session, cast.acme, bad=0, good=4, at=OCTOBER)
    feedback(session, cast.acme, bad=4, good=0, at=NOVEMBER)     # 0 of 4 → 4 of 4: four answers each
    session.commit()
    assert november(session, cast).warnings == []
    # The minimum is what held it back. At 4, 0/4 → 4/4 has expected counts of 2 (pooled 0.5 × 4): the normal
    # approximation does not hold (the z-test would say z = 2.83, p = 0.0047). Fisher's exact test: with 4 of 8
    # dissatisfied, the tables as extreme as this one are all 4 in October or all 4 in November, each with
    # probability 1/C(8, 4) = 1/70: two-sided p = 2/70 = 0.028571 — still flagged, one comparison, but 6 times less sure.
    cast.harbour.score_min_responses = 4
    session.commit()
    (warning,) = november(session, cast).warnings
    assert (warning.rate.key, warning.result.name) == ("dissatisfaction", "Fisher's exact test")
    assert warning.result.p_value == pytest.approx(2 / 70, abs=1e-9)
    assert warning.describe() == "Dissatisfied clients rose from 0 % to 100 % — unlikely to be chance"
    assert "Fisher's exact test (two-sided): p = 0.029" in warning.how_we_know()


def _checks_every_day(session: Session, partner: Partner, down_by_day: dict[date, int]) -> None:
    """93 business-hours checks on each of 22 days of October and of November (every 5 minutes for 7¾ hours),
    ``down_by_day`` of them failed."""
    tp = factories.touchpoint(session, NOW, partner, "Claims", "claim", f"https://{partner.id}.test/")
    for day in OCTOBER_DAYS + NOVEMBER_DAYS:
        down = down_by_day.get(day, 0)
        daily(session, tp, day, up=93 - down, down=down, bh_up=93 - down, bh_down=down, buckets={3: 93 - down})


OCTOBER_DAYS = [date(2026, 10, d) for d in range(1, 23)]
NOVEMBER_DAYS = [date(2026, 11, d) for d in range(1, 23)]


def test_one_three_hour_outage_after_a_clean_month_is_not_flagged(session: Session, cast: Cast) -> None:
    alpha, _ = two_partners(session, cast)
    _checks_every_day(session, alpha, {date(2026, 11, 10): 36})
    session.commit()
    # 22 days of 93 checks: 0 of 2,046 down, then one 3-hour outage, 36 of 2,046. As independent checks that is
    # z = 6.03, p < 0.001. But the failures are one run: November's design effect, with p = 36/2046 = 0.017595,
    # is 22/21 · [(36 − 1.6364)² + 21 · 1.6364²] / 2046² ÷ (p(1 − p)/2046) = 36.65, so 36 of 2,046 counts as
    # 0.98 of 55.8. October, with no failure, shows nothing of how failures bunch and takes the same 36.65:
    # 0 of 55.8. Fisher on 1 of 56 against 0 of 56: p = 1. One bad afternoon is not a trend.
    assert two_proportion_test(0, 2046, 36, 2046).statistic == pytest.approx(6.026, abs=1e-3)  # type: ignore[union-attr]
    assert november(session, cast).warnings == []


def test_the_same_failures_spread_over_the_month_are_still_flagged(session: Session, cast: Cast) -> None:
    alpha, _ = two_partners(session, cast)
    # 36 failed checks again, as blips on every day: 2 on 14 days, 1 on 8. The days hardly differ (the design
    # effect works out below 1, so it is 1): these are 36 separate failures, and 0 → 36 of 2,046 stands.
    _checks_every_day(session, alpha, {day: 2 if i < 14 else 1 for i, day in enumerate(NOVEMBER_DAYS)})
    session.commit()
    (warning,) = november(session, cast).warnings
    # Pooled 36/4092: expected failures 18 in each month (≥ 5, the z-test holds); se √(0.0088·0.9912·2/2046)
    # = 0.0029200; z = 0.017595 / 0.0029200 = 6.026.
    assert (warning.rate.key, warning.direction, warning.result.name) == ("bh_downtime", "worse", "two-proportion z-test")
    assert warning.result.statistic == pytest.approx(6.026, abs=1e-3)
