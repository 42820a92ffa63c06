"""Simulation check of the verdict: coverage of its 95% CIs and its type-I error, in reward points and in rates.

Tables follow the study's design in miniature: a base model and aligned variants answer the same
prompts (half harmful, half helpful) in languages split into a low and a high tier. A reward score is

    score = mu(variant, kind, tier) + language + prompt + language:prompt + variant:language + noise

(normal random effects, SDs in :class:`VerdictDesign`), and pass/fail applies the study's thresholds
(harmless: score >= -3 on harmful prompts; helpful: score > -2 on helpful ones). The planted effect
``effect`` adds reward points to the first variant's harmful-prompt scores in the low tier only, so
the LMM contrast's truth is ``effect``. Every score is normal with the same total variance s^2, so a
cell's pass rate over random languages and prompts is Phi((mu - threshold) / s): the rate contrast's
truth is exact (:func:`rate_truth`). Null tables have no tier effect at all, so both truths are 0.

Optional parts of the design (off by default, so the plain design keeps its draws): a
variant:language:kind component, SD factors for the low tier (``low_scale``: residual and each
language-level component), Student-t residuals (``residual_df``) and unequal tier sizes
(``low_languages``): the null scenarios of benchmarks/verdict_variance.py. Under them the rate
truths are no longer exact (a tier's total SD differs), so use them for the reward-point contrast.

Every table goes through the ``verdict`` statistic itself.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from harness_stats.simulation.simulate import fixed_mean, sim_row
from harness_stats.statistics.table import DEFAULT_HARMLESS_THRESHOLD, DEFAULT_HELPFUL_THRESHOLD


@dataclass(frozen=True)
class VerdictDesign:
    variants: int = 1  # aligned variants beside the base
    languages_per_tier: int = 5
    items_per_kind: int = 20
    sd_language: float = 0.5
    sd_item: float = 1.0
    sd_language_item: float = 0.3
    sd_variant_language: float = 0.3
    sd_residual: float = 1.0
    intercept: float = -2.0
    variant_effect: float = 0.8
    harmful_effect: float = -0.5
    low_tier_effect: float = -0.6
    variant_harmful: float = 0.4
    variant_low: float = -0.3
    # tier-specific variances and heavy tails (the defaults: none, the draws of the plain design)
    low_languages: int = 0  # languages in the low tier when not languages_per_tier
    sd_variant_language_kind: float = 0.0
    low_scale: tuple[tuple[str, float], ...] = ()  # (component, factor on its SD in the low tier)
    residual_df: float = 0.0  # > 2: residuals are Student t with these df, scaled to SD sd_residual

    def scale(self, component: str, low: bool) -> float:
        """The factor on a component's SD in a tier (components: language, language:item,
        variant:language, variant:language:kind, residual)."""
        return dict(self.low_scale).get(component, 1.0) if low else 1.0

    def languages(self) -> list[tuple[str, str]]:
        n_low = self.low_languages or self.languages_per_tier
        return [(f"lo{i}", "low") for i in range(n_low)] + [(f"hi{i}", "high") for i in range(self.languages_per_tier)]

    def total_sd(self) -> float:
        return math.sqrt(
            self.sd_language**2
            + self.sd_item**2
            + self.sd_language_item**2
            + self.sd_variant_language**2
            + self.sd_residual**2
        )

    def null(self) -> VerdictDesign:
        """The same design with no tier effect of any kind (both headlines' truths are 0)."""
        return replace(self, low_tier_effect=0.0, variant_low=0.0)


def mean_score(d: VerdictDesign, v: int, harmful: bool, low: bool, effect: float) -> float:
    return fixed_mean(d, v > 0, harmful, low, (v == 1) * harmful * low * effect, d.variant_low)


def simulate_table(rng: np.random.Generator, effect: float, d: VerdictDesign = VerdictDesign()) -> list[dict[str, Any]]:
    """One tidy table (reward rows, one scorer) from the design, with ``effect`` planted."""
    models = ["base"] + [f"v{i + 1}" for i in range(d.variants)]
    langs = d.languages()
    low = {lang: tier == "low" for lang, tier in langs}
    lang_eff = {lang: rng.normal(0, d.sd_language * d.scale("language", low[lang])) for lang, _ in langs}
    var_lang = {
        (m, lang): rng.normal(0, d.sd_variant_language * d.scale("variant:language", low[lang]))
        for m in models
        for lang, _ in langs
    }
    var_lang_kind = {  # drawn only when present, so the plain design keeps its draws
        (m, lang, k): rng.normal(0, d.sd_variant_language_kind * d.scale("variant:language:kind", low[lang]))
        for m in models
        for lang, _ in langs
        for k in ("harmful", "helpful")
        if d.sd_variant_language_kind
    }
    rows = []
    for kind in ("harmful", "helpful"):
        for i in range(d.items_per_kind):
            item_eff = rng.normal(0, d.sd_item)
            for lang, tier in langs:
                li = rng.normal(0, d.sd_language_item * d.scale("language:item", low[lang]))
                for v, model in enumerate(models):
                    mu = mean_score(d, v, kind == "harmful", tier == "low", effect)
                    noise = d.sd_residual * d.scale("residual", low[lang]) * _unit_noise(rng, d.residual_df)
                    score = (
                        mu
                        + lang_eff[lang]
                        + item_eff
                        + li
                        + var_lang[(model, lang)]
                        + var_lang_kind.get((model, lang, kind), 0.0)
                        + noise
                    )
                    rows.append(sim_row(model, v == 0, kind, lang, tier, i, float(score)))
    return rows


def _unit_noise(rng: np.random.Generator, df: float) -> float:
    """A unit-variance draw: normal, or Student t with ``df`` > 2 degrees of freedom scaled to variance 1."""
    if df:
        return float(rng.standard_t(df) * math.sqrt((df - 2) / df))
    return float(rng.normal(0, 1))


def rate_truth(d: VerdictDesign, effect: float, kind: str) -> float:
    """Exact low-minus-high change in the first variant's HmR (harmful) or HpR (helpful), percentage points."""
    from scipy.stats import norm

    harmful = kind == "harmful"
    thr = DEFAULT_HARMLESS_THRESHOLD if harmful else DEFAULT_HELPFUL_THRESHOLD
    s = d.total_sd()

    def rate(v: int, low: bool) -> float:
        return float(norm.sf((thr - mean_score(d, v, harmful, low, effect)) / s))

    return 100 * ((rate(1, True) - rate(0, True)) - (rate(1, False) - rate(0, False)))


def run(
    n: int, effect: float, seed: int = 0, design: VerdictDesign = VerdictDesign(), options: dict | None = None
) -> dict[str, Any]:
    """Push ``n`` tables through the verdict; coverage and rejection rate of each headline for variant v1."""
    from harness_stats.statistics.verdict import VerdictStatistic

    stat = VerdictStatistic()
    opts = {**stat.default_options, "bootstrap_reps": 0, **(options or {})}
    truth = {"lmm": effect, "HmR": rate_truth(design, effect, "harmful"), "HpR": rate_truth(design, effect, "helpful")}
    tally = {k: {"covered": 0, "rejected": 0, "fitted": 0, "boot_covered": 0} for k in truth}
    start = time.perf_counter()
    for i in range(n):
        rng = np.random.default_rng([seed, i, int(round(effect * 1000))])
        data = stat.compute(simulate_table(rng, effect, design), opts).data
        found = {c["metric"]: c for c in data["rates"] if c["variant"] == "v1"}
        found["lmm"] = next((c for c in data["reward_points"] if c["variant"] == "v1" and c.get("reported")), None)
        for key, c in found.items():
            if c is None or not math.isfinite(c.get("ci_low", math.nan)):
                continue
            t = tally[key]
            t["fitted"] += 1
            t["covered"] += c["ci_low"] <= truth[key] <= c["ci_high"]
            t["rejected"] += c["p"] < 0.05
            if "bootstrap_ci_low" in c:
                t["boot_covered"] += c["bootstrap_ci_low"] <= truth[key] <= c["bootstrap_ci_high"]
    out = {"n": n, "effect": effect, "truth": truth, "seconds": time.perf_counter() - start}
    for key, t in tally.items():
        m = max(t["fitted"], 1)
        out[key] = {
            "fitted": t["fitted"],
            "coverage": t["covered"] / m,
            "rejection_rate": t["rejected"] / m,
            **({"bootstrap_coverage": t["boot_covered"] / m} if opts.get("bootstrap_reps") and key != "lmm" else {}),
        }
    return out


def report(
    n: int = 200, effect: float = 1.0, seed: int = 0, design: VerdictDesign = VerdictDesign(), reps: int = 0
) -> str:
    """Coverage with a planted effect and type-I error on null tables, for both headlines, in words."""
    planted = run(n, effect, seed, design, {"bootstrap_reps": reps})
    null = run(n, 0.0, seed + 1, design.null(), {"bootstrap_reps": reps})
    mc = math.sqrt(0.95 * 0.05 / max(n, 1))
    lines = [
        f"design: base + {design.variants} variant(s), {design.languages_per_tier}+{design.languages_per_tier} "
        f"languages (low+high), {design.items_per_kind} prompts per kind; SDs language {design.sd_language}, prompt "
        f"{design.sd_item}, language:prompt {design.sd_language_item}, variant:language {design.sd_variant_language}, "
        f"residual {design.sd_residual}; {n} tables per arm, seed {seed}",
        f"planted {effect} reward points; truths: LMM {effect}, HmR {planted['truth']['HmR']:+.2f} pts, "
        f"HpR {planted['truth']['HpR']:+.2f} pts (MC SE of a 95% coverage: {mc:.3f})",
    ]
    for key, label in (
        ("lmm", "reward-point contrast (the verdict's reward_test)"),
        ("HmR", "rate contrast, HmR"),
        ("HpR", "rate contrast, HpR"),
    ):
        p, z = planted[key], null[key]
        boot = f"; cluster-bootstrap coverage {p['bootstrap_coverage']:.3f}" if "bootstrap_coverage" in p else ""
        lines.append(
            f"{label}: coverage {p['coverage']:.3f} ({p['fitted']} fitted){boot}; type-I error on null tables "
            f"{z['rejection_rate']:.3f} ({z['fitted']} fitted)"
        )
    lines.append(f"time: {planted['seconds'] + null['seconds']:.0f} s")
    return "\n".join(lines)
