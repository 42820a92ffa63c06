"""Minimising the profiled deviance over theta, and checking the optimum as lme4 does.

BOBYQA (nlopt, as lme4's default `nloptwrap`) minimises `_Pls.profiled` over theta, started at 1;
`_optimize_restarted` restarts it where vector terms can trap it (see there);
`_check_convergence` is lme4's checkConv (scaled gradient, Hessian eigenvalues). `_derivs` (central
differences) serves the checks and the Satterthwaite Hessian in lmm_inference.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .pls import _Pls

SINGULAR_TOL = 1e-4  # lme4's isSingular(tol = 1e-4): a diagonal theta below this is on the boundary
GRAD_TOL = 0.002  # lme4's check.conv.grad tolerance on the scaled gradient


def _derivs(f: Any, x: np.ndarray, rel: float = 1e-4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value, gradient (k, m) and Hessian (k, k, m) of a smooth vector function by central differences:
    1 + 2k + k(k-1) evaluations (two extra points per pair); steps relative to |x|, floor 0.1 * rel."""
    k = len(x)
    h = rel * np.maximum(np.abs(x), 0.1)
    f0 = np.asarray(f(x))
    fp = [np.asarray(f(x + h[i] * np.eye(k)[i])) for i in range(k)]
    fm = [np.asarray(f(x - h[i] * np.eye(k)[i])) for i in range(k)]
    g = np.array([(fp[i] - fm[i]) / (2 * h[i]) for i in range(k)])
    H = np.zeros((k, k) + f0.shape)
    for i in range(k):
        H[i, i] = (fp[i] - 2 * f0 + fm[i]) / h[i] ** 2
        for j in range(i):
            e = h[i] * np.eye(k)[i] + h[j] * np.eye(k)[j]
            fpp, fmm = np.asarray(f(x + e)), np.asarray(f(x - e))
            H[i, j] = H[j, i] = (fpp - fp[i] - fp[j] + 2 * f0 - fm[i] - fm[j] + fmm) / (2 * h[i] * h[j])
    return f0, g, H


def _optimize(pls: _Pls, reml: bool, x0: np.ndarray) -> tuple[np.ndarray, float, int, str]:
    import nlopt

    lower = np.asarray(pls.theta_lower)
    calls = [0]

    def f(x: np.ndarray, grad: np.ndarray) -> float:
        calls[0] += 1
        return pls.profiled(x, reml)[0]

    opt = nlopt.opt(nlopt.LN_BOBYQA, len(x0))
    opt.set_min_objective(f)
    opt.set_lower_bounds(lower)  # -inf for off-diagonal template entries, as lme4
    opt.set_initial_step(np.full(len(x0), 0.2))  # lme4's rhobeg for theta started at 1
    opt.set_ftol_abs(1e-10)
    opt.set_xtol_abs(1e-9)
    opt.set_maxeval(20000)
    x = opt.optimize(np.maximum(x0, lower))
    code = opt.last_optimize_result()
    return (
        np.asarray(x),
        float(opt.last_optimum_value()),
        calls[0],
        {
            nlopt.SUCCESS: "success",
            nlopt.FTOL_REACHED: "ftol reached",
            nlopt.XTOL_REACHED: "xtol reached",
            nlopt.MAXEVAL_REACHED: "maximum evaluations reached",
            nlopt.ROUNDOFF_LIMITED: "roundoff limited",
        }.get(code, f"nlopt code {code}"),
    )


RESTART_GAIN = 1e-7  # a restart that lowers the criterion by less than this has found the same optimum
MAX_RESTARTS = 4
SECOND_START = 0.5  # every diagonal entry of theta at the second start (off-diagonals 0)


def _optimize_restarted(
    pls: _Pls, reml: bool, x0: np.ndarray, vector: np.ndarray
) -> tuple[np.ndarray, float, int, str]:
    """BOBYQA from ``x0``; when any term is a vector term, also from a second start, then fresh restarts
    from the best point until one gains less than RESTART_GAIN.

    With correlated slopes the criterion has boundary ridges where BOBYQA's shrunken trust region
    stops early, and whether it does depends on the last bits of every evaluation, so on the CPU's
    floating-point kernels: a 1,600-row table stopped 0.23 above lme4's optimum on one machine and
    reached it on another, and starting points moved by 1e-9 relative stop there in 7 of 8 tries.
    From the second start (every diagonal entry 0.5, off-diagonals 0: a smaller, uncorrelated
    start) all 8 reach it; the restarts then polish the better of the two, as lme4's ``allFit``
    advice and minqa's edge restarts do, also trying a diagonal entry stuck at zero moved off the
    boundary. Every candidate is deterministic, and the best criterion wins.
    """
    theta, dev, evals, status = _optimize(pls, reml, x0)
    if not vector.any():
        return theta, dev, evals, status
    lower = np.asarray(pls.theta_lower)
    starts = [np.where(np.isfinite(lower), SECOND_START, 0.0)]
    for i in range(1 + MAX_RESTARTS):  # the second start, then restarts from the best point
        best = (theta, dev, status)
        for start in starts:
            t, d, e, s = _optimize(pls, reml, start)
            evals += e
            if d < best[1]:
                best = (t, d, s)
        gain = dev - best[1]
        theta, dev, status = best
        if i > 0 and gain < RESTART_GAIN:
            break
        edge = vector & np.isfinite(lower) & (theta < SINGULAR_TOL)
        starts = [theta] + ([np.where(edge, 0.1, theta)] if edge.any() else [])
    return theta, dev, evals, status


def _check_convergence(pls: _Pls, theta: np.ndarray, reml: bool) -> list[str]:
    """lme4's checkConv: scaled gradient below 0.002 and a positive-definite Hessian at the interior params."""
    lower = np.asarray(pls.theta_lower)
    free = ~(np.isfinite(lower) & (np.abs(theta - lower) < SINGULAR_TOL))
    if not free.any():
        return []
    idx = np.flatnonzero(free)

    def f(sub: np.ndarray) -> float:
        full = theta.copy()
        full[idx] = sub
        return np.array([pls.profiled(full, reml)[0]])

    _, g, H = _derivs(f, theta[idx])
    g, H = g[:, 0], H[:, :, 0]
    out = []
    w = np.linalg.eigvalsh(H)
    if np.any(w <= 0):
        out.append(
            f"Model failed to converge: degenerate Hessian with {int(np.sum(w <= 0))} non-positive eigenvalue(s)"
        )
        return out
    scaled = np.linalg.solve(H, g)
    worst = float(np.max(np.abs(scaled)))
    if worst > GRAD_TOL:
        out.append(f"Model failed to converge with max|grad| = {worst:.3g} (tol = {GRAD_TOL}, scaled gradient)")
    if w[-1] / w[0] > 1e6:
        out.append(f"Model is nearly unidentifiable: Hessian eigenvalue ratio {w[-1] / w[0]:.3g}")
    return out
