"""The profiled REML/ML objective in one place: penalized least squares at a given theta.

Why one object: the optimiser, lme4's convergence checks and the Satterthwaite derivatives all
evaluate the same deviance; `_Pls` forms the cross-products Z'Z, Z'X, X'X, Z'y, X'y, y'y once (memory
linear in rows) and, per theta, factors Lambda' Z'Z Lambda + I and profiles beta and sigma out
(Bates, Maechler, Bolker and Walker 2015, J. Stat. Softw. 67(1)).

The Cholesky factor uses the block structure of the design instead of a general sparse
factorisation: the scalar term with the most levels (language x item) has a diagonal
block, which is eliminated first; its Schur complement on the remaining few hundred
columns is factored densely (or per group, lmm_nested.py). That is what CHOLMOD's
fill-reducing ordering would do here, without a compiled dependency.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg, sparse

from .lmm_design import LmmError, _TermMatrix
from .lmm_nested import _Nested

LOG2PI = math.log(2 * math.pi)


class _Pls:
    """Penalized least squares at a given theta, from cross-products only (see the module docstring)."""

    def __init__(
        self, X: np.ndarray, y: np.ndarray, tms: list[_TermMatrix], factors: dict[str, np.ndarray] | None = None
    ):
        n, p = X.shape
        self.n, self.p = n, p
        # theta layout per term: lower triangle column-major (lme4's order)
        self.theta_lower: list[float] = []
        self.theta_init: list[float] = []
        self.theta_names: list[tuple[int, int, int]] = []  # (term, row, col)
        offs = []
        for ti, tm in enumerate(tms):
            offs.append(len(self.theta_init))
            for c in range(tm.k):
                for r in range(c, tm.k):
                    self.theta_lower.append(0.0 if r == c else -math.inf)
                    self.theta_init.append(1.0 if r == c else 0.0)
                    self.theta_names.append((ti, r, c))
        # block 1: the scalar term with the most levels (diagonal block of Z'Z), eliminated first
        scalar = [i for i, tm in enumerate(tms) if tm.k == 1]
        self.t1 = max(scalar, key=lambda i: tms[i].nlev) if scalar else None
        rest = [i for i in range(len(tms)) if i != self.t1]
        col_off, q2 = {}, 0
        for i in rest:
            col_off[i] = q2
            q2 += tms[i].nlev * tms[i].k
        self.q2 = q2
        self.q1 = tms[self.t1].nlev if self.t1 is not None else 0
        if self.q1 + q2 >= n:
            raise LmmError(
                f"{self.q1 + q2} random effects for {n} observations: the random formula has more effects than "
                "the table has scores; use fewer terms"
            )
        yX = np.column_stack([X, y])
        if self.t1 is not None:
            tm = tms[self.t1]
            Z1 = sparse.csr_matrix((tm.vals, (tm.rows, tm.cols)), shape=(n, self.q1))
            self.g11 = np.asarray(Z1.multiply(Z1).sum(axis=0)).ravel()
            z1yx = np.asarray(Z1.T @ yX)
            if np.any(self.g11 == 0):
                raise LmmError(f"term {tm.term.label} has a level without observations")
        else:
            Z1, self.g11, z1yx = None, np.zeros(0), np.zeros((0, p + 1))
        self.z1X, self.z1y = z1yx[:, :p], z1yx[:, p]
        if rest:
            Z2 = sparse.csr_matrix(
                (
                    np.concatenate([tms[i].vals for i in rest]),
                    (
                        np.concatenate([tms[i].rows for i in rest]),
                        np.concatenate([tms[i].cols + col_off[i] for i in rest]),
                    ),
                ),
                shape=(n, q2),
            )
            self.g22 = (Z2.T @ Z2).toarray()
            z2yx = np.asarray(Z2.T @ yX)
            self.c21 = (Z2.T @ Z1).tocsr() if Z1 is not None else None
        else:
            self.g22, z2yx, self.c21 = np.zeros((0, 0)), np.zeros((0, p + 1)), None
        self.z2X, self.z2y = z2yx[:, :p], z2yx[:, p]
        self.XtX, self.Xty, self.yty = X.T @ X, X.T @ y, float(y @ y)
        # Lambda_2 pattern: block diag of each term's lower-triangular template, per level
        li, lj, lind = [], [], []
        for i in rest:
            tm = tms[i]
            for lev in range(tm.nlev):
                base = col_off[i] + lev * tm.k
                for t, (ti, r, c) in enumerate(self.theta_names):
                    if ti == i:
                        li.append(base + r)
                        lj.append(base + c)
                        lind.append(t)
        self.li, self.lj = np.asarray(li, dtype=np.int64), np.asarray(lj, dtype=np.int64)
        self.lind = np.asarray(lind, dtype=np.int64)
        self.diag2 = all(tms[i].k == 1 for i in rest)
        if self.diag2:  # Lambda_2 diagonal: theta index per column, in column order
            self.lind = self.lind[np.argsort(self.li, kind="stable")]
        self.i1 = offs[self.t1] if self.t1 is not None else None
        self.zyx1 = np.column_stack([self.z1X, self.z1y])
        self.zyx2 = np.column_stack([self.z2X, self.z2y])
        # K(w) = C21 diag(w) C21' as one sparse mat-vec: each column j of C21 adds w_j * c_j c_j'
        if self.c21 is not None:
            csc = self.c21.tocsc()
            csc.sort_indices()
            rows_, cols_, vals_ = [], [], []
            for j in range(self.q1):
                lo, hi = csc.indptr[j], csc.indptr[j + 1]
                r_, v_ = csc.indices[lo:hi], csc.data[lo:hi]
                rows_.append((r_[:, None] * q2 + r_[None, :]).ravel())
                vals_.append(np.outer(v_, v_).ravel())
                cols_.append(np.full(len(r_) ** 2, j))
            self.kmap = sparse.csr_matrix(
                (np.concatenate(vals_), (np.concatenate(rows_), np.concatenate(cols_))), shape=(q2 * q2, self.q1)
            )
        else:
            self.kmap = None
        self.nested = _Nested.build(self, tms, rest, col_off, factors) if factors and self.q1 and rest else None

    def solve(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
        """(log det(Lambda'Z'Z Lambda + I), X'V*X, X'V*y, y'V*y) with V* the relative precision at theta.

        With block 1 (diagonal, scalar theta t1) eliminated first, w = t1^2 / (t1^2 diag(Z1'Z1) + 1):
        the Schur complement is Lambda_2' (Z2'Z2 - C21 diag(w) C21') Lambda_2 + I, C21 = Z2'Z1.
        """
        theta = np.asarray(theta, dtype=float)
        if self.nested is not None:
            return self.nested.solve(self, theta)
        p = self.p
        G = np.zeros((p + 1, p + 1))
        logdet = 0.0
        if self.q1:
            t1 = theta[self.i1]
            d = t1 * t1 * self.g11 + 1.0
            w = t1 * t1 / d
            logdet += float(np.sum(np.log(d)))
            W1 = self.zyx1 * np.sqrt(w)[:, None]
            G += W1.T @ W1
        if self.q2:
            q2 = self.q2
            H, U = self.g22, self.zyx2
            if self.kmap is not None:
                H = H - (self.kmap @ w).reshape(q2, q2)
                U = U - self.c21 @ (w[:, None] * self.zyx1)
            if self.diag2:
                lam2 = theta[self.lind]
                A22 = H * np.outer(lam2, lam2)
                rhs = lam2[:, None] * U
            else:
                lam = np.zeros((q2, q2))
                lam[self.li, self.lj] = theta[self.lind]
                A22 = lam.T @ H @ lam
                rhs = lam.T @ U
            A22[np.diag_indices_from(A22)] += 1.0
            try:
                L22 = linalg.cholesky(A22, lower=True, check_finite=False)
            except linalg.LinAlgError as exc:  # cannot happen for finite theta; guards against NaN
                raise LmmError(f"Cholesky factor failed at theta={theta}: {exc}") from exc
            logdet += 2.0 * float(np.sum(np.log(np.diag(L22))))
            R = linalg.solve_triangular(L22, rhs, lower=True, check_finite=False)
            G += R.T @ R
        M = self.XtX - G[:p, :p]
        r = self.Xty - G[:p, p]
        s = self.yty - G[p, p]
        return logdet, M, r, s

    def profiled(self, theta: np.ndarray, reml: bool) -> tuple[float, np.ndarray, float, np.ndarray]:
        """(deviance, beta, pwrss, M) with beta and sigma profiled out."""
        logdet, M, r, s = self.solve(theta)
        cf = linalg.cho_factor(M, lower=True, check_finite=False)
        beta = linalg.cho_solve(cf, r, check_finite=False)
        pwrss = max(s - float(r @ beta), 1e-300)
        n, p = self.n, self.p
        if reml:
            ld_m = 2.0 * float(np.sum(np.log(np.diag(cf[0]))))
            dev = logdet + ld_m + (n - p) * (1.0 + LOG2PI + math.log(pwrss / (n - p)))
        else:
            dev = logdet + n * (1.0 + LOG2PI + math.log(pwrss / n))
        return dev, beta, pwrss, M

    def parts(self, theta: np.ndarray, reml: bool) -> np.ndarray:
        """[a, pwrss, M^-1 (flat)] at theta, where the deviance at (theta, sigma) is
        a + pwrss / sigma^2 + nu log(2 pi sigma^2) (lmerTest's devfun_vp) and cov(beta) = sigma^2 M^-1."""
        logdet, M, r, s = self.solve(theta)
        cf = linalg.cho_factor(M, lower=True, check_finite=False)
        beta = linalg.cho_solve(cf, r, check_finite=False)
        a = logdet + (2.0 * float(np.sum(np.log(np.diag(cf[0])))) if reml else 0.0)
        minv = linalg.cho_solve(cf, np.eye(self.p), check_finite=False)
        return np.concatenate([[a, s - float(r @ beta)], minv.ravel()])
