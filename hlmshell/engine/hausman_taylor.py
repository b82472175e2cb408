"""The Hausman-Taylor (1981) estimator of xthtaylor ([XT] xthtaylor), in the steps Baltagi's
textbook gives and R's plm (random.method = "ht") follows:

    y_it = X1_it b1 + X2_it b2 + Z1_i d1 + Z2_i d2 + u_i + e_it,

X time-varying, Z time-invariant, 1 exogenous, 2 correlated with u_i.

1. Within (fixed-effects) regression on X: sigma_e^2 = its RSS / (N - n).
2. Its panel effects (ybar_i - xbar_i b_w) on a constant, Z1 and Z2 by 2SLS with instruments
   a constant, X1 and Z1 (observation level): s^2 = RSS / n, sigma_u^2 = (s^2 - sigma_e^2) / T
   (T the panels' length; the mean length when unbalanced).
3. theta_i = 1 - sqrt(sigma_e^2 / (sigma_e^2 + T_i sigma_u^2)); every column z becomes
   z_it - theta_i zbar_i, and 2SLS of y* on (X, Z, constant)* with instruments the within
   deviations of X, the panel means of X1, Z1 and the constant (amacurdy: also X1 in each
   period, balanced panels) gives the coefficients, V = s*^2 (X*' P_W X*)^-1 with s*^2 the
   transformed residuals' e*'e* / (N - K).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class HTError(ValueError):
    """Not identified, or not estimable on these data."""


@dataclass
class HTFit:
    b: np.ndarray          # in the order of the columns passed: X1, X2, Z1, Z2, constant
    V: np.ndarray
    sigma_u: float
    sigma_e: float
    e_within: np.ndarray


def _means(A, codes, n):
    cnt = np.bincount(codes, minlength=n).astype(float)
    if A.ndim == 1:
        return (np.bincount(codes, weights=A, minlength=n) / cnt)[codes]
    return np.column_stack([np.bincount(codes, weights=A[:, j], minlength=n) / cnt
                            for j in range(A.shape[1])])[codes] if A.shape[1] else A.copy()


def _tsls(y, X, W):
    """2SLS: (b, (X' P_W X)^-1, residuals)."""
    U, sv, _ = np.linalg.svd(W, full_matrices=False)      # an orthonormal basis of W's span,
    Q = U[:, sv > 1e-10 * sv[0]]                           # redundant instruments dropped
    Xh = Q @ (Q.T @ X)
    A = Xh.T @ X
    if np.linalg.matrix_rank(A) < X.shape[1]:
        raise HTError("not identified")
    Ainv = np.linalg.inv(A)
    b = Ainv @ (Xh.T @ y)
    return b, Ainv, y - X @ b


def _period_columns(X1, codes, tcode, n):
    """AmaCurdy-MaCurdy instruments: each X1 column's value in every period, by panel."""
    T = int(tcode.max()) + 1
    out = []
    for j in range(X1.shape[1]):
        M = np.zeros((n, T))
        M[codes, tcode] = X1[:, j]
        out.append(M[codes])
    return np.hstack(out) if out else np.zeros((len(codes), 0))


def fit(y, X1, X2, Z1, Z2, codes, constant: bool = True, amacurdy_periods=None) -> HTFit:
    """codes: panel codes 0..n-1. amacurdy_periods: time codes (balanced panels) for the
    AmaCurdy instruments, or None."""
    N = len(y)
    n = int(codes.max()) + 1
    Ti = np.bincount(codes, minlength=n).astype(float)
    X = np.hstack([X1, X2])
    if X.shape[1] == 0:
        raise HTError("no time-varying regressors")
    Xw = X - _means(X, codes, n)
    yw = y - _means(y, codes, n)
    bw = np.linalg.lstsq(Xw, yw, rcond=None)[0]
    ew = yw - Xw @ bw
    s2e = float(ew @ ew) / (N - n)
    d = _means(y, codes, n) - _means(X, codes, n) @ bw
    one = np.ones((N, 1)) if constant else np.zeros((N, 0))
    Zc = np.hstack([one, Z1, Z2])
    if Zc.shape[1]:
        _, _, r2 = _tsls(d, Zc, np.hstack([one, X1, Z1]))
    else:
        r2 = d
    s2u = (float(r2 @ r2) / n - s2e) / (N / n)
    s2u = max(s2u, 0.0)
    theta = 1.0 - np.sqrt(s2e / (s2e + Ti * s2u))
    th = theta[codes]
    R = np.hstack([X1, X2, Z1, Z2, one])
    Rs = R - th[:, None] * _means(R, codes, n)
    ys = y - th * _means(y, codes, n)
    W = [Xw, _means(X1, codes, n), Z1, one]
    if amacurdy_periods is not None:
        W.append(_period_columns(X1, codes, amacurdy_periods, n))
    b, Ainv, es = _tsls(ys, Rs, np.hstack(W))
    s2 = float(es @ es) / (N - R.shape[1])
    return HTFit(b=b, V=s2 * Ainv, sigma_u=float(np.sqrt(s2u)), sigma_e=float(np.sqrt(s2e)),
                 e_within=ew)
