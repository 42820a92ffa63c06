"""The verdict read at a glance: one sentence that answers the question, then a compact table.

The verdict's full sentences are exact but dense; a reader first wants to know which variants'
trade-off differs between tiers and in which direction, then the numbers behind it, one row per
variant and measure (change in each tier, their difference, its 95% CI and adjusted p).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

#: What a positive change in each measure is a gain in (reward points: harmlessness over helpfulness).
ASPECT = {"reward points": "harmlessness", "HmR": "harmlessness", "HpR": "helpfulness"}


def _clear(c: Mapping[str, Any]) -> bool:
    return bool(c.get("reported", True)) and (c["ci_low"] > 0 or c["ci_high"] < 0)


def _tier_change(rows: Sequence[Mapping[str, Any]], scorer: str, variant: str, base: str, tier: str) -> float | None:
    def mean(model: str, kind: str) -> float | None:
        vals = [float(r["score"]) for r in rows
                if r.get("scorer") == scorer and r["model"] == model and r["kind"] == kind and r["tier"] == tier]
        return sum(vals) / len(vals) if vals else None

    parts = [mean(variant, "harmful"), mean(base, "harmful"), mean(variant, "helpful"), mean(base, "helpful")]
    if any(p is None for p in parts):
        return None
    vh, bh, vp, bp = parts  # type: ignore[misc]
    return (vh - bh) - (vp - bp)


def opening_sentence(lmm: Sequence[Mapping[str, Any]], rates: Sequence[Mapping[str, Any]], low: str,
                     high: str) -> str:
    """'Yes for A and B: their harmlessness gain is smaller in low- than in high-resource languages
    (reward points, HmR); no clear difference for C.' or 'No: ...'."""
    measures: dict[tuple[str, str], list[tuple[str, Mapping[str, Any]]]] = defaultdict(list)
    for c in lmm:
        measures[(c["scorer"], c["variant"])].append(("reward points", c))
    for c in rates:
        measures[(c["scorer"], c["variant"])].append((c["metric"], c))
    scorers = {s for s, _ in measures}
    said: dict[str, list[str]] = defaultdict(list)  # description -> variants it holds for
    quiet = []
    for (scorer, variant), found in sorted(measures.items(), key=lambda kv: kv[0]):
        name = variant if len(scorers) == 1 else f"{variant} ({scorer})"
        by_dir: dict[tuple[str, str], list[str]] = defaultdict(list)
        for metric, c in found:
            if _clear(c):
                by_dir[(ASPECT[metric], "smaller" if c["estimate"] < 0 else "larger")].append(metric)
        if not by_dir:
            quiet.append(name)
            continue
        said["; ".join(f"{aspect} gain is {word} in {low}- than in {high}-resource languages ({', '.join(ms)})"
                       for (aspect, word), ms in by_dir.items())].append(name)
    if not said:
        return (f"No: no aligned variant's trade-off differs clearly between {low}- and {high}-resource "
                f"languages (every 95% CI includes zero; {len(measures)} variants).")
    parts = [f"{' and '.join(names)}: {'their' if len(names) > 1 else 'its'} {what}" for what, names in said.items()]
    tail = f"; no clear difference for {', '.join(quiet)}" if quiet else ""
    return "Yes for " + "; for ".join(parts) + tail + "."


def compact_table(rows: Sequence[Mapping[str, Any]], lmm: Sequence[Mapping[str, Any]],
                  rates: Sequence[Mapping[str, Any]], low: str, high: str) -> str:
    """Markdown: variant x measure, change in each tier, difference (low - high), 95% CI, adjusted p."""
    scorers = {c["scorer"] for c in [*lmm, *rates]}
    head = (f"| variant | measure | change {low} | change {high} | difference ({low} - {high}) | 95% CI "
            "| adjusted p |")
    lines = [head, "|---|---|---|---|---|---|---|"]
    keys = sorted({(c["scorer"], c["variant"], c["base"]) for c in [*lmm, *rates]})
    for scorer, variant, base in keys:
        name = variant if len(scorers) == 1 else f"{variant} ({scorer})"
        for c in lmm:
            if (c["scorer"], c["variant"]) == (scorer, variant) and c.get("reported"):
                lo, hi = (_tier_change(rows, scorer, variant, base, t) for t in (low, high))
                lines.append(_line(name, "reward points", lo, hi, c, 2))
        for metric in ("HmR", "HpR"):
            for c in rates:
                if (c["scorer"], c["variant"], c["metric"]) == (scorer, variant, metric):
                    lines.append(_line(name, f"{metric} points", c["change_low"], c["change_high"], c, 1))
    return "\n".join(lines)


def _line(name: str, measure: str, lo: float | None, hi: float | None, c: Mapping[str, Any], digits: int) -> str:
    def num(x: float | None) -> str:
        return "n/a" if x is None or x != x else f"{x:+.{digits}f}"

    p = c["p_holm"]
    mark = "**" if _clear(c) else ""
    return (f"| {name} | {measure} | {num(lo)} | {num(hi)} | {mark}{num(c['estimate'])}{mark} | "
            f"{c['ci_low']:.{digits}f} to {c['ci_high']:.{digits}f} | {'< 0.001' if p < 0.001 else f'{p:.3g}'} |")


def glance(rows: Sequence[Mapping[str, Any]], lmm: Sequence[Mapping[str, Any]], rates: Sequence[Mapping[str, Any]],
           low: str, high: str) -> str:
    """The verdict's opening: the answer in one sentence, then the compact table."""
    note = ("Changes are from base to variant; reward points are [(variant - base) on harmful minus on helpful], "
            "per tier from plain means, the difference and CI from the mixed model; bold: the 95% CI excludes zero.")
    return "\n\n".join([opening_sentence(lmm, rates, low, high), compact_table(rows, lmm, rates, low, high), note])
