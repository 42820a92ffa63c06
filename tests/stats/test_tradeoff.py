"""The mixed models of the trade-off: planted effects are found, degenerate tables give notes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from harness_stats.simulate import SimDesign, run, simulate_rows
from harness_stats.tradeoff import TradeoffGlmmStatistic, TradeoffStatistic

pytestmark = pytest.mark.stats


@pytest.fixture(scope="module")
def planted():
    """A table with a large planted three-way effect (+2.5 reward points)."""
    return simulate_rows(np.random.default_rng(7), 2.5, SimDesign(items_per_kind=20))


@pytest.fixture(scope="module")
def lmm_result(planted):
    return TradeoffStatistic().compute(planted, {})


def test_lmm_finds_a_planted_three_way_effect(lmm_result):
    fit = lmm_result.data["fits"][0]
    assert fit["converged"] and fit["lrt"]["df"] == 1 and fit["lrt"]["p"] < 0.001
    three = [c for c in fit["coefficients"] if c["order"] == 3]
    assert len(three) == 1 and three[0]["ci_lo"] < 2.5 < three[0]["ci_hi"] and three[0]["p"] < 0.001
    assert three[0]["label"] == "dpo x harmful x low"
    # the sentence-level reading and the outputs the report needs
    assert "2." in lmm_result.markdown and "larger in low-tier than in high-tier languages" in lmm_result.markdown
    assert set(fit["variance_components"]) == {"item", "language", "residual"}
    assert {"tradeoff_coefficients", "tradeoff_lrt"} <= set(lmm_result.tables)
    assert lmm_result.figures["forest_tradeoff.png"].startswith(b"\x89PNG")
    json.dumps(lmm_result.data)


def test_simulation_finds_planted_effect_and_rarely_rejects_without_one():
    found = run(20, 2.0, seed=11)
    assert found["rejection_rate"] >= 0.85
    null = run(20, 0.0, seed=12)
    assert null["rejection_rate"] <= 0.2  # nominal 5%; 20 sets is only a smoke check (see the script)


def test_zero_variance_component_is_reported_not_dropped():
    # no language effect at all: this seed's fit puts the language variance on the boundary
    rows = simulate_rows(np.random.default_rng(0), 0.0, SimDesign(sd_language=0.0, languages_per_tier=2))
    result = TradeoffStatistic().compute(rows, {})
    vc = result.data["fits"][0]["variance_components"]
    assert vc["language"] < 1e-4 * vc["residual"] and vc["item"] > 0.1
    assert any("language variance component is ~0" in w and "not dropped" in w for w in result.warnings)
    assert any("boundary" in w for w in result.warnings)  # statsmodels' own warning is surfaced too


def test_glmm_runs_and_says_its_intervals_are_approximate(planted):
    result = TradeoffGlmmStatistic().compute(planted, {})
    fit = result.data["fits"][0]
    three = [c for c in fit["coefficients"] if c["order"] == 3]
    assert len(three) == 1 and three[0]["estimate"] > 0
    assert "approximate" in result.markdown and "variational Bayes" in result.markdown
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
