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
