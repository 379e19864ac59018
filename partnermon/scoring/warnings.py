"""Early warning (DESIGN.md §5): a partner × moment whose measures changed significantly since the period
before, flagged even while still inside its thresholds.

The test: for each rate (dissatisfaction, brand harm, business-hours downtime, share of slow checks), this
period against the one before: the pooled two-proportion z-test where its normal approximation holds (every
expected count of the 2 × 2 table at least 5), Fisher's exact test where it does not — at n = 4 the z-test
calls 0/4 → 4/4 p = 0.005, where the exact answer is p = 0.029. A practice makes hundreds of these
comparisons at once, and at p < 0.05 one in twenty would fire on noise alone, so the p-values are
corrected together with Benjamini–Hochberg (a false discovery rate of 5 %). A change must also be big
enough to matter — probe counts run to thousands, where a tiny change is "significant" — and each sample
large enough: the minimum number of the measure's own answers for feedback, 100 checks for probes.

Probe checks are not independent trials: one outage fails dozens of checks in a row. The probe rates are
therefore tested on *effective* counts, each period's failed checks and checks divided by the design effect
its interval already uses (``stats.clustered_wilson``), as Rao and Scott's adjustment of the chi-squared test
does; the choice between the z-test and Fisher's test then follows from those counts. A period with no failure
at all shows nothing of how failures bunch (its design effect is 1 for want of evidence, not because checks
are independent), so it takes the other period's: "nothing changed" means one process in both.

Each change is said in plain words first ("Dissatisfied clients rose from 15 % to 39 % — unlikely to be
chance"); the test, its p-value and the correction are ``how_we_know``, behind a disclosure on pages and in
the report's appendix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from partnermon.scoring import formatting
from partnermon.scoring.attribution import MomentScore, PartnerScore
from partnermon.scoring.measures import enough_answers
from partnermon.scoring.stats import TestResult, format_p, two_proportion_test

FALSE_DISCOVERY_RATE = 0.05
MIN_CHECKS = 100


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    min_change: float
    # (successes, n) of a moment, and whether that sample is large enough to test
    counts: Callable[[MomentScore], tuple[int, int]]
    big_enough: Callable[[MomentScore, int], bool]
    # Probe rates: the design effect of a moment's share (how much its checks bunch); answers are independent.
    design_effect: Callable[[MomentScore], float] | None = None


def _answered(m: MomentScore) -> int:
    return m.probes.up + m.probes.degraded


RATES: tuple[Rate, ...] = (
    Rate("dissatisfaction", "Dissatisfied clients", 0.05, lambda m: (m.feedback.dissatisfied, m.feedback.n),
         lambda m, n: enough_answers(n, m.min_responses)),
    # Brand harm among those who answered the brand question, with that question's own minimum.
    Rate("brand_harm", "Clients who think less of the practice", 0.05,
         lambda m: (m.feedback.brand_harm, m.feedback.brand_n), lambda m, n: enough_answers(n, m.min_responses)),
    Rate("bh_downtime", "Downtime in business hours", 0.005, lambda m: (m.probes.bh_down, m.probes.bh_checks),
         lambda m, n: n >= MIN_CHECKS, lambda m: m.probes.bh_down_share.design_effect),
    Rate("slow_checks", "Checks slower than 3 s", 0.05, lambda m: (min(m.probes.slow, _answered(m)), _answered(m)),
         lambda m, n: n >= MIN_CHECKS, lambda m: m.probes.slow_share.design_effect),
)
RATE_LABELS = {rate.key: rate.label for rate in RATES}
PROBE_RATES = ("bh_downtime", "slow_checks")


@dataclass(frozen=True)
class Change:
    partner: PartnerScore
    moment: MomentScore
    rate: Rate
    result: TestResult
    adjusted_p: float
    comparisons: int = 1       # how many tests the correction was made over
    before_n: int = 0
    after_n: int = 0

    @property
    def direction(self) -> str:
        return "worse" if self.result.after > self.result.before else "better"

    @property
    def moment_id(self) -> int | None:
        return self.moment.moment.id if self.moment.moment is not None else None

    @property
    def shares(self) -> tuple[str, str]:
        """Before and after, written so that two different shares never read the same."""
        return formatting.percent_pair(self.result.before, self.result.after)

    def describe(self) -> str:
        """The change in plain words: "Dissatisfied clients rose from 15 % to 39 % — unlikely to be chance"."""
        before, after = self.shares
        verb = "rose" if self.result.after > self.result.before else "fell"
        return f"{self.rate.label} {verb} from {before} to {after} — unlikely to be chance"

    def how_we_know(self) -> str:
        """The statistics behind ``describe``: the counts, the test and its result, and the correction."""
        return (f"{self.before_n:,} then {self.after_n:,} {'checks' if self.rate.key in PROBE_RATES else 'answers'}; "
                f"{self.result.describe()}; {benjamini_label(self.adjusted_p)} after Benjamini–Hochberg over "
                f"{self.comparisons:,} comparison{'s' if self.comparisons != 1 else ''} (5 % false discovery rate)")


def benjamini_label(adjusted: float) -> str:
    return f"adjusted p {format_p(adjusted)}"


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Adjusted p-values (q-values), in the order given: p × m / rank, made monotone from the largest down."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 1.0
    for position in range(m - 1, -1, -1):
        i = order[position]
        running = min(running, p_values[i] * m / (position + 1))
        adjusted[i] = running
    return adjusted


def early_warnings(current: Iterable[PartnerScore], previous: dict[int, PartnerScore]) -> list[Change]:
    """Every significant change between each partner × moment now and in the period before, worst first."""
    candidates: list[tuple[PartnerScore, MomentScore, Rate, TestResult, int, int]] = []
    for partner in current:
        before_partner = previous.get(partner.partner.id)
        if before_partner is None:
            continue
        before_moments = {_moment_key(m): m for m in before_partner.moments}
        for moment in partner.moments:
            before = before_moments.get(_moment_key(moment))
            if before is None:
                continue
            for rate in RATES:
                k1, n1 = rate.counts(before)
                k2, n2 = rate.counts(moment)
                if not (rate.big_enough(before, n1) and rate.big_enough(moment, n2)):
                    continue
                d1, d2 = _design_effects(rate, before, k1, n1, moment, k2, n2)
                result = two_proportion_test(k1 / d1, n1 / d1, k2 / d2, n2 / d2)
                if result is not None:
                    candidates.append((partner, moment, rate, result, n1, n2))
    adjusted = benjamini_hochberg([c[3].p_value for c in candidates])
    found = [Change(p, m, rate, result, q, len(candidates), n1, n2)
             for (p, m, rate, result, n1, n2), q in zip(candidates, adjusted)
             if q < FALSE_DISCOVERY_RATE and abs(result.after - result.before) >= rate.min_change]
    return sorted(found, key=lambda w: (w.direction != "worse", w.adjusted_p))


def _design_effects(rate: Rate, before: MomentScore, k1: int, n1: int, after: MomentScore, k2: int,
                    n2: int) -> tuple[float, float]:
    """What each period's counts are divided by before the test: 1 for answers; for checks, the period's own
    design effect, or the other period's where it has no failure (or nothing but failures) to measure one by."""
    if rate.design_effect is None:
        return 1.0, 1.0
    d1, d2 = rate.design_effect(before), rate.design_effect(after)
    measured1, measured2 = 0 < k1 < n1, 0 < k2 < n2
    if not measured1 and measured2:
        d1 = d2
    elif measured1 and not measured2:
        d2 = d1
    return d1, d2


def _moment_key(moment: MomentScore) -> int | None:
    return moment.moment.id if moment.moment is not None else None
