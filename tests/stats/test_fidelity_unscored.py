"""Languages the identifier cannot score (NaN) are named in the report, not silently dropped."""

from __future__ import annotations

import math

import pytest
from harness_stats.statistics.fidelity import FidelityStatistic


@pytest.mark.stats
def test_unscored_language_is_reported_and_left_out_of_means():
    rows = [
        dict(model="m", source="s", kind="helpful", language=lang, tier=tier, prompt_id=str(i), prompt="p",
             response="r", scorer="lang-fidelity", score=(math.nan if lang == "wo" else 0.25 * (i + 1)),
             metric="probability")
        for lang, tier in (("wo", "low"), ("sw", "low"), ("de", "high"))
        for i in range(3)
    ]
    result = FidelityStatistic().compute(rows, {})
    assert any("wo (3)" in w for w in result.warnings)
    assert "wo (3)" in result.markdown
    by_lang = {r["language"]: r for r in result.tables["fidelity_by_language"]}
    assert "wo" not in by_lang
    assert by_lang["sw"]["mean_fidelity"] == pytest.approx(0.5)
    low = [r for r in result.tables["fidelity_by_tier"] if r["tier"] == "low"][0]
    assert low["n"] == 3 and low["mean_fidelity"] == pytest.approx(0.5)
