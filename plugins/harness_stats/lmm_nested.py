"""The nested-block factorisation of the objective: one small dense block per group, factored in a batch.

Kept apart from lmm_pls.py because it is an alternative solve path, taken only when the remaining
random-effects terms nest in one grouping factor; it gives the dense path's numbers at a fraction of
the work (see `_Nested`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import linalg, sparse

if TYPE_CHECKING:
    from .lmm_design import _TermMatrix
    from .lmm_pls import _Pls


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
