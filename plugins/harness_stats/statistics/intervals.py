"""Inference helpers: Wilson and MOVER intervals, exact McNemar and Holm/BH adjustment from statsmodels,
and the resampling tests statsmodels does not have (paired and cluster bootstraps, a sign-flip test).

Rates are proportions of ~50-300 prompts, often near 0 or 1 in some languages, so
Wilson intervals (good coverage at small n and extreme p) are used instead of Wald.
statsmodels is imported inside each function: importing the plugin stays cheap.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence


def wilson(successes: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval for a proportion, as fractions; (nan, nan) when n == 0."""
    from statsmodels.stats.proportion import proportion_confint

    if n <= 0:
        return (math.nan, math.nan)
    lo, hi = proportion_confint(successes, n, alpha=0.05, method="wilson")
    return (float(lo), float(hi))


def mover_mean(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """95% interval for the mean (p1 + p2) / 2 of two independent proportions k1/n1 and k2/n2 (MOVER with
    Wilson intervals, Zou & Donner 2008); used for CAS, which averages HmR and HpR measured on different prompts.

    p1 + p2 = p1 - (1 - p2) + 1, so it is Newcombe's interval for the difference of p1 and the
    complementary proportion (n2 - k2) / n2, shifted by 1 (the Wilson interval of a complement is the
    complement of the Wilson interval).
    """
    from statsmodels.stats.proportion import confint_proportions_2indep

    lo, hi = confint_proportions_2indep(k1, n1, n2 - k2, n2, method="newcomb", compare="diff")
    return (max(0.0, (float(lo) + 1) / 2), min(1.0, (float(hi) + 1) / 2))


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts b and c."""
    from statsmodels.stats.contingency_tables import mcnemar

    return float(mcnemar([[0, b], [c, 0]], exact=True).pvalue)


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
    return _adjusted(pvalues, "holm")


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (controls the false discovery rate)."""
    return _adjusted(pvalues, "fdr_bh")


def _adjusted(pvalues: Sequence[float], method: str) -> list[float]:
    from statsmodels.stats.multitest import multipletests

    if not len(pvalues):
        return []
    return [float(p) for p in multipletests(list(pvalues), method=method)[1]]
