"""Cohen's kappa with its large-sample standard error (Fleiss, Cohen & Everitt 1969), stdlib only.

Two scorers' pass/fail decisions on the same rows: observed agreement p_o, chance agreement p_e from
the marginals, kappa = (p_o - p_e) / (1 - p_e). The SE is the non-null one (what statsmodels'
``cohens_kappa`` reports as ``std_kappa``); the 95% CI is kappa +- 1.96 SE. Kappa is undefined when
both scorers give one and the same decision throughout (p_e = 1): it is NaN with that reason. When one
scorer alone never varies, kappa is at most 0 and its large-sample SE collapses; ``why`` says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

Z95 = 1.959963984540054


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> dict[str, Any]:
    """kappa, se, ci_low, ci_high, agreement (p_o), expected (p_e), n and, when NaN, why."""
    if len(a) != len(b):
        raise ValueError("the two raters need the same number of decisions")
    n = len(a)
    nan: dict[str, Any] = {"n": n, "kappa": math.nan, "se": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    if n == 0:
        return {**nan, "agreement": math.nan, "expected": math.nan, "why": "no rows decided by both"}
    cats = sorted(set(a) | set(b), key=str)
    idx = {c: i for i, c in enumerate(cats)}
    k = len(cats)
    p = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b):
        p[idx[x]][idx[y]] += 1.0 / n
    rows = [sum(p[i]) for i in range(k)]
    cols = [sum(p[i][j] for i in range(k)) for j in range(k)]
    po = sum(p[i][i] for i in range(k))
    pe = sum(rows[i] * cols[i] for i in range(k))
    if 1.0 - pe <= 1e-15:
        return {**nan, "agreement": po, "expected": pe, "why": "both gave one and the same decision throughout"}
    kappa = (po - pe) / (1.0 - pe)
    term_a = sum(p[i][i] * (1 - (rows[i] + cols[i]) * (1 - kappa)) ** 2 for i in range(k))
    term_b = (1 - kappa) ** 2 * sum(p[i][j] * (cols[i] + rows[j]) ** 2 for i in range(k) for j in range(k) if i != j)
    term_c = (kappa - pe * (1 - kappa)) ** 2
    var = max(0.0, (term_a + term_b - term_c) / (1 - pe) ** 2 / n)
    se = math.sqrt(var)
    out = {
        "n": n,
        "kappa": kappa,
        "se": se,
        "ci_low": kappa - Z95 * se,
        "ci_high": kappa + Z95 * se,
        "agreement": po,
        "expected": pe,
    }
    if min(rows) <= 1e-15 or min(cols) <= 1e-15:
        out["why"] = "one scorer gave one decision throughout: kappa is 0 or less by construction, its SE near 0"
    return out
