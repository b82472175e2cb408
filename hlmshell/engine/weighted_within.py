"""areg's weighted fit: least squares on the slopes and one indicator per absorbed group, with
Stata's fweights, aweights or pweights (engine.panel.fit_within is the unweighted fit).

Why a separate route: with weights the group indicators are swept out by *weighted* group
means, and the statistics count observations by the weight type:
- fweight: every row is w copies (N = sum w): the expanded data's fit and statistics;
- aweight / pweight: the weights are rescaled to sum to the number of rows (N = rows), which
  leaves the coefficients and the sandwich unchanged and gives Stata's rss, Root MSE and
  conventional VCE; pweights always take the robust VCE (the caller asks for it).
The constant is reported as areg does: the regression on x_i - xbar_g + xbar (weighted means)
with a constant, so _cons = ybar - xbar'b over the whole (weighted) sample, with its standard
error from that regression. Degrees of freedom N - k - G count the absorbed means.
Robust: meat sum_i w_i (e_i x_i)(e_i x_i)' for fweights (each copy its own observation),
sum_i (w_i e_i x_i)(...)' otherwise, times N / (N - k - G); clusters: sums of w_i e_i x_i per
cluster, times C/(C-1) (N-1)/(N-k-G) (areg's small-sample factor).
"""
from __future__ import annotations

import math

import numpy as np

from . import ols
from .panel import Panels, WithinFit, wald

NAN = math.nan


def _wmeans(v: np.ndarray, codes: np.ndarray, w: np.ndarray, G: int) -> np.ndarray:
    """Weighted group means of the columns of v (n x m): G x m."""
    sw = np.bincount(codes, weights=w, minlength=G)
    out = np.empty((G, v.shape[1]))
    for j in range(v.shape[1]):
        out[:, j] = np.bincount(codes, weights=w * v[:, j], minlength=G) / sw
    return out


def _independent(Z: np.ndarray, tol: float = 1e-9) -> list[int]:
    """Columns of Z kept left to right, each dropped when (nearly) in the span of those kept."""
    kept: list[int] = []
    for j in range(Z.shape[1]):
        c = Z[:, j]
        nrm = float(np.linalg.norm(c))
        if nrm == 0:
            continue
        if kept:
            Q, _ = np.linalg.qr(Z[:, kept])
            c = c - Q @ (Q.T @ c)
        if float(np.linalg.norm(c)) > tol * nrm:
            kept.append(j)
    return kept


def fit(y, X, cons: int, P: Panels, w, kind: str, clusters=None,
        robust: bool = False, dfadj: bool = True) -> WithinFit:
    """The weighted dummy-variable regression of y on the columns of X (column `cons` the
    constant) and one indicator per group of P; w the weights (positive), kind fweight,
    aweight or pweight; clusters (codes 0..C-1) or robust for the sandwich. dfadj: the
    cluster factor counts the absorbed means, (N-1)/(N-k-G) (areg); without it
    (N-1)/(N-k-1), as xtreg, fe with its panels nested in the clusters."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    n = len(y)
    X = np.asarray(X, dtype=np.float64).reshape(n, -1)
    w = np.asarray(w, dtype=np.float64).reshape(n)
    if kind != "fweight":
        w = w * (n / w.sum())
    N = float(w.sum()) if kind == "fweight" else float(n)
    G, p = P.n_groups, X.shape[1]
    codes = P.codes
    slopes = [j for j in range(p) if j != cons]
    V_all = np.column_stack([y, X[:, slopes]]) if slopes else y[:, None]
    gm = _wmeans(V_all, codes, w, G)
    grand = (w @ V_all) / N
    T = V_all - gm[codes] + grand[None, :]            # x - xbar_g + xbar (weighted)
    sw = np.sqrt(w)
    ones = np.ones(n)
    Zs = (T[:, 1:] - grand[None, 1:]) * sw[:, None]   # within part, for the rank check
    kept_s = _independent(Zs) if slopes else []
    k = len(kept_s)
    df_r = N - G - k
    if df_r <= 0:
        raise ArithmeticError("insufficient observations")
    Z = np.column_stack([T[:, 1:][:, kept_s], ones]) * sw[:, None]
    f = ols.fit(T[:, 0] * sw, Z)
    rss = f.rss
    s2 = rss / df_r
    idx = [slopes[j] for j in kept_s] + [cons]
    beta = np.zeros(p)
    beta[idx] = f.beta
    V = np.zeros((p, p))
    V[np.ix_(idx, idx)] = s2 * f.XtX_inv
    e = T[:, 0] - (Z / sw[:, None]) @ f.beta          # the residuals of the indicator model
    V_rob, nclust = None, 0
    if clusters is not None or robust:
        Zu = Z / sw[:, None]                          # unweighted regressors
        if clusters is None:
            scores = Zu * (e * (w if kind != "fweight" else 1.0))[:, None]
            m = w if kind == "fweight" else np.ones(n)
            meat = (scores * m[:, None]).T @ scores
            q = N / df_r
        else:
            nclust = int(clusters.max()) + 1
            S = np.zeros((nclust, Zu.shape[1]))
            np.add.at(S, clusters, Zu * (w * e)[:, None])
            meat = S.T @ S
            dof = df_r if dfadj else N - k - 1
            q = nclust / (nclust - 1) * (N - 1) / dof if nclust > 1 else NAN
        Vr = q * f.XtX_inv @ meat @ f.XtX_inv
        V_rob = np.zeros((p, p))
        V_rob[np.ix_(idx, idx)] = 0.5 * (Vr + Vr.T)
    ybar = grand[0]
    tss = float(w @ (y - ybar) ** 2)
    tss_within = float(w @ (y - gm[codes, 0]) ** 2)
    Xk = X[:, idx]
    pooled = ols.fit(y * sw, Xk * sw[:, None]).rss
    kept = [slopes[j] for j in kept_s]
    Vtest = V if V_rob is None else V_rob
    Wt, rank = wald(beta[kept], Vtest[np.ix_(kept, kept)])
    F = Wt / k if k and rank == k else NAN
    dropped = np.array([j != cons and j not in kept for j in range(p)])
    return WithinFit(beta=beta, V=V, V_robust=V_rob, dropped=dropped, N=N, n_groups=G, k=k,
                     df_r=df_r, rss=rss, tss=tss, tss_within=tss_within, rss_pooled=pooled,
                     sigma_u=NAN, sigma_e=math.sqrt(s2), corr=NAN,
                     r2_w=1.0 - rss / tss_within if tss_within > 0 else NAN, r2_b=NAN, r2_o=NAN,
                     F=F, F_rank=rank,
                     F_f=((pooled - rss) / (G - 1)) / s2 if G > 1 and s2 > 0 else NAN,
                     n_clusters=nclust)
