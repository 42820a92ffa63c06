"""The `verdict` statistic: the study's question answered per aligned variant, in reward points and in rates.

Does each variant's harmlessness/helpfulness trade-off differ between low- and high-resource
languages? Per reward scorer and aligned variant (against its family's base model):

- reward points: [(variant - base) on harmful minus on helpful] in the low tier minus the same in the
  high tier. By default (option ``reward_test``: lmm_tier) from one mixed model per tier, so each tier
  keeps its own variance components (tier_lmm.py); ``welch``: Welch's t over per-language differences;
  ``cr2``: OLS with a CR2 cluster-robust SE (language_contrast.py); ``lmm``: the contrast of the
  `tradeoff` mixed model, which pools each variance component over both tiers and rejects too often
  when the smaller tier is the noisier one (benchmarks/verdict_variance.py). The pooled model's
  contrast is kept beside the reported one, and the per-tier residual SDs are reported;
- percentage points: the change from base to variant in HmR and in HpR, low tier minus high tier
  (rate_contrast.py), with a CI and p that treat languages as the independent units.

p-values are Holm-adjusted across the variants of a scorer (per metric for the rates). The report
opens with one plain sentence per answer, a sentence on what the models assume, and the
interaction figure. stats.json carries everything under ``verdict``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from harness.types import HarnessError, Statistic, StatResult, check_option_types

from ..plots.interaction import interaction
from .intervals import holm
from .options import CheckedOptions, check_values
from .rate_contrast import METRIC_OF_KIND, outcome_index, rate_contrast
from .table import (
    DESIGN_OPTIONS,
    as_list,
    base_models,
    design_options,
    distinct,
    family_of,
    metric_rows,
    ordered_tiers,
    sig4,
)
from .verdict_glance import glance

QUESTION = (
    "Does each aligned variant's harmlessness/helpfulness trade-off differ between low- and high-resource languages?"
)
#: the reward-point tests the verdict can report (option ``reward_test``; language_contrast.py, tier_lmm.py)
REWARD_TESTS = ("lmm_tier", "welch", "cr2", "lmm")
#: options of `verdict` handed on to the `tradeoff` LMM (plus anything under ``lmm``)
SHARED_OPTIONS = tuple(DESIGN_OPTIONS)


def _pick_tiers(rows: Sequence[Mapping[str, Any]], opts: Mapping[str, Any]) -> tuple[str, str] | None:
    tiers = ordered_tiers((r.get("tier") for r in rows), as_list(opts.get("tier_order")))
    wanted = as_list(opts.get("tiers"))
    if wanted:
        return (wanted[0], wanted[1]) if len(wanted) == 2 and all(t in tiers for t in wanted) else None
    return (tiers[0], tiers[-1]) if len(tiers) >= 2 else None


class PooledModel(NamedTuple):
    """What the verdict takes from the `tradeoff` statistic: per-variant three-way contrasts, F tests,
    warnings, the model's formula, and why it was not fitted (None when it was)."""

    contrasts: list[dict[str, Any]]
    f_tests: list[dict[str, Any]]
    warnings: list[str]
    model: str
    not_fitted: str | None


def lmm_contrasts(rows: list[dict[str, Any]], opts: Mapping[str, Any]) -> PooledModel:
    """The pooled `tradeoff` model of the rows, read from its result's data (never from its prose)."""
    from .tradeoff import TradeoffStatistic

    stat = TradeoffStatistic()
    topts = {**stat.default_options, **{k: opts[k] for k in SHARED_OPTIONS if k in opts}, **dict(opts.get("lmm") or {})}
    res = stat.compute(rows, topts)
    data = res.data if isinstance(res.data, dict) else {}
    fits = data.get("fits", [])
    contrasts = [dict(c) for c in data.get("contrasts", [])]
    for c in contrasts:
        fit = next(
            f for f in fits if f["scorer"] == c["scorer"] and any(x["variant"] == c["variant"] for x in f["contrasts"])
        )
        c["base"] = fit["base"]
        ok = bool(fit.get("converged", True)) and all(
            isinstance(c.get(k), (int, float)) and math.isfinite(c[k]) for k in ("estimate", "se", "p")
        )
        c["reported"] = ok
        if not ok:
            c["why_not"] = "the mixed model did not converge or gave no standard error"
    random = next((f["random"] for f in fits if f.get("random")), str(topts.get("random") or ""))
    model = f"score ~ variant * kind * tier + {random}" if random else "score ~ variant * kind * tier"
    not_fitted = None if contrasts else str(data.get("reason") or "no estimable frame")
    if not_fitted:
        model += f" was not fitted: {not_fitted}"
    return PooledModel(contrasts, data.get("f_test", []), res.warnings, model, not_fitted)


def language_contrasts(
    rows: list[dict[str, Any]], opts: Mapping[str, Any], test: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per (scorer, variant): the contrast by ``test`` (language_contrast.frame_contrasts), and per frame
    the tier residual SDs; remembered in memo.FITS like the pooled fit (the per-tier fits cost as much)."""
    from .language_contrast import frame_contrasts, frame_variances  # numpy: imported when computing
    from .memo import FITS, frames_digest
    from .tradeoff_model import NotEstimable, design_frames

    try:
        frames = design_frames(rows, {k: opts[k] for k in SHARED_OPTIONS if k in opts})
    except NotEstimable:
        return [], []
    random = str(dict(opts.get("lmm") or {}).get("random") or "")
    key = frames_digest(frames, {"statistic": "verdict", "reward_test": test, "random": random})
    return FITS.get_or_compute(
        key,
        lambda: (
            [c for f in frames for c in frame_contrasts(f, test, random)],
            [frame_variances(f) for f in frames],
        ),
    )


def rate_contrasts(rows: list[dict[str, Any]], opts: Mapping[str, Any], low: str, high: str) -> list[dict[str, Any]]:
    """Per (scorer, variant, metric): the low-minus-high change in HmR/HpR from base to variant."""
    outcomes = outcome_index(rows, opts)
    tier_of = {str(r["language"]): str(r.get("tier")) for r in rows}
    low_langs = sorted(lang for lang, t in tier_of.items() if t == low)
    high_langs = sorted(lang for lang, t in tier_of.items() if t == high)
    bases = base_models(rows, str(opts.get("baseline") or "") or None)
    families = {str(r["model"]): family_of(r) for r in rows}
    out = []
    for scorer in sorted(distinct(rows, "scorer")) or [""]:
        for model in sorted(distinct(rows, "model")):
            base = bases.get(families[model]) if not opts.get("baseline") else str(opts["baseline"])
            if not base or model == base:
                continue
            for kind in METRIC_OF_KIND:
                out.append(
                    rate_contrast(
                        outcomes,
                        scorer,
                        model,
                        base,
                        kind,
                        low_langs,
                        high_langs,
                        reps=int(opts.get("bootstrap_reps", 0)),
                        seed=int(opts.get("seed", 0)),
                    )
                )
    return out


def _holm_by(items: list[dict[str, Any]], key: Any) -> None:
    groups: dict[Any, list[dict[str, Any]]] = {}
    for c in items:
        if c.get("reported", True) and math.isfinite(c.get("p", math.nan)):
            groups.setdefault(key(c), []).append(c)
    for group in groups.values():
        for c, p in zip(group, holm([c["p"] for c in group])):
            c["p_holm"] = p


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}" if p < 0.1 else f"p = {p:.2f}"


def _ci(lo: float, hi: float, digits: int) -> str:
    return f"95% CI {lo:.{digits}f} to {hi:.{digits}f}"


def _reading(c: Mapping[str, Any]) -> str:
    return "" if c["ci_low"] > 0 or c["ci_high"] < 0 else "; no clear difference"


def _compared(estimate: float, digits: int, unit: str, low: str, high: str, short: bool = False) -> str:
    """'1.20 reward points larger in low-resource than in high-resource languages' ('in low- than in
    high-resource' when ``short``), or 'the same in ...' when the difference shows as zero at the
    printed precision (a 0.0 is neither larger nor smaller)."""
    first = f"{low}-" if short else f"{low}-resource"
    if round(abs(estimate), digits) == 0:
        return f"the same in {first} as in {high}-resource languages"
    word = "larger" if estimate > 0 else "smaller"
    return f"{abs(estimate):.{digits}f} {unit} {word} in {first} than in {high}-resource languages"


def lmm_sentence(c: Mapping[str, Any], low: str, high: str) -> str:
    if not c.get("reported"):
        return f"**{c['variant']}** vs {c['base']} ({c['scorer']}): no answer in reward points: {c.get('why_not')}."
    return (
        f"**{c['variant']}** vs {c['base']} ({c['scorer']}): its gain in harmlessness over helpfulness is "
        f"{_compared(c['estimate'], 2, 'reward points', low, high)} "
        f"({_ci(c['ci_low'], c['ci_high'], 2)}, Holm-adjusted {_p(c['p_holm'])}{_reading(c)})."
    )


def variance_sentence(
    variances: Sequence[Mapping[str, Any]], reward: Sequence[Mapping[str, Any]], low: str, high: str
) -> str:
    """The tiers' spreads in numbers, and whether the data show them to differ."""
    parts = []
    for v in variances:
        if not (math.isfinite(v["sd_low"]) and math.isfinite(v["sd_high"])):
            continue
        label = f" ({v['scorer']})" if len(variances) > 1 else ""
        shown = "they differ" if v["p"] < 0.05 else "no clear difference"
        parts.append(
            f"residual SD{label} {v['sd_low']:.3g} in {low}- vs {v['sd_high']:.3g} in {high}-resource languages "
            f"(ratio {v['ratio']:.2f}, F test of equal variances {_p(v['p'])}: {shown})"
        )
    sds = [c for c in reward if math.isfinite(c.get("sd_low", math.nan)) and math.isfinite(c.get("sd_high", math.nan))]
    if sds:
        parts.append(
            "SD of the per-language differences d_l "
            + ", ".join(
                f"{c['variant']} {c['sd_low']:.2f} ({low}) vs {c['sd_high']:.2f} ({high}), {_p(c['p_equal_sd'])}"
                for c in sds
            )
        )
    return ("Tier variances: " + "; ".join(parts) + ".") if parts else ""


def rates_sentence(hm: Mapping[str, Any], hp: Mapping[str, Any], low: str, high: str) -> str:
    def part(c: Mapping[str, Any], what: str) -> str:
        if not math.isfinite(c["se"]):
            return f"its {what} change cannot be compared (fewer than two languages in a tier)"
        return (
            f"its {what} change is {_compared(c['estimate'], 1, 'percentage points', low, high, short=True)} "
            f"({c['change_low']:+.1f} vs {c['change_high']:+.1f}; {_ci(c['ci_low'], c['ci_high'], 1)}, "
            f"Holm-adjusted {_p(c['p_holm'])}{_reading(c)})"
        )

    return (
        f"In rates, against {hm['base']}, {hm['variant']}'s "
        + part(hm, "HmR (harmlessness)")[4:]
        + "; "
        + part(hp, "HpR (helpfulness)")
        + "."
    )


class VerdictStatistic(CheckedOptions, Statistic):
    """Per variant: the low-minus-high trade-off difference in reward points (LMM) and in HmR/HpR points."""

    name = "verdict"
    description = (
        "the answer per aligned variant: low- minus high-resource trade-off in reward points and in HmR/HpR points"
    )
    default_options: Mapping[str, Any] = {
        **design_options(),
        "bootstrap_reps": 2000,
        "seed": 0,
        "reward_test": "lmm_tier",
        "lmm": {},
    }

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Also checks the trade-off model's options passed through (``lmm``) as `tradeoff` checks them, and
        refuses an unknown ``reward_test`` before any work, naming the valid ones."""
        from .tradeoff import TradeoffStatistic

        super().check_options(options)
        lmm = (options or {}).get("lmm")
        if isinstance(lmm, Mapping) and lmm:
            check_option_types(f"{self.name}.lmm", TradeoffStatistic.default_options, lmm, known_keys_only=True)
            check_values(f"{self.name}.lmm", lmm)
        _check_reward_test(str((options or {}).get("reward_test", self.default_options["reward_test"])))

    def compute(self, rows: list[dict[str, Any]], options: Mapping[str, Any]) -> StatResult:
        opts = {**self.default_options, **dict(options or {})}
        test = _check_reward_test(str(opts["reward_test"]))
        result = StatResult(name=self.name, title="Verdict: the trade-off in low- versus high-resource languages")
        reward = [r for r in metric_rows(rows) if r.get("kind") in METRIC_OF_KIND]
        tiers = _pick_tiers(reward, opts)
        bases = base_models(reward, str(opts["baseline"] or "") or None)
        why = _why_no_verdict(reward, tiers, bases)
        if why or tiers is None:
            result.markdown = f"{QUESTION}\n\nNo verdict: {why}."
            result.headline = f"No verdict on the trade-off across resource tiers: {why}."
            result.warnings.append(f"verdict: {why}")
            result.data = {"question": QUESTION, "reason": why, "lmm": [], "rates": []}
            return result
        low, high = tiers
        pooled = lmm_contrasts(reward, opts)
        lmm = pooled.contrasts
        result.warnings += [f"verdict (reward points): {w}" for w in pooled.warnings]
        rates = rate_contrasts(reward, opts, low, high)
        clustered, variances = language_contrasts(reward, opts, test if test != "lmm" else "welch")
        _holm_by(lmm, lambda c: c["scorer"])
        points = _reward_points(test, lmm, clustered, result)
        _holm_by(rates, lambda c: (c["scorer"], c["metric"]))
        sentences = _sentences(reward, bases, points, rates, pooled, low, high)
        result.warnings += _variance_warnings(variances, test, low, high)
        assumptions = _assumptions(test, points, rates, variances, pooled.model, low, high)
        result.headline = glance(reward, lmm, rates, low, high) + f"\n\n{assumptions}"
        result.markdown = "\n".join(
            [
                QUESTION,
                "",
                f'Contrasts (definitions in ARCHITECTURE.md, "The verdict"), {low} tier minus {high} tier:',
                "- reward points: [(variant - base) on harmful minus (variant - base) on helpful] in the "
                f"{low} tier minus the same in the {high} tier ({test} test; the `tradeoff` LMM's beside it);",
                "- HmR / HpR points: (variant's rate - base's rate) in the low tier minus the same in the high tier, "
                "each tier the mean of its languages' paired changes.",
                "",
                *[f"- {s}" for s in sentences],
                "",
                assumptions,
            ]
        )
        result.tables.update(_tables(test, points, lmm, variances, rates))
        figure = "verdict_interaction.png"
        result.figures[figure] = interaction(rates, low, high)
        result.headline_figure = figure
        result.data = {
            "question": QUESTION,
            "low_tier": low,
            "high_tier": high,
            "reward_test": test,
            "reward_points": points,
            "lmm": lmm,
            "tier_variances": variances,
            "lmm_f_test": pooled.f_tests,
            "lmm_model": pooled.model,
            "rates": [{k: v for k, v in c.items() if not k.endswith("_rates")} for c in rates],
            "sentences": sentences,
            "assumptions": assumptions,
        }
        return result


def _why_no_verdict(reward: Sequence[Mapping[str, Any]], tiers: tuple[str, str] | None, bases: Mapping) -> str:
    """Why the rows cannot answer the question ("" when they can)."""
    if not reward:
        return "no reward-scored rows with kind harmful/helpful"
    if not tiers:
        return "fewer than two resource tiers (or option tiers does not name two present tiers)"
    if not bases:
        return "no base model (no row has recipe 'base' and option baseline is unset)"
    return ""


def _reward_points(
    test: str, lmm: list[dict[str, Any]], clustered: list[dict[str, Any]], result: StatResult
) -> list[dict[str, Any]]:
    """The reported reward-point contrasts: the pooled model's (test lmm) or the per-tier/cluster test's,
    Holm-adjusted per scorer; the latter's notes become warnings."""
    if test == "lmm":
        points = [{**c, "test": "lmm"} for c in lmm]
        for c in points:  # the per-tier spreads of d_l stay in the diagnostics whichever test reports
            d = next((x for x in clustered if (x["scorer"], x["variant"]) == (c["scorer"], c["variant"])), {})
            c.update({k: d[k] for k in ("sd_low", "sd_high", "p_equal_sd") if k in d})
        return points
    _holm_by(clustered, lambda c: c["scorer"])
    notes = {(c["scorer"], w) for c in clustered for w in c.get("warnings", [])}
    result.warnings += [f"verdict (reward points, {test}, {scorer}): {w}" for scorer, w in sorted(notes)]
    return clustered


def _sentences(
    reward: Sequence[Mapping[str, Any]],
    bases: Mapping[str, str],
    points: list[dict[str, Any]],
    rates: list[dict[str, Any]],
    pooled: PooledModel,
    low: str,
    high: str,
) -> list[str]:
    """Per scorer and aligned variant: the reward-point answer (or why there is none) and the rates'."""
    sentences = []
    for scorer in sorted(distinct(reward, "scorer")) or [""]:
        for variant in [m for m in sorted(distinct(reward, "model")) if m not in set(bases.values())]:
            c = next((c for c in points if c["scorer"] == scorer and c["variant"] == variant), None)
            if c is not None:
                sentences.append(lmm_sentence(c, low, high))
            elif pooled.not_fitted:
                sentences.append(
                    f"**{variant}** ({scorer}): no answer in reward points: the mixed model: {pooled.not_fitted}."
                )
            hm, hp = (
                next((c for c in rates if (c["scorer"], c["variant"], c["metric"]) == (scorer, variant, m)), None)
                for m in ("HmR", "HpR")
            )
            if hm and hp:
                sentences.append(rates_sentence(hm, hp, low, high))
    return sentences


def _tested(test: str, points: list[dict[str, Any]], model: str, high: str) -> str:
    """What the reported reward-point test assumes, in words."""
    if test == "lmm_tier":
        tiers_formula = next((c["random"] for c in points if c.get("random")), None)
        return (
            "one linear mixed model `score ~ variant * kind + "
            + (tiers_formula["low"] if tiers_formula else "(random effects as the pooled model)")
            + "` per tier, so every variance component (residual, language, language x variant ...) is "
            "the tier's own; the contrast is the low tier's variant x kind coefficient minus the high tier's, "
            "its df the two Satterthwaite df combined as Welch's (normal random effects and errors)"
            + (
                f"; the {high} tier's fit used `{tiers_formula['high']}`"
                if tiers_formula and tiers_formula["high"] != tiers_formula["low"]
                else ""
            )
        )
    return {
        "welch": "the mean of the per-language differences d_l (variant minus base, harmful minus helpful "
        "prompts, averaged over the prompts both answered) in one tier minus the other, Welch's t over "
        "languages: languages are independent draws and each tier keeps its own variance, so a noisier "
        "low-resource tier widens the interval instead of making the test liberal",
        "cr2": "OLS of `score ~ variant * kind * tier` with a CR2 cluster-robust SE (languages as clusters, "
        "each tier its own variance) and Bell-McCaffrey Satterthwaite df (which assume equal variances)",
        "lmm": f"the linear mixed model `{model}` (normal random effects and errors; t tests with "
        "Satterthwaite df); it assumes every variance component is the same in both tiers and rejects "
        "too often when the smaller tier is the noisier one",
    }[test]


def _variance_warnings(variances: list[dict[str, Any]], test: str, low: str, high: str) -> list[str]:
    """A warning per frame whose tiers' residual variances differ (F test p < 0.05), with what the test does."""
    remedy = {
        "lmm": "the pooled model (reward_test=lmm) assumes them equal and rejects too often when the "
        "smaller tier is the noisier: consider reward_test=lmm_tier",
        "cr2": "CR2's SE keeps each tier's own, its df assume equal variances",
    }.get(test, f"the reward-point test ({test}) keeps each tier's own")
    return [
        f"verdict ({v['scorer']}): the tiers' residual variances differ: SD {v['sd_low']:.3g} in {low} "
        f"vs {v['sd_high']:.3g} in {high} (ratio {v['ratio']:.2f}, F test {_p(v['p'])}); {remedy}"
        for v in variances
        if v["p"] < 0.05
    ]


def _assumptions(
    test: str,
    points: list[dict[str, Any]],
    rates: list[dict[str, Any]],
    variances: list[dict[str, Any]],
    model: str,
    low: str,
    high: str,
) -> str:
    beside = (
        f" The mixed model `{model}`, which pools each variance over both tiers, is reported beside it "
        "(`lmm` in stats.json)."
        if test != "lmm"
        else ""
    )
    n_variants = len({(c["scorer"], c["variant"]) for c in rates})
    variance = variance_sentence(variances, points, low, high)
    return (
        f"What this assumes: reward points: {_tested(test, points, model, high)}.{beside} Rate differences treat "
        "the languages of a tier as independent draws and average each language's change over the prompts "
        "both models answered; the CI is Welch's t over languages, so few languages per tier mean wide "
        f"intervals. p-values are Holm-adjusted across the variants of each scorer ({n_variants} variant x "
        "scorer pairs)." + (f" {variance}" if variance else "")
    )


def _tables(
    test: str,
    points: list[dict[str, Any]],
    lmm: list[dict[str, Any]],
    variances: list[dict[str, Any]],
    rates: list[dict[str, Any]],
) -> dict[str, list[dict[str, Any]]]:
    tables = {"verdict_reward_points": [_lmm_row(c) for c in points]}
    if test != "lmm":
        tables["verdict_reward_points_lmm"] = [_lmm_row({**c, "test": "lmm"}) for c in lmm]
    if variances:
        tables["verdict_tier_variances"] = [
            {
                "scorer": v["scorer"],
                "family": v["family"],
                **{k: sig4(v[k]) for k in ("sd_low", "sd_high", "ratio", "p")},
                "df_low": v["df_low"],
                "df_high": v["df_high"],
            }
            for v in variances
        ]
    tables["verdict_rates"] = [_rate_row(c) for c in rates]
    return tables


def _check_reward_test(test: str) -> str:
    if test not in REWARD_TESTS:
        import difflib

        near = difflib.get_close_matches(test, REWARD_TESTS, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise HarnessError(f"verdict.reward_test: unknown test {test!r}{hint}; valid: {', '.join(REWARD_TESTS)}")
    return test


def _row(c: Mapping[str, Any], names: Sequence[str], numbers: Sequence[str]) -> dict[str, Any]:
    """A table row: the named fields as they are, then the numbers to 4 significant digits."""
    return {**{k: c[k] for k in names}, **{k: sig4(c.get(k)) for k in numbers}}


def _lmm_row(c: Mapping[str, Any]) -> dict[str, Any]:
    numbers = ("estimate", "se", "df", "ci_low", "ci_high", "p", "p_holm")
    return {**_row(c, ("scorer", "variant", "base", "test"), numbers), "reported": c["reported"]}


def _rate_row(c: Mapping[str, Any]) -> dict[str, Any]:
    numbers = ("change_low", "change_high", "estimate", "se", "df", "ci_low", "ci_high", "p", "p_holm")
    return {
        **_row(c, ("scorer", "variant", "base", "metric"), numbers),
        "languages": f"{c['languages_low']}+{c['languages_high']}",
        "pairs": c["pairs"],
    }
