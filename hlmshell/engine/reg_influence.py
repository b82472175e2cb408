"""Influence and partial-regression quantities of an OLS fit, for regress's diagnostics
(dfbeta, avplot, cprplot, acprplot, lvr2plot; [R] regress postestimation).

Pure numpy on the estimation sample's X (with the constant as a column when the model has
one) and y: leverage from a thin QR of X, residuals, studentized residuals from the
leave-one-out variance s_(i)^2 = (RSS - e_i^2/(1-h_i)) / (n - k - 1), DFBETAs as
Belsley, Kuh and Welsch define them: (b_j - b_j(i)) / (s_(i) sqrt([(X'X)^-1]_jj)), computed
in closed form without n refits."""
from __future__ import annotations

import numpy as np


def residualize(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """y minus its least-squares projection on the columns of X (y itself when X is empty)."""
    if X.shape[1] == 0:
        return np.asarray(y, dtype=float).copy()
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    return y - X @ coef


def leverage(X: np.ndarray) -> np.ndarray:
    """Diagonal of the hat matrix X (X'X)^-1 X'."""
    q, _ = np.linalg.qr(X, mode="reduced")
    return np.einsum("ij,ij->i", q, q)


def studentized(e: np.ndarray, h: np.ndarray, k: int) -> np.ndarray:
    """Externally studentized residuals e_i / (s_(i) sqrt(1 - h_i)) (Stata's rstudent)."""
    n = len(e)
    rss = float(e @ e)
    s2i = (rss - e ** 2 / (1.0 - h)) / (n - k - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return e / np.sqrt(s2i * (1.0 - h))


def dfbetas(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """n x k matrix of DFBETAs, one column per column of X."""
    n, k = X.shape
    XtXi = np.linalg.inv(X.T @ X)
    b = XtXi @ (X.T @ y)
    e = y - X @ b
    h = np.einsum("ij,jk,ik->i", X, XtXi, X)
    rss = float(e @ e)
    s_i = np.sqrt((rss - e ** 2 / (1.0 - h)) / (n - k - 1))
    C = X @ XtXi                                   # row i: ((X'X)^-1 x_i)'
    change = C * (e / (1.0 - h))[:, None]          # b - b(i), one row per observation
    with np.errstate(divide="ignore", invalid="ignore"):
        return change / (s_i[:, None] * np.sqrt(np.diag(XtXi))[None, :])
