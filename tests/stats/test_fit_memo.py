"""`tradeoff` and `verdict` on one table fit the linear mixed model once; another table or option refits."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from harness_stats.mixedmodels import lmm
from harness_stats.plugin import harness_register_stats
from harness_stats.simulation.simulate import SimDesign, simulate_rows
from harness_stats.statistics import memo
from harness_stats.statistics.table import DESIGN_OPTIONS
from harness_stats.statistics.tradeoff import TradeoffStatistic
from harness_stats.statistics.verdict import VerdictStatistic

from harness.report import run_stats, stats_json

pytestmark = pytest.mark.stats


@pytest.fixture(scope="module")
def rows():
    return simulate_rows(
        np.random.default_rng(5), 1.0, SimDesign(variants=2, items_per_kind=10, low_languages=3, high_languages=3)
    )


@pytest.fixture
def fits(monkeypatch):
    """Counts every LMM fit of the three-way model (REML or ML, any caller), starting from an empty memo;
    the verdict's per-tier fits (fixed part without tier) are counted under ``fits.tiers``."""
    memo.FITS.clear()
    calls = CountedFits()
    real = lmm.fit_lmm

    def counting(*args, **kwargs):
        if "tier" in kwargs.get("fixed", "tier"):
            calls.append(kwargs.get("random"))
        else:
            calls.tiers += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(lmm, "fit_lmm", counting)
    yield calls
    memo.FITS.clear()


class CountedFits(list):
    tiers = 0


def _run(rows, options=None):
    host = SimpleNamespace(stats={"tradeoff": TradeoffStatistic(), "verdict": VerdictStatistic()})
    options = {"verdict": {"bootstrap_reps": 0}, **(options or {})}
    return stats_json(run_stats(host, ["tradeoff", "verdict"], rows, options))


def test_verdict_reuses_the_tradeoff_fit_and_reports_what_a_fresh_fit_gives(rows, fits):
    both = _run(rows)
    assert len(fits) == 1  # tradeoff fitted; verdict took the same fit
    assert fits.tiers == 2  # and fitted each tier once for its reward-point test
    assert both["verdict"]["data"]["lmm"][0]["estimate"] == both["tradeoff"]["data"]["contrasts"][0]["estimate"]
    memo.FITS.clear()
    alone = stats_json([VerdictStatistic().compute(rows, {**VerdictStatistic.default_options, "bootstrap_reps": 0})])
    assert len(fits) == 2  # with nothing remembered the verdict fits it itself, to the same bytes
    assert json.dumps(alone["verdict"]) == json.dumps(both["verdict"])
    _run(rows)
    assert len(fits) == 2 and fits.tiers == 4  # both were remembered, the per-tier fits too


def test_another_table_or_option_refits(rows, fits):
    _run(rows)
    assert len(fits) == 1
    _run(rows, {"verdict": {"bootstrap_reps": 0, "tiers": ["low", "high"]}})
    assert len(fits) == 1  # the same frames: the tiers option only spelt out the default choice
    changed = [dict(r) for r in rows]
    changed[0]["score"] += 0.5
    _run(changed)
    assert len(fits) == 2  # one score differs: both statistics share the new fit
    formula = "(1|item) + (1|language)"
    _run(rows, {"tradeoff": {"random": formula}})
    assert fits[-1] == formula and len(fits) == 3  # tradeoff refits its formula; verdict's default is remembered
    _run(rows, {"tradeoff": {"lrt": True}})
    assert len(fits) == 6  # REML fit plus the two ML fits of the likelihood-ratio test


def test_memo_is_bounded_and_hands_out_copies():
    m = memo.LruMemo(size=2)
    computed = []
    for key in "abcab":
        m.get_or_compute(key, lambda key=key: computed.append(key) or {"key": key, "items": [1]})
    assert computed == ["a", "b", "c", "a", "b"] and len(m) == 2  # a was pushed out by c, then b by a
    got = m.get_or_compute("b", lambda: pytest.fail("b is remembered"))
    got["items"].append(2)
    assert m.get_or_compute("b", lambda: pytest.fail("b is remembered")) == {"key": "b", "items": [1]}


def test_design_options_have_one_name_and_default_in_every_statistic():
    stats = []
    harness_register_stats(stats.append)
    for stat in stats:
        shared = {k: v for k, v in stat.default_options.items() if k in DESIGN_OPTIONS}
        assert shared == {k: DESIGN_OPTIONS[k] for k in shared}, stat.name
    full = [s.name for s in stats if set(DESIGN_OPTIONS) <= set(s.default_options)]
    assert full == ["verdict", "tradeoff", "tradeoff-glmm", "agreement"]
