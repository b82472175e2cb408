"""Panel-data instrumental-variables estimators (Stata's xtivreg, [XT] xtivreg).

fe: 2SLS on the within-transformed data (each variable minus its panel mean plus its grand
mean, so a _cons is estimated as xtreg, fe does), residual variance on N - n - K degrees of
freedom. be: 2SLS on the panel means. fd: 2SLS on first differences (with a constant). re:
the variance components from the fe and be fits (sigma_e^2 = within RSS / (N - n - K),
sigma_u^2 = between RSS / (n - K - 1) - sigma_e^2 / T-bar, T-bar the harmonic mean of the
panel sizes), the quasi-demeaning theta_i = 1 - sqrt(sigma_e^2 / (T_i sigma_u^2 + sigma_e^2)),
then Balestra and Varadharajan-Krishnakumar's G2SLS (quasi-demeaned instruments) or
Baltagi's EC2SLS (within and between instruments), the variance from the transformed
residuals on N - K - 1 degrees of freedom (as plm's random-effects IV). Pure numerics.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hlmshell.engine.ivreg import kclass


@dataclass
class XtIvFit:
    b: np.ndarray
    V: np.ndarray
    N: int
    n: int
    rss: float
    df_r: int
    sigma_e: float = float("nan")
    sigma_u: float = float("nan")
    extra: dict = field(default_factory=dict)


def group_means(A: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    """Per-panel means of A's columns (n x p)."""
    cnt = np.bincount(codes, minlength=n).astype(float)
    out = np.zeros((n, A.shape[1]))
    np.add.at(out, codes, A)
    return out / cnt[:, None]


def _tsls(y, X, Z, df_r: int):
    b, Xt = kclass(y, X, Z, 1.0)
    e = y - X @ b
    rss = float(e @ e)
    V = np.linalg.inv(Xt.T @ X) * rss / df_r
    return b, (V + V.T) / 2, e, rss


def fit_fe(y, X, Z, codes, n: int) -> XtIvFit:
    """X and Z end with the constant column; the other columns are within-transformed."""
    N = len(y)
    K = X.shape[1] - 1

    def w(A):
        return A - group_means(A, codes, n)[codes] + A.mean(axis=0)
    yw, Xw, Zw = w(y[:, None])[:, 0], w(X), w(Z)
    Xw[:, -1] = 1.0
    Zw[:, -1] = 1.0
    df_r = N - n - K
    b, V, _, rss = _tsls(yw, Xw, Zw, df_r)
    sigma_e = np.sqrt(rss / df_r)
    u = (group_means(y[:, None], codes, n)[:, 0] - group_means(X, codes, n) @ b)[codes]
    return XtIvFit(b=b, V=V, N=N, n=n, rss=rss, df_r=df_r, sigma_e=float(sigma_e),
                   sigma_u=float(np.std(u, ddof=1)), extra={"u": u})


def fit_be(y, X, Z, codes, n: int) -> XtIvFit:
    yb = group_means(y[:, None], codes, n)[:, 0]
    Xb, Zb = group_means(X, codes, n), group_means(Z, codes, n)
    df_r = n - X.shape[1]
    b, V, _, rss = _tsls(yb, Xb, Zb, df_r)
    return XtIvFit(b=b, V=V, N=len(y), n=n, rss=rss, df_r=df_r, sigma_e=float(np.sqrt(rss / df_r)))


def first_differences(A: np.ndarray, codes: np.ndarray, time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(differences, rows kept): A_t - A_{t-1} within a panel, where t-1 is observed."""
    order = np.lexsort((time, codes))
    c, t = codes[order], time[order]
    ok = (c[1:] == c[:-1]) & (t[1:] - t[:-1] == 1)
    D = A[order][1:] - A[order][:-1]
    return D[ok], order[1:][ok]


def fit_fd(y, X, Z, codes, time, n: int) -> XtIvFit:
    """X and Z end with the constant; the constant of the differenced model is kept."""
    dy, rows = first_differences(y[:, None], codes, time)
    dX, _ = first_differences(X[:, :-1], codes, time)
    dZ, _ = first_differences(Z[:, :-1], codes, time)
    one = np.ones((len(rows), 1))
    dX = np.column_stack([dX, one])
    dZ = np.column_stack([dZ, one])
    df_r = len(rows) - dX.shape[1]
    b, V, _, rss = _tsls(dy[:, 0], dX, dZ, df_r)
    return XtIvFit(b=b, V=V, N=len(rows), n=len(np.unique(codes[rows])), rss=rss, df_r=df_r,
                   sigma_e=float(np.sqrt(rss / df_r)), extra={"rows": rows})


def fit_re(y, X, Z, codes, n: int, ec2sls: bool = False) -> XtIvFit:
    N = len(y)
    fe = fit_fe(y, X, Z, codes, n)
    be = fit_be(y, X, Z, codes, n)
    T = np.bincount(codes, minlength=n).astype(float)
    tbar = n / np.sum(1.0 / T)
    s2e = fe.sigma_e ** 2
    s2u = max(be.rss / be.df_r - s2e / tbar, 0.0)
    theta = 1 - np.sqrt(s2e / (T * s2u + s2e))
    th = theta[codes][:, None]

    def qd(A):
        return A - th * group_means(A, codes, n)[codes]
    ys, Xs = qd(y[:, None])[:, 0], qd(X)
    if ec2sls:
        Zm = group_means(Z, codes, n)[codes]
        Zw = (Z - Zm)[:, :-1]
        Zs = np.column_stack([Zw, Zm])
    else:
        Zs = qd(Z)
    b, Xt = kclass(ys, Xs, Zs, 1.0)
    e = ys - Xs @ b
    V = np.linalg.inv(Xt.T @ Xs) * float(e @ e) / (N - X.shape[1])
    return XtIvFit(b=b, V=(V + V.T) / 2, N=N, n=n, rss=float(e @ e), df_r=N - X.shape[1],
                   sigma_e=float(np.sqrt(s2e)), sigma_u=float(np.sqrt(s2u)),
                   extra={"theta": theta})


def r2_three(y, X, b, codes, n: int) -> tuple[float, float, float]:
    """xtreg's within, between and overall R-squared: squared correlations of the fitted
    index with y in the within, between and pooled metrics."""
    xb = X @ b
    ym, xm = group_means(y[:, None], codes, n)[:, 0], group_means(xb[:, None], codes, n)[:, 0]

    def c2(a, c):
        return float(np.corrcoef(a, c)[0, 1] ** 2) if np.std(a) > 0 and np.std(c) > 0 else float("nan")
    return (c2(y - ym[codes], xb - xm[codes]), c2(ym, xm), c2(y, xb))
