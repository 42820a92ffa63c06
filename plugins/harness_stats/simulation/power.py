"""Power before the run: the smallest three-way effect the planned study detects with 80% power.

The shape (models, items per kind, languages per tier) comes from a suite and ``--langs``
through the core's plan; the variance components are assumed (the simulation defaults) or
taken from an earlier run's table (fitted with the default model). The exact GLS standard
error of one variant's three-way contrast under those components gives a first guess
(normal approximation); simulation then measures the power of the default test (the
Satterthwaite F test of variant:kind:tier, REML) at effects around it and interpolates to 80%.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from .simulate import SimDesign, run

TARGET = 0.8


def contrast_se(design: SimDesign, random: str | None = None) -> float:
    """SE of the last variant's three-way contrast when the variance components are exactly the design's."""
    from ..mixedmodels import known_variance_vcov
    from ..statistics.tradeoff_model import design_frames
    from .simulate import simulate_rows

    frame = design_frames(simulate_rows(np.random.default_rng(0), 0.0, design), {})[0]["frame"]
    names, vcov = known_variance_vcov(frame, design.sds(), design.sd_residual, "variant * kind * tier", random)
    last = [i for i, n in enumerate(names) if n.count(":") == 2][-1]
    return float(math.sqrt(vcov[last, last]))


def minimum_detectable_effect(
    design: SimDesign, n: int = 50, seed: int = 0, alpha: float = 0.05, random: str | None = None
) -> dict[str, Any]:
    """Simulated power at 0.7, 1.0 and 1.3 times the normal-approximation MDE, interpolated to 80%."""
    from scipy import stats

    se = contrast_se(design, random)
    guess = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(TARGET)) * se
    arms = []
    for factor in (0.7, 1.0, 1.3):
        effect = float(f"{guess * factor:.3g}")
        res = run(n, effect, seed, design, alpha=alpha, random=random)
        arms.append(
            {
                "effect": effect,
                "power": res["rejection_rate"],
                "mc_se": res["mc_se"],
                "contrast_power": res["contrast_rejection_rate"],
                "seconds": res["seconds"],
            }
        )
    effects = [a["effect"] for a in arms]
    powers = [a["power"] for a in arms]
    mde = _interpolate(effects, powers, TARGET)
    return {"se": se, "normal_mde": guess, "arms": arms, "mde": mde, "n": n, "alpha": alpha}


def _interpolate(xs: list[float], ys: list[float], target: float) -> float | None:
    """Effect where simulated power crosses ``target`` (monotone-smoothed, linear); None outside the grid."""
    ys = list(np.maximum.accumulate(ys))
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if y0 <= target <= y1 and y1 > y0:
            return x0 + (target - y0) * (x1 - x0) / (y1 - y0)
    return None


def design_for_plan(
    models: int, items: Mapping[str, int], languages: Mapping[str, int], variances: Mapping[str, float] | None = None
) -> SimDesign:
    """The simulation design of a planned run (``items`` per kind; ``languages`` per tier low/high)."""
    from .simulate import design_from_variances

    design = replace(
        SimDesign(),
        variants=models,
        items_per_kind=int(items.get("harmful", 0)),
        helpful_items=int(items.get("helpful", 0)),
        low_languages=int(languages.get("low", 0)),
        high_languages=int(languages.get("high", 0)),
    )
    return design_from_variances(design, variances) if variances else design


def power_for_plan(
    models: int,
    items: Mapping[str, int],
    languages: Mapping[str, int],
    variances: Mapping[str, float] | None = None,
    n: int = 50,
    seed: int = 0,
    random: str | None = None,
) -> dict[str, Any]:
    """Minimum three-way effect detectable at 80% power for a planned shape (see the module docstring)."""
    design = design_for_plan(models, items, languages, variances)
    if design.variants < 2 or min(design.items_per_kind, design.helpful_items or 0) < 1:
        raise ValueError("the plan needs a base model and a variant, and prompts of both kinds")
    if min(design.low_languages, design.high_languages) < 2:
        raise ValueError(
            f"the plan has {design.low_languages} low- and {design.high_languages} high-tier language(s); the "
            "language-level variance needs at least 2 per tier"
        )
    return {"design": design, **minimum_detectable_effect(design, n=n, seed=seed, random=random)}


def describe(result: Mapping[str, Any]) -> str:
    d: SimDesign = result["design"]
    sds = ", ".join(f"{k} {v:.3g}" for k, v in d.sds().items())
    lines = [
        f"planned shape: {d.shape()}",
        f"variance components (SD, reward points): {sds}",
        f"SE of one variant's three-way contrast at these components: {result['se']:.3f}; "
        f"normal-approximation MDE (alpha {result['alpha']}, 80% power): {result['normal_mde']:.3f}",
        f"simulated power of the Satterthwaite F test ({result['n']} data sets per effect):",
    ]
    for a in result["arms"]:
        lines.append(
            f"  effect {a['effect']:.3g}: F test {a['power']:.2f} (MC SE {a['mc_se']:.2f}), "
            f"that variant's t test {a['contrast_power']:.2f}; {a['seconds']:.0f} s"
        )
    mde = result["mde"]
    lines.append(
        f"minimum detectable three-way effect at 80% power: {mde:.3f} reward points"
        if mde is not None
        else "minimum detectable three-way effect at 80% power: outside the simulated range (see the arms above)"
    )
    return "\n".join(lines)
