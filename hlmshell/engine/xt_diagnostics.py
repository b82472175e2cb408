"""Panel diagnostic statistics (pure numerics; the commands are in commands.xt_tests).

- wooldridge_serial: Wooldridge's (2002, 10.4.1) test as Drukker's xtserial computes it: OLS of
  the first differences without a constant, then the residuals on their own lag (no constant)
  with standard errors clustered on the panels; under no serial correlation in the levels'
  errors the slope is -0.5; F(1, G-1) = ((b + .5) / se)^2.
- groupwise_wald: Greene's modified Wald statistic for groupwise heteroskedasticity (xttest3):
  sum_i (s_i^2 - s^2)^2 / V_i, V_i = sum_t (e_it^2 - s_i^2)^2 / (T_i (T_i - 1)), chi2(N_g).
- cross_section_corr: the pairwise correlations of residuals across panels over the periods both
  have (Pesaran's CD, the Breusch-Pagan LM) and Friedman's rank statistic (xtcsd, xttest2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _prev_index(panel: np.ndarray, time: np.ndarray, delta: float) -> np.ndarray:
    """For each row (sorted by panel, time), the row of the same panel at time - delta, or -1."""
    prev = np.full(len(panel), -1, dtype=np.int64)
    same = (panel[1:] == panel[:-1]) & np.isclose(time[1:] - time[:-1], delta)
    prev[1:][same] = np.arange(len(panel) - 1)[same]
    return prev


@dataclass
class SerialTest:
    F: float
    df_r: int
    p: float
    b: float
    se: float
    n: int


def wooldridge_serial(y: np.ndarray, X: np.ndarray, panel: np.ndarray, time: np.ndarray,
                      delta: float = 1.0) -> SerialTest:
    """Rows sorted by panel then time; y, X without missing values."""
    from hlmshell import distributions as dist
    prev = _prev_index(panel, time, delta)
    ok = prev >= 0
    dy = y[ok] - y[prev[ok]]
    dX = X[ok] - X[prev[ok]]
    rows = np.flatnonzero(ok)
    beta = np.linalg.lstsq(dX, dy, rcond=None)[0] if dX.shape[1] else np.zeros(0)
    e = dy - dX @ beta
    res = np.full(len(y), np.nan)
    res[rows] = e
    lag = np.where(prev >= 0, res[np.maximum(prev, 0)], np.nan)
    use = ~np.isnan(res) & ~np.isnan(lag)
    r, lr, g = res[use], lag[use], panel[use]
    n = len(r)
    sxx = float(lr @ lr)
    b = float(lr @ r) / sxx
    u = r - b * lr
    _, codes = np.unique(g, return_inverse=True)
    G = int(codes.max()) + 1
    scores = np.bincount(codes, weights=lr * u, minlength=G)
    V = float(scores @ scores) / sxx ** 2 * (n - 1) / (n - 1) * G / (G - 1)
    se = math.sqrt(V)
    F = ((b + 0.5) / se) ** 2
    return SerialTest(F, G - 1, float(dist.f_sf(F, 1, G - 1)), b, se, n)


def groupwise_wald(e: np.ndarray, codes: np.ndarray) -> tuple[float, int]:
    """Greene's modified Wald statistic and its degrees of freedom (the number of panels)."""
    G = int(codes.max()) + 1
    T = np.bincount(codes, minlength=G).astype(float)
    e2 = e * e
    s2_i = np.bincount(codes, weights=e2, minlength=G) / T
    s2 = float(e2.sum() / len(e))
    with np.errstate(divide="ignore", invalid="ignore"):
        V = np.bincount(codes, weights=(e2 - s2_i[codes]) ** 2, minlength=G) / (T * (T - 1))
        w = float(np.sum((s2_i - s2) ** 2 / V))
    return w, G


def residual_matrix(e: np.ndarray, panel_codes: np.ndarray, time_codes: np.ndarray) -> np.ndarray:
    """T x N matrix of residuals (NaN where a panel has no observation at that time)."""
    N, T = int(panel_codes.max()) + 1, int(time_codes.max()) + 1
    M = np.full((T, N), np.nan)
    M[time_codes, panel_codes] = e
    return M


def pairwise_corr(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correlations of each pair of columns over their common rows, and those row counts."""
    N = M.shape[1]
    R = np.full((N, N), np.nan)
    C = np.zeros((N, N), dtype=np.int64)
    obs = ~np.isnan(M)
    for i in range(N):
        for j in range(i, N):
            both = obs[:, i] & obs[:, j]
            C[i, j] = C[j, i] = int(both.sum())
            if C[i, j] > 2:
                a, b = M[both, i], M[both, j]
                a, b = a - a.mean(), b - b.mean()
                d = math.sqrt(float(a @ a) * float(b @ b))
                R[i, j] = R[j, i] = float(a @ b) / d if d > 0 else np.nan
    return R, C


def pesaran_cd(R: np.ndarray, C: np.ndarray) -> float:
    N = R.shape[0]
    iu = np.triu_indices(N, 1)
    r, t = R[iu], C[iu]
    ok = ~np.isnan(r)
    return float(math.sqrt(2.0 / (N * (N - 1))) * np.sum(np.sqrt(t[ok]) * r[ok]))


def mean_abs_offdiag(R: np.ndarray) -> float:
    iu = np.triu_indices(R.shape[0], 1)
    r = R[iu]
    return float(np.nanmean(np.abs(r)))


def spearman_matrix(M: np.ndarray) -> np.ndarray:
    """Spearman correlations of the columns of a complete T x N matrix."""
    from scipy.stats import rankdata
    ranks = np.column_stack([rankdata(M[:, j]) for j in range(M.shape[1])])
    return np.corrcoef(ranks, rowvar=False)


def friedman(M: np.ndarray) -> tuple[float, int, float]:
    """Friedman's statistic (T-1)((N-1) R_ave + 1) on chi2(T-1) over the complete rows, with
    R_ave the mean Spearman correlation of the pairs of panels."""
    full = M[~np.isnan(M).any(axis=1)]
    T, N = full.shape
    S = spearman_matrix(full)
    r_ave = float(S[np.triu_indices(N, 1)].mean())
    return (T - 1) * ((N - 1) * r_ave + 1), T - 1, r_ave


def frees_q(M: np.ndarray) -> tuple[float, float]:
    """Frees' statistic (N-1)(R_ave^2 - 1/(T-1)) with R_ave^2 the mean squared Spearman
    correlation, over the complete rows; and T."""
    full = M[~np.isnan(M).any(axis=1)]
    T, N = full.shape
    S = spearman_matrix(full)
    r2 = float((S[np.triu_indices(N, 1)] ** 2).mean())
    return (N - 1) * (r2 - 1.0 / (T - 1)), T


def frees_critical(T: int, alphas=(0.10, 0.05, 0.01)) -> list[float]:
    """Quantiles of Frees' Q = a(T)(x1 - (T-1)) + b(T)(x2 - T(T-3)/2), x1 ~ chi2(T-1),
    x2 ~ chi2(T(T-3)/2) independent, by numerical convolution of the two densities."""
    from scipy import stats
    a = 4 * (T + 2) / (5 * (T - 1) ** 2 * (T + 1))
    b = 2 * (5 * T + 6) / (5 * T * (T - 1) * (T + 1))
    d1, d2 = T - 1, T * (T - 3) / 2
    x2 = stats.chi2.ppf(np.linspace(1e-6, 1 - 1e-6, 20001), d2)
    w = np.full(len(x2), 1.0 / len(x2))
    out = []
    for al in alphas:
        def tail(q):
            x1_needed = (q - b * (x2 - d2)) / a + d1
            return float(np.sum(w * stats.chi2.sf(x1_needed, d1)))
        lo, hi = -10.0, 10.0
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            if tail(mid) > al:
                lo = mid
            else:
                hi = mid
        out.append(0.5 * (lo + hi))
    return out


def bp_lm(M: np.ndarray) -> tuple[float, int, int, np.ndarray]:
    """Breusch-Pagan LM statistic T * sum_{i<j} r_ij^2 over the complete rows (xttest2), its
    degrees of freedom N(N-1)/2, T, and the correlation matrix."""
    full = M[~np.isnan(M).any(axis=1)]
    T, N = full.shape
    R = np.corrcoef(full, rowvar=False)
    return float(T * np.sum(R[np.triu_indices(N, 1)] ** 2)), N * (N - 1) // 2, T, R


def overid_re(y: np.ndarray, X: np.ndarray, codes: np.ndarray, theta: np.ndarray,
              robust: bool) -> tuple[float, int]:
    """Sargan-Hansen test of the random-effects orthogonality conditions (Schaffer and
    Stillman's xtoverid) by Arellano's artificial regression: regress the quasi-demeaned
    y - theta_i ybar_i on the quasi-demeaned regressors (constant included) and the within
    deviations of the regressors that vary within panels; the statistic is the Wald test that
    the latter are zero, with the panel-clustered sandwich (no small-sample factor) when
    robust, else with e'e/N (Sargan). X holds the regressors without the constant."""
    G = int(codes.max()) + 1
    T = np.bincount(codes, minlength=G).astype(float)

    def means(v):
        return np.stack([np.bincount(codes, weights=v[:, j], minlength=G) for j in range(v.shape[1])],
                        axis=1) / T[:, None]
    Xc = np.column_stack([X, np.ones(len(y))])
    th = theta[codes][:, None]
    ys = y - theta[codes] * (np.bincount(codes, weights=y, minlength=G) / T)[codes]
    Xs = Xc - th * means(Xc)[codes]
    W = X - means(X)[codes] if X.shape[1] else np.zeros((len(y), 0))
    varies = np.array([float(W[:, j] @ W[:, j]) > 1e-12 * max(float(X[:, j] @ X[:, j]), 1e-300)
                       for j in range(W.shape[1])], dtype=bool)
    W = W[:, varies]
    Z = np.column_stack([Xs, W])
    ZZi = np.linalg.pinv(Z.T @ Z)
    b = ZZi @ Z.T @ ys
    u = ys - Z @ b
    if robust:
        S = np.stack([np.bincount(codes, weights=Z[:, j] * u, minlength=G) for j in range(Z.shape[1])],
                     axis=1)
        V = ZZi @ (S.T @ S) @ ZZi
    else:
        V = ZZi * float(u @ u) / len(y)
    k = W.shape[1]
    idx = np.arange(Z.shape[1] - k, Z.shape[1])
    bw = b[idx]
    stat = float(bw @ np.linalg.solve(V[np.ix_(idx, idx)], bw)) if k else 0.0
    return stat, k
