"""Intervals and tests shared by the loyalty and experience analytics (plain Python).

All intervals are two-sided 95% (z = 1.959964). Methods:

- share (CSAT, loop entry, repeat rate): Wilson score interval;
- NPS: normal interval on the difference of two shares of one multinomial sample,
  ``var(p - d) = (p + d - (p - d)^2) / n`` (promoters p, detractors d, as shares);
- mean (CES, emotion): Student t interval, ``mean ± t(0.975, n-1) * sd / sqrt(n)``;
- odds ratio: Woolf (logit) interval, adding 0.5 to every cell when a cell is 0;
- two shares: pooled two-proportion z-test; several tests: Holm step-down correction.

    >>> round(wilson(8, 10)[0], 4), round(wilson(8, 10)[1], 4)
    (0.4902, 0.9433)
    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054

__all__ = [
    "Z95",
    "holm",
    "mean_interval",
    "nps_interval",
    "odds_ratio",
    "two_proportion_test",
    "wilson",
]


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of the share k/n; (nan, nan) when n is 0."""
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def nps_interval(
    promoters: float, detractors: float, n: float, z: float = Z95
) -> tuple[float, float, float]:
    """NPS (-100..100) and its 95% interval (clipped to -100..100)."""
    if n <= 0:
        return (math.nan, math.nan, math.nan)
    p, d = promoters / n, detractors / n
    score = 100.0 * (p - d)
    se = 100.0 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    return (score, max(-100.0, score - z * se), min(100.0, score + z * se))


def mean_interval(mean: float, sd: float | None, n: float) -> tuple[float, float]:
    """Student t interval of a mean; (nan, nan) below two answers."""
    if n < 2 or sd is None or sd != sd:
        return (math.nan, math.nan)
    from scipy.stats import t

    half = float(t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return (mean - half, mean + half)


def odds_ratio(
    a: float, b: float, c: float, d: float, z: float = Z95
) -> tuple[float, float, float]:
    """Odds ratio (a*d)/(b*c) of a 2x2 table with Woolf's 95% interval.

    a: exposed with outcome, b: exposed without, c: unexposed with, d: unexposed without.
    When any cell is 0, 0.5 is added to every cell (Haldane-Anscombe).

    >>> [round(x, 3) for x in odds_ratio(20, 10, 10, 20)]
    [4.0, 1.367, 11.703]
    """
    if min(a, b, c, d) == 0:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    ratio = (a * d) / (b * c)
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    log = math.log(ratio)
    return (ratio, math.exp(log - z * se), math.exp(log + z * se))


def two_proportion_test(k1: float, n1: float, k2: float, n2: float) -> tuple[float, float]:
    """Pooled two-proportion z-test: (z, two-sided p). (nan, nan) when undefined."""
    if n1 <= 0 or n2 <= 0:
        return (math.nan, math.nan)
    pooled = (k1 + k2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return (0.0, 1.0)
    z = (k1 / n1 - k2 / n2) / math.sqrt(var)
    return (z, math.erfc(abs(z) / math.sqrt(2)))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (same order as given; NaN stays NaN)."""
    indexed = [(p, i) for i, p in enumerate(pvalues) if p == p]
    indexed.sort()
    m = len(indexed)
    adjusted = [math.nan] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return [round(x, 12) if x == x else x for x in adjusted]
