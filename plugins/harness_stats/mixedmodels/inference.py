"""The fitted model, `LmmFit`, and its inference as lmerTest: Satterthwaite df, contrasts, F tests.

Inference follows lmerTest (Kuznetsova, Brockhoff and Christensen 2017): the Hessian of the
deviance in (theta, sigma) gives the covariance of the variance parameters, the Jacobian of
cov(beta) in the same parameters gives the Satterthwaite denominator df of any contrast, and
multi-df F tests combine the df of the eigen-contrasts. Apart from the fitting because these are
computed on first use from the objective the fit keeps, and cached: reading estimates costs nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .design import LmmError
from .formula import RandomTerm
from .optimize import SINGULAR_TOL, _derivs


@dataclass
class LmmFit:
    """A fitted LMM: fixed effects with Satterthwaite inference, variance components, diagnostics."""

    names: list[str]
    beta: np.ndarray
    vcov: np.ndarray
    theta: np.ndarray
    sigma: float
    reml: bool
    deviance: float
    n: int
    terms: list[RandomTerm]
    term_columns: list[list[str]]
    term_levels: list[int]
    converged: bool
    singular: bool
    optimizer: str
    evaluations: int
    warnings: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    _pls: Any = None
    _satt: Any = None

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))

    @property
    def loglik(self) -> float:
        return -self.deviance / 2

    def coef(self, name: str) -> float:
        return float(self.beta[self.names.index(name)])

    def covariances(self) -> list[dict[str, Any]]:
        """Per term: its covariance matrix sigma^2 T T' (variances on the diagonal), as lme4's VarCorr."""
        out, t = [], 0
        for term, cols in zip(self.terms, self.term_columns):
            k = len(cols)
            T = np.zeros((k, k))
            for c in range(k):
                for r in range(c, k):
                    T[r, c] = self.theta[t]
                    t += 1
            cov = self.sigma**2 * (T @ T.T)
            out.append({"term": term.label, "group": term.group_name, "columns": cols, "cov": cov})
        return out

    def variance_components(self) -> dict[str, float]:
        """Flat {name: variance}: the group for scalar terms, 'group: column' for vector terms; + residual."""
        out: dict[str, float] = {}
        for c in self.covariances():
            if len(c["columns"]) == 1:
                out[c["group"]] = float(c["cov"][0, 0])
            else:
                for i, col in enumerate(c["columns"]):
                    out[f"{c['group']}: {col}"] = float(c["cov"][i, i])
        out["residual"] = self.sigma**2
        return out

    def zero_components(self) -> list[str]:
        """Terms (or columns of a vector term) whose variance is estimated at ~0: the boundary."""
        out, t = [], 0
        for term, cols in zip(self.terms, self.term_columns):
            k = len(cols)
            for c in range(k):
                for r in range(c, k):
                    if r == c and abs(self.theta[t]) < SINGULAR_TOL:
                        out.append(term.group_name if k == 1 else f"{term.group_name}: {cols[c]}")
                    t += 1
        return out

    # ---- Satterthwaite (lmerTest) -------------------------------------------------------------
    def _satterthwaite(self) -> tuple[np.ndarray, list[np.ndarray]]:
        if self._satt is None:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=1, user_api="blas"):
                self._satt = self._satterthwaite_parts()
        return self._satt

    def _satterthwaite_parts(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """A = 2 H^-1 (H: deviance Hessian in (theta, sigma)) and the Jacobian of cov(beta), as lmerTest."""
        pls, p, k = self._pls, len(self.names), len(self.theta)
        nu = self.n - p if self.reml else self.n
        f0, g, Hd = _derivs(lambda t: pls.parts(t, self.reml), self.theta)
        s = self.sigma
        P, Pg = f0[1], g[:, 1]
        H = np.zeros((k + 1, k + 1))
        H[:k, :k] = Hd[:, :, 0] + Hd[:, :, 1] / s**2
        H[:k, k] = H[k, :k] = -2 * Pg / s**3
        H[k, k] = 6 * P / s**4 - 2 * nu / s**2
        w, V = np.linalg.eigh(H)
        tol = 1e-8
        if np.any(w < -tol):
            self.warnings.append(
                f"Satterthwaite: the deviance Hessian in (theta, sigma) has {int(np.sum(w < -tol))} negative "
                "eigenvalue(s): the fit may not be at a minimum; the df are doubtful"
            )
        pos = w > tol
        A = 2.0 * (V[:, pos] / w[pos]) @ V[:, pos].T
        jac = [s**2 * g[i, 2:].reshape(p, p) for i in range(k)]
        jac.append(2.0 / s * self.vcov)  # d(sigma^2 M^-1)/d sigma, exact
        return A, jac

    def contrast(self, L: Any) -> dict[str, float]:
        """t test of L'beta = 0 with Satterthwaite df: estimate, se, df, t, p, 95% CI (t quantile, same df)."""
        from scipy import stats

        L = self._vector(L)
        A, jac = self._satterthwaite()
        est = float(L @ self.beta)
        var = float(L @ self.vcov @ L)
        g = np.array([L @ J @ L for J in jac])
        df = float(2 * var**2 / (g @ A @ g))
        se = math.sqrt(var)
        t = est / se
        q = float(stats.t.ppf(0.975, df))
        return {
            "estimate": est,
            "se": se,
            "df": df,
            "t": t,
            "p": float(2 * stats.t.sf(abs(t), df)),
            "ci_low": est - q * se,
            "ci_high": est + q * se,
        }

    def ftest(self, L: Any) -> dict[str, float]:
        """Joint F test of the rows of L (lmerTest's contestMD): F, num_df, Satterthwaite den_df, p."""
        from scipy import stats

        L = np.atleast_2d(np.asarray([self._vector(row) for row in np.atleast_2d(L)]))
        A, jac = self._satterthwaite()
        VL = L @ self.vcov @ L.T
        d, P = np.linalg.eigh(VL)
        d, P = d[::-1], P[:, ::-1]
        pos = d > max(math.sqrt(np.finfo(float).eps) * d[0], 0)
        q = int(pos.sum())
        PtL = (P.T @ L)[:q]
        t2 = (PtL @ self.beta) ** 2 / d[:q]
        F = float(t2.sum() / q)
        grads = [np.array([PtL[m] @ J @ PtL[m] for J in jac]) for m in range(q)]
        nu = np.array([2 * d[m] ** 2 / (g @ A @ g) for m, g in enumerate(grads)])
        if q == 1:
            ddf = float(nu[0])
        elif np.all(np.abs(np.diff(nu)) < 1e-8):
            ddf = float(nu.mean())
        elif np.any(nu <= 2):
            ddf = 2.0
        else:
            E = float(np.sum(nu / (nu - 2)))
            ddf = 2 * E / (E - q)
        return {"F": F, "num_df": q, "den_df": ddf, "p": float(stats.f.sf(F, q, ddf))}

    def _vector(self, L: Any) -> np.ndarray:
        if isinstance(L, dict):
            v = np.zeros(len(self.names))
            for name, w in L.items():
                if name not in self.names:
                    raise LmmError(f"no fixed effect {name!r} (effects: {', '.join(self.names)})")
                v[self.names.index(name)] = w
            return v
        v = np.asarray(L, dtype=float).ravel()
        if v.shape != (len(self.names),):
            raise LmmError(f"contrast has {v.size} weights for {len(self.names)} fixed effects")
        return v
