"""Mean language fidelity (probability the response is in the prompt's language) per model x language/tier."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from harness.types import Statistic, StatResult

from .table import as_list, design_options, distinct, language_order, metric_rows, ordered_tiers


def _mean_rows(rows: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    sums: dict[tuple[str, str, str], list[float]] = {}
    for row in rows:
        if row.get(by) in (None, ""):
            continue
        sums.setdefault((str(row.get("scorer")), str(row["model"]), str(row[by])), []).append(row["score"])
    out = []
    for (scorer, model, unit), values in sums.items():
        n = len(values)
        mean = sum(values) / n
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
        out.append(
            {"scorer": scorer, "model": model, by: unit, "mean_fidelity": round(mean, 4), "sd": round(sd, 4), "n": n}
        )
    return out


def _unscored_languages(rows: list[dict[str, Any]], scorer: str) -> dict[str, int]:
    """Languages whose fidelity rows have no score (NaN/None), with their counts."""
    out: dict[str, int] = {}
    for row in rows:
        value = row.get("score")
        if (not scorer or row.get("scorer") == scorer) and (
            value is None or (isinstance(value, float) and math.isnan(value))
        ):
            out[str(row.get("language"))] = out.get(str(row.get("language")), 0) + 1
    return out


class FidelityStatistic(Statistic):
    """Mean lang-fidelity score per model x language and per model x tier."""

    name = "fidelity"
    description = "mean language fidelity (scorer lang-fidelity, metric probability) per model x language/tier"
    default_options: Mapping[str, Any] = {"scorer": "lang-fidelity", **design_options("tier_order")}

    def compute(self, rows: list[dict[str, Any]], options: Mapping[str, Any]) -> StatResult:
        opts = {**self.default_options, **dict(options or {})}
        result = StatResult(name=self.name, title="Language fidelity of responses")
        scorer = opts["scorer"]
        prob = [r for r in metric_rows(rows, "probability") if not scorer or r.get("scorer") == scorer]
        if not prob:
            result.markdown = (
                f"No `{scorer}` scores (metric `probability`) in the table, so language fidelity is not reported."
            )
            result.warnings.append(f"fidelity: no rows from scorer {scorer!r} with metric 'probability'")
            result.data = []
            return result
        models = distinct(prob, "model")
        by_lang = _mean_rows(prob, "language")
        langs = language_order(r["language"] for r in by_lang)
        by_lang.sort(key=lambda r: (langs.index(r["language"]), models.index(r["model"])))
        by_tier = _mean_rows(prob, "tier")
        tiers = ordered_tiers((r["tier"] for r in by_tier), as_list(opts.get("tier_order")))
        by_tier.sort(key=lambda r: (tiers.index(r["tier"]), models.index(r["model"])))
        result.tables["fidelity_by_language"] = by_lang
        if by_tier:
            result.tables["fidelity_by_tier"] = by_tier
        result.data = [{"by": "language", **r} for r in by_lang] + [{"by": "tier", **r} for r in by_tier]
        md = [
            "Mean probability (from the language-identification scorer) that a response is written in the "
            "prompt's language; low values mean the model answered in another language (often English), "
            "which the reward model may score differently."
        ]
        unscored = _unscored_languages(rows, scorer)
        if unscored:
            note = (
                f"{scorer} gave no score for {sum(unscored.values())} response(s) in "
                + ", ".join(f"{lang} ({n})" for lang, n in sorted(unscored.items()))
                + " (language not covered by the identifier); they are left out of the means."
            )
            md.append(note)
            result.warnings.append(f"fidelity: {note}")
        low = [r for r in by_lang if r["mean_fidelity"] < 0.5]
        if low:
            md.append(
                "Below 0.5: "
                + ", ".join(f"{r['model']} in {r['language']} ({r['mean_fidelity']:.2f})" for r in low)
                + "."
            )
        result.markdown = "\n".join(md)
        return result
