"""PNG figures for the report: per-tier rates, the HmR/HpR trade-off picture, forest plots.

matplotlib is imported lazily with the Agg backend (no display on servers); every
function returns PNG bytes so the core can write them beside report.md.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any


def _err(value: float) -> float:
    """Error-bar length: never negative (a Wilson bound equals the estimate at 0% or 100%, up to rounding)."""
    return max(0.0, float(value))

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def to_png(fig: Any) -> bytes:
    """Render and close a figure (no timestamps in PNG metadata, so bytes are reproducible)."""
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def tier_colour(tiers: Sequence[str]) -> dict[str, str]:
    """Least-resourced red through most-resourced blue, stable for a given tier list."""
    fixed = {
        1: ["#1f77b4"],
        2: ["#d62728", "#1f77b4"],
        3: ["#d62728", "#ff7f0e", "#1f77b4"],
        4: ["#d62728", "#ff7f0e", "#2ca02c", "#1f77b4"],
    }
    if len(tiers) in fixed:
        return dict(zip(tiers, fixed[len(tiers)]))
    from matplotlib import colormaps, colors

    cmap = colormaps["viridis"]
    return {t: colors.to_hex(cmap(i / (len(tiers) - 1))) for i, t in enumerate(tiers)}


def rates_by_tier(cells: Sequence[Mapping[str, Any]], models: Sequence[str], tiers: Sequence[str], title: str):
    """Three panels (HmR, HpR, CAS): x = tier, one dodged point per model with its 95% interval."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(4.2 * 3, 4.0), sharey=True)
    width = 0.8 / max(1, len(models))
    cmap = plt.get_cmap("tab10")
    lookup = {(c["model"], c["tier"]): c for c in cells}
    for ax, metric in zip(axes, ("HmR", "HpR", "CAS")):
        for m_i, model in enumerate(models):
            xs, ys, lo, hi = [], [], [], []
            for t_i, tier in enumerate(tiers):
                cell = lookup.get((model, tier))
                if not cell or cell.get(metric) is None:
                    continue
                xs.append(t_i - 0.4 + width * (m_i + 0.5))
                ys.append(cell[metric])
                lo.append(_err(cell[metric] - cell[f"{metric}_lo"]))
                hi.append(_err(cell[f"{metric}_hi"] - cell[metric]))
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o", capsize=3, color=cmap(m_i % 10), label=model)
        ax.set_xticks(range(len(tiers)))
        ax.set_xticklabels([f"{t}" for t in tiers])
        ax.set_xlim(-0.6, len(tiers) - 0.4)
        ax.set_ylim(-2, 102)
        ax.set_title(
            metric
            + (
                " (harmful prompts)"
                if metric == "HmR"
                else " (helpful prompts)"
                if metric == "HpR"
                else " = (HmR+HpR)/2"
            ),
            fontsize=10,
        )
        ax.set_xlabel("resource tier (least resourced left)")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("% of responses (95% interval)")
    handles, labels = next((hl for hl in (ax.get_legend_handles_labels() for ax in axes) if hl[0]), ([], []))
    if handles:
        axes[-1].legend(handles, labels, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, title="model")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return to_png(fig)


def tradeoff_scatter(
    cells: Sequence[Mapping[str, Any]], models: Sequence[str], tiers: Sequence[str], title: str
) -> bytes:
    """HmR (x) against HpR (y) per language, coloured by tier, one panel per variant."""
    plt = _plt()
    n = max(1, len(models))
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.6 * rows), squeeze=False, sharex=True, sharey=True)
    colours = tier_colour(list(tiers))
    for i, model in enumerate(models):
        ax = axes[i // cols][i % cols]
        for cell in cells:
            if cell["model"] != model or cell.get("HmR") is None or cell.get("HpR") is None:
                continue
            colour = colours.get(str(cell.get("tier")), "#7f7f7f")
            ax.errorbar(
                cell["HmR"],
                cell["HpR"],
                xerr=[[_err(cell["HmR"] - cell["HmR_lo"])], [_err(cell["HmR_hi"] - cell["HmR"])]],
                yerr=[[_err(cell["HpR"] - cell["HpR_lo"])], [_err(cell["HpR_hi"] - cell["HpR"])]],
                fmt="o",
                color=colour,
                ecolor=colour,
                alpha=0.85,
                elinewidth=0.6,
                capsize=0,
                markersize=5,
            )
            ax.annotate(
                cell["language"], (cell["HmR"], cell["HpR"]), xytext=(3, 3), textcoords="offset points", fontsize=7
            )
        ax.plot([0, 100], [0, 100], color="#bbbbbb", lw=0.8, ls="--")
        ax.set_xlim(-3, 103)
        ax.set_ylim(-3, 103)
        ax.set_title(model, fontsize=10)
        ax.grid(alpha=0.3)
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("HmR % (harmless on harmful prompts)")
    for row in axes:
        row[0].set_ylabel("HpR % (helpful on helpful prompts)")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=f"tier {t}") for t, c in colours.items()]
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, bbox_to_anchor=(0.5, -0.02))
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return to_png(fig)


def forest(coefs: Sequence[Mapping[str, Any]], title: str, xlabel: str) -> bytes:
    """Fixed effects (intercept left out) with 95% intervals; three-way terms highlighted."""
    plt = _plt()
    items = [c for c in coefs if c["term"] != "Intercept"]
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(items) + 1.4))
    for i, c in enumerate(reversed(items)):
        colour = "#d62728" if c.get("order") == 3 else "#1f77b4"
        ax.errorbar(
            c["estimate"],
            i,
            xerr=[[_err(c["estimate"] - c["ci_lo"])], [_err(c["ci_hi"] - c["estimate"])]],
            fmt="o",
            color=colour,
            capsize=3,
        )
    ax.axvline(0, color="#888888", lw=0.8, ls="--")
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels([c["label"] for c in reversed(items)], fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return to_png(fig)


def kappa_by_language(
    cells: Sequence[Mapping[str, Any]], langs: Sequence[str], tier_of: Mapping[str, str], tiers: Sequence[str]
) -> bytes:
    """Cohen's kappa per language (x, grouped by tier, least resourced first), one series per scorer pair."""
    plt = _plt()
    pairs = list(dict.fromkeys(c["pair"] for c in cells))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(langs) + 2), 3.8))
    width = 0.8 / max(1, len(pairs))
    for k, pair in enumerate(pairs):
        xs, ys, lo, hi = [], [], [], []
        for c in cells:
            if c["pair"] == pair and math.isfinite(c["kappa"]):
                x = langs.index(c["language"]) - 0.4 + width * (k + 0.5)
                xs.append(x)
                ys.append(c["kappa"])
                lo.append(_err(c["kappa"] - c["ci_low"]))
                hi.append(_err(c["ci_high"] - c["kappa"]))
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o", ms=4, capsize=2, label=pair)
    colours = tier_colour(list(tiers))
    for i, lang in enumerate(langs):
        ax.axvspan(i - 0.5, i + 0.5, color=colours.get(tier_of.get(lang, ""), "#999999"), alpha=0.08, lw=0)
    for i in range(1, len(langs)):
        if tier_of.get(langs[i]) != tier_of.get(langs[i - 1]):
            ax.axvline(i - 0.5, color="#555555", lw=0.8, ls="--")
    ax.axhline(0, color="#888888", lw=0.6)
    ax.set_xticks(range(len(langs)))
    ax.set_xticklabels([f"{lang}\n{tier_of.get(lang, '')}" for lang in langs], fontsize=8)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("Cohen's kappa (95% CI)")
    ax.set_title("Scorer agreement by language, ordered by resource tier")
    ax.legend(fontsize=7, loc="lower right")
    return to_png(fig)
