"""The statistics behind every score (DESIGN.md §5): intervals for rates and NPS, and the test that early
warnings use. Pure arithmetic on counts, no database and no third-party maths library, so the numbers can
be checked by hand (tests/test_scoring_stats.py does, at n = 0, 1, 5 and 1,000).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the two-sided 95 % point of the standard normal


@dataclass(frozen=True)
class Estimate:
    """A rate (0–1) or an NPS (−100 to 100) with its 95 % interval and the n behind it.

    ``value`` is None when there is nothing to estimate from (n = 0); the interval is then the whole range,
    which is the honest statement of what is known."""

    value: float | None
    low: float
    high: float
    n: int

    @property
    def known(self) -> bool:
        return self.value is not None


def wilson(successes: int, n: int, z: float = Z95) -> Estimate:
    """The share ``successes / n`` with its Wilson score interval.

    Wilson rather than the textbook p ± z·√(p(1−p)/n): that one collapses to a zero-width interval at 0 of 5
    or 5 of 5, claiming certainty from five answers; Wilson stays inside 0–1 and stays wide for small n."""
    if n <= 0:
        return Estimate(None, 0.0, 1.0, 0)
    if not 0 <= successes <= n:
        raise ValueError(f"{successes} successes out of {n} is not a share")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n)


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


@dataclass(frozen=True)
class TestResult:
    """The outcome of a two-proportion test: the statistic, its two-sided p-value and the two shares."""

    name: str
    statistic: float
    p_value: float
    before: float
    after: float

    def significant(self, alpha: float = 0.05) -> bool:
        return self.p_value < alpha

    def describe(self) -> str:
        return f"{self.name}: z = {self.statistic:.2f}, p {format_p(self.p_value)}"


def two_proportion_test(before_k: int, before_n: int, after_k: int, after_n: int) -> TestResult | None:
    """The pooled two-proportion z-test of ``after_k/after_n`` against ``before_k/before_n`` (two-sided).

    None when either sample is empty or the pooled share is 0 or 1 (no variation: nothing to test). A
    positive statistic means the share went up."""
    if before_n <= 0 or after_n <= 0:
        return None
    p1, p2 = before_k / before_n, after_k / after_n
    pooled = (before_k + after_k) / (before_n + after_n)
    if pooled <= 0.0 or pooled >= 1.0:
        return None
    se = math.sqrt(pooled * (1 - pooled) * (1 / before_n + 1 / after_n))
    z = (p2 - p1) / se
    return TestResult("two-proportion z-test", z, math.erfc(abs(z) / math.sqrt(2)), p1, p2)


def format_p(p: float) -> str:
    """A p-value as written after "p": "< 0.001" or "= 0.012"."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"
