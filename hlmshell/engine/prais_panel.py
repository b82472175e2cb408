"""AR(1) disturbances within panels, as xtpcse and xtgls treat them ([XT] xtpcse and [XT]
xtgls Methods and formulas): an autocorrelation per panel from residuals (rhotype), a common
one as their weighted average (corr(ar1)) or each panel its own (corr(psar1)), and the
Prais-Winsten transform that makes the disturbances serially uncorrelated:

    z*_it = z_it - rho_i z_i,t-1        when period t-1 of panel i is observed,
    z*_it = sqrt(1 - rho_i^2) z_it     at the start of a panel (or of a run after a gap).

Arrays are in panel-then-time order (see `order`). Numerics only.
"""
from __future__ import annotations

import numpy as np

RHOTYPES = ("regress", "freg", "tscorr", "dw", "theil", "nagar")


def order(panel: np.ndarray, time: np.ndarray) -> np.ndarray:
    """The permutation that sorts observations by panel, then time."""
    return np.lexsort((time, panel))


def has_previous(panel: np.ndarray, time: np.ndarray, delta: float = 1.0) -> np.ndarray:
    """True where the observation's previous period (time - delta) of the same panel is the
    preceding row (sorted arrays)."""
    prev = np.zeros(len(panel), dtype=bool)
    prev[1:] = (panel[1:] == panel[:-1]) & np.isclose(time[1:] - time[:-1], delta)
    return prev


def panel_rhos(e: np.ndarray, panel: np.ndarray, prev: np.ndarray, rhotype: str, k: int,
               n_panels: int, bound: bool = True) -> np.ndarray:
    """Each panel's autocorrelation of the residuals e (sorted arrays), by [TS] prais's
    rhotype formulas with the panel's T_i as N; bounded to [-1, 1] (unless bound=False). A
    panel without two consecutive periods gets 0."""
    lag = np.zeros_like(e)
    lag[1:] = e[:-1]
    lag[~prev] = 0.0
    cur = np.where(prev, e, 0.0)

    def by(w):
        return np.bincount(panel, weights=w, minlength=n_panels)

    cross, lag2, cur2 = by(cur * lag), by(lag * lag), by(cur * cur)
    ee, T = by(e * e), by(np.ones_like(e))
    dw_num = by(np.where(prev, (e - lag) ** 2, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        if rhotype == "regress":
            rho = cross / lag2
        elif rhotype == "freg":
            rho = cross / cur2
        elif rhotype in ("tscorr", "theil"):
            rho = cross / ee
            if rhotype == "theil":
                rho = rho * (T - k) / T
        else:
            rho = 1.0 - dw_num / ee / 2.0
            if rhotype == "nagar":
                rho = (rho * T * T + k * k) / (T * T - k * k)
    rho = np.where(np.isfinite(rho) & (by(prev.astype(float)) > 0), rho, 0.0)
    return np.clip(rho, -1.0, 1.0) if bound else rho


def common_rho(rhos: np.ndarray, panel: np.ndarray, prev: np.ndarray, n_panels: int,
               np1: bool) -> float:
    """The common autocorrelation of corr(ar1): the panels' rhos averaged with weights T_i - 1
    (the pairs each panel has), or T_i with np1."""
    w = np.bincount(panel, weights=prev.astype(float), minlength=n_panels)
    if np1:
        w = np.bincount(panel, minlength=n_panels).astype(float)
    return float(np.sum(w * rhos) / np.sum(w)) if np.sum(w) > 0 else 0.0


def transform(Z: np.ndarray, rho_obs: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """Prais-Winsten transform of the rows of Z (a vector or a matrix), rho per observation."""
    Z = np.asarray(Z, dtype=float)
    lagged = np.zeros_like(Z)
    lagged[1:] = Z[:-1]
    r = rho_obs if Z.ndim == 1 else rho_obs[:, None]
    p = prev if Z.ndim == 1 else prev[:, None]
    return np.where(p, Z - r * lagged, np.sqrt(np.clip(1.0 - r * r, 0.0, None)) * Z)


def rho_per_obs(e, panel, prev, n_panels, corr: str, rhotype: str, k: int, np1: bool = False):
    """(rho for each observation, the panels' rhos as reported, whether any panel's rho had to
    be bounded to [-1, 1]): common for ar1 (one value repeated), panel-specific for psar1."""
    raw = panel_rhos(e, panel, prev, rhotype, k, n_panels, bound=False)
    rhos = np.clip(raw, -1.0, 1.0)
    if corr == "ar1":
        rhos = np.full(n_panels, common_rho(rhos, panel, prev, n_panels, np1))
    return rhos[panel], rhos, bool(np.any(np.abs(raw) > 1.0))


def ar1_log_jacobian(rhos: np.ndarray, panel_first_runs: np.ndarray) -> float:
    """0.5 * sum log(1 - rho_i^2) over the runs that start the panels' series: the part of the
    exact AR(1) Gaussian log likelihood the transformed residuals do not carry."""
    r = np.clip(rhos[panel_first_runs], -0.999999999, 0.999999999)
    return float(0.5 * np.sum(np.log(1.0 - r * r)))


def gls_correlated(y: np.ndarray, X: np.ndarray, panel: np.ndarray, tcode: np.ndarray,
                   Sigma_inv: np.ndarray):
    """GLS with Omega = Sigma kron I_T (contemporaneous covariance between panels):
    returns (b, (X' Omega^-1 X)^-1). panel/tcode: codes 0..N-1, 0..T-1, one row per pair."""
    N, T = Sigma_inv.shape[0], int(tcode.max()) + 1
    k = X.shape[1]
    Xa = np.zeros((T, N, k))
    ya = np.zeros((T, N))
    Xa[tcode, panel] = X
    ya[tcode, panel] = y
    A = np.einsum("tik,ij,tjl->kl", Xa, Sigma_inv, Xa)
    c = np.einsum("tik,ij,tj->k", Xa, Sigma_inv, ya)
    Ainv = np.linalg.inv(A)
    return Ainv @ c, Ainv


def contemporaneous_sigma(e: np.ndarray, panel: np.ndarray, tcode: np.ndarray, N: int) -> np.ndarray:
    """Sigma_ij = sum_t e_it e_jt / T over a balanced panel's periods."""
    T = int(tcode.max()) + 1
    E = np.zeros((T, N))
    E[tcode, panel] = e
    return E.T @ E / T
