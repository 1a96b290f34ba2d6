"""Intervals and tests against values computed by hand."""

from __future__ import annotations

import math

import pytest

from klantreis.analytics._stats import (
    holm,
    mean_interval,
    nps_interval,
    odds_ratio,
    two_proportion_test,
    wilson,
)


def test_holm_on_known_pvalues():
    # sorted 0.01, 0.02, 0.03, 0.04 -> 4*0.01, 3*0.02, max(0.06, 2*0.03), max(0.06, 0.04)
    assert holm([0.04, 0.01, 0.03, 0.02]) == [0.06, 0.04, 0.06, 0.06]
    assert holm([0.5, 0.9]) == [1.0, 1.0]
    out = holm([0.01, math.nan, 0.02])
    assert out[0] == 0.02 and math.isnan(out[1]) and out[2] == 0.02
    assert holm([]) == []


def test_odds_ratio_by_hand():
    ratio, low, high = odds_ratio(20, 10, 10, 20)
    se = math.sqrt(1 / 20 + 1 / 10 + 1 / 10 + 1 / 20)
    assert ratio == 4.0
    assert low == pytest.approx(math.exp(math.log(4) - 1.959964 * se), rel=1e-6)
    assert high == pytest.approx(math.exp(math.log(4) + 1.959964 * se), rel=1e-6)


def test_odds_ratio_zero_cell_adds_half():
    ratio, low, high = odds_ratio(5, 0, 3, 4)
    assert ratio == pytest.approx((5.5 * 4.5) / (0.5 * 3.5))
    assert low < ratio < high


def test_nps_interval_ten_answers():
    # 10,10,10,9,9 promoters (5); 8,7 passives; 6,3,0 detractors (3): NPS = 50 - 30 = 20
    score, low, high = nps_interval(5, 3, 10)
    se = 100 * math.sqrt((0.5 + 0.3 - 0.2**2) / 10)
    assert score == pytest.approx(20.0)
    assert low == pytest.approx(20 - 1.959964 * se, abs=1e-4)
    assert high == pytest.approx(20 + 1.959964 * se, abs=1e-4)
    assert round(low, 3) == -34.032 and round(high, 3) == 74.032


def test_nps_interval_clipped_and_empty():
    assert nps_interval(3, 0, 3) == (100.0, 100.0, 100.0)
    assert all(math.isnan(x) for x in nps_interval(0, 0, 0))


def test_wilson_known_values():
    low, high = wilson(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert wilson(0, 10)[0] == 0.0
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_mean_interval_t():
    low, high = mean_interval(3.0, 1.0, 4)  # t(0.975, 3) = 3.182446
    assert low == pytest.approx(3 - 3.182446 / 2, abs=1e-5)
    assert high == pytest.approx(3 + 3.182446 / 2, abs=1e-5)
    assert all(math.isnan(x) for x in mean_interval(3.0, None, 1))


def test_two_proportion_by_hand():
    z, p = two_proportion_test(30, 100, 50, 100)
    pooled = 0.4
    expected = (0.3 - 0.5) / math.sqrt(pooled * 0.6 * 0.02)
    assert z == pytest.approx(expected)
    assert p == pytest.approx(math.erfc(abs(expected) / math.sqrt(2)))
    assert two_proportion_test(5, 5, 3, 3) == (0.0, 1.0)
