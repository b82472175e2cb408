"""Weighted least squares with Stata's four weight types, as `regress [weight]` reports it.

fweight: each observation stands for w copies (N = sum w); aweight: weights inversely
proportional to the variance, rescaled to sum to the number of observations (N = n); iweight:
taken as given (N = sum w); pweight: sampling weights, rescaled like aweights, always with the
robust (sandwich) variance. The fit is least squares on sqrt(w)-scaled rows; the sums of
squares, R-squared and the log likelihood are weighted ones, as Stata's are.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.engine import ols

NAN = float("nan")


def normalised(w: np.ndarray, kind: str) -> np.ndarray:
    """aweights and pweights sum to the number of observations; the others as given."""
    w = np.asarray(w, dtype=float)
    return w * (len(w) / w.sum()) if kind in ("aweight", "pweight") else w


def regress(y, X, w, kind: str, *, constant: bool) -> ols.Regression:
    y = np.asarray(y, dtype=float).reshape(-1)
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    w = normalised(w, kind)
    n_w = float(w.sum()) if kind in ("fweight", "iweight") else float(len(y))
    sw = np.sqrt(w)
    f = ols.fit(sw * y, sw[:, None] * X)
    k = f.p
    e = y - X @ f.beta
    rss = float(np.sum(w * e * e))
    ybar = float(np.sum(w * y) / np.sum(w))
    tss0 = float(np.sum(w * (y - ybar) ** 2))        # about the weighted mean
    if constant:
        mss = max(tss0 - rss, 0.0)
    else:
        fitted = X @ f.beta
        mss = float(np.sum(w * fitted * fitted))
    tss = mss + rss
    N = int(round(n_w))
    df_r = N - k
    df_m = k - (1 if constant else 0)
    if df_r <= 0:
        return ols.Regression(beta=f.beta, V=np.zeros((k, k)), N=N, df_m=df_m, df_r=max(df_r, 0),
                              mss=mss, rss=rss, tss=tss, F=NAN, pF=NAN,
                              r2=mss / tss if tss else NAN, r2_a=NAN, rmse=0.0,
                              ll=_ll(rss, n_w), ll_0=_ll(tss0, n_w))
    s2 = rss / df_r
    F = (mss / df_m) / s2 if df_m > 0 and s2 > 0 else (0.0 if df_m == 0 else NAN)
    pF = float(dist.f_sf(F, df_m, df_r)) if df_m > 0 and math.isfinite(F) else NAN
    r2 = mss / tss if tss else NAN
    r2_a = 1 - (1 - r2) * (N - (1 if constant else 0)) / df_r if math.isfinite(r2) else NAN
    return ols.Regression(beta=f.beta, V=s2 * f.XtX_inv, N=N, df_m=df_m, df_r=df_r, mss=mss,
                          rss=rss, tss=tss, F=F, pF=pF, r2=r2, r2_a=r2_a, rmse=math.sqrt(s2),
                          ll=_ll(rss, n_w), ll_0=_ll(tss0, n_w))


def _ll(ss: float, n: float) -> float:
    return -0.5 * n * (math.log(2 * math.pi) + math.log(ss / n) + 1) if ss > 0 and n > 0 else NAN


def robust_vce(y, X, w, kind: str, beta, clusters=None) -> tuple[np.ndarray, int]:
    """The sandwich (X'WX)^-1 M (X'WX)^-1 with Stata's small-sample factor: frequency
    weights count as copies (M = sum w e^2 x x', N = sum w); the others weight the scores
    (M = sum (w e x)(w e x)', N = n). Clusters: scores summed within clusters and
    G/(G-1) (N-1)/(N-k). Returns (V, number of clusters or 0)."""
    y = np.asarray(y, dtype=float).reshape(-1)
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    w = normalised(w, kind)
    e = y - X @ beta
    k = X.shape[1]
    bread = np.linalg.inv(X.T @ (w[:, None] * X))
    copies = kind in ("fweight", "iweight")
    N = float(w.sum()) if copies else float(len(y))
    if clusters is None:
        if copies:
            meat = (X * (w * e * e)[:, None]).T @ X
        else:
            S = X * (w * e)[:, None]
            meat = S.T @ S
        q = N / (N - k)
        G = 0
    else:
        _, codes = np.unique(clusters, return_inverse=True)
        G = int(codes.max()) + 1
        S = np.zeros((G, k))
        np.add.at(S, codes, X * (w * e)[:, None])
        meat = S.T @ S
        q = G / (G - 1) * (N - 1) / (N - k) if G > 1 else NAN
    V = q * bread @ meat @ bread
    return 0.5 * (V + V.T), G
