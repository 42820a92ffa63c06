"""Interval and test helpers against known values, R, and the hand-written formulas they replaced."""

from __future__ import annotations

import math
import random

import pytest
from harness_stats.statistics.intervals import (
    benjamini_hochberg,
    holm,
    mcnemar_exact,
    mover_mean,
    paired_bootstrap_diff,
    wilson,
)

pytestmark = pytest.mark.stats

# The formulas this module implemented by hand before it called statsmodels: the results must not move.
Z95 = 1.959963984540054
SAME = 1e-10


def wilson_formula(k: int, n: int) -> tuple[float, float]:
    p, z = k / n, Z95
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def mover_formula(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    (l1, u1), (l2, u2), p1, p2 = wilson_formula(k1, n1), wilson_formula(k2, n2), k1 / n1, k2 / n2
    lo = p1 + p2 - math.sqrt((p1 - l1) ** 2 + (p2 - l2) ** 2)
    hi = p1 + p2 + math.sqrt((u1 - p1) ** 2 + (u2 - p2) ** 2)
    return (max(0.0, lo / 2), min(1.0, hi / 2))


def mcnemar_formula(b: int, c: int) -> float:
    n = b + c
    return 1.0 if n == 0 else min(1.0, 2 * sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n)


def holm_formula(ps: list[float]) -> list[float]:
    order, out, running = sorted(range(len(ps)), key=lambda i: ps[i]), [0.0] * len(ps), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(ps) - rank) * ps[i]))
        out[i] = running
    return out


def bh_formula(ps: list[float]) -> list[float]:
    order, out, running = sorted(range(len(ps)), key=lambda i: ps[i], reverse=True), [0.0] * len(ps), 1.0
    for rank, i in enumerate(order):
        running = min(running, ps[i] * len(ps) / (len(ps) - rank))
        out[i] = running
    return out


def test_wilson_known_values():
    lo, hi = wilson(21, 50)  # 42%: the base model's HmR in the study
    assert (round(lo, 4), round(hi, 4)) == (0.2938, 0.5577)
    assert wilson(0, 10)[0] == 0.0 and 0 < wilson(0, 10)[1] < 0.35
    assert wilson(10, 10)[1] == pytest.approx(1.0)
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_wilson_and_mover_are_the_former_formulas():
    for n in range(1, 61):
        for k in range(n + 1):
            assert wilson(k, n) == pytest.approx(wilson_formula(k, n), abs=SAME), (k, n)
    rng = random.Random(0)
    for _ in range(1000):
        n1, n2 = rng.randint(1, 300), rng.randint(1, 300)
        k1, k2 = rng.randint(0, n1), rng.randint(0, n2)
        assert mover_mean(k1, n1, k2, n2) == pytest.approx(mover_formula(k1, n1, k2, n2), abs=SAME)


def test_mover_interval_contains_estimate_and_is_narrower_than_sum():
    lo, hi = mover_mean(21, 50, 11, 50)
    assert lo < (0.42 + 0.22) / 2 < hi
    assert hi - lo < ((wilson(21, 50)[1] - wilson(21, 50)[0]) + (wilson(11, 50)[1] - wilson(11, 50)[0])) / 2


def test_mcnemar_exact_is_the_binomial_test_and_the_former_sum():
    from scipy.stats import binomtest

    for b, c in ((0, 0), (1, 9), (5, 5), (12, 3), (0, 7)):
        expected = 1.0 if b + c == 0 else binomtest(min(b, c), b + c, 0.5).pvalue
        assert mcnemar_exact(b, c) == pytest.approx(expected)
    for b in range(40):
        for c in range(40):
            assert mcnemar_exact(b, c) == pytest.approx(mcnemar_formula(b, c), abs=SAME), (b, c)


def test_holm_and_bh_known_example():
    ps = [0.01, 0.04, 0.03, 0.005]
    assert holm(ps) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert benjamini_hochberg(ps) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert holm([]) == [] and benjamini_hochberg([]) == []


def test_holm_and_bh_are_the_former_step_procedures():
    rng = random.Random(1)
    for _ in range(40):
        ps = [rng.random() ** 3 for _ in range(rng.randint(1, 12))]
        ps[0] = ps[-1] if rng.random() < 0.3 else ps[0]  # ties
        assert holm(ps) == pytest.approx(holm_formula(ps), abs=SAME)
        assert benjamini_hochberg(ps) == pytest.approx(bh_formula(ps), abs=SAME)


def test_paired_bootstrap_is_seeded_and_brackets_the_difference():
    a = [True] * 20 + [False] * 30
    b = [True] * 35 + [False] * 15
    first = paired_bootstrap_diff(a, b, seed=3)
    assert first == paired_bootstrap_diff(a, b, seed=3)
    assert first[0] < 0.3 < first[1]
