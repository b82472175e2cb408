"""Multivariate regression (Stata's mvreg): one OLS equation per dependent variable on the same
covariates, with the cross-equation covariance of the coefficients.

Why its own module: the estimates are regress's equation by equation, but e(V) couples them,
V = Sigma (x) (X'X)^-1 with Sigma = E'E / (N - k) the residual covariance of the equations
(E the N x p residual matrix, k the coefficients per equation), so that tests across equations
are possible; and `corr` reports the residual correlations with Breusch and Pagan's test of
their independence, N sum_{i<j} r_ij^2 ~ chi2(p (p - 1) / 2).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hlmshell.engine import ols


@dataclass
class MvregFit:
    equations: list            # ols.Regression per dependent variable
    Sigma: np.ndarray          # p x p residual covariance, divided by N - k
    V: np.ndarray              # (p k) x (p k), equations in order
    corr: np.ndarray           # p x p residual correlations
    bp_chi2: float
    bp_df: int
    df_r: int


def fit(Y: np.ndarray, X: np.ndarray, *, constant: bool, w=None, kind: str = "") -> MvregFit:
    """w, kind: Stata's fweights or aweights (weighted cross-products, aweights rescaled to
    sum to the number of observations; N is the sum of fweights)."""
    from hlmshell.engine import weighted_ols as wols
    Y = np.asarray(Y, dtype=float)
    n, p = Y.shape
    if w is None:
        eqs = [ols.regress(Y[:, j], X, constant=constant) for j in range(p)]
        wn = np.ones(n)
    else:
        eqs = [wols.regress(Y[:, j], X, w, kind, constant=constant) for j in range(p)]
        wn = wols.normalised(w, kind)
        n = int(round(wn.sum())) if kind == "fweight" else n
    E = np.column_stack([Y[:, j] - X @ eqs[j].beta for j in range(p)])
    k = X.shape[1]
    df_r = n - k
    cross = E.T @ (E * wn[:, None])
    Sigma = cross / df_r if df_r > 0 else np.zeros((p, p))
    sw = np.sqrt(wn)
    XtX_inv = ols.fit(sw * Y[:, 0], sw[:, None] * X).XtX_inv
    V = np.kron(Sigma, XtX_inv)
    d = np.sqrt(np.diag(cross))
    with np.errstate(all="ignore"):
        corr = cross / np.outer(d, d)
    iu = np.triu_indices(p, 1)
    bp = float(n * np.sum(corr[iu] ** 2))
    return MvregFit(eqs, Sigma, V, corr, bp, p * (p - 1) // 2, df_r)
