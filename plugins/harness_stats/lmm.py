"""Linear mixed models fitted the way lme4 fits them, with Satterthwaite tests as lmerTest does.

Why our own fitter: the trade-off model has crossed and nested random effects (item,
language, language x item, language x variant, ...) with thousands of levels; statsmodels'
MixedLM forms dense matrices per group and took a minute at the study's 13,200 rows.

Method (Bates, Maechler, Bolker and Walker 2015, J. Stat. Softw. 67(1)):
the relative covariance factor Lambda(theta) is block diagonal, one lower-triangular
template per term repeated per level; for a given theta the penalized least-squares
problem is solved from the cross-products Z'Z, Z'X, X'X, Z'y, X'y, y'y (computed once,
so memory is linear in rows) through the sparse Cholesky factor of
Lambda' Z'Z Lambda + I, and the REML (or ML) deviance is profiled over beta and sigma.
BOBYQA (nlopt, as lme4's default `nloptwrap`) minimises it over theta.

The Cholesky factor uses the block structure of the design instead of a general sparse
factorisation: the scalar term with the most levels (language x item) has a diagonal
block, which is eliminated first; its Schur complement on the remaining few hundred
columns is factored densely. That is what CHOLMOD's fill-reducing ordering would do here,
without a compiled dependency.

Inference follows lmerTest (Kuznetsova, Brockhoff and Christensen 2017): the Hessian of
the deviance in (theta, sigma) gives the covariance of the variance parameters, the
Jacobian of cov(beta) in the same parameters gives the Satterthwaite denominator df of
any contrast, and multi-df F tests combine the df of the eigen-contrasts.
Convergence is checked like lme4's checkConv: scaled gradient, Hessian eigenvalues, and
terms on the boundary (singular fits) are reported, never silently dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import linalg, sparse

from .formula import RandomTerm, parse_random

SINGULAR_TOL = 1e-4  # lme4's isSingular(tol = 1e-4): a diagonal theta below this is on the boundary
GRAD_TOL = 0.002  # lme4's check.conv.grad tolerance on the scaled gradient
LOG2PI = math.log(2 * math.pi)


class LmmError(ValueError):
    """The model cannot be fitted to this frame (too many random effects, empty factor ...)."""


def _codes(df: Any, cols: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """Integer codes of the interaction of ``cols`` (levels in sorted order, as text)."""
    import pandas as pd

    key = df[cols[0]].astype(str)
    for c in cols[1:]:
        key = key + ":" + df[c].astype(str)
    codes, uniques = pd.factorize(key, sort=True)
    return codes.astype(np.int64), [str(u) for u in uniques]


@dataclass
class _TermMatrix:
    term: RandomTerm
    nlev: int
    k: int
    colnames: list[str]
    rows: np.ndarray  # (n*k',) row index of each nonzero
    cols: np.ndarray  # column within the term: level * k + j
    vals: np.ndarray
    codes: np.ndarray  # (n,) level of each row


def _term_matrix(df: Any, term: RandomTerm) -> _TermMatrix:
    codes, levels = _codes(df, term.group)
    n = len(df)
    if term.factor is None:
        x = np.ones((n, 1))
        names = ["(Intercept)"]
    else:
        import pandas as pd

        f = df[term.factor]
        cats = list(f.cat.categories) if isinstance(f.dtype, pd.CategoricalDtype) else sorted(set(f.astype(str)))
        fcodes = pd.Categorical(
            f.astype(str) if not isinstance(f.dtype, pd.CategoricalDtype) else f, categories=cats
        ).codes
        ind = np.zeros((n, len(cats)))
        ind[np.arange(n), fcodes] = 1.0
        if term.intercept:
            x = np.column_stack([np.ones(n), ind[:, 1:]])
            names = ["(Intercept)"] + [f"{term.factor}{c}" for c in cats[1:]]
        else:
            x, names = ind, [f"{term.factor}{c}" for c in cats]
    k = x.shape[1]
    r, j = np.nonzero(x)
    return _TermMatrix(term, len(levels), k, names, r, codes[r] * k + j, x[r, j], codes)


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


class _Nested:
    """Block layout of Lambda_2' H Lambda_2 + I when the remaining terms are mostly nested in one factor.

    With language x item eliminated, every term nested in language (language, language:variant,
    language:variant:kind, (0 + variant | language)) couples only columns of the same language: those
    columns form one small block per language, factored in a batch; the crossed terms (item) are what
    is left, a small dense Schur complement. Same numbers as the dense path, a fraction of the work.
    """

    @staticmethod
    def build(
        pls: _Pls, tms: list[_TermMatrix], rest: list[int], col_off: dict[int, int], factors: dict[str, np.ndarray]
    ) -> _Nested | None:
        t1 = tms[pls.t1]
        best = None
        for g0 in t1.term.group:
            nested = [i for i in rest if g0 in tms[i].term.group]
            size = sum(tms[i].nlev * tms[i].k for i in nested)
            if nested and (best is None or size > best[2]):
                best = (g0, nested, size)
        if best is None:
            return None
        g0, nested, _ = best
        g0codes = factors[g0]
        ngroups = int(g0codes.max()) + 1

        def block_of_levels(tm: _TermMatrix) -> np.ndarray:
            lv = np.full(tm.nlev, -1)
            lv[tm.codes] = g0codes
            return lv

        q2 = pls.q2
        blk2 = np.full(q2, -1)
        for i in nested:
            tm = tms[i]
            cols = col_off[i] + np.arange(tm.nlev * tm.k)
            blk2[cols] = np.repeat(block_of_levels(tm), tm.k)
        crossed = np.flatnonzero(blk2 < 0)
        self = _Nested()
        self.G0 = ngroups
        pos2 = np.zeros(q2, dtype=np.int64)
        counts = np.zeros(ngroups, dtype=np.int64)
        for c in np.flatnonzero(blk2 >= 0):
            pos2[c] = counts[blk2[c]]
            counts[blk2[c]] += 1
        self.m = m = int(counts.max())
        cpos = np.full(q2, -1)
        cpos[crossed] = np.arange(len(crossed))
        self.qc = qc = len(crossed)
        blk1 = block_of_levels(t1)
        pos1 = np.zeros(pls.q1, dtype=np.int64)
        c1 = np.zeros(ngroups, dtype=np.int64)
        for j in range(pls.q1):
            pos1[j] = c1[blk1[j]]
            c1[blk1[j]] += 1
        n1 = int(c1.max())
        # gather index of w per block (pad -> index q1, a zero)
        self.widx = np.full((ngroups, n1), pls.q1)
        self.widx[blk1, pos1] = np.arange(pls.q1)
        # C21 split: nested rows -> dense per block (G0, m, n1); crossed rows -> sparse (qc, q1)
        coo = pls.c21.tocoo()
        nb = blk2[coo.row] >= 0
        if np.any(blk2[coo.row[nb]] != blk1[coo.col[nb]]):
            return None  # not nested after all: the dense path handles it
        self.Cb = np.zeros((ngroups, m, n1))
        self.Cb[blk2[coo.row[nb]], pos2[coo.row[nb]], pos1[coo.col[nb]]] = coo.data[nb]
        cr = ~nb
        self.Cc = sparse.csr_matrix((coo.data[cr], (cpos[coo.row[cr]], coo.col[cr])), shape=(qc, pls.q1))
        flat_b = blk2 * m + pos2  # column of a nested part-2 column in the (G0*m) layout
        self.CbT = sparse.csr_matrix((coo.data[nb], (coo.col[nb], flat_b[coo.row[nb]])), shape=(pls.q1, ngroups * m))
        # G22 split
        g = pls.g22
        nbm = np.flatnonzero(blk2 >= 0)
        self.Gbb = np.zeros((ngroups, m, m))
        sub = g[np.ix_(nbm, nbm)]
        same = blk2[nbm][:, None] == blk2[nbm][None, :]
        if np.any(sub[~same] != 0):
            return None
        ii, jj = np.nonzero(same)
        self.Gbb[blk2[nbm][ii], pos2[nbm][ii], pos2[nbm][jj]] = sub[ii, jj]
        self.Gcb = np.zeros((qc, ngroups * m))
        self.Gcb[:, flat_b[nbm]] = g[np.ix_(crossed, nbm)]
        self.Gcc = g[np.ix_(crossed, crossed)]
        # rows of zyx2
        self.bidx = np.full((ngroups, m), -1)
        self.bidx[blk2[nbm], pos2[nbm]] = nbm
        self.bpad = self.bidx < 0
        self.bidx[self.bpad] = 0
        self.crossed = crossed
        # Lambda entries
        isb = blk2[pls.li] >= 0
        if np.any(isb & (blk2[pls.lj] != blk2[pls.li])):
            return None
        self.lb = (blk2[pls.li[isb]], pos2[pls.li[isb]], pos2[pls.lj[isb]], pls.lind[isb])
        self.lc = (cpos[pls.li[~isb]], cpos[pls.lj[~isb]], pls.lind[~isb])
        if pls.diag2:  # lind was reordered per column for the diagonal path; rebuild the entry order
            order = np.argsort(pls.li, kind="stable")
            lind = np.empty_like(pls.lind)
            lind[order] = pls.lind
            self.lb = (blk2[pls.li[isb]], pos2[pls.li[isb]], pos2[pls.lj[isb]], lind[isb])
            self.lc = (cpos[pls.li[~isb]], cpos[pls.lj[~isb]], lind[~isb])
        return self

    def solve(self, pls: _Pls, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
        p, G0, m, qc = pls.p, self.G0, self.m, self.qc
        t1 = theta[pls.i1]
        d = t1 * t1 * pls.g11 + 1.0
        w = t1 * t1 / d
        logdet = float(np.sum(np.log(d)))
        W1 = pls.zyx1 * np.sqrt(w)[:, None]
        G = W1.T @ W1
        wb = np.append(w, 0.0)[self.widx]  # (G0, n1)
        Hbb = self.Gbb - (self.Cb * wb[:, None, :]) @ self.Cb.transpose(0, 2, 1)
        U = pls.zyx2 - pls.c21 @ (w[:, None] * pls.zyx1)
        Ub = U[self.bidx]
        Ub[self.bpad] = 0.0
        lam_b = np.zeros((G0, m, m))
        bg, bi, bj, bt = self.lb
        lam_b[bg, bi, bj] = theta[bt]
        lam_bt = lam_b.transpose(0, 2, 1)
        Abb = lam_bt @ Hbb @ lam_b
        Abb[:, np.arange(m), np.arange(m)] += 1.0
        rhs_b = lam_bt @ Ub
        Lb = np.linalg.cholesky(Abb)
        logdet += 2.0 * float(np.sum(np.log(np.diagonal(Lb, axis1=1, axis2=2))))
        Li = np.linalg.inv(Lb)
        Yb = Li @ rhs_b  # (G0, m, p+1)
        Yf = Yb.reshape(G0 * m, p + 1)
        G += Yf.T @ Yf
        if qc:
            Ccw = self.Cc.multiply(w[None, :]).tocsr()
            Kcb = (Ccw @ self.CbT).toarray()
            Kcc = (Ccw @ self.Cc.T).toarray()
            lam_c = np.zeros((qc, qc))
            ci, cj, ct = self.lc
            lam_c[ci, cj] = theta[ct]
            T = (lam_c.T @ (self.Gcb - Kcb)).reshape(qc, G0, m).transpose(1, 0, 2)  # Lambda_c' H_cb per block
            Abc = (T @ lam_b).transpose(0, 2, 1)  # (G0, m, qc) = (Lambda_c' H_cb Lambda_b)'
            Acc = lam_c.T @ (self.Gcc - Kcc) @ lam_c
            Acc[np.diag_indices(qc)] += 1.0
            Xb = (Li @ Abc).reshape(G0 * m, qc)
            S = Acc - Xb.T @ Xb
            rc = lam_c.T @ U[self.crossed] - Xb.T @ Yf
            Lc = linalg.cholesky(S, lower=True, check_finite=False)
            logdet += 2.0 * float(np.sum(np.log(np.diag(Lc))))
            Rc = linalg.solve_triangular(Lc, rc, lower=True, check_finite=False)
            G += Rc.T @ Rc
        return logdet, pls.XtX - G[:p, :p], pls.Xty - G[:p, p], pls.yty - G[p, p]


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


def _fixed_matrix(df: Any, fixed: str) -> tuple[np.ndarray, list[str], list[str]]:
    """Treatment-coded fixed-effects matrix (patsy); rank-deficient columns dropped like lme4."""
    import patsy

    X = patsy.dmatrix(fixed, df, return_type="matrix")
    names = list(X.design_info.column_names)
    X = np.asarray(X, dtype=float)
    _, R, piv = linalg.qr(X, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    rank = int(np.sum(diag > diag[0] * 1e-7 * max(X.shape)))
    keep = sorted(piv[:rank])
    dropped = [names[i] for i in range(len(names)) if i not in keep]
    return X[:, keep], [names[i] for i in keep], dropped


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


def _fit_lmm(df: Any, fixed: str, random: str | None, reml: bool, response: str, check: bool) -> LmmFit:
    from .formula import DEFAULT_RANDOM

    terms = parse_random(random or DEFAULT_RANDOM, set(df.columns))
    y = np.asarray(df[response], dtype=float)
    X, names, dropped = _fixed_matrix(df, fixed)
    tms = [_term_matrix(df, t) for t in terms]
    for tm in tms:
        if tm.nlev < 2:
            raise LmmError(f"grouping factor of {tm.term.label} has {tm.nlev} level(s); it needs at least 2")
    factors = {f: _codes(df, (f,))[0] for t in terms for f in t.group}
    pls = _Pls(X, y, tms, factors)
    x0 = np.asarray(pls.theta_init)
    theta, dev, evals, status = _optimize(pls, reml, x0)
    # A zero on the diagonal of a vector term's template can trap BOBYQA at a worse point of the
    # boundary (a 1,600-row table: +0.23 in the REML criterion); restart from it with those entries
    # moved off zero, as lme4's minqa wrapper restarts at edges, and keep the better optimum.
    vec = np.array([tms[t].k > 1 for t, _, _ in pls.theta_names])
    edge = vec & np.isfinite(pls.theta_lower) & (theta < SINGULAR_TOL)
    if edge.any():
        x1 = theta.copy()
        x1[edge] = 0.1
        theta2, dev2, evals2, status2 = _optimize(pls, reml, x1)
        evals += evals2
        if dev2 < dev:
            theta, dev, status = theta2, dev2, status2
    dev, beta, pwrss, M = pls.profiled(theta, reml)
    n, p = X.shape
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
