"""The reward-point contrast from one mixed model per tier: every variance component tier-specific.

``score ~ variant * kind`` with the verdict's random formula, fitted by REML in each tier on its
own, gives each tier its own residual, language, language x variant, ... variances (what lme4 users
write as ``(0 + dummy(tier, "low") | g)`` terms plus nlme's ``varIdent(~ 1 | tier)``, except that a
prompt's own effect is not shared between the tiers; it cancels in the contrast when both models
answer the same prompts). The three-way contrast is the low tier's variant:kind coefficient minus the
high tier's, the fits are independent, so its variance is the sum of theirs and its df combine the
two Satterthwaite df as Welch does: (v_L + v_H)^2 / (v_L^2 / df_L + v_H^2 / df_H). Unlike Welch's t on
per-language differences it pools the variants of a tier, so small tiers keep more df.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

FIXED = "variant * kind"


def _fit_tier(df: Any, random: str, check: bool) -> Any:
    """REML fit of one tier: the given formula, else the largest of the ladder the tier supports."""
    from ..mixedmodels import DEFAULT_LADDER
    from .tradeoff_model import NotEstimable, fit_frame, too_many_effects

    ladder = [random, *[f for f in DEFAULT_LADDER if f != random]] if random else list(DEFAULT_LADDER)
    for i, formula in enumerate(ladder):
        try:
            return fit_frame(df, formula, reml=True, fixed=FIXED, check=check)
        except NotEstimable as exc:
            if not too_many_effects(exc) or i == len(ladder) - 1:
                raise
    raise AssertionError("unreachable")


def tier_contrasts(frame: Mapping[str, Any], random: str = "", check: bool = False) -> dict[str, dict[str, Any]]:
    """Per aligned variant: estimate, se, df, t, p and 95% CI of the low-minus-high contrast from the two
    per-tier fits, and each tier's residual SD; raises mixed.NotEstimable when a tier cannot be fitted.
    ``check`` runs lme4's convergence checks (the verdict does; simulations skip them for speed)."""
    import numpy as np
    from scipy import stats

    df = frame["frame"]
    fits = {}
    for tier in (frame["low"], frame["high"]):
        sub = df[df["tier"].astype(str) == tier].copy()
        sub["variant"] = sub["variant"].cat.remove_unused_categories()
        fits[tier] = _fit_tier(sub, random, check)
    out = {}
    lo, hi = fits[frame["low"]], fits[frame["high"]]
    for name in lo.names:
        if name.count(":") != 1 or not name.startswith("variant[") or name not in hi.names:
            continue
        variant = name.split("[T.", 1)[1].split("]", 1)[0]
        a = lo.contrast(np.eye(len(lo.names))[lo.names.index(name)])
        b = hi.contrast(np.eye(len(hi.names))[hi.names.index(name)])
        est = a["estimate"] - b["estimate"]
        va, vb = a["se"] ** 2, b["se"] ** 2
        se = math.sqrt(va + vb)
        dof = (va + vb) ** 2 / (va**2 / a["df"] + vb**2 / b["df"])
        t = est / se
        half = float(stats.t.ppf(0.975, dof)) * se
        out[variant] = {
            "estimate": est,
            "se": se,
            "df": float(dof),
            "t": t,
            "p": float(2 * stats.t.sf(abs(t), dof)),
            "ci_low": est - half,
            "ci_high": est + half,
            "df_low": a["df"],
            "df_high": b["df"],
            "residual_sd_low": lo.sigma,
            "residual_sd_high": hi.sigma,
            "converged": bool(lo.converged and hi.converged),
            "random": {"low": _formula(lo), "high": _formula(hi)},
            "warnings": [f"{t} tier: {w}" for t, f in fits.items() for w in f.warnings],
        }
    return out


def _formula(fit: Any) -> str:
    return " + ".join(t.label for t in fit.terms)
