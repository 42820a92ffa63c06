"""The verdict's reward-point contrast with languages as the units, robust to tier-specific variances.

The mixed model pools one set of variance components over both tiers. When low-resource languages
are noisier than high-resource ones and fewer (the Behrens-Fisher case), its contrast's SE is too
small and its t test rejects too often. Two remedies that do not pool, both treating a language as
the independent unit (the contrast is a difference of tier means of per-language quantities):

- ``welch``: per language l, ``d_l = mean over prompts of (variant - base) on harmful minus the same
  on helpful`` (prompts both models answered); the contrast is the mean of ``d_l`` over the low tier
  minus the mean over the high tier, with Welch's t (Welch-Satterthwaite df). A prompt's and a
  language's own level cancel inside ``d_l``, so only language-level noise is left, each tier its own.
- ``cr2``: OLS of ``score ~ variant * kind * tier``, cluster-robust covariance with languages as the
  clusters, the CR2 bias reduction and the Satterthwaite df of Bell and McCaffrey (2002) and
  Pustejovsky and Tipton (2018) under an identity working model, as R's ``clubSandwich::coef_test``
  computes them. On a balanced table its SE equals Welch's; its df assume equal variances.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .rate_contrast import welch


def language_differences(df: Any, variant: str, base: str, languages: Sequence[str]) -> np.ndarray:
    """Per language (in the order given): d_l, NaN when a kind has no prompt answered by both models."""
    out = np.full(len(languages), np.nan)
    sub = df[df["variant"].astype(str).isin([variant, base])]
    wide = sub.pivot_table(index=["language", "kind", "item"], columns="variant", values="score", observed=True)
    if variant not in wide.columns or base not in wide.columns:
        return out
    diff = (wide[variant] - wide[base]).dropna()
    means = diff.groupby(level=["language", "kind"], observed=True).mean()
    for i, lang in enumerate(languages):
        harm, help_ = means.get((lang, "harmful")), means.get((lang, "helpful"))
        if harm is not None and help_ is not None:
            out[i] = float(harm - help_)
    return out


def welch_contrast(df: Any, variant: str, base: str, low_langs: Sequence[str], high_langs: Sequence[str]) -> dict:
    """The low-minus-high contrast of d_l with Welch's t; languages without a d_l are named, not used."""
    d_low = language_differences(df, variant, base, low_langs)
    d_high = language_differences(df, variant, base, high_langs)
    res = welch(d_low[np.isfinite(d_low)], d_high[np.isfinite(d_high)])
    res["t"] = res["estimate"] / res["se"] if res["se"] and math.isfinite(res["se"]) else math.nan
    missing = [lang for lang, d in zip([*low_langs, *high_langs], [*d_low, *d_high]) if not np.isfinite(d)]
    return {
        **res,
        "languages_low": int(np.isfinite(d_low).sum()),
        "languages_high": int(np.isfinite(d_high).sum()),
        "sd_low": float(np.std(d_low[np.isfinite(d_low)], ddof=1)) if np.isfinite(d_low).sum() > 1 else math.nan,
        "sd_high": float(np.std(d_high[np.isfinite(d_high)], ddof=1)) if np.isfinite(d_high).sum() > 1 else math.nan,
        "missing_languages": missing,
    }


def _cr2_adjusted(Xj: np.ndarray, L: np.ndarray, W: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """(I - H_jj)^(-1/2) W for H_jj = Xj M Xj' with M = L L': through the thin SVD of Xj L, as H_jj has rank
    at most p. Eigenvalues of I - H_jj at or below ``tol`` map to 0, as clubSandwich's Sym_power does."""
    U, s, _ = np.linalg.svd(Xj @ L, full_matrices=False)
    keep = 1.0 - s**2
    factor = np.where(keep > tol, np.abs(keep) ** -0.5, 0.0) - 1.0
    return W + U @ (factor[:, None] * (U.T @ W))


def cr2_tests(X: np.ndarray, y: np.ndarray, cluster: np.ndarray, C: np.ndarray) -> list[dict[str, float]]:
    """t tests of c'beta = 0 (each row c of C) for OLS with the CR2 cluster-robust SE and the
    Bell-McCaffrey Satterthwaite df under an identity working model (clubSandwich::coef_test)."""
    from scipy import stats
    from threadpoolctl import threadpool_limits

    C = np.atleast_2d(C)
    with threadpool_limits(limits=1, user_api="blas"):
        M = np.linalg.inv(X.T @ X)
        L = np.linalg.cholesky(M)
        beta = M @ (X.T @ y)
        e = y - X @ beta
        MC = M @ C.T  # p x q
        groups = [np.flatnonzero(cluster == g) for g in np.unique(cluster)]
        U = np.zeros((C.shape[0], len(y), len(groups)))
        contrib = np.empty((C.shape[0], len(groups)))
        for j, idx in enumerate(groups):
            Xj = X[idx]
            G = _cr2_adjusted(Xj, L, Xj @ MC)  # n_j x q
            contrib[:, j] = G.T @ e[idx]
            U[:, idx, j] = G.T
        out = []
        for q, c in enumerate(C):
            Uq = U[q] - X @ (M @ (X.T @ U[q]))  # (I - H) g_j: the residual maker on each cluster's weights
            P = Uq.T @ Uq
            var = float(np.sum(contrib[q] ** 2))
            df = float(np.trace(P) ** 2 / np.sum(P**2))
            est, se = float(c @ beta), math.sqrt(var)
            t = est / se if se > 0 else math.nan
            half = float(stats.t.ppf(0.975, df)) * se
            p = float(2 * stats.t.sf(abs(t), df)) if se > 0 else math.nan
            out.append(
                {"estimate": est, "se": se, "df": df, "t": t, "p": p, "ci_low": est - half, "ci_high": est + half}
            )
    return out


def cr2_contrasts(df: Any, variants: Sequence[str], fixed: str = "variant * kind * tier") -> dict[str, dict]:
    """Per variant: the CR2 test of its variant:kind:tier coefficient (languages as clusters)."""
    from threadpoolctl import threadpool_limits

    from ..mixedmodels import fixed_matrix
    from .tradeoff_model import three_way_terms, variant_of

    with threadpool_limits(limits=1, user_api="blas"):  # a QR of a 5,000 x 16 matrix: threads only cost
        X, names, _ = fixed_matrix(df, fixed)
    terms = [t for t in three_way_terms(names) if variant_of(t) in variants]
    if not terms:
        return {}
    C = np.zeros((len(terms), len(names)))
    for i, t in enumerate(terms):
        C[i, names.index(t)] = 1.0
    tests = cr2_tests(X, np.asarray(df["score"], dtype=float), np.asarray(df["language"].astype(str)), C)
    return {variant_of(t): r for t, r in zip(terms, tests)}


def tier_residual_sds(df: Any, low: str, high: str) -> dict[str, dict[str, float]]:
    """Per tier: the residual SD (score minus its prompt's and its model's means within a language and
    kind: what is left after every prompt, language and model effect) with its degrees of freedom,
    from the prompts every model answered."""
    out = {}
    for tier in (low, high):
        sub = df[df["tier"].astype(str) == tier]
        wide = sub.pivot_table(index=["language", "kind", "item"], columns="variant", values="score", observed=True)
        wide = wide.dropna()
        ss, dof = 0.0, 0
        for _, block in wide.groupby(level=["language", "kind"], observed=True):
            a = block.to_numpy()
            if a.shape[0] < 2 or a.shape[1] < 2:
                continue
            r = a - a.mean(axis=1, keepdims=True) - a.mean(axis=0, keepdims=True) + a.mean()
            ss += float((r**2).sum())
            dof += (a.shape[0] - 1) * (a.shape[1] - 1)
        out[tier] = {"sd": math.sqrt(ss / dof) if dof else math.nan, "df": dof}
    return out


def _equal_variance_p(sd_a: float, df_a: int, sd_b: float, df_b: int) -> float:
    """Two-sided F test of equal variances (normal theory: heavy tails make it reject more often)."""
    from scipy import stats

    if not (df_a > 0 and df_b > 0 and sd_b > 0 and math.isfinite(sd_a)):
        return math.nan
    f = sd_a**2 / sd_b**2
    return float(min(1.0, 2 * min(stats.f.cdf(f, df_a, df_b), stats.f.sf(f, df_a, df_b))))


def frame_contrasts(frame: Mapping[str, Any], test: str, random: str = "") -> list[dict[str, Any]]:
    """Per aligned variant of one analysis frame (mixed.design_frames): the contrast by ``test``
    ('welch', 'cr2' or 'lmm_tier': one mixed model per tier with the random formula ``random``) with
    the per-tier SDs of d_l, the languages used and the ones left out."""
    from .tier_lmm import tier_contrasts
    from .tradeoff_model import NotEstimable

    df, base, low, high = frame["frame"], frame["base"], frame["low"], frame["high"]
    tiers = dict(zip(df["language"].astype(str), df["tier"].astype(str)))
    low_langs = sorted(lang for lang, t in tiers.items() if t == low)
    high_langs = sorted(lang for lang, t in tiers.items() if t == high)
    variants = sorted(str(v) for v in df["variant"].cat.categories if str(v) != base)
    other, why = {}, "fewer than two languages with both prompt kinds answered in a tier"
    if test == "cr2":
        other = cr2_contrasts(df, variants)
    elif test == "lmm_tier":
        try:
            other = tier_contrasts(frame, random, check=True)
        except NotEstimable as exc:
            why = f"a tier's mixed model could not be fitted: {exc}"
    out = []
    for v in variants:
        w = welch_contrast(df, v, base, low_langs, high_langs)
        res = w if test == "welch" else other.get(v, {})
        c = {
            "scorer": frame["scorer"],
            "variant": v,
            "base": base,
            "test": test,
            **{k: res.get(k, math.nan) for k in ("estimate", "se", "df", "t", "p", "ci_low", "ci_high")},
            **{k: w[k] for k in ("languages_low", "languages_high", "sd_low", "sd_high", "missing_languages")},
        }
        c["reported"] = all(isinstance(c[k], float) and math.isfinite(c[k]) for k in ("estimate", "se", "p"))
        if test == "lmm_tier" and res:
            keep = ("df_low", "df_high", "residual_sd_low", "residual_sd_high", "converged", "random", "warnings")
            c.update({k: res[k] for k in keep})
            c["reported"] = c["reported"] and res["converged"]
            why = why if res["converged"] else "a tier's mixed model did not converge"
        if not c["reported"]:
            c["why_not"] = why
        c["p_equal_sd"] = _equal_variance_p(c["sd_low"], c["languages_low"] - 1, c["sd_high"], c["languages_high"] - 1)
        out.append(c)
    return out


def frame_variances(frame: Mapping[str, Any]) -> dict[str, Any]:
    """The residual SD of each tier (tier_residual_sds) with the F test of their ratio."""
    sds = tier_residual_sds(frame["frame"], frame["low"], frame["high"])
    lo, hi = sds[frame["low"]], sds[frame["high"]]
    return {
        "scorer": frame["scorer"],
        "family": frame["family"],
        "sd_low": lo["sd"],
        "sd_high": hi["sd"],
        "df_low": lo["df"],
        "df_high": hi["df"],
        "ratio": lo["sd"] / hi["sd"] if hi["sd"] else math.nan,
        "p": _equal_variance_p(lo["sd"], lo["df"], hi["sd"], hi["df"]),
    }
