"""The LMM's model matrices: the treatment-coded fixed-effects X, and one sparse Z block per random-effects term.

As MixedModels.jl keeps one ReMat per term, each term ``(x | g)`` is its own `_TermMatrix`: the levels of
its grouping factor, the columns of its template and the nonzeros of its block of Z, so the objective
(lmm_pls.py) forms the cross-products without ever building Z densely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg

from .formula import RandomTerm


class LmmError(ValueError):
    """The model cannot be fitted to this frame (too many random effects, empty factor ...)."""


class TooManyEffects(LmmError):
    """The random formula has at least as many effects as the table has scores: a smaller model may fit."""


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


def fixed_matrix(df: Any, fixed: str) -> tuple[np.ndarray, list[str], list[str]]:
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
