"""Linear mixed models fitted the way lme4 fits them, with Satterthwaite tests as lmerTest does.

Why our own fitter: the trade-off model has crossed and nested random effects (item,
language, language x item, language x variant, ...) with thousands of levels; statsmodels'
MixedLM forms dense matrices per group and took a minute at the study's 13,200 rows.

This module is the entry point, `fit_lmm`; the pieces, after MixedModels.jl:
design.py (X, and one sparse Z block per random-effects term), pls.py (the profiled REML/ML
deviance with its per-group factorisation), optimize.py (BOBYQA and lme4's convergence checks),
inference.py (`LmmFit`: Satterthwaite df, contrasts, F tests).
Convergence problems and terms on the boundary (singular fits) are reported, never silently dropped.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .design import LmmError, _codes, _term_matrix, fixed_matrix
from .formula import parse_random
from .inference import LmmFit
from .optimize import _check_convergence, _optimize_restarted
from .pls import _Pls


def fit_lmm(
    df: Any,
    fixed: str = "variant * kind * tier",
    random: str | None = None,
    reml: bool = True,
    response: str = "score",
    check: bool = True,
) -> LmmFit:
    """Fit ``response ~ fixed + random`` (lme4 syntax for ``random``) by REML (or ML).

    ``check`` runs lme4's convergence checks (gradient and Hessian of the profiled deviance);
    simulations may turn it off for speed. Raises LmmError or FormulaError with the reason.
    BLAS runs single-threaded inside: the dense blocks are a few hundred wide, where OpenBLAS
    threads only add synchronisation (25x slower per evaluation on a busy 2-core machine).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_lmm(df, fixed, random, reml, response, check)


def lmm_problem(
    df: Any, fixed: str = "variant * kind * tier", random: str | None = None, response: str = "score"
) -> tuple[_Pls, list[str], list[str], list[Any]]:
    """The profiled-deviance problem of a model, before any fit: the `_Pls`, the fixed-effect names,
    the dropped (aliased) columns and the random-effects term matrices. Tests evaluate it at lme4's
    recorded theta to show the criterion itself is lme4's."""
    from .formula import DEFAULT_RANDOM

    terms = parse_random(random or DEFAULT_RANDOM, set(df.columns))
    y = np.asarray(df[response], dtype=float)
    X, names, dropped = fixed_matrix(df, fixed)
    tms = [_term_matrix(df, t) for t in terms]
    for tm in tms:
        if tm.nlev < 2:
            raise LmmError(f"grouping factor of {tm.term.label} has {tm.nlev} level(s); it needs at least 2")
    factors = {f: _codes(df, (f,))[0] for t in terms for f in t.group}
    return _Pls(X, y, tms, factors), names, dropped, tms


def known_variance_vcov(
    df: Any,
    sds: dict[str, float],
    sd_residual: float,
    fixed: str = "variant * kind * tier",
    random: str | None = None,
    response: str = "score",
) -> tuple[list[str], np.ndarray]:
    """(fixed-effect names, cov(beta)) of the GLS estimate when the variance components are known: each
    random term's SD by its grouping factor's name (``sds``, 0 where absent) and the residual SD. No fit;
    power analysis uses it for the exact standard error of a contrast under assumed components."""
    from .formula import DEFAULT_RANDOM

    X, names, _ = fixed_matrix(df, fixed)
    terms = parse_random(random or DEFAULT_RANDOM)
    pls = _Pls(X, df[response].to_numpy(float), [_term_matrix(df, t) for t in terms])
    theta = np.array([sds.get(t.group_name, 0.0) / sd_residual for t in terms])
    _, M, _, _ = pls.solve(theta)
    return names, sd_residual**2 * np.linalg.inv(M)


def _fit_lmm(df: Any, fixed: str, random: str | None, reml: bool, response: str, check: bool) -> LmmFit:
    pls, names, dropped, tms = lmm_problem(df, fixed, random, response)
    terms = [tm.term for tm in tms]
    x0 = np.asarray(pls.theta_init)
    vec = np.array([tms[t].k > 1 for t, _, _ in pls.theta_names])
    theta, dev, evals, status = _optimize_restarted(pls, reml, x0, vec)
    dev, beta, pwrss, M = pls.profiled(theta, reml)
    n, p = pls.n, pls.p
    sigma = math.sqrt(pwrss / (n - p if reml else n))
    vcov = sigma**2 * np.linalg.inv(M)
    fit = LmmFit(
        names=names,
        beta=beta,
        vcov=vcov,
        theta=theta,
        sigma=sigma,
        reml=reml,
        deviance=dev,
        n=n,
        terms=terms,
        term_columns=[tm.colnames for tm in tms],
        term_levels=[tm.nlev for tm in tms],
        converged=status not in ("maximum evaluations reached",),
        singular=False,
        optimizer=f"nlopt BOBYQA ({status}, {evals} evaluations)",
        evaluations=evals,
        dropped=dropped,
        _pls=pls,
    )
    if dropped:
        fit.warnings.append(
            f"fixed-effect model matrix is rank deficient, so {len(dropped)} column(s) were dropped: "
            + ", ".join(dropped)
        )
    zero = fit.zero_components()
    fit.singular = bool(zero)
    if zero:
        fit.warnings.append(
            "boundary (singular) fit: variance estimated at ~0 for "
            + ", ".join(zero)
            + " (kept in the model, reported as zero)"
        )
    if not fit.converged:
        fit.warnings.append(f"the optimizer stopped without converging ({status})")
    if check:
        fit.warnings += _check_convergence(pls, theta, reml)
        fit.converged = fit.converged and not any(w.startswith("Model failed") for w in fit.warnings)
    return fit
