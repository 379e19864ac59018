"""The statistics behind every score (DESIGN.md §5): intervals for rates and NPS, intervals for probe shares
whose checks are not independent, and the tests that early warnings use. Pure arithmetic on counts, no
database, so the numbers can be checked by hand (tests/test_scoring_stats.py does, at n = 0, 1, 4, 5 and
1,000). Fisher's exact test comes from scipy.stats; the rest is a few lines of arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from scipy.stats import fisher_exact

from partnermon.scoring import formatting

Z95 = 1.959963984540054  # the two-sided 95 % point of the standard normal
# The normal approximation of the two-proportion test is trusted only when every expected count of the 2 × 2
# table (under "nothing changed") is at least this; otherwise Fisher's exact test is used.
MIN_EXPECTED = 5.0


@dataclass(frozen=True)
class Estimate:
    """A rate (0–1) or an NPS (−100 to 100) with its 95 % interval and the n behind it.

    ``value`` is None when there is nothing to estimate from (n = 0); the interval is then the whole range,
    which is the honest statement of what is known. ``design_effect`` (probe shares only) is how much wider
    than for independent checks the interval was made, because checks in a row are not independent."""

    value: float | None
    low: float
    high: float
    n: int
    design_effect: float = 1.0

    @property
    def known(self) -> bool:
        return self.value is not None

    def shown(self, digits: int = 0, scale: float = 100.0, signed: bool = False) -> str:
        """The value as written: a share in percent by default (``scale=1`` for an NPS or an index)."""
        assert self.value is not None
        text = formatting.fixed(self.value * scale, digits)
        return f"+{text}" if signed and not text.startswith("-") else text

    def bounds(self, digits: int = 0, scale: float = 100.0, sep: str = "–", signed: bool = False) -> str:
        """The interval as written, never collapsed to one point (``formatting.interval``)."""
        text = formatting.interval(self.low * scale, self.high * scale, digits, sep)
        if not signed:
            return text
        return sep.join(part if part.startswith("-") else f"+{part}" for part in text.split(sep))


def _wilson_bounds(p: float, n: float, z: float) -> tuple[float, float]:
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def wilson(successes: int, n: int, z: float = Z95) -> Estimate:
    """The share ``successes / n`` with its Wilson score interval.

    Wilson rather than the textbook p ± z·√(p(1−p)/n): that one collapses to a zero-width interval at 0 of 5
    or 5 of 5, claiming certainty from five answers; Wilson stays inside 0–1 and stays wide for small n."""
    if n <= 0:
        return Estimate(None, 0.0, 1.0, 0)
    if not 0 <= successes <= n:
        raise ValueError(f"{successes} successes out of {n} is not a share")
    p = successes / n
    low, high = _wilson_bounds(p, n, z)
    return Estimate(p, low, high, n)


@dataclass(frozen=True)
class Difference:
    """A difference of two independent shares, ``first − second``, with its 95 % interval and each share's n."""

    value: float
    low: float
    high: float
    first: Estimate
    second: Estimate


def newcombe_difference(first_k: int, first_n: int, second_k: int, second_n: int, z: float = Z95) -> Difference | None:
    """``first_k/first_n − second_k/second_n`` with Newcombe's hybrid score interval (R. G. Newcombe, "Interval
    estimation for the difference between independent proportions: comparison of eleven methods", Statistics
    in Medicine 17 (1998) 873–890, method 10): each share's Wilson interval (l, u) is combined as

        low  = d − √((p₁ − l₁)² + (u₂ − p₂)²)      high = d + √((u₁ − p₁)² + (p₂ − l₂)²)

    which, like Wilson for one share, stays inside −1…1 and stays honestly wide for small samples where the
    Wald interval of a difference collapses. None when either share has no answers."""
    if first_n <= 0 or second_n <= 0:
        return None
    a, b = wilson(first_k, first_n, z), wilson(second_k, second_n, z)
    assert a.value is not None and b.value is not None
    d = a.value - b.value
    low = d - math.sqrt((a.value - a.low) ** 2 + (b.high - b.value) ** 2)
    high = d + math.sqrt((a.high - a.value) ** 2 + (b.value - b.low) ** 2)
    return Difference(d, max(-1.0, low), min(1.0, high), a, b)


@dataclass(frozen=True)
class Clustered:
    """A share counted over clusters (one touchpoint's checks of one day), as sums the database adds up:
    successes Σy and checks Σm over the clusters, and Σy², Σy·m, Σm² for the spread between clusters."""

    successes: int = 0
    n: int = 0
    sum_y2: float = 0.0
    sum_ym: float = 0.0
    sum_m2: float = 0.0
    clusters: int = 0


def design_effect(c: Clustered) -> float:
    """How much larger the variance of the share is than if every check were independent (at least 1).

    The ratio estimator's variance over clusters (a textbook cluster-sample formula): with p = Σy / Σm,
    v = k / (k − 1) · Σ (y − p·m)² / (Σm)², where Σ (y − p·m)² = Σy² − 2p·Σym + p²·Σm² and k is the number of
    clusters. Divided by the variance of independent checks, p(1 − p) / Σm. With fewer than two clusters,
    or with no failure at all (p = 0 or 1: nothing bunches), there is nothing to measure and it is 1."""
    if c.n <= 0 or c.clusters < 2 or c.successes <= 0 or c.successes >= c.n:
        return 1.0
    p = c.successes / c.n
    spread = max(c.sum_y2 - 2 * p * c.sum_ym + p * p * c.sum_m2, 0.0)
    clustered = c.clusters / (c.clusters - 1) * spread / (c.n * c.n)
    independent = p * (1 - p) / c.n
    return max(1.0, clustered / independent)


def clustered_wilson(c: Clustered, z: float = Z95) -> Estimate:
    """A probe share with a Wilson interval on its *effective* number of checks, n ÷ design effect.

    One outage fails many checks in a row: counting each as an independent trial makes the interval far too
    narrow. Shrinking n by the observed design effect (Kish) keeps the share and widens the interval by as
    much as the failures bunched together in the data."""
    if c.n <= 0:
        return Estimate(None, 0.0, 1.0, 0)
    if not 0 <= c.successes <= c.n:
        raise ValueError(f"{c.successes} successes out of {c.n} is not a share")
    deff = design_effect(c)
    p = c.successes / c.n
    low, high = _wilson_bounds(p, c.n / deff, z)
    return Estimate(p, low, high, c.n, deff)


def nps(promoters: int, detractors: int, n: int, z: float = Z95) -> Estimate:
    """The Net Promoter Score (% promoters − % detractors, −100 to 100) with an adjusted-Wald interval.

    The adjustment (Rocks 2016, as recommended by Sauro & Lewis) adds 3 to n and ¾ to both promoters and
    detractors before the Wald interval of a difference of two shares of one sample; like Wilson for a
    share, it keeps small samples from looking certain. The value shown is the plain, unadjusted NPS."""
    if n <= 0:
        return Estimate(None, -100.0, 100.0, 0)
    if promoters < 0 or detractors < 0 or promoters + detractors > n:
        raise ValueError(f"{promoters} promoters and {detractors} detractors do not fit in {n} answers")
    adjusted_n = n + 3
    pro = (promoters + 0.75) / adjusted_n
    det = (detractors + 0.75) / adjusted_n
    centre = pro - det
    variance = (pro + det - centre * centre) / adjusted_n
    half = z * math.sqrt(max(variance, 0.0))
    value = 100.0 * (promoters - detractors) / n
    return Estimate(value, max(-100.0, 100.0 * (centre - half)), min(100.0, 100.0 * (centre + half)), n)


Z_TEST = "two-proportion z-test"
FISHER = "Fisher's exact test"


@dataclass(frozen=True)
class TestResult:
    """The outcome of a test of two shares: which test, its statistic, its two-sided p-value and the shares.

    ``statistic`` is z for the z-test; for Fisher's exact test it is the odds ratio with ½ added to every
    cell (finite even when a cell is 0), kept for the record — the p-value is Fisher's own."""

    name: str
    statistic: float
    p_value: float
    before: float
    after: float

    def significant(self, alpha: float = 0.05) -> bool:
        return self.p_value < alpha

    def describe(self) -> str:
        if self.name == Z_TEST:
            return f"{self.name}: z = {self.statistic:.2f}, p {format_p(self.p_value)}"
        return f"{self.name} (two-sided): p {format_p(self.p_value)}"


def normal_approximation_holds(before_k: float, before_n: float, after_k: float, after_n: float) -> bool:
    """Every expected count of the 2 × 2 table under "nothing changed" (pooled share × n, and its
    complement, for both periods) is at least MIN_EXPECTED: the usual rule for trusting the z-test."""
    total = before_n + after_n
    pooled = (before_k + after_k) / total
    expected = [pooled * before_n, (1 - pooled) * before_n, pooled * after_n, (1 - pooled) * after_n]
    return min(expected) >= MIN_EXPECTED


def two_proportion_test(before_k: float, before_n: float, after_k: float, after_n: float) -> TestResult | None:
    """``after_k/after_n`` against ``before_k/before_n``, two-sided: the pooled z-test where the normal
    approximation holds (``normal_approximation_holds``), Fisher's exact test where it does not.

    The counts may be effective counts (probe checks divided by their design effect), so not whole: Fisher's
    test, which counts tables, takes them rounded to the nearest whole check; the z-test takes them as they are.

    None when either sample is empty or the pooled share is 0 or 1 (no variation: nothing to test). A
    positive z means the share went up."""
    if before_n <= 0 or after_n <= 0:
        return None
    p1, p2 = before_k / before_n, after_k / after_n
    pooled = (before_k + after_k) / (before_n + after_n)
    if pooled <= 0.0 or pooled >= 1.0:
        return None
    if not normal_approximation_holds(before_k, before_n, after_k, after_n):
        p_value = _fisher_p(round(after_k), round(after_n - after_k), round(before_k), round(before_n - before_k))
        odds = ((after_k + 0.5) * (before_n - before_k + 0.5)) / ((after_n - after_k + 0.5) * (before_k + 0.5))
        return TestResult(FISHER, odds, min(1.0, p_value), p1, p2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / before_n + 1 / after_n))
    z = (p2 - p1) / se
    return TestResult(Z_TEST, z, math.erfc(abs(z) / math.sqrt(2)), p1, p2)


@lru_cache(maxsize=8192)
def _fisher_p(a: int, b: int, c: int, d: int) -> float:
    # scipy's test costs about a millisecond, and a board makes dozens of them on every page view of data that
    # has not changed: the same table always has the same p-value.
    return float(fisher_exact([[a, b], [c, d]], alternative="two-sided").pvalue)


def format_p(p: float) -> str:
    """A p-value as written after "p": "< 0.001" or "= 0.012"."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"
