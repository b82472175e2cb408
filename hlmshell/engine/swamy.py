"""Swamy's (1970) random-coefficients model, as [XT] xtrc fits it.

Each panel's OLS gives b_i and V_i = s_i^2 (X_i'X_i)^-1 with s_i^2 = e_i'e_i / (T_i - k). The
coefficients' covariance across panels is

    Sigma = (sum b_i b_i' - m bbar bbar') / (m - 1)  -  sum V_i / m,

dropping the second term when that is not positive definite (Swamy's large-sample
simplification). The GLS mean is b = sum W_i b_i with W_i = (Sigma + V_i)^-1 normalized,
V(b) = (sum (Sigma + V_i)^-1)^-1. Test of parameter constancy: sum (b_i - b*)' V_i^-1 (b_i - b*),
b* the V_i^-1-weighted mean, chi2 with k(m - 1) df. Panel-specific best linear predictors
(Poi 2003): b_i^ = A_i b + (I - A_i) b_i with A_i = (Sigma^-1 + V_i^-1)^-1 Sigma^-1, and
Var(b_i^) = V(b) + (I - A_i)(V_i - V(b))(I - A_i)'.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class SwamyError(ValueError):
    """A panel cannot be fitted on its own (fewer observations than coefficients or no
    residual variance)."""


@dataclass
class SwamyFit:
    b: np.ndarray
    V: np.ndarray
    Sigma: np.ndarray
    chi2_c: float
    df_c: int
    betas: np.ndarray          # m x k best linear predictors
    V_betas: list              # their variances


def _is_pd(A: np.ndarray) -> bool:
    try:
        np.linalg.cholesky((A + A.T) / 2)
        return True
    except np.linalg.LinAlgError:
        return False


def panel_ols(y, X, codes, m):
    """Each panel's (b_i, V_i)."""
    k = X.shape[1]
    bs, Vs = [], []
    for g in range(m):
        idx = codes == g
        Xi, yi = X[idx], y[idx]
        if Xi.shape[0] <= k or np.linalg.matrix_rank(Xi) < k:
            raise SwamyError(g)
        XXi = np.linalg.inv(Xi.T @ Xi)
        bi = XXi @ Xi.T @ yi
        ei = yi - Xi @ bi
        s2 = float(ei @ ei) / (Xi.shape[0] - k)
        if s2 <= 0:
            raise SwamyError(g)
        bs.append(bi)
        Vs.append(s2 * XXi)
    return np.array(bs), Vs


def fit(y: np.ndarray, X: np.ndarray, codes: np.ndarray) -> SwamyFit:
    m = int(codes.max()) + 1
    k = X.shape[1]
    bs, Vs = panel_ols(y, X, codes, m)
    bbar = bs.mean(axis=0)
    S = (bs.T @ bs - m * np.outer(bbar, bbar)) / (m - 1)
    Sigma = S - sum(Vs) / m
    if not _is_pd(Sigma):
        Sigma = S
    P = [np.linalg.inv(Sigma + Vi) for Vi in Vs]
    V = np.linalg.inv(sum(P))
    b = V @ sum(Pi @ bi for Pi, bi in zip(P, bs))
    Vinv = [np.linalg.inv(Vi) for Vi in Vs]
    bstar = np.linalg.solve(sum(Vinv), sum(Wi @ bi for Wi, bi in zip(Vinv, bs)))
    chi2 = float(sum((bi - bstar) @ Wi @ (bi - bstar) for Wi, bi in zip(Vinv, bs)))
    Sinv = np.linalg.inv(Sigma)
    betas, Vb = [], []
    eye = np.eye(k)
    for bi, Vi, Wi in zip(bs, Vs, Vinv):
        A = np.linalg.solve(Sinv + Wi, Sinv)
        betas.append(A @ b + (eye - A) @ bi)
        Vb.append(V + (eye - A) @ (Vi - V) @ (eye - A).T)
    return SwamyFit(b=b, V=V, Sigma=Sigma, chi2_c=chi2, df_c=k * (m - 1), betas=np.array(betas),
                    V_betas=Vb)
