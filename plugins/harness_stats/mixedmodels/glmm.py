"""Binomial mixed model with crossed random intercepts, fitted by the Laplace approximation as lme4's glmer.

Why our own: statsmodels offers only a variational-Bayes fit (BinomialBayesMixedGLM) whose standard
errors were 10-44% of glmer's; no maintained Python library fits a Laplace GLMM with crossed random
effects. The method is lme4's (Bates et al. 2015, sec. 5.6): random effects b = Lambda u, u ~ N(0, I),
Lambda = diag(theta_k) per factor; for given (theta, beta) penalized IRLS finds the conditional mode
of u; the Laplace deviance is

    sum of binomial deviance residuals + |u|^2 + log det(Lambda Z'WZ Lambda + I).

Stage 1 (glmer's nAGQ = 0) optimizes theta with beta inside PIRLS; stage 2 optimizes (theta, beta)
on the Laplace deviance. Standard errors come, as in lme4's vcov(), from the inverse of the
finite-difference Hessian of the deviance in (theta, beta), times 2. The optimum is checked as lme4
does (scaled gradient, Hessian definiteness) plus a separation check; a fit failing any check is
``doubtful`` and callers must not report its numbers as results.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: lme4's default tolerance on the scaled gradient (check.conv.grad).
GRAD_TOL = 2e-3
#: |log-odds| beyond which a coefficient signals (quasi-)separation: a probability within 5e-5 of 0 or 1.
SEPARATION_LOGIT = 10.0
#: lme4's finite-difference step for the gradient and Hessian (deriv12).
FD_STEP = 1e-4


@dataclass
class GlmmFit:
    """A Laplace fit; ``doubtful`` lists why its numbers must not be reported (empty: sound)."""

    terms: list[str]
    beta: np.ndarray
    se: np.ndarray
    vcov: np.ndarray
    theta: dict[str, float]
    loglik: float
    converged: bool
    doubtful: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    evaluations: int = 0


class _Problem:
    """Data of one fit: X dense, Z as integer codes per factor (indicator columns never built).

    Z'WZ, Z'r and Zu of crossed indicator factors are bincounts, O(n) per PIRLS step.
    """

    def __init__(self, y: np.ndarray, X: np.ndarray, factors: Mapping[str, np.ndarray]):
        self.y = np.asarray(y, dtype=float)
        self.X = np.asarray(X, dtype=float)
        self.n, self.p = self.X.shape
        self.names = list(factors)
        self.codes = [np.asarray(c, dtype=np.int64) for c in factors.values()]
        self.sizes = [int(c.max()) + 1 for c in self.codes]
        self.starts = np.cumsum([0] + self.sizes)
        self.q = int(self.starts[-1])
        self.u = np.zeros(self.q)  # warm start for the conditional modes
        self.evaluations = 0

    def lam(self, theta: np.ndarray) -> np.ndarray:
        return np.repeat(np.asarray(theta, dtype=float), self.sizes)

    def zu(self, b: np.ndarray) -> np.ndarray:
        """Z b for b on the scale of the random effects."""
        return sum(b[s : s + q][c] for c, s, q in zip(self.codes, self.starts, self.sizes))

    def zt(self, r: np.ndarray) -> np.ndarray:
        """Z' r."""
        return np.concatenate([np.bincount(c, weights=r, minlength=q) for c, q in zip(self.codes, self.sizes)])

    def ztwz(self, w: np.ndarray) -> np.ndarray:
        """Z' W Z, dense q x q."""
        out = np.zeros((self.q, self.q))
        for i, (ci, si, qi) in enumerate(zip(self.codes, self.starts, self.sizes)):
            out[si : si + qi, si : si + qi] = np.diag(np.bincount(ci, weights=w, minlength=qi))
            for cj, sj, qj in list(zip(self.codes, self.starts, self.sizes))[:i]:
                block = np.bincount(ci * qj + cj, weights=w, minlength=qi * qj).reshape(qi, qj)
                out[si : si + qi, sj : sj + qj] = block
                out[sj : sj + qj, si : si + qi] = block.T
        return out

    def _mu(self, eta: np.ndarray) -> np.ndarray:
        from scipy.special import expit

        return expit(eta)

    def _dev_resid(self, mu: np.ndarray) -> float:
        mu = np.clip(mu, 1e-300, 1 - 1e-16)
        return float(-2 * np.sum(self.y * np.log(mu) + (1 - self.y) * np.log1p(-mu)))

    def _logdet(self, lam: np.ndarray, mu: np.ndarray) -> float:
        H = lam[:, None] * self.ztwz(mu * (1 - mu)) * lam[None, :] + np.eye(self.q)
        return 2 * float(np.sum(np.log(np.diag(np.linalg.cholesky(H)))))

    def laplace(self, theta: np.ndarray, beta: np.ndarray) -> float:
        """Laplace deviance at (theta, beta): PIRLS over u only (glmer's stage 2 objective)."""
        self.evaluations += 1
        lam = self.lam(theta)
        offset = self.X @ beta
        u = self.u.copy()

        def objective(u: np.ndarray) -> tuple[float, np.ndarray]:
            mu = self._mu(offset + self.zu(lam * u))
            return self._dev_resid(mu) + float(u @ u), mu

        obj, mu = objective(u)
        for _ in range(200):
            w = mu * (1 - mu)
            H = lam[:, None] * self.ztwz(w) * lam[None, :] + np.eye(self.q)
            step = np.linalg.solve(H, lam * self.zt(self.y - mu) - u)
            t = 1.0
            while True:
                new_obj, new_mu = objective(u + t * step)
                if new_obj <= obj + 1e-12 or t < 1e-8:
                    break
                t /= 2
            u, done = u + t * step, abs(obj - new_obj) < 1e-12 * (1 + abs(obj))
            obj, mu = new_obj, new_mu
            if done or np.max(np.abs(t * step)) < 1e-10:
                break
        self.u = u
        return obj + self._logdet(lam, mu)

    def joint(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Deviance with beta and u jointly from PIRLS (glmer's nAGQ = 0, stage 1); returns (deviance, beta)."""
        lam = self.lam(theta)
        p = self.p
        beta, u = np.zeros(p), self.u.copy()

        def objective(beta: np.ndarray, u: np.ndarray) -> tuple[float, np.ndarray]:
            mu = self._mu(self.X @ beta + self.zu(lam * u))
            return self._dev_resid(mu) + float(u @ u), mu

        obj, mu = objective(beta, u)
        for _ in range(200):
            w = mu * (1 - mu)
            xwz = np.stack([self.zt(w * self.X[:, j]) for j in range(p)]) * lam[None, :]
            H = np.block(
                [
                    [(self.X * w[:, None]).T @ self.X, xwz],
                    [xwz.T, lam[:, None] * self.ztwz(w) * lam[None, :] + np.eye(self.q)],
                ]
            )
            r = self.y - mu
            step = np.linalg.lstsq(H, np.r_[self.X.T @ r, lam * self.zt(r) - u], rcond=None)[0]
            t = 1.0
            while True:
                new_obj, new_mu = objective(beta + t * step[:p], u + t * step[p:])
                if new_obj <= obj + 1e-12 or t < 1e-8:
                    break
                t /= 2
            beta, u, done = beta + t * step[:p], u + t * step[p:], abs(obj - new_obj) < 1e-12 * (1 + abs(obj))
            obj, mu = new_obj, new_mu
            if done:
                break
        self.u = u
        return obj + self._logdet(lam, mu), beta


def _derivs(f: Any, x: np.ndarray, h: float = FD_STEP) -> tuple[np.ndarray, np.ndarray]:
    """Central finite-difference gradient and Hessian (lme4's deriv12)."""
    k = len(x)
    f0 = f(x)
    grad, hess = np.zeros(k), np.zeros((k, k))
    plus, minus = np.zeros(k), np.zeros(k)
    for i in range(k):
        e = np.zeros(k)
        e[i] = h
        plus[i], minus[i] = f(x + e), f(x - e)
        grad[i] = (plus[i] - minus[i]) / (2 * h)
        hess[i, i] = (plus[i] - 2 * f0 + minus[i]) / h**2
    for i in range(k):
        for j in range(i):
            ei, ej = np.zeros(k), np.zeros(k)
            ei[i], ej[j] = h, h
            value = (f(x + ei + ej) - plus[i] - plus[j] + 2 * f0 - minus[i] - minus[j] + f(x - ei - ej)) / (2 * h * h)
            hess[i, j] = hess[j, i] = value
    return grad, hess


def fit_glmm(y: Sequence[float], X: np.ndarray, terms: Sequence[str], factors: Mapping[str, Sequence[int]]) -> GlmmFit:
    """Laplace fit of ``y ~ X + (1|factor) ...`` (binomial, logit); ``factors`` maps a name to integer codes."""
    prob = _Problem(np.asarray(y), np.asarray(X), {k: np.asarray(v) for k, v in factors.items()})
    k = len(prob.names)
    doubtful: list[str] = []
    x, dev, s2 = _optimize(prob)
    deviance = dev(x)
    converged = bool(s2.success) or s2.status == 2  # status 2: no further progress possible at machine precision
    if not converged:
        doubtful.append(f"the optimizer stopped without converging ({s2.message})")
    vcov, problems, notes = _check(prob, x, dev)
    doubtful += problems
    beta = x[k:]
    se = np.sqrt(np.where(np.diag(vcov) > 0, np.diag(vcov), np.nan))
    far = [t for t, b, s in zip(terms, beta, se) if abs(b) > SEPARATION_LOGIT or not s < SEPARATION_LOGIT]
    if far:
        doubtful.append(
            "(quasi-)complete separation: "
            + ", ".join(far[:4])
            + (" ..." if len(far) > 4 else "")
            + f" beyond +/-{SEPARATION_LOGIT:g} log-odds or with SE > {SEPARATION_LOGIT:g}"
            + " (some cell is all pass or all fail)"
        )
    return GlmmFit(
        terms=list(terms),
        beta=beta,
        se=se,
        vcov=vcov,
        theta=dict(zip(prob.names, map(float, x[:k]))),
        loglik=-deviance / 2,
        converged=converged,
        doubtful=doubtful,
        notes=notes,
        evaluations=prob.evaluations,
    )


def _optimize(prob: _Problem) -> tuple[np.ndarray, Any, Any]:
    """lme4's two stages: theta with beta inside PIRLS, then (theta, beta) on the Laplace deviance with
    central-difference gradients. Returns the optimum (thetas held >= 0), the deviance function and the
    second stage's result."""
    from scipy import optimize

    k = len(prob.names)
    s1 = optimize.minimize(
        lambda t: prob.joint(t)[0], np.ones(k), method="L-BFGS-B", bounds=[(0, None)] * k, options={"ftol": 1e-12}
    )
    theta0 = np.maximum(s1.x, 0.0)
    beta0 = prob.joint(theta0)[1]

    def dev(x: np.ndarray) -> float:
        return prob.laplace(np.maximum(x[:k], 0.0), x[k:])

    def grad(x: np.ndarray, h: float = 1e-6) -> np.ndarray:
        g = np.zeros_like(x)
        for i in range(len(x)):
            e = np.zeros_like(x)
            e[i] = h
            lo = x - e
            lo[:k] = np.maximum(lo[:k], 0.0)
            g[i] = (dev(x + e) - dev(lo)) / (x[i] + h - lo[i])
        return g

    x0 = np.r_[theta0, beta0]
    bounds = [(0, None)] * k + [(None, None)] * prob.p
    s2 = optimize.minimize(
        dev, x0, jac=grad, method="L-BFGS-B", bounds=bounds, options={"ftol": 1e-15, "gtol": 1e-8, "maxiter": 2000}
    )
    x = s2.x.copy()
    x[:k] = np.maximum(x[:k], 0.0)
    return x, dev, s2


def _check(prob: _Problem, x: np.ndarray, dev: Any) -> tuple[np.ndarray, list[str], list[str]]:
    """lme4's checks on the free parameters (thetas on the boundary are held at 0): (cov(beta), what makes
    the fit doubtful, notes on boundary SDs)."""
    k = len(prob.names)
    doubtful: list[str] = []
    free = [i for i in range(k + prob.p) if i >= k or x[i] > 1e-4]
    boundary = [prob.names[i] for i in range(k) if i not in free]
    notes = [
        f"the {name} random-effect SD is estimated at 0 (boundary, singular fit); it is kept, not dropped"
        for name in boundary
    ]

    def dev_free(z: np.ndarray) -> float:
        full = x.copy()
        full[free] = z
        return dev(full)

    g, H = _derivs(dev_free, x[free])
    H = (H + H.T) / 2
    eig = np.linalg.eigvalsh(H)
    vcov = np.full((prob.p, prob.p), np.nan)
    if eig.min() <= 0:
        doubtful.append("the Hessian of the deviance is not positive definite (degenerate optimum)")
        return vcov, doubtful, notes
    scaled = np.linalg.solve(np.linalg.cholesky(H), g)
    if np.max(np.abs(scaled)) > GRAD_TOL:
        doubtful.append(
            f"the scaled gradient at the optimum is {np.max(np.abs(scaled)):.2g} > {GRAD_TOL} (not at an optimum)"
        )
    if eig.max() / eig.min() > 1e8:
        doubtful.append(
            f"the Hessian is nearly singular (eigenvalue ratio {eig.max() / eig.min():.2g}): parameters not identified"
        )
    nb = len(free) - prob.p
    return 2 * np.linalg.inv(H)[nb:, nb:], doubtful, notes


def treatment_design(df: Any, formula_rhs: str) -> tuple[np.ndarray, list[str]]:
    """Fixed-effects design with treatment coding in the factors' category order (patsy, as statsmodels)."""
    import patsy

    X = patsy.dmatrix(formula_rhs, df, return_type="dataframe")
    return X.to_numpy(dtype=float), list(X.columns)


def codes(values: Sequence[Any]) -> np.ndarray:
    """Integer codes of a grouping factor in sorted order of its levels (deterministic)."""
    levels = {v: i for i, v in enumerate(sorted(set(map(str, values))))}
    return np.array([levels[str(v)] for v in values], dtype=np.int64)


def lrt(full: GlmmFit, reduced: GlmmFit, df: int) -> dict[str, Any]:
    """Likelihood-ratio test of the terms dropped from ``full`` (as R's anova(reduced, full))."""
    from scipy import stats

    chi2 = max(0.0, 2 * (full.loglik - reduced.loglik))
    return {"chi2": chi2, "df": df, "p": float(stats.chi2.sf(chi2, df)) if df else math.nan}
