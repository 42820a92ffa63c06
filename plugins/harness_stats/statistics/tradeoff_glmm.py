"""The `tradeoff-glmm` statistic: the binomial mixed model of pass/fail, fitted by Laplace as glmer does.

``passed ~ variant * kind * tier + (1|language) + (1|item)``, logit link (glmm.py). Agrees with R's
glmer (lme4 1.1.31) to 1e-3 in fixed effects and 1% in standard errors on the recorded tables in
tests/stats/fixtures. A fit that fails a convergence check or shows separation is reported as
doubtful, with the reason, and none of its numbers are shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from harness.types import Statistic, StatResult

from ..plots import charts
from .table import design_options, safe_name
from .tradeoff_model import NotEstimable, design_frames, term_label

FIXED = "variant * kind * tier"
MODEL = f"passed ~ {FIXED} + (1|language) + (1|item)"


def glmm_frame(frame: Mapping[str, Any]) -> dict[str, Any]:
    """Full and reduced Laplace fits of one (scorer, family) frame, the LRT of the three-way terms and notes."""
    import numpy as np
    from scipy import stats

    from ..mixedmodels import codes, fit_glmm, lrt, treatment_design

    df = frame["frame"]
    factors = {"language": codes(df["language"]), "item": codes(df["item"])}
    X, terms = treatment_design(df, FIXED)
    full = fit_glmm(df["passed"].to_numpy(), X, terms, factors)
    Xr, terms_r = treatment_design(df, f"{FIXED} - variant:kind:tier")
    reduced = fit_glmm(df["passed"].to_numpy(), Xr, terms_r, factors)
    three = [i for i, t in enumerate(terms) if t.count(":") == 2]
    out: dict[str, Any] = {
        "model": MODEL,
        "n": int(len(df)),
        "doubtful": full.doubtful + [f"reduced model: {d}" for d in reduced.doubtful],
        "notes": full.notes,
        "random_effect_sd": {k: float(f"{v:.4g}") for k, v in full.theta.items()},
    }
    if out["doubtful"]:
        return out
    z = stats.norm.ppf(0.975)
    out["coefficients"] = [
        {
            "term": t,
            "label": term_label(t, frame["base"], frame["low"], frame["high"]),
            "order": 0 if t == "Intercept" else t.count(":") + 1,
            "estimate": float(b),
            "se": float(s),
            "ci_lo": float(b - z * s),
            "ci_hi": float(b + z * s),
            "p": float(2 * stats.norm.sf(abs(b / s))),
        }
        for t, b, s in zip(terms, full.beta, full.se)
    ]
    out["lrt"] = lrt(full, reduced, len(terms) - len(terms_r))
    beta3, v3 = full.beta[three], full.vcov[three][:, three]
    wald = float(beta3 @ np.linalg.solve(v3, beta3))
    out["wald"] = {"chi2": wald, "df": len(three), "p": float(stats.chi2.sf(wald, len(three)))}
    out["loglik"] = full.loglik
    return out


class TradeoffGlmmStatistic(Statistic):
    """Binomial GLMM of pass/fail with crossed random intercepts (Laplace, as glmer); doubtful fits withheld."""

    name = "tradeoff-glmm"
    description = "binomial mixed model of pass/fail behind HmR/HpR (Laplace fit matching lme4's glmer)"
    default_options: Mapping[str, Any] = design_options()

    def compute(self, rows: list[dict[str, Any]], options: Mapping[str, Any]) -> StatResult:
        opts = {**self.default_options, **dict(options or {})}
        result = StatResult(name=self.name, title="Binomial mixed model of pass/fail across resource tiers")
        intro = (
            f"Model: `{MODEL}` on the pass/fail outcome behind HmR and HpR, logit link, fitted by the Laplace "
            "approximation as lme4's `glmer` does (agreement with glmer is tested). Estimates in log-odds with Wald "
            "95% CIs; the joint test of the three-way terms is a likelihood-ratio test (Laplace likelihoods). A fit "
            "that fails a convergence check or shows separation is withheld, with the reason."
        )
        try:
            frames = design_frames(rows, opts)
        except NotEstimable as exc:
            result.markdown = f"{intro}\n\nThe model was not fitted: {exc}."
            result.warnings.append(f"{self.name}: not fitted: {exc}")
            result.data = {"fits": [], "reason": str(exc)}
            return result
        md, fits, coef_rows = [intro], [], []
        for frame in frames:
            label = frame["scorer"] + (f", family {frame['family']}" if frame["family"] else "")
            fit = glmm_frame(frame)
            fit.update(
                scorer=frame["scorer"],
                family=frame["family"],
                base=frame["base"],
                low_tier=frame["low"],
                high_tier=frame["high"],
            )
            fits.append(fit)
            result.warnings += [f"{self.name} ({label}): {n}" for n in fit["notes"]]
            if fit["doubtful"]:
                why = "; ".join(fit["doubtful"])
                result.warnings.append(f"{self.name} ({label}): fit doubtful, results withheld: {why}")
                md.append(f"\n**{label}**: the fit is doubtful, so no estimate is reported: {why}.")
                continue
            lr, wd = fit["lrt"], fit["wald"]
            md += [
                "",
                f"**{label}** ({fit['n']} responses; random-effect SDs: "
                + ", ".join(f"{k} {v:.3g}" for k, v in fit["random_effect_sd"].items())
                + f"). Joint test of the {lr['df']} three-way term(s): LRT chi2 = {lr['chi2']:.2f}, p = {lr['p']:.3g} "
                f"(Wald chi2 = {wd['chi2']:.2f}, p = {wd['p']:.3g}).",
            ]
            for c in fit["coefficients"]:
                if c["order"] == 3:
                    variant = c["label"].split(" x ")[0]
                    md.append(
                        f"- {variant} vs {frame['base']}: the odds ratio of its harmlessness-over-helpfulness gain, "
                        f"{frame['low']} tier over {frame['high']} tier, is {math.exp(c['estimate']):.2f} "
                        f"(95% CI {math.exp(c['ci_lo']):.2f} to {math.exp(c['ci_hi']):.2f}, p = {c['p']:.3g})."
                    )
                coef_rows.append(
                    {
                        "scorer": frame["scorer"],
                        "family": frame["family"],
                        "term": c["label"],
                        **{k: float(f"{c[k]:.4g}") for k in ("estimate", "se", "ci_lo", "ci_hi", "p")},
                    }
                )
            suffix = "" if len(frames) == 1 else "__" + safe_name(label)
            result.figures[f"forest_tradeoff_glmm{suffix}.png"] = charts.forest(
                fit["coefficients"],
                f"Fixed effects, binomial GLMM, Laplace ({label}); red: three-way terms",
                "coefficient (log-odds), 95% Wald CI",
            )
        if coef_rows:
            result.tables["tradeoff_glmm_coefficients"] = coef_rows
        result.markdown = "\n".join(md)
        result.data = {"fits": fits}
        return result
