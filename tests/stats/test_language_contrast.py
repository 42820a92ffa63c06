"""The verdict's language-cluster and per-tier contrasts against R (clubSandwich 0.5.8 coef_test CR2,
t.test, lme4 1.1.31 + lmerTest per-tier fits), recorded in fixtures/language_contrast (R not needed)."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from harness_stats.statistics.language_contrast import cr2_contrasts, tier_residual_sds, welch_contrast
from harness_stats.statistics.tier_lmm import tier_contrasts
from harness_stats.statistics.tradeoff_model import design_frames, three_way_contrasts

from tests.support import fixture_tables
from tests.support.verdict_sim import VerdictDesign, simulate_table

pytestmark = pytest.mark.stats

FIXTURES = Path(__file__).parent / "fixtures" / "language_contrast"
REF = json.loads((FIXTURES / "language_contrast.json").read_text())


def load(name: str) -> pd.DataFrame:
    return fixture_tables.load("language_contrast", name)


def tier_languages(d: pd.DataFrame) -> tuple[list[str], list[str]]:
    low = sorted(set(d.loc[d["tier"] == "low", "language"]))
    return low, sorted(set(d["language"]) - set(low))


def test_recorded_tables_are_what_fixture_tables_writes(tmp_path):
    for name in fixture_tables.LANGUAGE_CONTRAST:
        ours = gzip.decompress(fixture_tables.write("language_contrast", name, tmp_path).read_bytes())
        assert ours == gzip.decompress((FIXTURES / f"{name}.csv.gz").read_bytes()), name


@pytest.mark.parametrize("name", sorted(REF))
def test_cr2_matches_club_sandwich(name):
    d, ref = load(name), REF[name]["cr2"]
    variants = [t.split(":")[0].removeprefix("variant") for t in ref["term"]]
    ours = cr2_contrasts(d, variants)
    for i, v in enumerate(variants):
        for key in ("estimate", "se", "df", "p"):
            assert ours[v][key] == pytest.approx(ref[key][i], rel=1e-6, abs=1e-8), (v, key)


@pytest.mark.parametrize("name", sorted(REF))
def test_welch_on_language_differences_matches_t_test(name):
    d = load(name)
    low, high = tier_languages(d)
    for v, ref in REF[name]["welch"].items():
        ours = welch_contrast(d, v, "base", low, high)
        for key in ("estimate", "se", "df", "p", "ci_low", "ci_high", "languages_low", "languages_high"):
            assert ours[key] == pytest.approx(ref[key], rel=1e-6, abs=1e-8), (v, key)


@pytest.mark.parametrize("name", sorted(REF))
def test_per_tier_mixed_models_match_lme4(name):
    """Estimates and SEs within 1e-4 relative; Satterthwaite df within 1e-3 relative (a tier on the
    boundary moves them most), so the combined p and CI within 1e-4."""
    from scipy import stats

    d, ref = load(name), REF[name]["tier_lmm"]
    ours = tier_contrasts({"frame": d, "low": "low", "high": "high"})
    lo, hi = ref["low"], ref["high"]
    for i, term in enumerate(lo["term"]):
        v = term.split(":")[0].removeprefix("variant")
        va, vb = lo["se"][i] ** 2, hi["se"][i] ** 2
        est, se = lo["estimate"][i] - hi["estimate"][i], math.sqrt(va + vb)
        dof = (va + vb) ** 2 / (va**2 / lo["df"][i] + vb**2 / hi["df"][i])
        p = 2 * stats.t.sf(abs(est) / se, dof)
        got = ours[v]
        assert got["estimate"] == pytest.approx(est, rel=1e-4, abs=1e-6)
        assert got["se"] == pytest.approx(se, rel=1e-4)
        assert got["df_low"] == pytest.approx(lo["df"][i], rel=1e-3)
        assert got["df_high"] == pytest.approx(hi["df"][i], rel=1e-3)
        assert got["p"] == pytest.approx(p, abs=1e-4)
        assert got["residual_sd_low"] == pytest.approx(lo["sigma"], rel=1e-4)


def test_on_a_balanced_table_cr2_se_is_welchs():
    d = load("noisy_low")
    low, high = tier_languages(d)
    cr2 = cr2_contrasts(d, ["v1", "v2", "v3"])
    for v in cr2:
        assert cr2[v]["se"] == pytest.approx(welch_contrast(d, v, "base", low, high)["se"], rel=1e-10)


def test_a_planted_effect_moves_every_estimate_by_itself_and_nothing_else():
    """What lets benchmarks/verdict_variance.py read power off null tables: adding delta to a variant's
    harmful scores in the low tier shifts each method's estimate by delta and leaves SE and df alone."""
    design = VerdictDesign(variants=2, languages_per_tier=4, items_per_kind=8, sd_variant_language_kind=0.2)
    null = simulate_table(np.random.default_rng(7), 0.0, design)
    planted = [
        dict(r, score=r["score"] + 0.8 * (r["model"] == "v1" and r["kind"] == "harmful" and r["tier"] == "low"))
        for r in null
    ]

    def tests(rows):
        frame = design_frames(rows, {})[0]
        d = frame["frame"]
        low, high = tier_languages(d)
        lmm = {c["variant"]: c for c in three_way_contrasts(frame, None, check=False)["contrasts"]}
        return {
            "lmm": lmm["v1"],
            "lmm_tier": tier_contrasts(frame)["v1"],
            "welch": welch_contrast(d, "v1", "base", low, high),
            "cr2": cr2_contrasts(d, ["v1"])["v1"],
        }

    a, b = tests(null), tests(planted)
    for method in a:
        assert b[method]["estimate"] - a[method]["estimate"] == pytest.approx(0.8, abs=1e-6), method
        assert b[method]["se"] == pytest.approx(a[method]["se"], rel=1e-5), method
        # df within 1%: an optimizer stopping on a flat REML criterion moves a per-tier df by ~0.3%
        assert b[method]["df"] == pytest.approx(a[method]["df"], rel=1e-2), method


def test_tier_residual_sds_see_the_noisier_tier():
    design = VerdictDesign(variants=2, languages_per_tier=5, items_per_kind=15, low_scale=(("residual", 2.0),))
    d = design_frames(simulate_table(np.random.default_rng(1), 0.0, design), {})[0]["frame"]
    sds = tier_residual_sds(d, "low", "high")
    assert sds["low"]["sd"] == pytest.approx(2.0, rel=0.15) and sds["high"]["sd"] == pytest.approx(1.0, rel=0.15)
    assert sds["low"]["df"] == 5 * 2 * 14 * 2  # languages x kinds x (prompts - 1) x (models - 1)
