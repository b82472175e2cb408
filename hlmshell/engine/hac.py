"""Newey-West (Bartlett-kernel HAC) covariance of OLS coefficients, as Stata's `newey`.

newey keeps the OLS (or aweighted least-squares) coefficients and replaces their covariance by

    V = N/(N-k) (X'WX)^-1 Omega (X'WX)^-1
    Omega = sum_t s_t s_t' + sum_{l=1..m} (1 - l/(m+1)) sum_t (s_t s_{t-l}' + s_{t-l} s_t')

with scores s_t = w_t e_t x_t (w = 1 without weights; aweights scaled to mean 1) and m the
maximum lag. The rows come sorted by panel and time; lag l pairs each row with the row l
places before it in the same panel (Stata's [_n-l] on data ordered by the time variable, so
a gap in time is bridged only when the caller allowed it with `force`). With one panel and no
weights this is sandwich::NeweyWest(fit, lag = m, prewhite = FALSE, adjust = TRUE) in R.
"""
from __future__ import annotations

import numpy as np


def bartlett_meat(S: np.ndarray, panels: np.ndarray | None, lag: int) -> np.ndarray:
    """Omega from the score rows S (n x k, sorted by panel and time); panels: a code per row
    (None: one series). Pairs never cross panels."""
    S = np.asarray(S, dtype=float)
    omega = S.T @ S
    n = S.shape[0]
    for l in range(1, min(int(lag), n - 1) + 1):
        a, b = S[l:], S[:-l]
        if panels is not None:
            same = panels[l:] == panels[:-l]
            a, b = a[same], b[same]
        g = a.T @ b
        omega += (1.0 - l / (lag + 1.0)) * (g + g.T)
    return omega


def newey_vce(X: np.ndarray, e: np.ndarray, lag: int, *, weights: np.ndarray | None = None,
              panels: np.ndarray | None = None) -> np.ndarray:
    """V of the coefficients (k x k) for the design X (full column rank) and residuals e, rows
    sorted by panel and time; weights are aweights already scaled to mean 1."""
    X = np.asarray(X, dtype=float)
    e = np.asarray(e, dtype=float).reshape(-1)
    n, k = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    bread = np.linalg.inv(X.T @ (w[:, None] * X))
    S = (w * e)[:, None] * X
    V = bread @ bartlett_meat(S, panels, lag) @ bread * (n / (n - k))
    return (V + V.T) / 2.0


def wald_f(b: np.ndarray, V: np.ndarray) -> tuple[float, int]:
    """F = b' V^-1 b / q and q for the tested coefficients (missing when V is singular)."""
    b = np.asarray(b, dtype=float).reshape(-1)
    q = len(b)
    if q == 0:
        return float("nan"), 0
    try:
        W = float(b @ np.linalg.solve(np.asarray(V, dtype=float), b))
    except np.linalg.LinAlgError:
        return float("nan"), q
    return W / q, q
