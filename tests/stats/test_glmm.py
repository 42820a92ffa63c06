"""The binomial GLMM against R's glmer (recorded fixtures; R is not needed) and its refusal of doubtful fits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from harness_stats.mixedmodels.glmm import codes, fit_glmm, lrt, treatment_design
from harness_stats.statistics.tradeoff_glmm import TradeoffGlmmStatistic

pytestmark = pytest.mark.stats
FIXTURES = Path(__file__).parent / "fixtures"


def _frame(name: str) -> pd.DataFrame:
    d = pd.read_csv(FIXTURES / f"{name}.csv")
    d["variant"] = pd.Categorical(d["variant"], categories=list(dict.fromkeys(d["variant"])))
    d["kind"] = pd.Categorical(d["kind"], categories=["helpful", "harmful"])
    d["tier"] = pd.Categorical(d["tier"], categories=["high", "low"])
    return d


@pytest.mark.parametrize("name", ["glmer_a", "glmer_b", "glmer_c"])
def test_laplace_fit_matches_glmer(name):
    d, ref = _frame(name), json.loads((FIXTURES / f"{name}.json").read_text())
    factors = {"item": codes(d["item"]), "language": codes(d["language"])}
    X, terms = treatment_design(d, "variant * kind * tier")
    full = fit_glmm(d["passed"], X, terms, factors)
    assert not full.doubtful and full.converged
    assert len(terms) == len(ref["terms"])
    assert np.max(np.abs(full.beta - np.array(ref["fixef"]))) < 1e-2
    assert np.max(np.abs(full.se / np.array(ref["se"]) - 1)) < 0.05
    assert [full.theta["item"], full.theta["language"]] == pytest.approx(ref["theta"], abs=1e-2)
    assert full.loglik >= ref["loglik"] - 1e-3  # at least as high a Laplace likelihood as glmer's
    Xr, terms_r = treatment_design(d, "variant * kind * tier - variant:kind:tier")
    test = lrt(full, fit_glmm(d["passed"], Xr, terms_r, factors), len(terms) - len(terms_r))
    assert test["df"] == ref["lrt_df"] and test["chi2"] == pytest.approx(ref["lrt_chisq"], abs=0.01)


def test_separation_is_reported_as_doubtful_and_withheld(make_row):
    rows = []
    for lang, tier in (("a", "low"), ("b", "low"), ("c", "high"), ("d", "high")):
        for i in range(8):
            for kind in ("harmful", "helpful"):
                for model in ("base", "dpo"):
                    # dpo always passes harmful prompts in the low tier: complete separation
                    score = (
                        0.0
                        if (model == "dpo" and kind == "harmful" and tier == "low")
                        else (-5.0 if (i + len(lang)) % 2 else 0.0)
                    )
                    rows.append(make_row(model, kind, lang, f"{kind}{i}", score, tier=tier))
    result = TradeoffGlmmStatistic().compute(rows, {})
    fit = result.data["fits"][0]
    assert fit["doubtful"] and "coefficients" not in fit and "lrt" not in fit
    assert "doubtful, so no estimate is reported" in result.markdown and "separation" in result.markdown
    assert not result.tables and not result.figures
    assert any("results withheld" in w for w in result.warnings)
