"""Simulation check of the trade-off LRT: false-positive rate with no effect, power with a planted one.

Data sets follow the real design in miniature: a base model and one variant answer
the same items (half harmful, half helpful) in languages split into a low and a
high tier; scores have crossed random intercepts for language and item plus noise.
The planted effect adds ``effect`` reward points to the variant's harmful-prompt
scores in low-tier languages only, i.e. exactly the three-way interaction. Every
data set goes through the same code the `tradeoff` statistic uses (design_frames,
lrt_three_way), so the check covers the real path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SimDesign:
    items_per_kind: int = 12
    languages_per_tier: int = 3
    sd_language: float = 0.5
    sd_item: float = 1.0
    sd_residual: float = 1.0
    # fixed effects other than the planted one, in reward points (near the study's thresholds)
    intercept: float = -2.0
    variant_effect: float = 0.5
    harmful_effect: float = -1.5
    low_tier_effect: float = -0.5
    variant_harmful: float = 0.5


def simulate_rows(rng: np.random.Generator, effect: float, design: SimDesign = SimDesign()) -> list[dict[str, Any]]:
    """One tidy table (reward rows) with a planted three-way effect of size ``effect``."""
    langs = {
        "low": [f"l{i}" for i in range(design.languages_per_tier)],
        "high": [f"h{i}" for i in range(design.languages_per_tier)],
    }
    lang_eff = {lang: rng.normal(0, design.sd_language) for ls in langs.values() for lang in ls}
    rows = []
    for kind in ("harmful", "helpful"):
        for i in range(design.items_per_kind):
            item_eff = rng.normal(0, design.sd_item)
            for tier, ls in langs.items():
                for lang in ls:
                    for model, recipe in (("base", "base"), ("dpo", "dpo")):
                        is_v, is_h, is_low = recipe == "dpo", kind == "harmful", tier == "low"
                        mu = (
                            design.intercept
                            + is_v * design.variant_effect
                            + is_h * design.harmful_effect
                            + is_low * design.low_tier_effect
                            + is_v * is_h * design.variant_harmful
                            + is_v * is_h * is_low * effect
                        )
                        score = mu + lang_eff[lang] + item_eff + rng.normal(0, design.sd_residual)
                        rows.append(
                            {
                                "model": model,
                                "family": "sim",
                                "recipe": recipe,
                                "source": "sim",
                                "kind": kind,
                                "language": lang,
                                "tier": tier,
                                "prompt_id": f"{kind}{i}",
                                "prompt": "",
                                "response": "",
                                "scorer": "sim-reward",
                                "metric": "reward",
                                "score": float(score),
                            }
                        )
    return rows


def run(n: int, effect: float, seed: int = 0, design: SimDesign = SimDesign(), alpha: float = 0.05) -> dict[str, Any]:
    """Fit ``n`` simulated data sets; return the LRT rejection rate and fit diagnostics."""
    from .mixed import design_frames, lrt_three_way

    rejections, unconverged, pvalues = 0, 0, []
    start = time.perf_counter()
    for i in range(n):
        rng = np.random.default_rng([seed, i, int(round(effect * 1000))])
        frame = design_frames(simulate_rows(rng, effect, design), {})[0]
        lrt = lrt_three_way(frame["frame"])
        pvalues.append(lrt["p"])
        rejections += lrt["p"] < alpha
        unconverged += not lrt["converged"]
    rate = rejections / n if n else float("nan")
    se = (rate * (1 - rate) / n) ** 0.5 if n else float("nan")
    return {
        "n": n,
        "effect": effect,
        "alpha": alpha,
        "rejection_rate": rate,
        "mc_se": se,
        "unconverged": unconverged,
        "seconds": time.perf_counter() - start,
        "pvalues": pvalues,
        "rows_per_dataset": 2 * design.items_per_kind * 2 * design.languages_per_tier * 2,
    }


def report(n_null: int = 200, n_effect: int = 200, effect: float = 1.0, seed: int = 0) -> str:
    """Run both arms and describe them in a few lines (used by the script and the CLI command)."""
    null = run(n_null, 0.0, seed)
    power = run(n_effect, effect, seed)
    lines = [
        f"design: {null['rows_per_dataset']} scores per data set (2 models x 2 kinds x "
        f"{SimDesign().items_per_kind} items x {2 * SimDesign().languages_per_tier} languages in 2 tiers)",
        f"no effect:      {null['n']} data sets, LRT false-positive rate at alpha {null['alpha']}: "
        f"{null['rejection_rate']:.3f} (MC SE {null['mc_se']:.3f}); unconverged fits: {null['unconverged']}; "
        f"{null['seconds']:.1f} s",
        f"planted effect: {power['n']} data sets, three-way effect {effect} reward points, power: "
        f"{power['rejection_rate']:.3f} (MC SE {power['mc_se']:.3f}); unconverged fits: {power['unconverged']}; "
        f"{power['seconds']:.1f} s",
    ]
    return "\n".join(lines)
