"""The verdict's figure: tier on the x axis, HmR and HpR per model with 95% CIs, one row per scorer.

A variant whose line runs parallel to its base's changes the rate by the same amount in both tiers;
lines that converge or cross are the low-versus-high difference the verdict puts a number on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .charts import _plt, to_png


def tier_mean_ci(rates: Sequence[float]) -> tuple[float, float, float]:
    """Mean of per-language rates with a t interval over languages (languages are the units)."""
    from scipy import stats

    vals = [r for r in rates if math.isfinite(r)]
    if not vals:
        return (math.nan, math.nan, math.nan)
    mean = sum(vals) / len(vals)
    if len(vals) < 2:
        return (mean, mean, mean)
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1))
    half = float(stats.t.ppf(0.975, len(vals) - 1)) * sd / math.sqrt(len(vals))
    return (mean, max(0.0, mean - half), min(100.0, mean + half))


def interaction(contrasts: Sequence[Mapping[str, Any]], low: str, high: str) -> bytes:
    """One panel per (scorer, metric); the base and each variant as a line from the low to the high tier."""
    plt = _plt()
    scorers = list(dict.fromkeys(c["scorer"] for c in contrasts))
    metrics = ["HmR", "HpR"]
    fig, axes = plt.subplots(len(scorers), 2, figsize=(9.5, 3.8 * len(scorers)), squeeze=False, sharey=True)
    cmap = plt.get_cmap("tab10")
    for r, scorer in enumerate(scorers):
        for col, metric in enumerate(metrics):
            ax = axes[r][col]
            cells = [c for c in contrasts if c["scorer"] == scorer and c["metric"] == metric]
            lines: dict[str, Mapping[str, Mapping[str, float]]] = {}
            for c in cells:
                lines.setdefault(c["base"], c["base_rates"])
                lines.setdefault(c["variant"], c["variant_rates"])
            for i, (model, per_lang) in enumerate(lines.items()):
                is_base = any(model == c["base"] for c in cells)
                pts = [tier_mean_ci(list(per_lang[t].values())) for t in ("low", "high")]
                xs = [0 + (i - len(lines) / 2) * 0.04, 1 + (i - len(lines) / 2) * 0.04]
                colour = "#333333" if is_base else cmap(i % 10)
                ax.errorbar(
                    xs,
                    [p[0] for p in pts],
                    yerr=[[max(0.0, p[0] - p[1]) for p in pts], [max(0.0, p[2] - p[0]) for p in pts]],
                    fmt="o",
                    capsize=3,
                    color=colour,
                    lw=2.2 if is_base else 1.6,
                    ls="--" if is_base else "-",
                    label=f"{model} (base)" if is_base else model,
                )
            ax.set_xticks([0, 1])
            ax.set_xticklabels([f"{low}-resource", f"{high}-resource"])
            ax.set_xlim(-0.4, 1.4)
            ax.set_ylim(-3, 103)
            ax.grid(axis="y", alpha=0.3)
            ax.set_title(f"{metric} ({'harmful' if metric == 'HmR' else 'helpful'} prompts), {scorer}", fontsize=10)
            if col == 0:
                ax.set_ylabel("% passing (mean of languages, 95% CI)")
        handles, labels = axes[r][0].get_legend_handles_labels()
        if handles:
            axes[r][1].legend(handles, labels, fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(
        "Trade-off by resource tier: a variant's gap to the base that changes between tiers is the verdict", fontsize=10
    )
    fig.tight_layout()
    return to_png(fig)
