"""The profiled REML/ML objective in one place: penalized least squares at a given theta.

Why one object: the optimiser, lme4's convergence checks and the Satterthwaite derivatives all
evaluate the same deviance; `_Pls` forms the cross-products Z'Z, Z'X, X'X, Z'y, X'y, y'y once (memory
linear in rows) and, per theta, factors Lambda' Z'Z Lambda + I and profiles beta and sigma out
(Bates, Maechler, Bolker and Walker 2015, J. Stat. Softw. 67(1)).

The Cholesky factor uses the block structure of the design instead of a general sparse
factorisation: the scalar term with the most levels (language x item) has a diagonal
block, which is eliminated first; its Schur complement on the remaining few hundred
columns is factored densely, or, when the other terms nest in one grouping factor (everything in
`language`), as one small block per group factored in a batch and a small dense block for the crossed
rest (`_nested_blocks`, `_solve_nested`). That is what CHOLMOD's fill-reducing ordering would do here,
without a compiled dependency.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg, sparse

from .design import LmmError, TooManyEffects, _TermMatrix

LOG2PI = math.log(2 * math.pi)


class _Blocks:
    """The arrays of the nested solve (see `_Pls._nested_blocks`): per-group blocks of Z'Z, C21 and Lambda."""


class _Pls:
    """Penalized least squares at a given theta, from cross-products only (see the module docstring)."""

    def __init__(
        self, X: np.ndarray, y: np.ndarray, tms: list[_TermMatrix], factors: dict[str, np.ndarray] | None = None
    ):
        n, p = X.shape
        self.n, self.p = n, p
        offs = self._theta_layout(tms)
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
            raise TooManyEffects(
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
        self._lambda_pattern(tms, rest, col_off)
        self.i1 = offs[self.t1] if self.t1 is not None else None
        self.zyx1 = np.column_stack([self.z1X, self.z1y])
        self.zyx2 = np.column_stack([self.z2X, self.z2y])
        self.kmap = self._kmap() if self.c21 is not None else None
        self.nested = self._nested_blocks(tms, rest, col_off, factors) if factors and self.q1 and rest else None

    def _theta_layout(self, tms: list[_TermMatrix]) -> list[int]:
        """theta per term, the lower triangle column-major (lme4's order): bounds, start, names; returns
        each term's first index."""
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
        return offs

    def _lambda_pattern(self, tms: list[_TermMatrix], rest: list[int], col_off: dict[int, int]) -> None:
        """Lambda_2's pattern: block diagonal of each term's lower-triangular template, per level."""
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

    def _kmap(self) -> sparse.csr_matrix:
        """K(w) = C21 diag(w) C21' as one sparse mat-vec: each column j of C21 adds w_j * c_j c_j'."""
        q2 = self.q2
        csc = self.c21.tocsc()
        csc.sort_indices()
        rows_, cols_, vals_ = [], [], []
        for j in range(self.q1):
            lo, hi = csc.indptr[j], csc.indptr[j + 1]
            r_, v_ = csc.indices[lo:hi], csc.data[lo:hi]
            rows_.append((r_[:, None] * q2 + r_[None, :]).ravel())
            vals_.append(np.outer(v_, v_).ravel())
            cols_.append(np.full(len(r_) ** 2, j))
        return sparse.csr_matrix(
            (np.concatenate(vals_), (np.concatenate(rows_), np.concatenate(cols_))), shape=(q2 * q2, self.q1)
        )

    def _nested_blocks(
        self, tms: list[_TermMatrix], rest: list[int], col_off: dict[int, int], factors: dict[str, np.ndarray]
    ) -> _Blocks | None:
        """The block layout of Lambda_2' H Lambda_2 + I when the remaining terms are mostly nested in one factor.

        With language x item eliminated, every term nested in language (language, language:variant,
        language:variant:kind, (0 + variant | language)) couples only columns of the same language: those
        columns form one small block per language, factored in a batch; the crossed terms (item) are what
        is left, a small dense Schur complement. Same numbers as the dense path, a fraction of the work.
        None where the terms do not nest (the dense path then handles it).
        """
        t1 = tms[self.t1]
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

        q2 = self.q2
        blk2 = np.full(q2, -1)
        for i in nested:
            tm = tms[i]
            cols = col_off[i] + np.arange(tm.nlev * tm.k)
            blk2[cols] = np.repeat(block_of_levels(tm), tm.k)
        crossed = np.flatnonzero(blk2 < 0)
        blocks = _Blocks()
        blocks.G0 = ngroups
        pos2 = np.zeros(q2, dtype=np.int64)
        counts = np.zeros(ngroups, dtype=np.int64)
        for c in np.flatnonzero(blk2 >= 0):
            pos2[c] = counts[blk2[c]]
            counts[blk2[c]] += 1
        blocks.m = m = int(counts.max())
        cpos = np.full(q2, -1)
        cpos[crossed] = np.arange(len(crossed))
        blocks.qc = qc = len(crossed)
        blk1 = block_of_levels(t1)
        pos1 = np.zeros(self.q1, dtype=np.int64)
        c1 = np.zeros(ngroups, dtype=np.int64)
        for j in range(self.q1):
            pos1[j] = c1[blk1[j]]
            c1[blk1[j]] += 1
        n1 = int(c1.max())
        # gather index of w per block (pad -> index q1, a zero)
        blocks.widx = np.full((ngroups, n1), self.q1)
        blocks.widx[blk1, pos1] = np.arange(self.q1)
        # C21 split: nested rows -> dense per block (G0, m, n1); crossed rows -> sparse (qc, q1)
        coo = self.c21.tocoo()
        nb = blk2[coo.row] >= 0
        if np.any(blk2[coo.row[nb]] != blk1[coo.col[nb]]):
            return None  # not nested after all: the dense path handles it
        blocks.Cb = np.zeros((ngroups, m, n1))
        blocks.Cb[blk2[coo.row[nb]], pos2[coo.row[nb]], pos1[coo.col[nb]]] = coo.data[nb]
        cr = ~nb
        blocks.Cc = sparse.csr_matrix((coo.data[cr], (cpos[coo.row[cr]], coo.col[cr])), shape=(qc, self.q1))
        flat_b = blk2 * m + pos2  # column of a nested part-2 column in the (G0*m) layout
        blocks.CbT = sparse.csr_matrix((coo.data[nb], (coo.col[nb], flat_b[coo.row[nb]])), shape=(self.q1, ngroups * m))
        # G22 split
        g = self.g22
        nbm = np.flatnonzero(blk2 >= 0)
        blocks.Gbb = np.zeros((ngroups, m, m))
        sub = g[np.ix_(nbm, nbm)]
        same = blk2[nbm][:, None] == blk2[nbm][None, :]
        if np.any(sub[~same] != 0):
            return None
        ii, jj = np.nonzero(same)
        blocks.Gbb[blk2[nbm][ii], pos2[nbm][ii], pos2[nbm][jj]] = sub[ii, jj]
        blocks.Gcb = np.zeros((qc, ngroups * m))
        blocks.Gcb[:, flat_b[nbm]] = g[np.ix_(crossed, nbm)]
        blocks.Gcc = g[np.ix_(crossed, crossed)]
        # rows of zyx2
        blocks.bidx = np.full((ngroups, m), -1)
        blocks.bidx[blk2[nbm], pos2[nbm]] = nbm
        blocks.bpad = blocks.bidx < 0
        blocks.bidx[blocks.bpad] = 0
        blocks.crossed = crossed
        # Lambda entries
        isb = blk2[self.li] >= 0
        if np.any(isb & (blk2[self.lj] != blk2[self.li])):
            return None
        blocks.lb = (blk2[self.li[isb]], pos2[self.li[isb]], pos2[self.lj[isb]], self.lind[isb])
        blocks.lc = (cpos[self.li[~isb]], cpos[self.lj[~isb]], self.lind[~isb])
        if self.diag2:  # lind was reordered per column for the diagonal path; rebuild the entry order
            order = np.argsort(self.li, kind="stable")
            lind = np.empty_like(self.lind)
            lind[order] = self.lind
            blocks.lb = (blk2[self.li[isb]], pos2[self.li[isb]], pos2[self.lj[isb]], lind[isb])
            blocks.lc = (cpos[self.li[~isb]], cpos[self.lj[~isb]], lind[~isb])
        return blocks

    def _solve_nested(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
        """`solve` by the nested blocks: the per-group blocks factored in a batch, then the crossed terms."""
        blk = self.nested
        p, G0, m, qc = self.p, blk.G0, blk.m, blk.qc
        t1 = theta[self.i1]
        d = t1 * t1 * self.g11 + 1.0
        w = t1 * t1 / d
        logdet = float(np.sum(np.log(d)))
        W1 = self.zyx1 * np.sqrt(w)[:, None]
        G = W1.T @ W1
        wb = np.append(w, 0.0)[blk.widx]  # (G0, n1)
        Hbb = blk.Gbb - (blk.Cb * wb[:, None, :]) @ blk.Cb.transpose(0, 2, 1)
        U = self.zyx2 - self.c21 @ (w[:, None] * self.zyx1)
        Ub = U[blk.bidx]
        Ub[blk.bpad] = 0.0
        lam_b = np.zeros((G0, m, m))
        bg, bi, bj, bt = blk.lb
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
            Ccw = blk.Cc.multiply(w[None, :]).tocsr()
            Kcb = (Ccw @ blk.CbT).toarray()
            Kcc = (Ccw @ blk.Cc.T).toarray()
            lam_c = np.zeros((qc, qc))
            ci, cj, ct = blk.lc
            lam_c[ci, cj] = theta[ct]
            T = (lam_c.T @ (blk.Gcb - Kcb)).reshape(qc, G0, m).transpose(1, 0, 2)  # Lambda_c' H_cb per block
            Abc = (T @ lam_b).transpose(0, 2, 1)  # (G0, m, qc) = (Lambda_c' H_cb Lambda_b)'
            Acc = lam_c.T @ (blk.Gcc - Kcc) @ lam_c
            Acc[np.diag_indices(qc)] += 1.0
            Xb = (Li @ Abc).reshape(G0 * m, qc)
            S = Acc - Xb.T @ Xb
            rc = lam_c.T @ U[blk.crossed] - Xb.T @ Yf
            Lc = linalg.cholesky(S, lower=True, check_finite=False)
            logdet += 2.0 * float(np.sum(np.log(np.diag(Lc))))
            Rc = linalg.solve_triangular(Lc, rc, lower=True, check_finite=False)
            G += Rc.T @ Rc
        return logdet, self.XtX - G[:p, :p], self.Xty - G[:p, p], self.yty - G[p, p]

    def solve(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
        """(log det(Lambda'Z'Z Lambda + I), X'V*X, X'V*y, y'V*y) with V* the relative precision at theta.

        With block 1 (diagonal, scalar theta t1) eliminated first, w = t1^2 / (t1^2 diag(Z1'Z1) + 1):
        the Schur complement is Lambda_2' (Z2'Z2 - C21 diag(w) C21') Lambda_2 + I, C21 = Z2'Z1.
        """
        theta = np.asarray(theta, dtype=float)
        if self.nested is not None:
            return self._solve_nested(theta)
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
