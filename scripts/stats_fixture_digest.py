"""Fits every recorded lme4, glmer and per-tier fixture table with the mixed-models engine and prints
what it found as JSON (floats as repr), with the sha256 of that JSON: a refactor of the engine must
leave the digest unchanged.

    python scripts/stats_fixture_digest.py [--out FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from harness_stats.mixedmodels import codes, fit_glmm, fit_lmm, lrt, treatment_design
from harness_stats.statistics.tier_lmm import tier_contrasts

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "stats" / "fixtures"


def _frame(path: Path, variant_order: str) -> pd.DataFrame:
    d = pd.read_csv(path)
    if variant_order == "base first":
        others = sorted(v for v in d["variant"].unique() if v != "base")
        d["variant"] = pd.Categorical(d["variant"], categories=["base", *others])
    else:
        d["variant"] = pd.Categorical(d["variant"], categories=list(dict.fromkeys(d["variant"])))
    d["kind"] = pd.Categorical(d["kind"], categories=["helpful", "harmful"])
    d["tier"] = pd.Categorical(d["tier"], categories=["high", "low"])
    return d


def _floats(x: Any) -> Any:
    """Plain JSON values; every float kept to the last bit (json writes repr)."""
    if isinstance(x, dict):
        return {str(k): _floats(v) for k, v in x.items()}
    if isinstance(x, list | tuple | np.ndarray):
        return [_floats(v) for v in x]
    if isinstance(x, np.bool_ | bool):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating | float):
        return float(x)
    return x


def lme4_fits() -> dict[str, Any]:
    refs = json.loads((FIXTURES / "lme4" / "lme4_fits.json").read_text())
    out = {}
    for key, ref in refs.items():
        table, formula, _ = key.split("/")
        if f"{table}/{formula}" in out:
            continue
        fit = fit_lmm(_frame(FIXTURES / "lme4" / f"{table}.csv.gz", "base first"), random=ref["formula"])
        eye = np.eye(len(fit.names))
        three_way = [i for i, n in enumerate(fit.names) if n.count(":") == 2]
        out[f"{table}/{formula}"] = {
            "names": fit.names,
            "beta": fit.beta,
            "se": fit.se,
            "theta": fit.theta,
            "sigma": fit.sigma,
            "deviance": fit.deviance,
            "converged": fit.converged,
            "singular": fit.singular,
            "warnings": fit.warnings,
            "variance_components": fit.variance_components(),
            "contrasts": [fit.contrast(eye[i]) for i in three_way],
            "ftest": fit.ftest(eye[three_way]),
        }
    return out


def glmer_fits() -> dict[str, Any]:
    out = {}
    for name in ("glmer_a", "glmer_b", "glmer_c"):
        d = _frame(FIXTURES / f"{name}.csv", "as written")
        factors = {"item": codes(d["item"]), "language": codes(d["language"])}
        X, terms = treatment_design(d, "variant * kind * tier")
        full = fit_glmm(d["passed"], X, terms, factors)
        Xr, terms_r = treatment_design(d, "variant * kind * tier - variant:kind:tier")
        reduced = fit_glmm(d["passed"], Xr, terms_r, factors)
        out[name] = {
            "terms": terms,
            "beta": full.beta,
            "se": full.se,
            "theta": full.theta,
            "loglik": full.loglik,
            "converged": full.converged,
            "doubtful": full.doubtful,
            "loglik_reduced": reduced.loglik,
            "lrt": lrt(full, reduced, len(terms) - len(terms_r)),
        }
    return out


def tier_fits() -> dict[str, Any]:
    out = {}
    for path in sorted((FIXTURES / "language_contrast").glob("*.csv.gz")):
        d = _frame(path, "base first")
        out[path.name] = tier_contrasts({"frame": d, "low": "low", "high": "high"})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="also write the JSON here")
    args = ap.parse_args()
    text = json.dumps(_floats({"lme4": lme4_fits(), "glmer": glmer_fits(), "tier_lmm": tier_fits()}), indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(hashlib.sha256(text.encode()).hexdigest())


if __name__ == "__main__":
    main()
