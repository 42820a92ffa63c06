"""Interval and test helpers against known values and reference implementations."""

from __future__ import annotations

import math

import pytest
from harness_stats.statistics.intervals import (
    benjamini_hochberg,
    holm,
    mcnemar_exact,
    mover_mean,
    paired_bootstrap_diff,
    wilson,
)


def test_wilson_known_values():
    lo, hi = wilson(21, 50)  # 42%: the base model's HmR in the study
    assert (round(lo, 4), round(hi, 4)) == (0.2938, 0.5577)
    assert wilson(0, 10)[0] == 0.0 and 0 < wilson(0, 10)[1] < 0.35
    assert wilson(10, 10)[1] == pytest.approx(1.0)
    assert all(math.isnan(x) for x in wilson(0, 0))


@pytest.mark.stats
def test_wilson_matches_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    for k, n in ((3, 17), (33, 50), (120, 300)):
        assert wilson(k, n) == pytest.approx(proportion_confint(k, n, method="wilson"), abs=1e-9)


def test_mover_interval_contains_estimate_and_is_narrower_than_sum():
    p1, p2 = 0.42, 0.22
    lo, hi = mover_mean(p1, wilson(21, 50), p2, wilson(11, 50))
    assert lo < (p1 + p2) / 2 < hi
    assert hi - lo < ((wilson(21, 50)[1] - wilson(21, 50)[0]) + (wilson(11, 50)[1] - wilson(11, 50)[0])) / 2


def test_mcnemar_exact_matches_binomial_test():
    from scipy.stats import binomtest

    for b, c in ((0, 0), (1, 9), (5, 5), (12, 3), (0, 7)):
        expected = 1.0 if b + c == 0 else binomtest(min(b, c), b + c, 0.5).pvalue
        assert mcnemar_exact(b, c) == pytest.approx(expected)


def test_holm_and_bh_known_example():
    ps = [0.01, 0.04, 0.03, 0.005]
    assert holm(ps) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert benjamini_hochberg(ps) == pytest.approx([0.02, 0.04, 0.04, 0.02])


def test_paired_bootstrap_is_seeded_and_brackets_the_difference():
    a = [True] * 20 + [False] * 30
    b = [True] * 35 + [False] * 15
    first = paired_bootstrap_diff(a, b, seed=3)
    assert first == paired_bootstrap_diff(a, b, seed=3)
    assert first[0] < 0.3 < first[1]
