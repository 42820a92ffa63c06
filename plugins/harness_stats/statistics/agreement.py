"""The `agreement` statistic: would the verdict change with another judge?

Every scorer with a pass/fail decision (reward model, guard, judge: table.passed, by metric) decides
each (model, prompt, language) row. Per pair of scorers, per language and per tier: Cohen's kappa with
its 95% CI and the raw agreement over the rows both decided (a guard decides harmful prompts only, so
its pairs count those). Then the verdict per scorer side by side: each scorer's low- minus high-tier
change in HmR / HpR from base to variant (the `verdict` statistic's rate contrasts, Holm within the
scorer and metric), and one sentence: under how many scorers the difference is detected and whether
its sign agrees.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

from harness.types import Statistic, StatResult

from .kappa import cohen_kappa
from .table import as_list, decision_rows, design_options, distinct, language_order, ordered_tiers, passed, sig4

ALPHA = 0.05


def decisions(rows: Sequence[Mapping[str, Any]], opts: Mapping[str, Any]) -> dict[tuple, dict[str, bool]]:
    """(model, source, language, tier, kind, prompt_id) -> {scorer: passed} for every decided row."""
    out: dict[tuple, dict[str, bool]] = {}
    for row in rows:
        ok = passed(row, opts)
        if ok is None:
            continue
        key = (
            str(row["model"]),
            str(row.get("source")),
            str(row["language"]),
            str(row.get("tier") or ""),
            row["kind"],
            str(row.get("prompt_id")),
        )
        out.setdefault(key, {})[str(row.get("scorer") or "")] = ok
    return out


def pair_cells(decided: Mapping[tuple, Mapping[str, bool]], a: str, b: str, by: int) -> dict[str, dict[str, Any]]:
    """Kappa of scorers a and b per value of key position ``by`` (2 = language, 3 = tier)."""
    groups: dict[str, tuple[list[bool], list[bool]]] = {}
    for key, d in decided.items():
        if a in d and b in d:
            xs, ys = groups.setdefault(key[by], ([], []))
            xs.append(d[a])
            ys.append(d[b])
    return {g: cohen_kappa(xs, ys) for g, (xs, ys) in groups.items()}


def _pair_cells(
    decided: Any, scorers: list[str], langs: list[str], tiers: list[str], tier_of: Mapping[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Agreement of every pair of scorers per language and per tier (in the languages' and tiers' order)."""
    by_lang: list[dict[str, Any]] = []
    by_tier: list[dict[str, Any]] = []
    for a, b in combinations(scorers, 2):
        pair = f"{a} ~ {b}"
        for by, out, order, col in ((2, by_lang, langs, "language"), (3, by_tier, tiers, "tier")):
            cells = pair_cells(decided, a, b, by)
            for g in order:
                if g in cells:
                    extra = {"tier": tier_of[g]} if col == "language" else {}
                    out.append({"pair": pair, "a": a, "b": b, col: g, **extra, **cells[g]})
    return by_lang, by_tier


def _table_row(c: Mapping[str, Any], col: str) -> dict[str, Any]:
    extra = {"tier": c["tier"]} if col == "language" else {}
    agree = c["agreement"]
    return {
        "pair": c["pair"],
        col: c[col],
        **extra,
        "n": c["n"],
        "agreement %": None if not math.isfinite(agree) else round(100 * agree, 1),
        "kappa [95% CI]": _kappa_text(c),
        "kappa": sig4(round(c["kappa"], 12)) if math.isfinite(c["kappa"]) else None,
    }


def _low_high(tiers: list[str], opts: Mapping[str, Any]) -> tuple[str, str] | None:
    """The contrasted tiers: option ``tiers`` when it names two present ones, else the first and last."""
    wanted = as_list(opts.get("tiers"))
    if len(wanted) == 2 and all(t in tiers for t in wanted):
        return (wanted[0], wanted[1])
    return (tiers[0], tiers[-1]) if len(tiers) >= 2 else None


def _verdict_table(verdicts: list[dict[str, Any]], scorers: list[str]) -> list[dict[str, Any]]:
    """One row per variant and metric, one column per scorer: its estimate [CI], * when detected."""
    side: dict[tuple[Any, Any], dict[str, Any]] = {}
    for c in verdicts:
        row = side.setdefault(
            (c["variant"], c["metric"]), {"variant": c["variant"], "base": c["base"], "metric": c["metric"]}
        )
        if math.isfinite(c.get("estimate", math.nan)):
            ci = f" [{c['ci_low']:.1f}, {c['ci_high']:.1f}]" if math.isfinite(c.get("se", math.nan)) else ""
            row[c["scorer"]] = f"{c['estimate']:+.1f}{ci}" + (" *" if c["detected"] else "")
    return [{**r, **{s: r.get(s, "") for s in scorers}} for r in side.values()]


def _markdown(
    opts: Mapping[str, Any], by_tier: list[dict[str, Any]], low_high: tuple[str, str] | None, sentence: str
) -> str:
    worst = min((c for c in by_tier if math.isfinite(c["kappa"])), key=lambda c: c["kappa"], default=None)
    md = [
        "Each scorer's pass/fail decision per row (reward: the study's thresholds; guard: P(unsafe) < "
        f"{opts['unsafe_threshold']}, harmful prompts only; judge: label value >= {opts['judge_threshold']}). "
        "Cohen's kappa (95% CI from the large-sample SE of Fleiss, Cohen & Everitt 1969; rows of a tier pooled, "
        "treated as independent) and raw agreement over the rows both scorers decided: table `agreement_by_tier`, "
        "per language `agreement_by_language`.",
    ]
    if worst:
        md.append(
            f"\nLowest agreement: {worst['pair']} in the {worst['tier']} tier, "
            f"kappa {_kappa_text(worst)} over {worst['n']} rows."
        )
    if low_high:
        md += [
            "",
            "**The verdict per scorer** (table `verdict_by_scorer`): each cell is the "
            f"{low_high[0]}-minus-{low_high[1]} difference in the variant's change from base, in percentage "
            "points, with its 95% CI; * marks Holm-adjusted "
            f"p < {ALPHA} within the scorer and metric. A guard has no HpR.",
            "",
            sentence,
        ]
    return "\n".join(md)


def _kappa_text(c: Mapping[str, Any]) -> str:
    if not math.isfinite(c["kappa"]):
        return f"n/a ({c.get('why', 'undefined')})"
    text = f"{c['kappa'] + 0.0:.2f} [{c['ci_low'] + 0.0:.2f}, {c['ci_high'] + 0.0:.2f}]"
    return text.replace("-0.00", "0.00") + (" (one scorer constant)" if c.get("why") else "")


def scorer_verdicts(rows: list[dict[str, Any]], opts: Mapping[str, Any], low: str, high: str) -> list[dict[str, Any]]:
    """Per scorer: the verdict's rate contrasts, Holm-adjusted within the scorer and metric."""
    from .intervals import holm
    from .verdict import rate_contrasts

    out = []
    for scorer in distinct(rows, "scorer"):
        mine = [r for r in rows if r.get("scorer") == scorer]
        with warnings.catch_warnings():  # a language a guard left undecided is an empty mean: reported as such
            warnings.simplefilter("ignore", RuntimeWarning)
            contrasts = [c for c in rate_contrasts(mine, {**opts, "bootstrap_reps": 0}, low, high) if c["pairs"]]
        for metric in ("HmR", "HpR"):
            group = [c for c in contrasts if c["metric"] == metric and math.isfinite(c.get("p", math.nan))]
            for c, p in zip(group, holm([c["p"] for c in group])):
                c["p_holm"] = p
        for c in contrasts:
            c["detected"] = bool(c.get("p_holm", 1.0) < ALPHA)
            out.append(c)
    return out


def cross_scorer_sentence(verdicts: Sequence[Mapping[str, Any]], scorers: Sequence[str], low: str, high: str) -> str:
    """Under how many scorers the tier difference is detected, and whether its sign agrees."""
    detected = [s for s in scorers if any(c["detected"] for c in verdicts if c["scorer"] == s)]
    by_contrast: dict[tuple[str, str], dict[str, float]] = {}
    for c in verdicts:
        if math.isfinite(c.get("estimate", math.nan)):
            by_contrast.setdefault((c["variant"], c["metric"]), {})[c["scorer"]] = c["estimate"]
    shared = {k: v for k, v in by_contrast.items() if len(v) >= 2}
    split = []
    for (variant, metric), est in sorted(shared.items()):
        signs = {s: (e > 0) - (e < 0) for s, e in est.items()}
        if len({v for v in signs.values() if v}) > 1:
            plus = ", ".join(s for s, v in signs.items() if v > 0)
            minus = ", ".join(s for s, v in signs.items() if v < 0)
            split.append(f"{variant} {metric} (+ under {plus}; - under {minus})")
    who = f" ({', '.join(detected)})" if detected else ""
    if not shared:
        sign = "no variant and metric is measured by two scorers, so signs cannot be compared"
    elif not split:
        sign = (
            f"the sign of the {low}-minus-{high} difference agrees across scorers in all {len(shared)} "
            "variant x metric contrasts"
        )
    else:
        sign = (
            f"its sign agrees in {len(shared) - len(split)} of {len(shared)} variant x metric contrasts "
            "and differs for " + "; ".join(split)
        )
    return (
        f"Across the {len(scorers)} scorers with a pass/fail decision, a {low}- versus {high}-resource difference "
        f"in a variant's HmR/HpR change is detected (Holm-adjusted p < {ALPHA}) under {len(detected)} of "
        f"{len(scorers)}{who}, "
        f"and {sign}."
    )


class AgreementStatistic(Statistic):
    """Cohen's kappa between every pair of scorers' decisions per language and tier; the verdict per scorer."""

    name = "agreement"
    description = (
        "scorer agreement (Cohen's kappa, 95% CI, raw agreement) per language and tier; the verdict per scorer"
    )
    default_options: Mapping[str, Any] = design_options()

    def compute(self, rows: list[dict[str, Any]], options: Mapping[str, Any]) -> StatResult:
        opts = {**self.default_options, **dict(options or {})}
        result = StatResult(name=self.name, title="Does the answer depend on the judge? Scorer agreement")
        decided_rows = [r for r in decision_rows(rows) if r.get("kind") in ("harmful", "helpful")]
        scorers = distinct(decided_rows, "scorer")
        if len(scorers) < 2:
            named = ", ".join(scorers) or "none"
            why = f"{len(scorers)} scorer(s) with a pass/fail decision ({named}); agreement needs two"
            result.markdown = f"No agreement statistics: {why}."
            result.warnings.append(f"agreement: {why}")
            result.data = {"scorers": scorers, "reason": why, "pairs": [], "verdicts": []}
            return result
        decided = decisions(decided_rows, opts)
        tiers = ordered_tiers((k[3] for k in decided), as_list(opts.get("tier_order")))
        tier_of = {k[2]: k[3] for k in decided}
        langs = sorted(
            language_order(tier_of),
            key=lambda lang: (tiers.index(tier_of[lang]) if tier_of[lang] in tiers else len(tiers), lang),
        )
        by_lang, by_tier = _pair_cells(decided, scorers, langs, tiers, tier_of)
        result.tables["agreement_by_tier"] = [_table_row(c, "tier") for c in by_tier]
        result.tables["agreement_by_language"] = [_table_row(c, "language") for c in by_lang]
        low_high = _low_high(tiers, opts)
        verdicts: list[dict[str, Any]] = []
        sentence = ""
        if low_high:
            verdicts = scorer_verdicts(decided_rows, opts, *low_high)
            sentence = cross_scorer_sentence(verdicts, scorers, *low_high)
            result.tables["verdict_by_scorer"] = _verdict_table(verdicts, scorers)
        else:
            result.warnings.append("agreement: fewer than two tiers, so no verdict per scorer")
        result.headline = sentence
        result.markdown = _markdown(opts, by_tier, low_high, sentence)
        if by_lang:
            from ..plots.charts import kappa_by_language

            result.figures["agreement_kappa_by_language.png"] = kappa_by_language(by_lang, langs, tier_of, tiers)
        result.data = {
            "scorers": scorers,
            "tiers": tiers,
            "by_tier": by_tier,
            "by_language": by_lang,
            "verdicts": [{k: v for k, v in c.items() if not k.endswith("_rates")} for c in verdicts],
            "sentence": sentence,
        }
        return result
