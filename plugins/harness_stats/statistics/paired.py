"""Each aligned variant against its family's base model on the same prompts.

Per cell (scorer x variant x language-or-tier x kind) the pass/fail outcomes of the
two models are paired by prompt. Per language: the exact McNemar test on the discordant
pairs and a seeded paired bootstrap CI. Pooled over a tier, the same prompt repeats in
every language of the tier, so its pairs are not independent: the prompt is the cluster.
The p-value is a sign-flip randomization test on the per-prompt sums of differences
(the cluster analogue of the exact McNemar test: under no difference, swapping the two
models' labels on a whole prompt is as likely as not), and the CI a cluster bootstrap
over prompts (languages fixed, as strata). p-values are Holm-adjusted across all cells
of a table (family-wise error control).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.types import Statistic, StatResult

from .intervals import (
    benjamini_hochberg,
    cluster_bootstrap_ratio,
    holm,
    mcnemar_exact,
    paired_bootstrap_diff,
    sign_flip_test,
    stable_seed,
)
from .options import RANGES, CheckedOptions
from .rate_contrast import METRIC_OF_KIND
from .table import (
    as_list,
    base_models,
    design_options,
    distinct,
    family_of,
    language_order,
    metric_rows,
    ordered_tiers,
    passed,
)


def _outcomes(rows: Sequence[Mapping[str, Any]], options: Mapping[str, Any]) -> dict[tuple, bool]:
    """(scorer, model, source, kind, language, prompt_id) -> passed."""
    out = {}
    for row in rows:
        ok = passed(row, options)
        if ok is not None:
            key = (
                row.get("scorer"),
                row["model"],
                row.get("source"),
                row["kind"],
                row["language"],
                str(row.get("prompt_id")),
            )
            out[key] = ok
    return out


def paired_cells(rows: Sequence[Mapping[str, Any]], options: Mapping[str, Any], by: str) -> list[dict[str, Any]]:
    """Paired comparisons for every variant x ``by`` value x kind, unadjusted p-values."""
    bases = base_models(rows, options.get("baseline") or None)
    outcomes = _outcomes(rows, options)
    unit_of = {}
    for row in rows:
        unit_of[row["language"]] = row.get("tier") if by == "tier" else row["language"]
    families = {str(r["model"]): family_of(r) for r in rows}
    reps, seed = int(options.get("bootstrap_reps", 2000)), int(options.get("seed", 0))
    groups: dict[tuple, list[tuple[bool, bool, str]]] = {}
    for (scorer, model, source, kind, lang, pid), ok in outcomes.items():
        base = bases.get(families.get(model, ""))
        if not base or model == base:
            continue
        base_ok = outcomes.get((scorer, base, source, kind, lang, pid))
        unit = unit_of.get(lang)
        if base_ok is None or unit in (None, ""):
            continue
        groups.setdefault((scorer, model, base, str(unit), kind), []).append((base_ok, ok, f"{source}|{pid}"))
    cells = []
    for (scorer, model, base, unit, kind), pairs in groups.items():
        a = [p[0] for p in pairs]
        b = [p[1] for p in pairs]
        n_b = sum(1 for x, y, _ in pairs if x and not y)  # base passed, variant failed
        n_c = sum(1 for x, y, _ in pairs if y and not x)  # variant passed, base failed
        cell_seed = stable_seed(seed, scorer, model, base, unit, kind)
        if by == "tier":  # prompts repeat across the tier's languages: they are the clusters
            clusters: dict[str, list[int]] = {}
            for x, y, prompt in pairs:
                clusters.setdefault(prompt, [0, 0])
                clusters[prompt][0] += int(y) - int(x)
                clusters[prompt][1] += 1
            sums, sizes = [c[0] for c in clusters.values()], [c[1] for c in clusters.values()]
            lo, hi = cluster_bootstrap_ratio(sums, sizes, reps=reps, seed=cell_seed)
            p, test = sign_flip_test(sums, seed=cell_seed), "prompt-cluster sign-flip"
        else:
            lo, hi = paired_bootstrap_diff(a, b, reps=reps, seed=cell_seed)
            p, test = mcnemar_exact(n_b, n_c), "exact McNemar"
        rate_a, rate_b = 100 * sum(a) / len(a), 100 * sum(b) / len(b)
        cells.append(
            {
                "scorer": scorer,
                "model": model,
                "baseline": base,
                by: unit,
                "kind": kind,
                "metric": METRIC_OF_KIND[kind],
                "n_pairs": len(pairs),
                "rate_baseline": rate_a,
                "rate_model": rate_b,
                "diff": rate_b - rate_a,
                "diff_lo": 100 * lo,
                "diff_hi": 100 * hi,
                "only_baseline_passed": n_b,
                "only_model_passed": n_c,
                "p": p,
                "test": test,
            }
        )
    return cells


def _adjust(cells: list[dict[str, Any]], method: str) -> None:
    ps = [c["p"] for c in cells]
    adjusted = benjamini_hochberg(ps) if method == "bh" else holm(ps)
    for c, p in zip(cells, adjusted):
        c["p_adjusted"] = p


class PairedStatistic(CheckedOptions, Statistic):
    """Variant vs base on the same prompts: exact McNemar + paired bootstrap CI, Holm-adjusted."""

    name = "paired"
    description = "each variant vs its family's base model on the same prompts (exact McNemar, paired bootstrap)"
    ranges = {**RANGES, "bootstrap_reps": (lambda v: v >= 1, "a count >= 1 (the CIs are bootstrap percentiles)")}
    default_options: Mapping[str, Any] = {
        **design_options("harmless_threshold", "helpful_threshold", "baseline"),
        "bootstrap_reps": 2000,
        "seed": 0,
        "correction": "holm",
        "alpha": 0.05,
        **design_options("tier_order"),
    }

    def compute(self, rows: list[dict[str, Any]], options: Mapping[str, Any]) -> StatResult:
        opts = {**self.default_options, **dict(options or {})}
        method = "bh" if str(opts["correction"]).lower() in ("bh", "fdr", "benjamini-hochberg") else "holm"
        method_name = "Benjamini-Hochberg (false discovery rate)" if method == "bh" else "Holm (family-wise error)"
        result = StatResult(name=self.name, title="Paired comparisons against the base model")
        reward = [r for r in metric_rows(rows) if r.get("kind") in METRIC_OF_KIND]
        bases = base_models(reward, opts["baseline"] or None)
        if not reward or not bases:
            why = (
                "no reward-scored rows"
                if not reward
                else "no base model: no row has recipe 'base' and option baseline is not set to a model in the table"
            )
            result.markdown = f"Paired comparisons were skipped: {why}."
            result.warnings.append(f"paired: {why}")
            result.data = []
            return result
        by_lang = paired_cells(reward, opts, "language")
        by_tier = paired_cells(reward, opts, "tier")
        if not by_lang:
            result.markdown = (
                "Paired comparisons were skipped: no variant shares prompts with its base model "
                f"(bases: {', '.join(sorted(set(bases.values())))})."
            )
            result.warnings.append("paired: no variant/base pairs on the same prompts")
            result.data = []
            return result
        models = distinct(reward, "model")
        langs = language_order({c["language"] for c in by_lang})
        tiers = ordered_tiers({c["tier"] for c in by_tier}, as_list(opts.get("tier_order")))
        by_lang.sort(key=lambda c: (c["scorer"], models.index(c["model"]), langs.index(c["language"]), c["kind"]))
        by_tier.sort(key=lambda c: (c["scorer"], models.index(c["model"]), tiers.index(c["tier"]), c["kind"]))
        _adjust(by_lang, method)
        _adjust(by_tier, method)
        alpha = float(opts["alpha"])
        result.data = [{"by": "language", **c} for c in by_lang] + [{"by": "tier", **c} for c in by_tier]
        result.tables["paired_by_language"] = [_row(c, "language") for c in by_lang]
        if by_tier:
            result.tables["paired_by_tier"] = [_row(c, "tier") for c in by_tier]
        md = [
            "Each variant is compared with its family's base model "
            f"({', '.join(sorted(set(bases.values())))}) on the same prompts. Outcome: pass/fail as in the "
            "rates (harmless on harmful prompts, helpful on helpful prompts). Per language, p: two-sided exact "
            "McNemar test on the discordant pairs; CI: 95% percentile paired bootstrap of the difference in rate "
            f"(variant minus base, percentage points; {opts['bootstrap_reps']} resamples, seed {opts['seed']}). "
            "Per tier, a prompt repeats in every language of the tier, so prompts are the clusters: p from a "
            "sign-flip randomization test on the per-prompt sums of differences, CI from a bootstrap of prompts. "
            f"p-values are adjusted with {method_name} across all cells of each table "
            f"({len(by_lang)} language cells, {len(by_tier)} tier cells).",
            "",
        ]
        significant = [c for c in by_lang if c["p_adjusted"] < alpha]
        if significant:
            md.append(f"Differences significant at adjusted p < {alpha} (per language):")
            for c in significant:
                md.append(
                    f"- {c['model']} vs {c['baseline']}, {c['metric']} in {c['language']} ({c['scorer']}): "
                    f"{c['diff']:+.1f} points [{c['diff_lo']:+.1f}, {c['diff_hi']:+.1f}], "
                    f"adjusted p = {c['p_adjusted']:.3g}."
                )
        else:
            md.append(f"No per-language difference is significant at adjusted p < {alpha}.")
        result.markdown = "\n".join(md)
        return result


def _row(cell: Mapping[str, Any], by: str) -> dict[str, Any]:
    return {
        "scorer": cell["scorer"],
        "model": cell["model"],
        "baseline": cell["baseline"],
        by: cell[by],
        "metric": cell["metric"],
        "n_pairs": cell["n_pairs"],
        "baseline %": round(cell["rate_baseline"], 2),
        "model %": round(cell["rate_model"], 2),
        "diff (pts)": round(cell["diff"], 2),
        "diff 95% CI": f"[{cell['diff_lo']:+.1f}, {cell['diff_hi']:+.1f}]",
        "only base passed": cell["only_baseline_passed"],
        "only model passed": cell["only_model_passed"],
        "test": cell["test"],
        "p": float(f"{cell['p']:.4g}"),
        "p adjusted": float(f"{cell['p_adjusted']:.4g}"),
    }
