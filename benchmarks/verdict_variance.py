"""Type-I error, coverage and power of the verdict's reward-point test when the tiers' variances differ.

    python -m benchmarks.verdict_variance run --out results/verdict_variance.jsonl [--n 500] [--shapes study,demo]
    python -m benchmarks.verdict_variance summary results/verdict_variance.jsonl

`run` draws --n null tables (no three-way effect) per scenario and shape and tests every variant's
low-minus-high contrast four ways: the mixed model the verdict fitted so far (`lmm`: pooled variance
components, Satterthwaite t), one mixed model per tier (`lmm_tier`: every variance component
tier-specific, harness_stats.statistics.tier_lmm), Welch's t over per-language differences (`welch`) and OLS with a CR2
cluster-robust SE, languages as clusters, Bell-McCaffrey df (`cr2`). One JSON line per table (resumable:
tables already in the file are skipped). `summary` prints type-I error and coverage of the 95% CI with
Monte Carlo SEs (tables are the clusters: a table's variants share its base model), and power at the
planted effects.

Why one arm serves all three: every method's estimate moves by exactly delta when delta is added to a
variant's harmful-prompt scores in the low tier, and its SE and df do not move (the fixed effects
saturate variant x kind x tier, so REML, OLS residuals and the per-language spreads are unchanged). So
the CI of a table with a planted delta covers delta exactly when the null table's CI covers 0, and
power at delta is the rate of |estimate + delta| / SE beyond the t quantile. Tests check the invariance.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from tests.support.verdict_sim import VerdictDesign, simulate_table

METHODS = ("lmm", "lmm_tier", "welch", "cr2")
#: the components of the scenarios: language 0.4, item 0.7, language:item 0.3, language:variant 0.3
BASE = VerdictDesign(
    variants=3,
    sd_language=0.4,
    sd_item=0.7,
    sd_language_item=0.3,
    sd_variant_language=0.3,
    sd_variant_language_kind=0.15,
    sd_residual=1.0,
).null()
SHAPES = {
    "study": {"languages_per_tier": 20, "low_languages": 13, "items_per_kind": 20},
    "demo": {"languages_per_tier": 4, "low_languages": 3, "items_per_kind": 10},  # its 3 low + 4 high languages
}
LANGUAGE_LEVEL = ("language", "language:item", "variant:language", "variant:language:kind")
SCENARIOS = {  # name: changes to the null design (SD factors apply in the low tier only)
    "homoscedastic": {},
    "residual-1.5x": {"low_scale": (("residual", 1.5),)},
    "t5+lvk-2x": {"residual_df": 5.0, "low_scale": (("variant:language:kind", 2.0),)},
    "t5+residual-1.5x+lvk-2x": {"residual_df": 5.0, "low_scale": (("residual", 1.5), ("variant:language:kind", 2.0))},
    "every-component-2x": {"low_scale": tuple((c, 2.0) for c in (*LANGUAGE_LEVEL, "residual"))},
    "t3+residual-2x+lv-2x+lvk-3x+fewer-low": {
        "residual_df": 3.0,
        "low_scale": (("residual", 2.0), ("variant:language:kind", 3.0), ("variant:language", 2.0)),
        "fewer_low": True,
    },
}
EFFECTS = (0.25, 0.5, 1.0, 2.0)


def design_for(shape: str, scenario: str) -> VerdictDesign:
    spec = dict(SCENARIOS[scenario])
    fewer = spec.pop("fewer_low", False)
    d = replace(BASE, **SHAPES[shape], **spec)
    if fewer:  # a third fewer low-resource languages than the shape has (at least 3)
        d = replace(d, low_languages=max(3, (d.low_languages or d.languages_per_tier) * 2 // 3))
    return d


def test_table(rows: list[dict]) -> dict[str, list[dict]]:
    """Every variant's contrast by each method: estimate, se, df (and whether the LMM converged)."""
    from harness_stats.statistics.language_contrast import cr2_contrasts, welch_contrast
    from harness_stats.statistics.tier_lmm import tier_contrasts
    from harness_stats.statistics.tradeoff_model import design_frames, three_way_contrasts

    frame = design_frames(rows, {})[0]
    df = frame["frame"]
    tiers = dict(zip(df["language"], df["tier"].astype(str)))
    low = sorted(lang for lang, t in tiers.items() if t == frame["low"])
    high = sorted(lang for lang, t in tiers.items() if t == frame["high"])
    variants = [v for v in df["variant"].cat.categories if v != frame["base"]]
    fit = three_way_contrasts(frame, None, check=False)  # the verdict's fit and contrasts, minus lme4's checks
    lmm = {c["variant"]: c for c in fit["contrasts"]}
    cr2 = cr2_contrasts(df, variants)
    tier = tier_contrasts(frame)
    out: dict[str, list[dict]] = {m: [] for m in METHODS}
    for v in variants:
        w = welch_contrast(df, v, frame["base"], low, high)
        for method, c in (("lmm", lmm.get(v)), ("lmm_tier", tier.get(v)), ("welch", w), ("cr2", cr2.get(v))):
            rec = {"variant": v, **{k: (c or {}).get(k, math.nan) for k in ("estimate", "se", "df")}}
            if method == "lmm":
                rec["converged"] = fit["converged"]
            if method == "lmm_tier":
                rec["converged"] = (c or {}).get("converged", False)
            out[method].append(rec)
    return out


def run(out: Path, n: int, shapes: list[str], scenarios: list[str], seed: int) -> None:
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done.add((r["shape"], r["scenario"], r["table"]))
    with out.open("a") as fh:
        for shape in shapes:
            for scenario in scenarios:
                design = design_for(shape, scenario)
                start = time.perf_counter()
                for i in range(n):
                    if (shape, scenario, i) in done:
                        continue
                    rng = np.random.default_rng([seed, list(SCENARIOS).index(scenario), list(SHAPES).index(shape), i])
                    t0 = time.perf_counter()
                    res = test_table(simulate_table(rng, 0.0, design))
                    rec = {"shape": shape, "scenario": scenario, "table": i, "seconds": time.perf_counter() - t0, **res}
                    fh.write(json.dumps(rec) + "\n")
                    fh.flush()
                print(f"{shape} / {scenario}: {n} tables, {time.perf_counter() - start:.0f} s", file=sys.stderr)


def _rates(tables: list[dict], method: str, delta: float) -> tuple[float, float, int]:
    """Rejection rate at true effect delta over every variant of every table, its MC SE (tables as
    clusters), and the number of tests."""
    from scipy import stats

    per_table = []
    for t in tables:
        hits = []
        for c in t[method]:
            if not all(math.isfinite(c[k]) for k in ("estimate", "se", "df")) or c["se"] <= 0:
                continue
            z = abs(c["estimate"] + delta) / c["se"]
            hits.append(float(2 * stats.t.sf(z, c["df"]) < 0.05))
        if hits:
            per_table.append((sum(hits), len(hits)))
    if not per_table:
        return math.nan, math.nan, 0
    k = np.array([h for h, _ in per_table])
    m = np.array([n for _, n in per_table])
    rate = k.sum() / m.sum()
    # ratio estimator's SE over tables: sqrt(sum (k_i - rate m_i)^2) / sum m_i * sqrt(T / (T - 1))
    T = len(per_table)
    se = math.sqrt(float(np.sum((k - rate * m) ** 2)) * T / max(T - 1, 1)) / m.sum()
    return float(rate), se, int(m.sum())


def summary(path: Path) -> str:
    recs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    lines = [
        "| shape | scenario | tables (tests) | method | type-I (MC SE) | coverage (MC SE) | "
        + " | ".join(f"power at {d:g}" for d in EFFECTS)
        + " | s/table |",
        "|---|---|---|---|---|---|" + "---|" * len(EFFECTS) + "---|",
    ]
    for shape in SHAPES:
        for scenario in SCENARIOS:
            tables = [r for r in recs if r["shape"] == shape and r["scenario"] == scenario]
            if not tables:
                continue
            secs = np.mean([r["seconds"] for r in tables])
            for method in METHODS:
                rate, se, tests = _rates(tables, method, 0.0)
                power = [_rates(tables, method, d)[0] for d in EFFECTS]
                unconv = sum(not c.get("converged", True) for r in tables for c in r[method][:1])
                lines.append(
                    f"| {shape} | {scenario} | {len(tables)} ({tests}) | {method}"
                    + (f" ({unconv} unconverged)" if unconv else "")
                    + f" | {100 * rate:.1f}% ({100 * se:.1f}) | {100 * (1 - rate):.1f}% ({100 * se:.1f}) | "
                    + " | ".join(f"{100 * p:.1f}%" for p in power)
                    + f" | {secs:.2f} |"
                )
    return "\n".join(lines)


def legend() -> str:
    """What each shape and scenario is, in one line each (printed under the table)."""
    b = BASE
    lines = [
        f"null design: base + {b.variants} variants; SDs language {b.sd_language}, prompt {b.sd_item}, "
        f"language:prompt {b.sd_language_item}, variant:language {b.sd_variant_language}, "
        f"variant:language:kind {b.sd_variant_language_kind}, residual {b.sd_residual} (normal)",
        *[
            f"shape {name}: {d['low_languages']} low + {d['languages_per_tier']} high languages, "
            f"{d['items_per_kind']} prompts per kind"
            for name, d in SHAPES.items()
        ],
    ]
    for name in SCENARIOS:
        d = design_for("study", name)
        parts = [f"{c} SD x{f:g} in the low tier" for c, f in d.low_scale]
        if d.residual_df:
            parts.append(f"t{d.residual_df:g} residuals (variance-matched)")
        if SCENARIOS[name].get("fewer_low"):
            parts.append("a third fewer low-resource languages (study 8, demo stays 3)")
        lines.append(f"{name}: " + ("; ".join(parts) or "equal variances, normal residuals"))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--n", type=int, default=500)
    r.add_argument("--shapes", default=",".join(SHAPES))
    r.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated names")
    r.add_argument("--seed", type=int, default=0)
    s = sub.add_parser("summary")
    s.add_argument("path", type=Path)
    a = ap.parse_args()
    if a.cmd == "run":
        shapes = a.shapes.split(",")
        scenarios = a.scenarios.split(",")
        bad = [x for x in shapes if x not in SHAPES] + [x for x in scenarios if x not in SCENARIOS]
        if bad:
            ap.error(f"unknown shape/scenario {bad}; valid: {list(SHAPES)} and {list(SCENARIOS)}")
        run(a.out, a.n, shapes, scenarios, a.seed)
    else:
        print(summary(a.path))
        print()
        print(legend())


if __name__ == "__main__":
    main()
