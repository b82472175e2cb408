"""Tests of independence in a two-way table of survey data, as Stata's svy: tabulate twoway
reports them ([SVY] svy: tabulate twoway, Methods and formulas).

Pearson: the uncorrected X2 = m sum (p_rc - p_r p_c)^2 / (p_r p_c) from the weighted cell
proportions, m the number of observations, and Rao and Scott's second-order correction: with
C the interaction contrasts orthogonal to the main effects (in the cell space) and D the
diagonal of the cell proportions,

    Delta = (C' D^-1 C / m)^-1 (C' D^-1 V D^-1 C)

the design effects matrix of the contrasts (V the design covariance of the cell proportions);
F = X2 / tr(Delta) is referred to an F(d, d nu) with d = tr(Delta)^2 / tr(Delta^2) and nu the
design df. The eigenvalues of Delta are the generalized design effects: their mean and
coefficient of variation are e(mgdeff) and e(cvgdeff).

The likelihood-ratio G2 = 2 m sum p_rc ln(p_rc / (p_r p_c)) is corrected by the same Delta.

Wald (Pearson): Y_rc = N_rc - N_r. N_.c / N for r < R, c < C, its linearized covariance from
that of the cell totals, X2_W = Y' V_Y^-1 Y; unadjusted F = X2_W / k on (k, nu), adjusted
F = (nu - k + 1) / (nu k) X2_W on (k, nu - k + 1), k = (R - 1)(C - 1).

Cells are in row-major order (p11 p12 ... p1C p21 ...), as e(b) holds them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PearsonTest:
    chi2: float             # uncorrected X2
    df: int                 # (R - 1)(C - 1)
    F: float
    df1: float
    df2: float
    p: float
    mean_deff: float
    cv_deff: float
    lr_chi2: float = float("nan")   # G2 = 2 m sum p_rc ln(p_rc / (p_r p_c)), corrected by the same Delta
    lr_F: float = float("nan")
    lr_p: float = float("nan")


@dataclass
class WaldTest:
    chi2: float
    df: int
    F_unadj: float
    p_unadj: float
    F: float
    df2: float
    p: float


def _main_and_interaction(R: int, C: int) -> tuple[np.ndarray, np.ndarray]:
    """Main-effects design (constant, row and column dummies) and the interaction dummies
    over the R x C cells in row-major order."""
    rows = np.repeat(np.arange(R), C)
    cols = np.tile(np.arange(C), R)
    X1 = np.column_stack([np.ones(R * C)] + [(rows == i).astype(float) for i in range(1, R)]
                         + [(cols == j).astype(float) for j in range(1, C)])
    X12 = np.column_stack([((rows == i) & (cols == j)).astype(float)
                           for i in range(1, R) for j in range(1, C)])
    return X1, X12


def pearson(P: np.ndarray, V: np.ndarray, m: float, nu: float) -> PearsonTest | None:
    """The Pearson test of the R x C proportions P (summing to 1) with design covariance V
    of their row-major vector; None when a margin is zero or the table has one row or column."""
    from hlmshell import distributions as dist

    R, C = P.shape
    pr, pc = P.sum(axis=1), P.sum(axis=0)
    if R < 2 or C < 2 or np.any(pr <= 0) or np.any(pc <= 0):
        return None
    E = np.outer(pr, pc)
    X2 = float(m * np.sum((P - E) ** 2 / E))
    X1, X12 = _main_and_interaction(R, C)
    Cm = X12 - X1 @ np.linalg.lstsq(X1, X12, rcond=None)[0]
    p = P.reshape(-1)
    idiag = np.where(p > 0, 1.0 / np.where(p > 0, p, 1.0), 0.0)
    A = Cm * idiag[:, None]                        # D^-1 C
    denom = Cm.T @ A / m
    numr = A.T @ V @ A
    k = (R - 1) * (C - 1)
    try:
        delta = np.linalg.solve(denom, numr)
    except np.linalg.LinAlgError:
        return PearsonTest(X2, k, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan)
    tr, tr2 = float(np.trace(delta)), float(np.trace(delta @ delta))
    if not (np.isfinite(tr) and tr > 0 and tr2 > 0):
        return PearsonTest(X2, k, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan)
    d = tr * tr / tr2
    F = X2 / tr
    mean = tr / k
    cv = float(np.sqrt(max(tr2 / k / (mean * mean) - 1.0, 0.0)))
    pos = P > 0
    G2 = float(2.0 * m * np.sum(P[pos] * np.log(P[pos] / E[pos])))
    return PearsonTest(X2, k, F, d, d * nu, float(dist.f_sf(F, d, d * nu)), mean, cv,
                       G2, G2 / tr, float(dist.f_sf(G2 / tr, d, d * nu)))


def wald(N: np.ndarray, VN: np.ndarray, nu: float) -> WaldTest | None:
    """The Wald test of independence from the R x C weighted totals N and the design
    covariance VN of their row-major vector."""
    from hlmshell import distributions as dist

    R, C = N.shape
    if R < 2 or C < 2:
        return None
    Nr, Nc, Nt = N.sum(axis=1), N.sum(axis=0), float(N.sum())
    if Nt <= 0:
        return None
    pairs = [(r, c) for r in range(R - 1) for c in range(C - 1)]
    Y = np.array([N[r, c] - Nr[r] * Nc[c] / Nt for r, c in pairs])
    J = np.zeros((len(pairs), R * C))
    for i, (r, c) in enumerate(pairs):
        for a in range(R):
            for b in range(C):
                J[i, a * C + b] = (float(a == r and b == c) - (float(a == r) * Nc[c] + float(b == c) * Nr[r]) / Nt
                                   + Nr[r] * Nc[c] / (Nt * Nt))
    k = len(pairs)
    try:
        W = float(Y @ np.linalg.solve(J @ VN @ J.T, Y))
    except np.linalg.LinAlgError:
        return WaldTest(np.nan, k, np.nan, np.nan, np.nan, nu - k + 1, np.nan)
    Fu = W / k
    pu = float(dist.f_sf(Fu, k, nu)) if np.isfinite(Fu) else np.nan
    d2 = nu - k + 1
    if d2 < 1 or not np.isfinite(W):
        return WaldTest(W, k, Fu, pu, np.nan, d2, np.nan)
    F = W * d2 / (nu * k)
    return WaldTest(W, k, Fu, pu, F, d2, float(dist.f_sf(F, k, d2)))
