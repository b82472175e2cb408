"""Rotations of a loading matrix as Stata's `rotate` does them: varimax (orthogonal),
promax(#) and oblimin(#) (oblique), optionally on Kaiser-normalized rows.

Convention (Stata's rotatemat): rotated loadings A T (orthogonal) or A (T')^-1 (oblique),
with the factor correlations Phi = T'T. Stata's default is no Kaiser normalization (R's
varimax and promax normalize by default). Rotated factors are then ordered by the variance
they explain and their signs flipped so that each column of loadings sums to a positive
number.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Rotation:
    """Rotated loadings, the rotation matrix T, the factor correlations Phi, the class
    (orthogonal/oblique), the criterion name and whether rows were Kaiser-normalized."""

    L: np.ndarray
    T: np.ndarray
    Phi: np.ndarray
    klass: str
    criterion: str
    normalize: bool
    power: float | None = None
    gamma: float | None = None


def _varimax_T(A: np.ndarray, tol: float = 1e-14, maxit: int = 5000) -> np.ndarray:
    """Kaiser's varimax by the SVD iteration (as R's stats::varimax without normalization)."""
    p, k = A.shape
    T = np.eye(k)
    d = 0.0
    for _ in range(maxit):
        Z = A @ T
        B = A.T @ (Z ** 3 - Z @ np.diag((Z ** 2).sum(0)) / p)
        u, s, vt = np.linalg.svd(B)
        T = u @ vt
        d_old, d = d, s.sum()
        if d < d_old * (1 + tol):
            break
    return T


def _oblimin_T(A: np.ndarray, gamma: float, tol: float = 1e-8, maxit: int = 2000) -> np.ndarray:
    """Oblique oblimin by Jennrich's gradient projection (GPFoblq); returns T with the rotated
    loadings A (T')^-1."""
    p, k = A.shape
    N = np.ones((k, k)) - np.eye(k)
    C = np.full((p, p), 1.0 / p)

    def crit(L):
        L2 = L ** 2
        X = L2 if gamma == 0 else (np.eye(p) - gamma * C) @ L2
        f = float(np.sum(L2 * (X @ N))) / 4
        return f, L * (X @ N)

    T = np.eye(k)
    L = A @ np.linalg.inv(T.T)
    f, Gq = crit(L)
    G = -(L.T @ Gq @ np.linalg.inv(T)).T
    al = 1.0
    for _ in range(maxit):
        Gp = G - T @ np.diag((T * G).sum(0))
        s = np.sqrt(np.sum(Gp ** 2))
        if s < tol:
            break
        al *= 2
        for _ in range(12):
            X = T - al * Gp
            Tt = X / np.sqrt((X ** 2).sum(0))
            Lt = A @ np.linalg.inv(Tt.T)
            ft, Gqt = crit(Lt)
            if ft < f - 0.5 * s ** 2 * al:
                break
            al /= 2
        T, f, L, Gq = Tt, ft, Lt, Gqt
        G = -(L.T @ Gq @ np.linalg.inv(T)).T
    return T


def _order_and_sign(L: np.ndarray, T: np.ndarray, oblique: bool) -> tuple[np.ndarray, np.ndarray]:
    var = (L ** 2).sum(0)
    order = np.argsort(-var, kind="stable")
    L, T = L[:, order], T[:, order]
    s = np.where(L.sum(0) < 0, -1.0, 1.0)
    return L * s, T * s


def rotate(A: np.ndarray, method: str = "varimax", normalize: bool = False,
           power: float = 3.0, gamma: float = 0.0) -> Rotation:
    """Rotate loadings A (p x k) by varimax, promax(power) or oblimin(gamma)."""
    A = np.asarray(A, dtype=float)
    h = np.sqrt((A ** 2).sum(1)) if normalize else np.ones(len(A))
    h = np.where(h > 0, h, 1.0)
    An = A / h[:, None]
    if method == "varimax":
        T = _varimax_T(An)
        L = (An @ T) * h[:, None]
        L, T = _order_and_sign(L, T, False)
        return Rotation(L, T, np.eye(A.shape[1]), "orthogonal", "varimax", normalize)
    if method == "promax":
        Tv = _varimax_T(An)
        V = An @ Tv
        Q = V * np.abs(V) ** (power - 1)
        U = np.linalg.lstsq(V, Q, rcond=None)[0]
        d = np.diag(np.linalg.inv(U.T @ U))
        U = U @ np.diag(np.sqrt(d))
        Ln = V @ U
        # A (T')^-1 = Ln  =>  (T')^-1 = Tv U  =>  T = ((Tv U)^-1)'
        T = np.linalg.inv(Tv @ U).T
        L = Ln * h[:, None]
        L, T = _order_and_sign(L, T, True)
        return Rotation(L, T, T.T @ T, "oblique", "promax", normalize, power=power)
    if method == "oblimin":
        T = _oblimin_T(An, gamma)
        L = (An @ np.linalg.inv(T.T)) * h[:, None]
        L, T = _order_and_sign(L, T, True)
        return Rotation(L, T, T.T @ T, "oblique", "oblimin", normalize, gamma=gamma)
    raise ValueError(method)
