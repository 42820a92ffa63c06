"""The trade-off question in percentage points: how much more (or less) a variant changes HmR or HpR in
low- than in high-resource languages, with uncertainty that respects languages and prompts as clusters.

For a variant v, its base b, a metric (HmR on harmful prompts, HpR on helpful ones) and a language l:

    change_l = 100 * mean over prompts p answered by both in l of [pass(v, l, p) - pass(b, l, p)]
    D        = mean of change_l over low-tier languages - mean of change_l over high-tier languages

Every language counts once. Languages are the independent units: the same prompt is asked in every
language, so its own difficulty enters every change_l alike and cancels in D, and a language's
prompts are averaged inside change_l. The 95% CI and p use Welch's t on the per-language changes
(Welch-Satterthwaite df). A cluster bootstrap (languages resampled within tier, prompts resampled
within kind and shared by all languages) is computed beside it for comparison; by simulation it
under-covers with a handful of languages per tier (ARCHITECTURE.md, "The verdict").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .intervals import stable_seed
from .table import passed

if TYPE_CHECKING:  # numpy loads inside the functions: the plugin imports without the stats extra
    import numpy as np

METRIC_OF_KIND = {"harmful": "HmR", "helpful": "HpR"}


def outcome_index(rows: Sequence[Mapping[str, Any]], options: Mapping[str, Any]) -> dict[tuple, bool]:
    """(scorer, model, kind, language, source|prompt_id) -> passed, for reward rows that pass or fail."""
    out = {}
    for row in rows:
        ok = passed(row, options)
        if ok is not None:
            key = (str(row.get("scorer") or ""), str(row["model"]), row["kind"], str(row["language"]))
            out[key + (f"{row.get('source')}|{row.get('prompt_id')}",)] = ok
    return out


def change_matrix(
    outcomes: Mapping[tuple, bool], scorer: str, variant: str, base: str, kind: str, languages: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """Languages x prompts matrix of pass(variant) - pass(base) in {-1, 0, 1}; NaN where a pair is missing."""
    import numpy as np

    prompts = sorted(
        {k[4] for k in outcomes if k[0] == scorer and k[1] == variant and k[2] == kind and k[3] in set(languages)}
    )
    col = {p: j for j, p in enumerate(prompts)}
    mat = np.full((len(languages), len(prompts)), np.nan)
    for i, lang in enumerate(languages):
        for p, j in col.items():
            v = outcomes.get((scorer, variant, kind, lang, p))
            b = outcomes.get((scorer, base, kind, lang, p))
            if v is not None and b is not None:
                mat[i, j] = float(v) - float(b)
    return mat, prompts


def rate_matrix(
    outcomes: Mapping[tuple, bool], scorer: str, model: str, kind: str, languages: Sequence[str]
) -> list[float]:
    """Per-language pass rate (%) of one model."""
    out = []
    for lang in languages:
        vals = [ok for k, ok in outcomes.items() if k[:4] == (scorer, model, kind, lang)]
        out.append(100 * sum(vals) / len(vals) if vals else math.nan)
    return out


def welch(low: np.ndarray, high: np.ndarray) -> dict[str, float]:
    """Difference of means with Welch's t (unequal variances, Satterthwaite df); NaN when a tier has < 2 values."""
    from scipy import stats

    est = float(low.mean() - high.mean()) if len(low) and len(high) else math.nan
    if len(low) < 2 or len(high) < 2:
        return {"estimate": est, "se": math.nan, "df": math.nan, "p": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    vl, vh = low.var(ddof=1) / len(low), high.var(ddof=1) / len(high)
    se = math.sqrt(vl + vh)
    if se == 0:
        same = est == 0
        return {"estimate": est, "se": 0.0, "df": math.inf, "p": 1.0 if same else 0.0, "ci_low": est, "ci_high": est}
    df = (vl + vh) ** 2 / (vl**2 / (len(low) - 1) + vh**2 / (len(high) - 1))
    q = float(stats.t.ppf(0.975, df))
    return {
        "estimate": est,
        "se": se,
        "df": float(df),
        "p": float(2 * stats.t.sf(abs(est) / se, df)),
        "ci_low": est - q * se,
        "ci_high": est + q * se,
    }


def cluster_bootstrap(mat: np.ndarray, is_low: np.ndarray, reps: int, seed: int) -> tuple[float, float]:
    """Percentile 95% CI of D, resampling languages within tier and prompts (columns) for all languages at once."""
    import numpy as np

    rng = np.random.default_rng(seed)
    low_idx, high_idx = np.flatnonzero(is_low), np.flatnonzero(~is_low)
    n_cols = mat.shape[1]
    draws = np.empty(reps)
    for r in range(reps):
        cols = rng.integers(0, n_cols, n_cols)
        sub = mat[:, cols]
        lo = sub[rng.choice(low_idx, len(low_idx))]
        hi = sub[rng.choice(high_idx, len(high_idx))]
        with np.errstate(invalid="ignore"):
            draws[r] = 100 * (np.nanmean(np.nanmean(lo, axis=1)) - np.nanmean(np.nanmean(hi, axis=1)))
    draws = draws[np.isfinite(draws)]
    if not len(draws):
        return (math.nan, math.nan)
    return (float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975)))


def rate_contrast(
    outcomes: Mapping[tuple, bool],
    scorer: str,
    variant: str,
    base: str,
    kind: str,
    low_langs: Sequence[str],
    high_langs: Sequence[str],
    reps: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """D for one (scorer, variant, kind) with Welch CI/p and, when ``reps`` > 0, the cluster-bootstrap CI."""
    import numpy as np

    languages = list(low_langs) + list(high_langs)
    mat, prompts = change_matrix(outcomes, scorer, variant, base, kind, languages)
    with np.errstate(invalid="ignore"):
        per_lang = 100 * np.nanmean(mat, axis=1) if mat.size else np.full(len(languages), np.nan)
    is_low = np.array([lang in set(low_langs) for lang in languages], dtype=bool)
    ok = np.isfinite(per_lang)
    res = welch(per_lang[ok & is_low], per_lang[ok & ~is_low])
    out: dict[str, Any] = {
        "scorer": scorer,
        "variant": variant,
        "base": base,
        "metric": METRIC_OF_KIND[kind],
        **res,
        "change_low": float(np.mean(per_lang[ok & is_low])) if (ok & is_low).any() else math.nan,
        "change_high": float(np.mean(per_lang[ok & ~is_low])) if (ok & ~is_low).any() else math.nan,
        "languages_low": int((ok & is_low).sum()),
        "languages_high": int((ok & ~is_low).sum()),
        "prompts": len(prompts),
        "pairs": int(np.isfinite(mat).sum()),
        "missing_languages": [lang for lang, good in zip(languages, ok) if not good],
    }
    if reps:
        lo, hi = cluster_bootstrap(mat[ok], is_low[ok], reps, stable_seed(seed, scorer, variant, base, kind))
        out["bootstrap_ci_low"], out["bootstrap_ci_high"] = lo, hi
    for model, tag in ((variant, "variant"), (base, "base")):
        rates = np.array(rate_matrix(outcomes, scorer, model, kind, languages))
        out[f"{tag}_rate_low"] = float(np.nanmean(rates[is_low])) if np.isfinite(rates[is_low]).any() else math.nan
        out[f"{tag}_rate_high"] = float(np.nanmean(rates[~is_low])) if np.isfinite(rates[~is_low]).any() else math.nan
        out[f"{tag}_rates"] = {
            "low": {lang: float(x) for lang, x, lo in zip(languages, rates, is_low) if lo},
            "high": {lang: float(x) for lang, x, lo in zip(languages, rates, is_low) if not lo},
        }
    return out
