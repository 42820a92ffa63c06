"""The trade-off models' analysis frames and fits: does variant x kind x tier matter?

Each (scorer, family) of the tidy rows becomes one analysis frame (`design_frames`: score, variant,
kind, tier, language, item, passed) for the linear mixed model ``score ~ variant * kind * tier +
RANDOM`` fitted by the engine (`harness_stats.mixedmodels.fit_lmm`, REML, lme4's way), RANDOM in lme4
syntax (default: the extended formula; without an explicit formula a table too small for it gets the
largest model of the ladder it supports, with a warning). The three-way terms are tested jointly
(Satterthwaite F, or the LRT of ML fits) and one by one (t tests per variant).

Coding (treatment): variant vs the family's base model, harmful vs helpful prompts,
least- vs most-resourced tier. A three-way coefficient is therefore
[(variant - base) on harmful - (variant - base) on helpful] in the low tier minus the
same in the high tier: how much the variant's harmlessness gain relative to its
helpfulness gain differs in low-resource languages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .table import as_list, base_models, distinct, family_of, metric_rows, ordered_tiers, passed

KIND_LEVELS = ["helpful", "harmful"]  # reference first
FIXED = "variant * kind * tier"
#: below this many languages in a tier the LRT's chi-square reference is anti-conservative (by simulation:
#: 25% rejections at nominal 5% with 5 languages per tier under variant x language variation)
LRT_MIN_LANGUAGES = 10


class NotEstimable(Exception):
    """The table lacks what the model needs (one tier, one variant ...); the message says what."""


def too_many_effects(exc: NotEstimable) -> bool:
    """Whether a fit failed only because the random formula has more effects than the table has scores."""
    from ..mixedmodels import TooManyEffects

    return isinstance(exc.__cause__, TooManyEffects)


def design_frames(rows: Sequence[Mapping[str, Any]], options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One analysis frame per (scorer, family): rows of the two contrasted tiers, coded factors.

    Raises NotEstimable when no frame can be built, with the reason.
    """
    import pandas as pd

    reward = [r for r in metric_rows(rows) if r.get("kind") in KIND_LEVELS]
    if not reward:
        raise NotEstimable("no reward-scored rows with kind harmful/helpful")
    kinds = set(distinct(reward, "kind"))
    if kinds != set(KIND_LEVELS):
        raise NotEstimable(f"only {', '.join(sorted(kinds))} prompts present; the model needs both kinds")
    all_tiers = ordered_tiers((r.get("tier") for r in reward), as_list(options.get("tier_order")))
    wanted = as_list(options.get("tiers"))
    if wanted:
        missing = [t for t in wanted if t not in all_tiers]
        if len(wanted) != 2 or missing:
            raise NotEstimable(f"option tiers must name two tiers present in the table (present: {all_tiers})")
        low, high = wanted
    elif len(all_tiers) < 2:
        raise NotEstimable(
            f"only one resource tier present ({', '.join(all_tiers) or 'none'}); "
            "the trade-off across tiers cannot be tested"
        )
    else:
        low, high = all_tiers[0], all_tiers[-1]
    baseline = str(options.get("baseline") or "")
    bases = base_models(reward, baseline or None)
    families: list[str | None] = sorted({family_of(r) for r in reward}) if not baseline else [None]
    frames, reasons = [], []
    for scorer in distinct(reward, "scorer") or [""]:
        for family in families:
            sub = [
                r
                for r in reward
                if str(r.get("scorer") or "") == scorer
                and str(r.get("tier")) in (low, high)
                and (family is None or family_of(r) == family)
            ]
            models = distinct(sub, "model")
            base = baseline if family is None else bases.get(family)
            note = ""
            if base is None and models:
                base = models[0]
                note = (
                    f"no model of family '{family}' has recipe 'base' and option baseline is unset; "
                    f"'{base}' is used as the reference"
                )
            if len(models) < 2 or base not in models:
                reasons.append(
                    f"{scorer or 'scores'}/{family or 'all'}: needs a base model and at least one variant "
                    f"(models: {', '.join(models) or 'none'})"
                )
                continue
            langs = distinct(sub, "language")
            df = pd.DataFrame(
                {
                    "score": [r["score"] for r in sub],
                    "variant": [str(r["model"]) for r in sub],
                    "kind": [r["kind"] for r in sub],
                    "tier": [str(r["tier"]) for r in sub],
                    "language": [str(r["language"]) for r in sub],
                    "item": [f"{r.get('source')}|{r['kind']}|{r.get('prompt_id')}" for r in sub],
                    "passed": [int(bool(passed(r, options))) for r in sub],
                }
            )
            df["variant"] = pd.Categorical(df["variant"], categories=[base] + [m for m in models if m != base])
            df["kind"] = pd.Categorical(df["kind"], categories=KIND_LEVELS)
            df["tier"] = pd.Categorical(df["tier"], categories=[high, low])
            frames.append(
                {
                    "scorer": scorer,
                    "family": family or "",
                    "base": base,
                    "low": low,
                    "high": high,
                    "languages": langs,
                    "frame": df,
                    "note": note,
                }
            )
    if not frames:
        raise NotEstimable("; ".join(reasons) or "no data for the model")
    return frames


def fit_frame(df: Any, random: str | None, reml: bool = True, fixed: str = FIXED, check: bool = True) -> Any:
    """fit_lmm on an analysis frame, with fitting problems turned into NotEstimable (the reason in words)."""
    from ..mixedmodels import FormulaError, LmmError, fit_lmm

    try:
        return fit_lmm(df, fixed=fixed, random=random, reml=reml, check=check)
    except FormulaError:
        raise
    except (LmmError, ValueError, ArithmeticError) as exc:
        raise NotEstimable(f"the mixed model could not be fitted: {exc}") from exc


def three_way_terms(names: Sequence[str]) -> list[str]:
    return [n for n in names if n.count(":") == 2]


def variant_of(term: str) -> str:
    """'variant[T.dpo]:kind[T.harmful]:tier[T.low]' -> 'dpo'."""
    return term.split(":")[0].split("[T.", 1)[1][:-1]


def contrasts_of(fit: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-variant three-way contrasts (Satterthwaite t) and the joint F test of all of them."""
    import numpy as np

    terms = three_way_terms(fit.names)
    if not terms:
        raise NotEstimable("no variant x kind x tier term is estimable (empty cells in the design)")
    eye = np.eye(len(fit.names))
    rows = [fit.names.index(t) for t in terms]
    contrasts = [{"variant": variant_of(t), **fit.contrast(eye[i])} for t, i in zip(terms, rows)]
    return contrasts, fit.ftest(eye[rows])


def three_way_contrasts(frame: Mapping[str, Any], random: str | None = None, check: bool = True) -> dict[str, Any]:
    """The default test on one frame: REML fit, per-variant contrasts and the F test (used by `simulate`)."""
    fit = fit_frame(frame["frame"], random, reml=True, check=check)
    contrasts, f_test = contrasts_of(fit)
    return {"contrasts": contrasts, "f_test": f_test, "converged": fit.converged, "singular": fit.singular}


def lrt_three_way(df: Any, random: str | None = None, check: bool = True) -> dict[str, Any]:
    """Likelihood-ratio test of all variant x kind x tier terms (ML fits, full vs reduced)."""
    from scipy import stats

    full = fit_frame(df, random, reml=False, check=check)
    reduced = fit_frame(df, random, reml=False, fixed=FIXED + " - variant:kind:tier", check=check)
    dof = len(three_way_terms(full.names)) - len(three_way_terms(reduced.names))
    chi2 = reduced.deviance - full.deviance
    notes = [f"LRT full model (ML): {w}" for w in full.warnings] + [
        f"LRT reduced model (ML): {w}" for w in reduced.warnings
    ]
    if chi2 < -1e-6:
        notes.append(
            f"LRT: the full model's likelihood is below the reduced one's (chi2 = {chi2:.3g}); "
            "an optimizer stopped early; the statistic is set to 0"
        )
    chi2 = max(chi2, 0.0)
    return {
        "chi2": float(chi2),
        "df": int(dof),
        "p": float(stats.chi2.sf(chi2, dof)) if dof else math.nan,
        "llf_full": float(full.loglik),
        "llf_reduced": float(reduced.loglik),
        "converged": bool(full.converged and reduced.converged),
        "warnings": notes,
    }


def term_label(term: str, base: str, low: str, high: str) -> str:
    """'variant[T.dpo]:kind[T.harmful]:tier[T.low]' -> 'dpo x harmful x low' (reference levels in words)."""
    if term == "Intercept":
        return f"intercept ({base}, helpful, {high})"
    parts = []
    for piece in term.split(":"):
        level = piece.split("[T.", 1)[1][:-1] if "[T." in piece else piece
        parts.append(level)
    return " x ".join(parts)


def coefficient_rows(
    params: Any, lo: Any, hi: Any, pvalues: Any, se: Any, base: str, low: str, high: str
) -> list[dict]:
    rows = []
    for term in params.index:
        rows.append(
            {
                "term": term,
                "label": term_label(term, base, low, high),
                "order": 0 if term == "Intercept" else term.count(":") + 1,
                "estimate": float(params[term]),
                "se": float(se[term]),
                "ci_lo": float(lo[term]),
                "ci_hi": float(hi[term]),
                "p": float(pvalues[term]),
            }
        )
    return rows


def three_way_sentence(coef: Mapping[str, Any], base: str, low: str, high: str, unit: str) -> str:
    """One three-way coefficient in words."""
    variant = coef["term"].split(":")[0].split("[T.", 1)[1][:-1]
    size = abs(coef["estimate"])
    direction = "larger" if coef["estimate"] > 0 else "smaller"
    return (
        f"For {variant} vs {base}, the gain in harmlessness relative to helpfulness is {size:.2f} {unit} "
        f"{direction} in {low}-tier than in {high}-tier languages "
        f"(95% CI [{coef['ci_lo']:.2f}, {coef['ci_hi']:.2f}], p = {coef['p']:.3g})."
    )


def tradeoff_lmm(frame: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """REML fit of the chosen random formula; Satterthwaite t for every coefficient and per-variant
    three-way contrast, the joint F test; optionally the LRT (ML fits)."""
    import pandas as pd

    from ..mixedmodels import DEFAULT_LADDER, DEFAULT_RANDOM

    df = frame["frame"]
    random = str(options.get("random") or "")
    fallback_note = ""
    if random:
        fit = fit_frame(df, random, reml=True)
    else:  # the default: the largest model of the ladder the table can support
        for random in DEFAULT_LADDER:
            try:
                fit = fit_frame(df, random, reml=True)
                break
            except NotEstimable as exc:
                if not too_many_effects(exc) or random == DEFAULT_LADDER[-1]:
                    raise
                fallback_note = f"LMM: the table is too small for `{DEFAULT_RANDOM}` ({exc}); fitted "
    import numpy as np

    eye = np.eye(len(fit.names))
    tests = {name: fit.contrast(eye[i]) for i, name in enumerate(fit.names)}
    idx = pd.Index(fit.names)
    col = lambda key: pd.Series([tests[n][key] for n in fit.names], index=idx)  # noqa: E731
    coefs = coefficient_rows(
        col("estimate"), col("ci_low"), col("ci_high"), col("p"), col("se"), frame["base"], frame["low"], frame["high"]
    )
    for c in coefs:
        c["df"] = tests[c["term"]]["df"]
    contrasts, f_test = contrasts_of(fit)
    notes = [f"LMM (REML): {w}" for w in fit.warnings]
    if fallback_note:
        notes.append(fallback_note + f"`{random}` instead")
    n_low = len({lang for lang, tier in zip(df["language"], df["tier"]) if tier == frame["low"]})
    n_high = len(frame["languages"]) - n_low
    if len(frame["languages"]) <= 2:
        notes.append(
            "LMM: only one language per tier, so the language variance cannot be told apart from the tier "
            "effect; the language components are kept but their estimates are not meaningful"
        )
    out = {
        "coefficients": coefs,
        "contrasts": contrasts,
        "f_test": f_test,
        "random": random,
        "variance_components": fit.variance_components(),
        "zero_variance": fit.zero_components(),
        "singular": fit.singular,
        "converged": bool(fit.converged),
        "method": f"REML, {fit.optimizer}",
        "n": int(len(df)),
        "languages_per_tier": {"low": n_low, "high": n_high},
        "warnings": notes,
    }
    if options.get("lrt"):
        lrt = lrt_three_way(df, random)
        notes += lrt.pop("warnings")
        if min(n_low, n_high) < LRT_MIN_LANGUAGES:
            lrt["caveat"] = (
                f"only {min(n_low, n_high)} language(s) in a tier: the LRT's chi-square reference ignores how few "
                "languages inform the variant x language terms and rejects too often; use the F test"
            )
            notes.append("LRT: " + lrt["caveat"])
        out["lrt"] = lrt
    return out
