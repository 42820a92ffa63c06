"""Simulation check of the trade-off test: false-positive rate with no effect, power with a planted one.

The data-generating process has every variance component of the extended model, so the
check can fail when the fitted model is too thin: random intercepts for item, language,
language x item (the same translated prompt answered in every language), language x
variant and language x variant x kind (a variant's effect that differs by language and
prompt kind), plus residual noise. The default shape is the study's: a base model and three
aligned variants, 50 harmful + 50 helpful items, 13 low- and 20 high-tier languages
(13,200 scores). The planted effect adds ``effect`` reward points to the last variant's
harmful-prompt scores in low-tier languages only: exactly its three-way contrast. Every
data set goes through the code the `tradeoff` statistic uses (design_frames, fit_lmm and
the Satterthwaite F test), so the check covers the real path.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

#: the variance components the DGP takes, in reward points (SDs)
SD_NAMES = ("item", "language", "language:item", "language:variant", "language:variant:kind", "residual")


@dataclass(frozen=True)
class SimDesign:
    variants: int = 4  # including the base model
    items_per_kind: int = 50  # harmful items, and helpful ones unless helpful_items is set
    helpful_items: int = 0
    low_languages: int = 13
    high_languages: int = 20
    sd_item: float = 1.0
    sd_language: float = 0.5
    sd_language_item: float = 0.5
    sd_language_variant: float = 0.3
    sd_language_variant_kind: float = 0.3
    sd_residual: float = 1.0
    # fixed effects other than the planted one, in reward points (near the study's thresholds)
    intercept: float = -2.0
    variant_effect: float = 0.5
    harmful_effect: float = -1.5
    low_tier_effect: float = -0.5
    variant_harmful: float = 0.5

    @property
    def items(self) -> tuple[int, int]:
        """(harmful, helpful) items."""
        return self.items_per_kind, self.helpful_items or self.items_per_kind

    @property
    def rows(self) -> int:
        return self.variants * sum(self.items) * (self.low_languages + self.high_languages)

    def shape(self) -> str:
        harmful, helpful = self.items
        return (
            f"{self.rows} scores per data set ({self.variants} models x ({harmful} harmful + {helpful} helpful) "
            f"items x ({self.low_languages} low + {self.high_languages} high) languages)"
        )

    def sds(self) -> dict[str, float]:
        return {
            "item": self.sd_item,
            "language": self.sd_language,
            "language:item": self.sd_language_item,
            "language:variant": self.sd_language_variant,
            "language:variant:kind": self.sd_language_variant_kind,
            "residual": self.sd_residual,
        }


def design_from_variances(design: SimDesign, variances: Mapping[str, float]) -> SimDesign:
    """The design with its SDs taken from a fitted model's variance components (missing ones set to 0)."""
    field_of = dict(
        zip(
            SD_NAMES,
            (
                "sd_item",
                "sd_language",
                "sd_language_item",
                "sd_language_variant",
                "sd_language_variant_kind",
                "sd_residual",
            ),
        )
    )
    sds = {field_of[k]: float(max(variances.get(k, 0.0), 0.0)) ** 0.5 for k in SD_NAMES}
    return replace(design, **sds)


def fixed_mean(d: Any, is_variant: bool, harmful: bool, low: bool, planted: float, variant_low: float = 0.0) -> float:
    """The fixed part of a simulated score: a design's intercept, main effects, variant x harmful,
    variant x low tier and the planted three-way effect (shared by this DGP and the verdict's)."""
    return (
        d.intercept
        + is_variant * d.variant_effect
        + harmful * d.harmful_effect
        + low * d.low_tier_effect
        + is_variant * harmful * d.variant_harmful
        + is_variant * low * variant_low
        + planted
    )


def sim_row(model: str, is_base: bool, kind: str, language: str, tier: str, item: int, score: float) -> dict[str, Any]:
    """One simulated tidy row (family `sim`, scorer `sim-reward`; the base model has recipe `base`)."""
    return {
        "model": model,
        "family": "sim",
        "recipe": "base" if is_base else model,
        "source": "sim",
        "kind": kind,
        "language": language,
        "tier": tier,
        "prompt_id": f"{kind}{item}",
        "prompt": "",
        "response": "",
        "scorer": "sim-reward",
        "metric": "reward",
        "score": score,
    }


def simulate_rows(rng: np.random.Generator, effect: float, design: SimDesign = SimDesign()) -> list[dict[str, Any]]:
    """One tidy table (reward rows) with a planted three-way effect of size ``effect`` on the last variant."""
    d = design
    models = ["base"] + [f"v{i}" for i in range(1, d.variants)] if d.variants > 2 else ["base", "dpo"]
    langs = [(f"l{i}", "low") for i in range(d.low_languages)] + [(f"h{i}", "high") for i in range(d.high_languages)]
    kinds = ("harmful", "helpful")
    nl, nv, ni = len(langs), len(models), max(d.items)
    item = rng.normal(0, d.sd_item, (2, ni))
    lang = rng.normal(0, d.sd_language, nl)
    lang_item = rng.normal(0, d.sd_language_item, (nl, 2, ni))
    lang_var = rng.normal(0, d.sd_language_variant, (nl, nv))
    lang_var_kind = rng.normal(0, d.sd_language_variant_kind, (nl, nv, 2))
    noise = rng.normal(0, d.sd_residual, (nl, nv, 2, ni))
    rows = []
    for li, (language, tier) in enumerate(langs):
        is_low = tier == "low"
        for vi, model in enumerate(models):
            is_v = vi > 0
            for ki, kind in enumerate(kinds):
                is_h = kind == "harmful"
                mu = (
                    fixed_mean(d, is_v, is_h, is_low, (vi == nv - 1) * is_h * is_low * effect)
                    + lang[li]
                    + lang_var[li, vi]
                    + lang_var_kind[li, vi, ki]
                )
                scores = mu + item[ki] + lang_item[li, ki] + noise[li, vi, ki]
                rows += [sim_row(model, vi == 0, kind, language, tier, i, float(scores[i])) for i in range(d.items[ki])]
    return rows


def run(
    n: int,
    effect: float,
    seed: int = 0,
    design: SimDesign = SimDesign(),
    alpha: float = 0.05,
    random: str | None = None,
    test: str = "f",
) -> dict[str, Any]:
    """Fit ``n`` simulated data sets; rejection rate of the default test (Satterthwaite F, or ``test='lrt'``)."""
    from ..statistics.tradeoff_model import design_frames, lrt_three_way, three_way_contrasts

    rejections, contrast_rejections, unconverged, singular, pvalues = 0, 0, 0, 0, []
    start = time.perf_counter()
    for i in range(n):
        rng = np.random.default_rng([seed, i, int(round(effect * 1000))])
        frame = design_frames(simulate_rows(rng, effect, design), {})[0]
        if test == "lrt":
            res = lrt_three_way(frame["frame"], random, check=False)
            p, ok, sing, p_last = res["p"], res["converged"], False, float("nan")
        else:
            res = three_way_contrasts(frame, random, check=False)
            p, ok, sing = res["f_test"]["p"], res["converged"], res["singular"]
            p_last = res["contrasts"][-1]["p"]
        pvalues.append(p)
        rejections += p < alpha
        contrast_rejections += p_last < alpha
        unconverged += not ok
        singular += sing
    rate = rejections / n if n else float("nan")
    se = (rate * (1 - rate) / n) ** 0.5 if n else float("nan")
    return {
        "n": n,
        "effect": effect,
        "alpha": alpha,
        "test": test,
        "rejection_rate": rate,
        "mc_se": se,
        "contrast_rejection_rate": contrast_rejections / n if n and test != "lrt" else float("nan"),
        "unconverged": unconverged,
        "singular": singular,
        "seconds": time.perf_counter() - start,
        "pvalues": pvalues,
        "rows_per_dataset": design.rows,
        "design": asdict(design),
    }


def describe(res: Mapping[str, Any], label: str, rate: str) -> str:
    test = "LRT (ML)" if res["test"] == "lrt" else "Satterthwaite F test of variant:kind:tier (REML)"
    extra = f"; the variant's own t test: {res['contrast_rejection_rate']:.3f}" if res["test"] != "lrt" else ""
    return (
        f"{label}: {res['n']} data sets, effect {res['effect']:g}; {test} {rate} at alpha {res['alpha']}: "
        f"{res['rejection_rate']:.3f} (MC SE {res['mc_se']:.3f}){extra}; unconverged fits {res['unconverged']}, "
        f"singular {res['singular']}; {res['seconds']:.1f} s"
    )


def report(
    n_null: int = 200,
    n_effect: int = 200,
    effect: float = 1.0,
    seed: int = 0,
    design: SimDesign = SimDesign(),
    random: str | None = None,
    test: str = "f",
) -> str:
    """Run both arms and describe them in a few lines (used by the CLI command)."""
    sds = ", ".join(f"{k} {v:.3g}" for k, v in design.sds().items())
    lines = [f"design: {design.shape()}", f"data-generating SDs: {sds}"]
    if n_null:
        lines.append(
            describe(run(n_null, 0.0, seed, design, random=random, test=test), "no effect", "false-positive rate")
        )
    if n_effect:
        lines.append(describe(run(n_effect, effect, seed, design, random=random, test=test), "planted effect", "power"))
    return "\n".join(lines)
