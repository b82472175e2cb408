"""Feasible GLS for panels with AR(1) disturbances and/or correlated panels: what xtgls fits
for corr(ar1|psar1) and panels(correlated) ([XT] xtgls Methods and formulas).

Two-step: OLS residuals give the autocorrelations (engine/prais_panel.py) and the data are
Prais-Winsten transformed; OLS on the transformed data gives residuals e* whose variances
define the panels' error structure: sigma^2 I (iid), sigma_i^2 per panel (heteroskedastic) or
the contemporaneous covariance Sigma (correlated, Omega = Sigma kron I_T); GLS on the
transformed data with that structure gives the coefficients. With igls the residuals of the
GLS fit feed the next round until the coefficients settle. The log likelihood is the Gaussian
one of the transformed residuals plus the transform's Jacobian (0.5 sum log(1 - rho_i^2)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hlmshell.engine import prais_panel as pw


@dataclass
class FglsFit:
    b: np.ndarray
    V: np.ndarray
    rhos: np.ndarray | None      # the panels' rhos (one value for ar1), None without AR(1)
    e: np.ndarray                # untransformed residuals y - Xb, caller's order
    ll: float
    iterations: int
    tolerances: list             # igls: each iteration's relative change in b (mreldif)


def _structure(es, pc, tcode, N, panels):
    """The variance structure from transformed residuals: per-observation variances, or
    the N x N Sigma for correlated panels."""
    if panels == "correlated":
        return pw.contemporaneous_sigma(es, pc, tcode, N)
    if panels == "heteroskedastic":
        T = np.bincount(pc, minlength=N).astype(float)
        s2 = np.bincount(pc, weights=es * es, minlength=N) / T
        if np.any(s2 <= 0):
            raise np.linalg.LinAlgError("a panel has no residual variance")
        return s2
    return np.full(N, float(es @ es) / len(es))


def _gls(ys, Xs, pc, tcode, panels, S):
    if panels == "correlated":
        return pw.gls_correlated(ys, Xs, pc, tcode, np.linalg.inv(S))
    w = 1.0 / S[pc]
    Ainv = np.linalg.inv((Xs * w[:, None]).T @ Xs)
    return Ainv @ ((Xs * w[:, None]).T @ ys), Ainv


def _loglik(es, pc, tcode, panels, S, N):
    if panels == "correlated":
        T = int(tcode.max()) + 1
        E = np.zeros((T, N))
        E[tcode, pc] = es
        _, logdet = np.linalg.slogdet(S)
        quad = float(np.einsum("ti,ij,tj->", E, np.linalg.inv(S), E))
        return -0.5 * (N * T * math.log(2 * math.pi) + T * logdet + quad)
    s2 = S[pc]
    return -0.5 * float(np.sum(np.log(2 * math.pi * s2) + es * es / s2))


def fgls(y, X, pc, tvals, panels: str, corr: str, rhotype: str = "regress", igls: bool = False,
         nmk: bool = False, delta: float = 1.0, tol: float = 1e-7, maxiter: int = 100) -> FglsFit:
    """panels: iid, heteroskedastic or correlated; corr: independent, ar1 or psar1.
    pc: panel codes 0..N-1; tvals: the time values (equally spaced by delta)."""
    perm = pw.order(pc, tvals)
    inv = np.empty_like(perm)
    inv[perm] = np.arange(len(perm))
    y, X, pc, tvals = y[perm], X[perm], pc[perm], tvals[perm]
    N, k = int(pc.max()) + 1, X.shape[1]
    tcode = np.unique(tvals, return_inverse=True)[1].reshape(-1)
    prev = pw.has_previous(pc, tvals, delta)
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    rhos, it, tols = None, 0, []
    for it in range(1, maxiter + 1):
        e = y - X @ b
        if corr == "independent":
            ys, Xs = y, X
        else:
            rho_obs, rhos, _ = pw.rho_per_obs(e, pc, prev, N, corr, rhotype, k)
            ys, Xs = pw.transform(y, rho_obs, prev), pw.transform(X, rho_obs, prev)
        b_step = b if it > 1 else np.linalg.lstsq(Xs, ys, rcond=None)[0]
        S = _structure(ys - Xs @ b_step, pc, tcode, N, panels)
        b_new, V = _gls(ys, Xs, pc, tcode, panels, S)
        change = float(np.max(np.abs(b_new - b) / (np.abs(b) + 1.0)))
        tols.append(change)
        b = b_new
        if not igls or change < tol:
            break
    es = ys - Xs @ b
    ll = _loglik(es, pc, tcode, panels, S, N)
    if rhos is not None:
        first = np.flatnonzero(~prev)
        ll += pw.ar1_log_jacobian(rhos[pc], first)
    n = len(y)
    if nmk:
        V = V * n / (n - k)
    return FglsFit(b=b, V=V, rhos=None if rhos is None else (rhos[:1] if corr == "ar1" else rhos),
                   e=(y - X @ b)[inv], ll=ll, iterations=it, tolerances=tols if igls else [])
