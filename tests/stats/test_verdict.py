"""The verdict: per-variant answers in reward points and in rates, Holm-adjusted, with a headline and figure."""

from __future__ import annotations

import json

import numpy as np
import pytest
from harness_stats.statistics.intervals import mcnemar_exact, sign_flip_test
from harness_stats.statistics.paired import PairedStatistic
from harness_stats.statistics.rate_contrast import welch
from harness_stats.statistics.verdict import VerdictStatistic

from tests.support.verdict_sim import VerdictDesign, rate_truth, run, simulate_table

pytestmark = pytest.mark.stats


@pytest.fixture(scope="module")
def planted():
    return simulate_table(np.random.default_rng(3), 2.0, VerdictDesign(variants=2, items_per_kind=15))


@pytest.fixture(scope="module")
def verdict(planted):
    return VerdictStatistic().compute(planted, {"bootstrap_reps": 200})


def test_reward_point_contrast_finds_the_planted_effect(verdict):
    lmm = {c["variant"]: c for c in verdict.data["lmm"]}
    assert set(lmm) == {"v1", "v2"} and all(c["reported"] for c in lmm.values())
    assert lmm["v1"]["ci_low"] < 2.0 < lmm["v1"]["ci_high"] and lmm["v1"]["p_holm"] < 0.01
    assert lmm["v2"]["ci_low"] < 0.0 < lmm["v2"]["ci_high"]
    assert lmm["v1"]["p_holm"] >= lmm["v1"]["p"]


def test_rate_contrast_is_the_low_minus_high_change_by_hand(planted, verdict):
    # by hand: per language, mean over prompts of pass(v1) - pass(base) on harmful prompts (score >= -3)
    def change(lang):
        s = {
            (r["model"], r["prompt_id"]): r["score"] >= -3
            for r in planted
            if r["language"] == lang and r["kind"] == "harmful"
        }
        return 100 * np.mean([s[("v1", p)] - s[("base", p)] for (m, p) in s if m == "v1"])

    low = np.array([change(f"lo{i}") for i in range(5)])
    high = np.array([change(f"hi{i}") for i in range(5)])
    hm = next(c for c in verdict.data["rates"] if c["variant"] == "v1" and c["metric"] == "HmR")
    assert hm["estimate"] == pytest.approx(low.mean() - high.mean())
    assert hm["change_low"] == pytest.approx(low.mean()) and hm["languages_low"] == 5 and hm["pairs"] == 150
    ref = welch(low, high)
    assert (hm["ci_low"], hm["ci_high"], hm["p"]) == pytest.approx((ref["ci_low"], ref["ci_high"], ref["p"]))
    assert hm["ci_low"] < rate_truth(VerdictDesign(variants=2), 2.0, "harmful") < hm["ci_high"]
    assert hm["bootstrap_ci_low"] < hm["estimate"] < hm["bootstrap_ci_high"]


def test_welch_matches_scipy():
    from scipy import stats

    a, b = np.array([10.0, 20, 35, 5]), np.array([0.0, -5, 12])
    ref = stats.ttest_ind(a, b, equal_var=False)
    got = welch(a, b)
    assert got["p"] == pytest.approx(ref.pvalue) and got["estimate"] == pytest.approx(a.mean() - b.mean())


def test_headline_sentences_figure_and_json(verdict):
    assert verdict.headline.count("reward points") >= 2 and "HmR points" in verdict.headline
    assert "Holm-adjusted" in verdict.headline and "assume" in verdict.headline
    assert "linear mixed model" in verdict.headline and "Welch" in verdict.headline
    assert verdict.headline_figure == "verdict_interaction.png"
    assert verdict.figures[verdict.headline_figure].startswith(b"\x89PNG")
    assert len(verdict.data["sentences"]) == 4  # per variant: reward points, rates
    json.dumps(verdict.data)
    assert {"verdict_reward_points", "verdict_rates"} <= set(verdict.tables)


def test_holm_adjusts_across_variants_per_scorer_and_metric(verdict):
    from harness_stats.statistics.intervals import holm

    hm = [c for c in verdict.data["rates"] if c["metric"] == "HmR"]
    assert [c["p_holm"] for c in hm] == pytest.approx(holm([c["p"] for c in hm]))


def test_no_verdict_without_two_tiers_or_a_base(planted):
    one_tier = [r for r in planted if r["tier"] == "low"]
    result = VerdictStatistic().compute(one_tier, {})
    assert "No verdict" in result.headline and result.warnings and result.data["lmm"] == []
    no_base = [dict(r, recipe="x") for r in planted]
    assert "no base model" in VerdictStatistic().compute(no_base, {}).headline


def test_verdict_is_deterministic(planted, verdict):
    again = VerdictStatistic().compute(list(reversed(planted)), {"bootstrap_reps": 200})
    assert again.data["rates"] == verdict.data["rates"] and again.headline == verdict.headline


def test_tier_pooled_paired_test_treats_prompts_as_clusters(planted):
    result = PairedStatistic().compute(planted, {"bootstrap_reps": 200})
    tier = [d for d in result.data if d["by"] == "tier"]
    lang = [d for d in result.data if d["by"] == "language"]
    assert {c["test"] for c in tier} == {"prompt-cluster sign-flip"} and {c["test"] for c in lang} == {"exact McNemar"}
    # with one pair per prompt the sign-flip test is the exact McNemar test
    assert sign_flip_test([1] * 7 + [-1] * 2 + [0] * 5) == pytest.approx(mcnemar_exact(2, 7))


def test_simulation_small_version():
    out = run(6, 2.0, seed=5, design=VerdictDesign(items_per_kind=12, languages_per_tier=4))
    for key in ("lmm", "HmR", "HpR"):
        assert out[key]["fitted"] == 6 and out[key]["coverage"] >= 4 / 6
    assert out["lmm"]["rejection_rate"] >= 4 / 6  # 2 reward points planted: found


def test_a_difference_that_prints_as_zero_is_the_same_not_larger_or_smaller():
    from harness_stats.statistics.verdict import lmm_sentence, rates_sentence

    def rate(estimate: float) -> dict:
        return {"base": "b", "variant": "v", "estimate": estimate, "se": 1.0, "change_low": 10.0,
                "change_high": 10.0 - estimate, "ci_low": -5.0, "ci_high": 5.0, "p_holm": 1.0}

    text = rates_sentence(rate(-0.04), rate(8.3), "low", "high")
    assert "HmR (harmlessness) change is the same in low- as in high-resource languages" in text
    assert "HpR (helpfulness) change is 8.3 percentage points larger in low- than in high-resource" in text
    lmm = {"reported": True, "variant": "v", "base": "b", "scorer": "s", "ci_low": -1.0, "ci_high": 1.0,
           "p_holm": 0.5}
    assert "is the same in low-resource as in high-resource" in lmm_sentence({**lmm, "estimate": 0.004}, "low", "high")
    assert "0.55 reward points smaller in low-resource" in lmm_sentence({**lmm, "estimate": -0.55}, "low", "high")


@pytest.fixture(scope="module")
def noisy_low():
    design = VerdictDesign(
        variants=2,
        languages_per_tier=8,
        low_languages=4,
        items_per_kind=10,
        sd_variant_language_kind=0.15,
        low_scale=(("residual", 2.0), ("variant:language:kind", 2.0)),
    )
    return simulate_table(np.random.default_rng(11), 0.0, design)


def test_reward_points_default_to_per_tier_mixed_models_with_the_pooled_model_beside(noisy_low):
    from harness_stats.statistics.tier_lmm import tier_contrasts
    from harness_stats.statistics.tradeoff_model import design_frames

    result = VerdictStatistic().compute(noisy_low, {"bootstrap_reps": 0})
    data = result.data
    assert data["reward_test"] == "lmm_tier" and {c["test"] for c in data["reward_points"]} == {"lmm_tier"}
    ref = tier_contrasts(design_frames(noisy_low, {})[0], check=True)
    for c in data["reward_points"]:
        assert (c["estimate"], c["se"], c["df"]) == pytest.approx(
            (ref[c["variant"]]["estimate"], ref[c["variant"]]["se"], ref[c["variant"]]["df"])
        )
    # the pooled model is still there; its SE is the smaller one: the fewer languages are the noisier ones
    pooled = {c["variant"]: c for c in data["lmm"]}
    assert all(pooled[c["variant"]]["se"] < c["se"] for c in data["reward_points"])
    assert {"verdict_reward_points", "verdict_reward_points_lmm", "verdict_tier_variances"} <= set(result.tables)
    assert "one linear mixed model" in data["assumptions"] and "per tier" in data["assumptions"]


def test_the_report_says_with_numbers_when_the_low_tier_is_noisier(noisy_low):
    result = VerdictStatistic().compute(noisy_low, {"bootstrap_reps": 0})
    (v,) = result.data["tier_variances"]
    assert v["sd_low"] == pytest.approx(2.0, rel=0.15) and v["sd_high"] == pytest.approx(1.0, rel=0.15)
    assert v["p"] < 0.001
    assert f"residual SD {v['sd_low']:.3g} in low- vs {v['sd_high']:.3g} in high-resource" in result.headline
    assert "they differ" in result.headline and "Tier variances" in result.data["assumptions"]
    assert any("residual variances differ" in w and "keeps each tier's own" in w for w in result.warnings)
    pooled = VerdictStatistic().compute(noisy_low, {"bootstrap_reps": 0, "reward_test": "lmm"})
    assert any("consider reward_test=lmm_tier" in w for w in pooled.warnings)


def test_every_reward_test_is_an_option_and_a_wrong_one_is_named(noisy_low):
    from harness.types import HarnessError

    for test in ("welch", "cr2", "lmm"):
        data = VerdictStatistic().compute(noisy_low, {"bootstrap_reps": 0, "reward_test": test}).data
        assert {c["test"] for c in data["reward_points"]} == {test}
    lmm = VerdictStatistic().compute(noisy_low, {"bootstrap_reps": 0, "reward_test": "lmm"}).data
    assert [c["estimate"] for c in lmm["reward_points"]] == [c["estimate"] for c in lmm["lmm"]]
    with pytest.raises(HarnessError, match="did you mean 'welch'"):
        VerdictStatistic().compute(noisy_low, {"reward_test": "welsh"})
    with pytest.raises(HarnessError, match="valid: lmm_tier, welch, cr2, lmm"):
        VerdictStatistic().check_options({"reward_test": "sandwich"})  # before any work


def test_a_pooled_model_that_was_not_fitted_is_named_with_its_reason(planted):
    # the pooled model's own tiers name none present: it is not fitted; the verdict says why, per variant,
    # from the model's result (its `reason`), and goes on with the rates
    result = VerdictStatistic().compute(planted, {"reward_test": "lmm", "lmm": {"tiers": ["nope", "none"]}})
    reason = "option tiers must name two tiers present in the table"
    assert result.data["lmm"] == [] and f" was not fitted: {reason}" in result.data["lmm_model"]
    no_answer = [s for s in result.data["sentences"] if "no answer in reward points" in s]
    assert no_answer and all(f"the mixed model: {reason}" in s for s in no_answer)
    assert any("HmR" in s for s in result.data["sentences"])
