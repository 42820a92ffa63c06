"""fit_lmm against lme4 1.1.31 + lmerTest, recorded as fixtures (tests/stats/fixtures/lme4; R not needed).

Tolerances are the issue's goal: fixed effects, SEs and variance components within 1e-4 relative
(absolute 1e-6 for a variance on the boundary); Satterthwaite df and the F statistic within 1e-3.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from harness_stats.lmm import fit_lmm

pytestmark = pytest.mark.stats

FIXTURES = Path(__file__).parent / "fixtures" / "lme4"
FITS = json.loads((FIXTURES / "lme4_fits.json").read_text())
TIGHT = [k for k in FITS if k.endswith("/tight")]


def load(table: str) -> pd.DataFrame:
    d = pd.read_csv(FIXTURES / f"{table}.csv.gz")
    others = sorted(v for v in d["variant"].unique() if v != "base")
    d["variant"] = pd.Categorical(d["variant"], categories=["base", *others])
    d["kind"] = pd.Categorical(d["kind"], categories=["helpful", "harmful"])
    d["tier"] = pd.Categorical(d["tier"], categories=["high", "low"])
    return d


def r_name(name: str) -> str:
    return "(Intercept)" if name == "Intercept" else name.replace("[T.", "").replace("]", "")


def r_variances(ref: dict) -> dict[str, float]:
    vc = ref["varcorr"]
    out = {}
    for grp, v1, v2, value in zip(vc["grp"], vc["var1"], vc["var2"], vc["vcov"]):
        if v2:
            continue
        key = "residual" if grp == "Residual" else grp if v1 in ("(Intercept)", "") else f"{grp}: {v1}"
        out[key] = value
    return out


def close(ours: float, theirs: float, rel: float, floor: float = 0.0) -> bool:
    return abs(ours - theirs) <= rel * abs(theirs) + floor


def test_recorded_tables_are_what_make_tables_writes(lme4_tables, tmp_path):
    # tests read the tables through make_tables.table_rows: they must be the rows lme4 was fitted on
    for name in lme4_tables.TABLES:
        ours = gzip.decompress(lme4_tables.write(name, tmp_path).read_bytes())
        assert ours == gzip.decompress((FIXTURES / f"{name}.csv.gz").read_bytes()), name


@pytest.mark.parametrize("key", TIGHT)
def test_fit_matches_lme4(key):
    ref = FITS[key]
    fit = fit_lmm(load(ref["table"]), random=ref["formula"])
    # same optimum: our REML criterion is never worse than lme4's by more than rounding
    assert fit.deviance <= ref["reml_crit"] + 1e-6
    names = [r_name(n) for n in fit.names]
    assert names == list(ref["fixef"])
    for n, b, se in zip(names, fit.beta, fit.se):
        assert close(b, ref["fixef"][n], 1e-4, 1e-7), (n, b, ref["fixef"][n])
        assert close(se, ref["se"][n], 1e-4), (n, se, ref["se"][n])
    ours, theirs = fit.variance_components(), r_variances(ref)
    assert set(ours) == set(theirs)
    for k, v in theirs.items():
        assert close(ours[k], v, 1e-4, 1e-6), (k, ours[k], v)
    assert fit.singular == ref["singular"]
    eye = np.eye(len(names))
    for term, df, t in zip(ref["satterthwaite"]["term"], ref["satterthwaite"]["df"], ref["satterthwaite"]["t"]):
        c = fit.contrast(eye[names.index(term)])
        assert close(c["t"], t, 1e-4) and close(c["df"], df, 1e-3), (term, c, df, t)
    rows = [names.index(t) for t in ref["satterthwaite"]["term"]]
    f = fit.ftest(eye[rows])
    assert f["num_df"] == ref["f_test"]["num_df"]
    assert close(f["F"], ref["f_test"]["F"], 1e-4) and close(f["den_df"], ref["f_test"]["den_df"], 1e-3)
