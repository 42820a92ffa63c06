"""The `tradeoff` statistic (LMM on reward scores); its per-variant contrasts feed the `verdict` headline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.types import Statistic, StatResult

from ..plots import charts
from .memo import FITS, frames_digest
from .options import CheckedOptions, check_formula
from .table import DESIGN_OPTIONS, design_options, safe_name, sig4
from .tradeoff_model import NotEstimable, design_frames, three_way_sentence, tradeoff_lmm

#: p-values below this are reported as this bound ("p < 1e-16", as R prints "< 2e-16"): their digits
#: are numerical noise of the fit (they differed run to run in the 5th digit), not information.
P_FLOOR = 1e-16

QUESTION = (
    "Does the harmlessness/helpfulness trade-off of the aligned variants differ between low- and "
    "high-resource languages? The variant x kind x tier interaction answers it."
)


def _coef_table(block: Mapping[str, Any], coefs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "scorer": block["scorer"],
            "family": block["family"],
            "term": c["label"],
            "estimate": round(c["estimate"], 4),
            "se": round(c["se"], 4),
            "ci_lo": round(c["ci_lo"], 4),
            "ci_hi": round(c["ci_hi"], 4),
            "p": float(f"{c['p']:.4g}"),
        }
        for c in coefs
    ]


def _not_estimable(result: StatResult, why: str) -> StatResult:
    result.markdown = f"{QUESTION}\n\nThe model was not fitted: {why}."
    result.warnings.append(f"{result.name}: not fitted: {why}")
    result.data = {"fits": [], "reason": why}
    return result


class _MixedModelStatistic(CheckedOptions, Statistic):
    """The shared loop of both trade-off models: one fit per (scorer, family) frame, a coefficient table,
    a sentence per three-way term and a forest plot; subclasses say how to fit and summarise."""

    title = ""
    intro = ""
    units = ""
    figure = ""
    forest_axis = ""
    coefficients_table = ""
    default_options: Mapping[str, Any] = design_options()

    def fit(self, frame: dict[str, Any], opts: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def summary(self, label: str, frame: dict[str, Any], fit: dict[str, Any]) -> list[str]:
        raise NotImplementedError

    def forest_title(self, label: str) -> str:
        raise NotImplementedError

    def finish(self, result: StatResult, fits: list[dict[str, Any]], md: list[str]) -> dict[str, Any]:
        """Extra tables or prose after all fits; returns extra keys for ``data`` (default: none)."""
        return {}

    def compute(self, rows: list[dict[str, Any]], options: Mapping[str, Any]) -> StatResult:
        opts = {**self.default_options, **dict(options or {})}
        result = StatResult(name=self.name, title=self.title)
        try:
            frames = design_frames(rows, opts)
        except NotEstimable as exc:
            return _not_estimable(result, str(exc))
        # the frames encode every design option; the rest (random formula, lrt ...) goes into the key
        rest = {k: v for k, v in opts.items() if k not in DESIGN_OPTIONS}
        key = frames_digest(frames, {"statistic": self.name, **rest})
        return FITS.get_or_compute(key, lambda: self._fit_frames(result, frames, opts))

    def _fit_frames(self, result: StatResult, frames: list[dict[str, Any]], opts: Mapping[str, Any]) -> StatResult:
        md = [QUESTION, "", self.intro]
        fits, coef_rows = [], []
        for frame in frames:
            label = f"{frame['scorer']}" + (f", family {frame['family']}" if frame["family"] else "")
            if frame["note"]:
                result.warnings.append(f"{self.name} ({label}): {frame['note']}")
            try:
                fit = self.fit(frame, opts)
            except NotEstimable as exc:
                result.warnings.append(f"{self.name} ({label}): {exc}")
                md.append(f"\n**{label}**: not fitted: {exc}.")
                continue
            result.warnings += [f"{self.name} ({label}): {w}" for w in fit["warnings"]]
            for coef in fit["coefficients"]:
                coef["p"] = max(float(coef["p"]), P_FLOOR)
            block = {
                "scorer": frame["scorer"],
                "family": frame["family"],
                "base": frame["base"],
                "low_tier": frame["low"],
                "high_tier": frame["high"],
                "languages": frame["languages"],
                **fit,
            }
            fits.append(block)
            coef_rows += _coef_table(block, fit["coefficients"])
            md += ["", *self.summary(label, frame, fit)]
            md += [
                "- " + three_way_sentence(coef, frame["base"], frame["low"], frame["high"], self.units)
                for coef in fit["coefficients"]
                if coef["order"] == 3
            ]
            suffix = "" if len(frames) == 1 else "__" + safe_name(label)
            result.figures[f"{self.figure}{suffix}.png"] = charts.forest(
                fit["coefficients"], self.forest_title(label), self.forest_axis
            )
        if coef_rows:
            result.tables[self.coefficients_table] = coef_rows
        extra = self.finish(result, fits, md)
        result.markdown = "\n".join(md)
        result.data = {"fits": fits, **extra}
        return result


class TradeoffStatistic(_MixedModelStatistic):
    """score ~ variant * kind * tier + an lme4 random formula (default: the extended model), REML,
    Satterthwaite F test of the three-way terms and per-variant contrasts (see lmm.py)."""

    name = "tradeoff"
    description = (
        "linear mixed model of the trade-off across resource tiers: Satterthwaite F test of variant x kind x tier "
        "and per-variant contrasts (option random: lme4 formula; lrt: also the likelihood-ratio test)"
    )
    title = "Mixed-effects test of the trade-off across resource tiers"
    intro = (
        "Model: linear mixed model `score ~ variant * kind * tier` on the reward score, random effects as given "
        "by the formula below (item = source + prompt id, shared by parallel prompts across languages), fitted "
        "by REML the way lme4 does (profiled deviance, sparse Cholesky, BOBYQA). The three-way terms are tested "
        "jointly by an F test with Satterthwaite denominator df (as lmerTest), and each aligned variant's "
        "three-way contrast gets a t test and 95% CI with its Satterthwaite df. Coefficients: estimate, SE, "
        "t-based 95% CI and p with Satterthwaite df. Units: reward points."
    )
    units = "reward points"
    figure = "forest_tradeoff"
    forest_axis = "coefficient (reward points), 95% CI"
    coefficients_table = "tradeoff_coefficients"
    default_options: Mapping[str, Any] = {**_MixedModelStatistic.default_options, "random": "", "lrt": False}

    def compute(self, rows: list[dict[str, Any]], options: Mapping[str, Any]) -> StatResult:
        from ..mixedmodels import DEFAULT_RANDOM

        check_formula("option tradeoff.random", (options or {}).get("random") or DEFAULT_RANDOM)  # also for API calls
        result = super().compute(rows, options)
        result.data.setdefault("contrasts", [])
        result.data.setdefault("f_test", [])
        return result

    def fit(self, frame: dict[str, Any], opts: Mapping[str, Any]) -> dict[str, Any]:
        return tradeoff_lmm(frame, opts)

    def summary(self, label: str, frame: dict[str, Any], fit: dict[str, Any]) -> list[str]:
        f, vc = fit["f_test"], fit["variance_components"]
        zero = fit["zero_variance"]
        lines = [
            f"**{label}** ({fit['n']} scores; {len(frame['languages'])} languages; tiers {frame['low']} "
            f"vs {frame['high']}; reference: {frame['base']}, helpful prompts, {frame['high']} tier; "
            f"{fit['method']}, converged: {'yes' if fit['converged'] else 'NO'}).",
            f"Random effects: `{fit['random']}`.",
            f"F test of the {f['num_df']} variant x kind x tier term(s): F = {f['F']:.3f}, df = {f['num_df']}, "
            f"{f['den_df']:.1f} (Satterthwaite), p = {f['p']:.3g}.",
            "Variance components: " + ", ".join(f"{k} {v:.3g}" for k, v in vc.items()) + ".",
        ]
        if zero:
            lines.append("Estimated at zero (boundary, singular fit; kept in the model): " + ", ".join(zero) + ".")
        if "lrt" in fit:
            lrt = fit["lrt"]
            lines.append(
                f"Likelihood-ratio test (ML fits): chi2 = {lrt['chi2']:.2f}, df = {lrt['df']}, p = {lrt['p']:.3g}"
                + (f"; caveat: {lrt['caveat']}." if lrt.get("caveat") else ".")
            )
        return lines

    def forest_title(self, label: str) -> str:
        return f"Fixed effects, LMM on reward ({label}); red: three-way terms"

    def finish(self, result: StatResult, fits: list[dict[str, Any]], md: list[str]) -> dict[str, Any]:
        for f in fits:
            for c in f["contrasts"]:
                c["p"] = max(float(c["p"]), P_FLOOR)
            f["f_test"]["p"] = max(float(f["f_test"]["p"]), P_FLOOR)
        contrasts = [
            {"scorer": f["scorer"], **{k: c[k] for k in CONTRAST_KEYS[1:]}} for f in fits for c in f["contrasts"]
        ]
        f_tests = [{"scorer": f["scorer"], **{k: f["f_test"][k] for k in F_KEYS[1:]}} for f in fits]
        if fits:
            result.tables["tradeoff_contrasts"] = [
                {"scorer": c["scorer"], **{k: sig4(v) for k, v in c.items() if k != "scorer"}} for c in contrasts
            ]
            result.tables["tradeoff_f_test"] = [
                {"scorer": f["scorer"], **{k: sig4(v) for k, v in f.items() if k != "scorer"}} for f in f_tests
            ]
        if any("lrt" in f for f in fits):
            result.tables["tradeoff_lrt"] = [
                {
                    "scorer": f["scorer"],
                    "family": f["family"],
                    "chi2": round(f["lrt"]["chi2"], 4),
                    "df": f["lrt"]["df"],
                    "p": float(f"{f['lrt']['p']:.4g}"),
                    "converged": f["lrt"]["converged"],
                }
                for f in fits
                if "lrt" in f
            ]
        if result.warnings:
            md += [
                "",
                "Warnings from the fits (convergence, singular fits) are listed below; no random effect was dropped.",
            ]
        return {"contrasts": contrasts, "f_test": f_tests}


#: the interface the verdict builds on: StatResult.data["contrasts"] / ["f_test"] rows have exactly these keys
CONTRAST_KEYS = ("scorer", "variant", "estimate", "se", "df", "t", "p", "ci_low", "ci_high")
F_KEYS = ("scorer", "F", "num_df", "den_df", "p")
