"""Agreement of `fit_lmm` with lme4 1.1.31 + lmerTest on the recorded fixtures, as a table.

    python -m benchmarks.lmm_agreement        # from the repository root

Per table and formula, against lme4's default stopping rule and a tight one: the largest relative
difference of the fixed effects, their SEs and the variance components (absolute below 1e-6, for
variances on the boundary), of the three-way terms' Satterthwaite df, and the REML criterion
difference (ours - lme4's; negative: our optimum is lower).
"""

from __future__ import annotations

import numpy as np
from harness_stats.mixedmodels import fit_lmm

from tests.support.fixture_tables import LME4_FITS as FITS
from tests.support.fixture_tables import load, r_name, r_variances


def rel(a: float, b: float, floor: float = 0.0) -> float:
    return abs(a - b) / abs(b) if abs(b) > floor else abs(a - b)


def main() -> None:
    print(
        "| table | rows | formula | lme4 stop | fixef | SE | variances | Satterthwaite df | REML crit diff | singular |"
    )
    print("|---|---:|---|---|---:|---:|---:|---:|---:|---|")
    fits = {}
    for key, ref in FITS.items():
        table, formula, control = key.split("/")
        if (table, formula) not in fits:
            fits[table, formula] = fit_lmm(load("lme4", table), random=ref["formula"])
        fit = fits[table, formula]
        names = [r_name(n) for n in fit.names]
        fe = max(rel(b, ref["fixef"][n], 1e-8) for n, b in zip(names, fit.beta))
        se = max(rel(s, ref["se"][n]) for n, s in zip(names, fit.se))
        ours, theirs = fit.variance_components(), r_variances(ref)
        vc = max(rel(ours[k], v, 1e-6) for k, v in theirs.items())
        eye = np.eye(len(names))
        dfs = max(
            rel(fit.contrast(eye[names.index(t)])["df"], df)
            for t, df in zip(ref["satterthwaite"]["term"], ref["satterthwaite"]["df"])
        )
        print(
            f"| {table} | {ref['n']} | {formula} | {control} | {fe:.1e} | {se:.1e} | {vc:.1e} | {dfs:.1e} | "
            f"{fit.deviance - ref['reml_crit']:.1e} | {'yes' if fit.singular else 'no'}"
            f"{'' if fit.singular == ref['singular'] else ' (lme4 differs)'} |"
        )


if __name__ == "__main__":
    main()
