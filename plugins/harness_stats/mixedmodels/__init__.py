"""The mixed-models engine: linear mixed models (REML/ML, Satterthwaite tests as lmerTest) and binomial ones
(Laplace) fitted the way lme4 fits them.

Self-contained: it imports nothing from `harness` nor from the rest of `harness_stats`, so it could be its
own package (as MixedModels.jl is beside its users). The public names below load on first use, so that
`formula` (pure Python) is usable where numpy is not installed.

    fit_lmm(df, fixed, random, reml) -> LmmFit    LmmFit.contrast(L), LmmFit.ftest(L): t and F tests
    fit_glmm(y, X, terms, factors) -> GlmmFit      lrt(full, reduced, df)
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "DEFAULT_LADDER": "formula",
    "DEFAULT_RANDOM": "formula",
    "SIMPLE_RANDOM": "formula",
    "FormulaError": "formula",
    "RandomTerm": "formula",
    "parse_random": "formula",
    "LmmError": "design",
    "TooManyEffects": "design",
    "fixed_matrix": "design",
    "LmmFit": "inference",
    "fit_lmm": "lmm",
    "known_variance_vcov": "lmm",
    "lmm_problem": "lmm",
    "GlmmFit": "glmm",
    "codes": "glmm",
    "fit_glmm": "glmm",
    "lrt": "glmm",
    "treatment_design": "glmm",
}


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)


def __dir__() -> list[str]:
    return sorted(_PUBLIC)
