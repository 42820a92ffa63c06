"""Small, dependency-light inference helpers: Wilson and MOVER intervals, exact McNemar,
paired bootstrap and Holm/BH adjustment.

Rates are proportions of ~50-300 prompts, often near 0 or 1 in some languages, so
Wilson intervals (good coverage at small n and extreme p) are used instead of Wald.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval for a proportion, as fractions; (nan, nan) when n == 0."""
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def mover_mean(p1: float, ci1: tuple[float, float], p2: float, ci2: tuple[float, float]) -> tuple[float, float]:
    """Interval for (p1 + p2) / 2 of two independent proportions (MOVER, Zou & Donner 2008).

    Combines the two Wilson intervals; used for CAS, which averages HmR and HpR
    measured on different prompts.
    """
    est = p1 + p2
    lo = est - math.sqrt((p1 - ci1[0]) ** 2 + (p2 - ci2[0]) ** 2)
    hi = est + math.sqrt((ci1[1] - p1) ** 2 + (ci2[1] - p2) ** 2)
    return (max(0.0, lo / 2), min(1.0, hi / 2))


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts b and c."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def stable_seed(seed: int, *key: object) -> int:
    """A seed that depends on the cell's identity, not on the order cells are visited."""
    return (int(seed) * 1_000_003 + zlib.crc32("|".join(map(str, key)).encode("utf-8"))) % 2**32


def paired_bootstrap_diff(a: Sequence[bool], b: Sequence[bool], reps: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile 95% CI of mean(b) - mean(a) over resampled pairs (fractions)."""
    import numpy as np

    n = len(a)
    if n == 0:
        return (math.nan, math.nan)
    diff = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(reps, n))
    means = diff[idx].mean(axis=1)
    return (float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975)))


def cluster_bootstrap_ratio(
    sums: Sequence[float], sizes: Sequence[int], reps: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile 95% CI of sum(sums) / sum(sizes), resampling whole clusters (fractions)."""
    import numpy as np

    k = len(sums)
    if k == 0:
        return (math.nan, math.nan)
    s, n = np.asarray(sums, dtype=float), np.asarray(sizes, dtype=float)
    idx = np.random.default_rng(seed).integers(0, k, size=(reps, k))
    ratios = s[idx].sum(axis=1) / n[idx].sum(axis=1)
    return (float(np.quantile(ratios, 0.025)), float(np.quantile(ratios, 0.975)))


def sign_flip_test(sums: Sequence[float], reps: int = 20000, seed: int = 0) -> float:
    """Two-sided randomization p-value of sum(sums) = 0 by flipping the sign of whole clusters.

    Exact (all 2^k flips) for up to 16 non-zero clusters, else ``reps`` seeded random flips with the
    observed one counted (p >= 1 / (reps + 1)). With one pair per cluster it is the exact McNemar test.
    """
    import numpy as np

    d = np.asarray([x for x in sums if x != 0], dtype=float)
    if len(d) == 0:
        return 1.0
    observed = abs(d.sum()) - 1e-9
    if len(d) <= 16:
        signs = 1 - 2 * ((np.arange(2 ** len(d))[:, None] >> np.arange(len(d))) & 1)
        return float(np.mean(np.abs(signs @ d) >= observed))
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(reps, len(d)))
    return float((1 + np.sum(np.abs(signs @ d) >= observed)) / (reps + 1))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (controls the family-wise error rate)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (controls the false discovery rate)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i], reverse=True)
    adjusted = [0.0] * m
    running = 1.0
    for rank, i in enumerate(order):
        running = min(running, pvalues[i] * m / (m - rank))
        adjusted[i] = running
    return adjusted
