"""The mixed models of the trade-off: planted effects are found, degenerate tables give notes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from harness_stats.simulation.simulate import SimDesign, run, simulate_rows
from harness_stats.statistics.tradeoff import TradeoffStatistic
from harness_stats.statistics.tradeoff_glmm import TradeoffGlmmStatistic

from harness.types import HarnessError
from tests.support import fixture_tables

pytestmark = pytest.mark.stats


SMALL = SimDesign(variants=2, items_per_kind=20, low_languages=3, high_languages=3)


@pytest.fixture(scope="module")
def planted():
    """A table with a large planted three-way effect (+2.5 reward points)."""
    return simulate_rows(np.random.default_rng(7), 2.5, SMALL)


@pytest.fixture(scope="module")
def lmm_result(planted):
    return TradeoffStatistic().compute(planted, {})


def test_lmm_finds_a_planted_three_way_effect(lmm_result):
    fit = lmm_result.data["fits"][0]
    assert fit["converged"] and fit["f_test"]["num_df"] == 1 and fit["f_test"]["p"] < 0.001
    three = [c for c in fit["coefficients"] if c["order"] == 3]
    assert len(three) == 1 and three[0]["ci_lo"] < 2.5 < three[0]["ci_hi"] and three[0]["p"] < 0.001
    assert three[0]["label"] == "dpo x harmful x low"
    # the sentence-level reading and the outputs the report needs
    assert "2." in lmm_result.markdown and "larger in low-tier than in high-tier languages" in lmm_result.markdown
    assert set(fit["variance_components"]) == {
        "item",
        "language",
        "language:item",
        "language:variant",
        "language:variant:kind",
        "residual",
    }
    assert {"tradeoff_coefficients", "tradeoff_contrasts", "tradeoff_f_test"} <= set(lmm_result.tables)
    assert lmm_result.figures["forest_tradeoff.png"].startswith(b"\x89PNG")
    json.dumps(lmm_result.data)


def test_contrasts_and_f_test_are_the_interface_the_headline_reads(lmm_result):
    (c,) = lmm_result.data["contrasts"]
    assert list(c) == ["scorer", "variant", "estimate", "se", "df", "t", "p", "ci_low", "ci_high"]
    assert c["scorer"] == "sim-reward" and c["variant"] == "dpo"
    assert c["ci_low"] < 2.5 < c["ci_high"] and c["t"] == pytest.approx(c["estimate"] / c["se"])
    # the t-based CI uses the Satterthwaite df, so it is wider than the normal one
    assert c["ci_high"] - c["estimate"] > 1.96 * c["se"]
    (f,) = lmm_result.data["f_test"]
    assert list(f) == ["scorer", "F", "num_df", "den_df", "p"]
    assert f["F"] == pytest.approx(c["t"] ** 2) and f["den_df"] == pytest.approx(c["df"])


def test_lrt_is_an_option_with_its_caveat(planted):
    result = TradeoffStatistic().compute(planted, {"lrt": True})
    lrt = result.data["fits"][0]["lrt"]
    assert lrt["df"] == 1 and lrt["p"] < 0.001 and "only 3 language(s) in a tier" in lrt["caveat"]
    assert any("LRT" in w and "use the F test" in w for w in result.warnings)
    assert "tradeoff_lrt" in result.tables


def test_random_formula_option_and_bad_formulas(planted):
    simple = TradeoffStatistic().compute(planted, {"random": "(1|item) + (1|language)"})
    assert set(simple.data["fits"][0]["variance_components"]) == {"item", "language", "residual"}
    slopes = TradeoffStatistic().compute(planted, {"random": "(1|item) + (1|language:item) + (0 + variant|language)"})
    vc = slopes.data["fits"][0]["variance_components"]
    assert {"language: variantbase", "language: variantdpo"} <= set(vc)
    cases = [
        ("(1|lang)", "not a column"),
        ("1|item", "form (lhs | group)"),
        ("(1||item)", "'||'"),
        ("(1|item) + (1|language) + (0 + variant|language)", "not identifiable together"),
        ("(1|item) + (1|language:variant) + (0 + variant|language)", "not identifiable together"),
    ]
    for bad, words in cases:
        with pytest.raises(HarnessError, match="tradeoff.random") as err:
            TradeoffStatistic().compute(planted, {"random": bad})
        assert words in str(err.value)


def test_simulation_finds_planted_effect_and_rarely_rejects_without_one():
    found = run(10, 3.0, seed=11, design=SMALL)
    assert found["rejection_rate"] >= 0.8
    null = run(10, 0.0, seed=12, design=SMALL)
    assert null["rejection_rate"] <= 0.3  # nominal 5%; 10 sets is only a smoke check (figures in the note)


def test_zero_variance_component_is_reported_not_dropped():
    # no language effect at all: the fit puts the language variances on the boundary (lme4 too: fixtures)
    result = TradeoffStatistic().compute(fixture_tables.lme4_rows("singular"), {})
    fit = result.data["fits"][0]
    vc = fit["variance_components"]
    assert fit["singular"] and fit["zero_variance"] and vc["item"] > 0.1
    assert all(vc[name] == 0 for name in fit["zero_variance"])
    assert any("boundary (singular) fit" in w and "kept in the model" in w for w in result.warnings)
    assert "Estimated at zero" in result.markdown


def test_glmm_finds_the_planted_effect_with_a_laplace_fit(planted):
    result = TradeoffGlmmStatistic().compute(planted, {})
    fit = result.data["fits"][0]
    assert not fit["doubtful"]
    three = [c for c in fit["coefficients"] if c["order"] == 3]
    assert len(three) == 1 and three[0]["estimate"] > 0 and fit["lrt"]["df"] == 1
    assert "Laplace" in result.markdown
    assert set(fit["random_effect_sd"]) == {"language", "item"}
    json.dumps(result.data)


@pytest.mark.parametrize("stat", [TradeoffStatistic, TradeoffGlmmStatistic])
def test_tables_lacking_tiers_models_or_kinds_give_a_note(stat, planted, paper_rows):
    cases = {
        "one tier": paper_rows,  # the study: English only
        "one model": [r for r in planted if r["model"] == "dpo"],
        "one kind": [r for r in planted if r["kind"] == "harmful"],
        "empty": [],
    }
    for case, rows in cases.items():
        result = stat().compute(rows, {})
        assert result.warnings and "not fitted" in result.markdown, case
        json.dumps(result.data)


def test_tiers_option_selects_the_contrast(planted):
    rows = planted + [dict(r, tier="mid", language="m" + r["language"]) for r in planted if r["tier"] == "high"]
    result = TradeoffStatistic().compute(rows, {"tiers": ["low", "mid"]})
    fit = result.data["fits"][0]
    assert (fit["low_tier"], fit["high_tier"]) == ("low", "mid")
    bad = TradeoffStatistic().compute(rows, {"tiers": ["low", "nope"]})
    assert bad.warnings and not bad.data["fits"]


def test_default_model_shrinks_to_what_a_small_table_supports():
    # 4 models x 2 x 2 items x 2 + 2 languages = 64 scores: fewer than the extended model's effects
    tiny = SimDesign(variants=4, items_per_kind=2, low_languages=2, high_languages=2)
    result = TradeoffStatistic().compute(simulate_rows(np.random.default_rng(1), 0.0, tiny), {})
    fit = result.data["fits"][0]
    assert (
        fit["random"]
        != "(1|item) + (1|language) + (1|language:item) + (1|language:variant) + (1|language:variant:kind)"
    )
    assert any("too small for" in w and "instead" in w for w in result.warnings)
    assert result.data["contrasts"] and result.data["f_test"]
