"""The statistics behind every score, checked against hand arithmetic (z = 1.96, z² = 3.8415), the
Benjamini–Hochberg correction, and the periods scores are computed over."""

from __future__ import annotations

from datetime import date

import pytest

from partnermon.errors import ValidationError
from partnermon.scoring import periods
from partnermon.scoring.stats import format_p, nps, two_proportion_test, wilson
from partnermon.scoring.warnings import benjamini_hochberg
from tests.conftest import NOW

A = 1e-4


def interval(estimate):  # type: ignore[no-untyped-def]
    return (estimate.value, estimate.low, estimate.high, estimate.n)


# --- Wilson: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n) --------------------------------------------

def test_wilson_at_n_0_knows_nothing_and_says_so() -> None:
    assert interval(wilson(0, 0)) == (None, 0.0, 1.0, 0)
    assert not wilson(0, 0).known


def test_wilson_at_n_1_stays_wide() -> None:
    # 1/1: denominator 1 + 3.8415 = 4.8415; centre (1 + 1.9207)/4.8415 = 0.6033;
    # half 1.96·√(0 + 0.9604)/4.8415 = 0.3967 → (0.2065, 1.0)
    assert interval(wilson(1, 1)) == pytest.approx((1.0, 0.2065, 1.0, 1), abs=A)
    # 0/1 mirrors it → (0, 0.7935)
    assert interval(wilson(0, 1)) == pytest.approx((0.0, 0.0, 0.7935, 1), abs=A)


def test_wilson_at_n_5_matches_the_hand_computation() -> None:
    # 2/5: p 0.4; denominator 1 + 3.8415/5 = 1.7683; centre (0.4 + 0.38415)/1.7683 = 0.44345;
    # half 1.96·√(0.24/5 + 3.8415/100)/1.7683 = 1.96·0.29396/1.7683 = 0.32583 → (0.1176, 0.7693)
    assert interval(wilson(2, 5)) == pytest.approx((0.4, 0.1176, 0.7693, 5), abs=A)
    # 0/5 and 5/5 are not certainties: (0, 0.4345) and (0.5655, 1)
    assert interval(wilson(0, 5)) == pytest.approx((0.0, 0.0, 0.4345, 5), abs=A)
    assert interval(wilson(5, 5)) == pytest.approx((1.0, 0.5655, 1.0, 5), abs=A)


def test_wilson_at_n_1000_is_narrow() -> None:
    # 200/1000: denominator 1.0038415; centre (0.2 + 0.0019207)/1.0038415 = 0.20115;
    # half 1.96·√(0.00016 + 0.00000096)/1.0038415 = 0.02477 → (0.1764, 0.2259)
    assert interval(wilson(200, 1000)) == pytest.approx((0.2, 0.1764, 0.2259, 1000), abs=A)


def test_wilson_refuses_a_count_that_is_not_a_share() -> None:
    with pytest.raises(ValueError):
        wilson(6, 5)


# --- NPS, adjusted Wald (Rocks 2016): n' = n + 3, P' = (P + ¾)/n', D' = (D + ¾)/n',
#     centre P' − D', variance (P' + D' − (P' − D')²)/n' ------------------------------------------------

def test_nps_at_n_0_is_unknown_over_the_whole_range() -> None:
    assert interval(nps(0, 0, 0)) == (None, -100.0, 100.0, 0)


def test_nps_at_n_1_is_wide_even_for_one_promoter() -> None:
    # n' 4; P' 1.75/4 = 0.4375, D' 0.75/4 = 0.1875; centre 0.25; variance (0.625 − 0.0625)/4 = 0.140625;
    # half 1.96·0.375 = 0.73499 → (−48.50, 98.50); the value is the plain NPS, 100
    assert interval(nps(1, 0, 1)) == pytest.approx((100.0, -48.4986, 98.4986, 1), abs=A)
    assert interval(nps(0, 1, 1)) == pytest.approx((-100.0, -98.4986, 48.4986, 1), abs=A)


def test_nps_at_n_5_matches_the_hand_computation() -> None:
    # 3 promoters, 1 detractor of 5: NPS 40; n' 8; P' 3.75/8 = 0.46875, D' 1.75/8 = 0.21875; centre 0.25;
    # variance (0.6875 − 0.0625)/8 = 0.078125; half 1.96·0.279508 = 0.547827 → (−29.7827, 79.7827)
    assert interval(nps(3, 1, 5)) == pytest.approx((40.0, -29.7827, 79.7827, 5), abs=A)


def test_nps_at_n_1000_is_narrow() -> None:
    # 500 promoters, 200 detractors: NPS 30; n' 1003; P' 500.75/1003 = 0.499252, D' 200.75/1003 = 0.200150;
    # centre 0.299103; variance (0.699402 − 0.089462)/1003 = 0.00060812; half 1.96·0.024660 = 0.048333
    # → (25.0770, 34.7435)
    assert interval(nps(500, 200, 1000)) == pytest.approx((30.0, 25.0770, 34.7435, 1000), abs=A)


def test_nps_refuses_more_promoters_and_detractors_than_answers() -> None:
    with pytest.raises(ValueError):
        nps(3, 3, 5)


# --- the pooled two-proportion z-test ------------------------------------------------------------------

def test_the_two_proportion_test_matches_the_hand_computation() -> None:
    # 10/100 → 25/100: pooled 35/200 = 0.175; se √(0.175·0.825·(1/100 + 1/100)) = √0.0028875 = 0.053735;
    # z = 0.15/0.053735 = 2.7915; two-sided p = erfc(2.7915/√2) = 0.005247
    result = two_proportion_test(10, 100, 25, 100)
    assert result is not None
    assert (result.statistic, result.p_value, result.before, result.after) == pytest.approx(
        (2.7915, 0.005247, 0.10, 0.25), abs=A)
    assert result.significant()
    assert result.describe() == "two-proportion z-test: z = 2.79, p = 0.005"


def test_the_two_proportion_test_is_negative_when_the_share_falls_and_not_significant_for_noise() -> None:
    # 210/1000 → 200/1000: pooled 0.205; se √(0.205·0.795·0.002) = 0.018054; z = −0.01/0.018054 = −0.5539;
    # p = 0.5797
    result = two_proportion_test(210, 1000, 200, 1000)
    assert result is not None
    assert (result.statistic, result.p_value) == pytest.approx((-0.5539, 0.5797), abs=A)
    assert not result.significant()


def test_the_two_proportion_test_declines_when_there_is_nothing_to_test() -> None:
    assert two_proportion_test(0, 0, 3, 10) is None          # an empty sample
    assert two_proportion_test(0, 10, 0, 20) is None         # pooled share 0: no variation
    assert two_proportion_test(10, 10, 20, 20) is None       # pooled share 1


def test_p_values_are_written_for_people() -> None:
    assert (format_p(0.0004), format_p(0.0123)) == ("< 0.001", "= 0.012")


# --- Benjamini–Hochberg --------------------------------------------------------------------------------

def test_benjamini_hochberg_matches_the_hand_computation_in_the_order_given() -> None:
    # m = 4; sorted 0.01, 0.03, 0.04, 0.20 → ×4/1 = 0.04, ×4/2 = 0.06, ×4/3 = 0.0533, ×4/4 = 0.20;
    # made monotone from the largest down: 0.20, 0.0533, min(0.06, 0.0533) = 0.0533, 0.04
    assert benjamini_hochberg([0.04, 0.01, 0.20, 0.03]) == pytest.approx([0.0533, 0.04, 0.20, 0.0533], abs=A)


def test_benjamini_hochberg_leaves_one_test_alone_and_caps_at_one() -> None:
    assert benjamini_hochberg([]) == []
    assert benjamini_hochberg([0.03]) == pytest.approx([0.03])
    assert benjamini_hochberg([0.9, 0.8]) == pytest.approx([0.9, 0.9])


# --- periods -------------------------------------------------------------------------------------------

def test_a_month_starts_at_local_midnight_in_the_practices_time_zone() -> None:
    sydney = periods.parse("2026-11", NOW, "Australia/Sydney")
    # 1 November 00:00 AEDT (UTC+11) is 31 October 13:00 UTC; 1 December 00:00 is 30 November 13:00 UTC
    assert (sydney.start.isoformat(), sydney.end.isoformat()) == ("2026-10-31T13:00:00+00:00",
                                                                  "2026-11-30T13:00:00+00:00")
    london = periods.parse("2026-11", NOW, "Europe/London")
    assert london.start.isoformat() == "2026-11-01T00:00:00+00:00"
    assert (london.previous().first_day, london.previous().end_day) == (date(2026, 10, 1), date(2026, 11, 1))
    # October in London crosses the clocks going back: it starts at 23:00 UTC on 30 September (BST)
    assert london.previous().start.isoformat() == "2026-09-30T23:00:00+00:00"


def test_the_rolling_period_is_the_30_local_days_to_today_and_the_30_before() -> None:
    rolling = periods.parse("", NOW, "Europe/London")
    assert (rolling.kind, rolling.first_day, rolling.end_day) == ("rolling", date(2026, 10, 25), date(2026, 11, 24))
    assert (rolling.previous().first_day, rolling.previous().end_day) == (date(2026, 9, 25), date(2026, 10, 25))
    assert rolling.key == "30d" and periods.parse("30d", NOW, "Europe/London") == rolling


def test_a_malformed_or_future_month_is_refused_naming_the_field() -> None:
    for typed in ("2026-13", "November", "1999-01"):
        with pytest.raises(ValidationError) as caught:
            periods.parse(typed, NOW, "Europe/London", field="month")
        assert list(caught.value.errors) == ["month"]
    with pytest.raises(ValidationError, match="has not started yet"):
        periods.parse("2026-12", NOW, "Europe/London")


# --- written for people: intervals never collapse, comparisons read true (partnermon.scoring.formatting) ----

def test_an_interval_that_is_not_a_point_never_reads_as_one() -> None:
    from partnermon.scoring.formatting import interval
    # 99.953–100 at whole points is "100–100": one more digit each until the bounds differ, zeros trimmed
    assert interval(99.953, 100.0, 0) == "99.95–100"
    assert interval(99.6, 100.0, 0) == "99.6–100"
    assert interval(12.3, 45.6, 0) == "12–46"          # already apart: as asked
    assert interval(100.0, 100.0, 0) == "100–100"      # a true point stays one


def test_a_value_next_to_its_limit_gets_the_digits_the_comparison_needs() -> None:
    from partnermon.scoring.formatting import compare_digits
    assert compare_digits(99.46, 99.5, True, 1) == 2      # "99.5 below 99.5" → "99.46 below 99.5"
    assert compare_digits(10.4, 10.0, True, 0) == 1       # "10 above 10" → "10.4 above 10"
    assert compare_digits(33.3, 10.0, True, 0) == 0       # already plain
    assert compare_digits(9.96, 10.0, False, 0) == 0      # "10", not above 10: reads true as it is
