"""Factor analysis and principal components of a correlation matrix: the numbers behind
Stata's `factor` (pf, pcf, ipf, ml) and `pca`.

Pure numerics on a p x p correlation (or covariance) matrix: eigen decompositions with
Stata's sign convention (each eigenvector's elements sum to a positive number), squared
multiple correlations, the four extraction methods, Kaiser-Meyer-Olkin adequacy, and the
regression and Bartlett scoring coefficients. Rotations are in engine.factor_rotate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def sign_columns(V: np.ndarray) -> np.ndarray:
    """Flip columns so that each sums to a positive number (Stata's eigenvector convention;
    a column summing to zero keeps its largest element positive)."""
    V = np.array(V, dtype=float, copy=True)
    for j in range(V.shape[1]):
        s = V[:, j].sum()
        if abs(s) < 1e-12:
            s = V[np.argmax(np.abs(V[:, j])), j]
        if s < 0:
            V[:, j] = -V[:, j]
    return V


def eigen_desc(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (largest first) and unit eigenvectors with Stata's signs."""
    w, V = np.linalg.eigh((M + M.T) / 2)
    order = np.argsort(-w, kind="stable")
    return w[order], sign_columns(V[:, order])


def cov_to_corr(C: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diag(C))
    return C / np.outer(d, d)


def smc(R: np.ndarray) -> np.ndarray:
    """Squared multiple correlation of each variable with all the others: 1 - 1/diag(R^-1)."""
    return 1.0 - 1.0 / np.diag(np.linalg.inv(R))


def kmo(R: np.ndarray) -> tuple[np.ndarray, float]:
    """Kaiser-Meyer-Olkin measure of sampling adequacy: per variable and overall, from the
    correlations and the partial (anti-image) correlations of each pair given the rest."""
    Ri = np.linalg.inv(R)
    d = np.sqrt(np.diag(Ri))
    Q = -Ri / np.outer(d, d)
    off = ~np.eye(len(R), dtype=bool)
    r2 = np.where(off, R ** 2, 0.0)
    q2 = np.where(off, Q ** 2, 0.0)
    per = r2.sum(0) / (r2.sum(0) + q2.sum(0))
    return per, float(r2.sum() / (r2.sum() + q2.sum()))


def lr_independence(R: np.ndarray, n: float) -> tuple[float, int]:
    """Bartlett's chi2 of independent vs saturated: -(N-1-(2p+5)/6) ln|R|, df p(p-1)/2."""
    p = len(R)
    sign, logdet = np.linalg.slogdet(R)
    chi2 = -(n - 1 - (2 * p + 5) / 6) * logdet if sign > 0 else math.nan
    return float(chi2), p * (p - 1) // 2


@dataclass
class FactorFit:
    """One extraction: L (p x f loadings), psi (uniquenesses), ev (the eigenvalues shown:
    all p for pf/pcf/ipf, the f retained for ml), the proportion divisor, and for ml the
    fit criterion and likelihood-ratio statistics."""

    method: str
    L: np.ndarray
    psi: np.ndarray
    ev: np.ndarray
    divisor: float
    f: int
    ll: float = math.nan
    chi2_1: float = math.nan
    df_1: int = 0
    converged: bool = True
    notes: list = field(default_factory=list)

    @property
    def n_params(self) -> int:
        p, f = self.L.shape
        return p * f - f * (f - 1) // 2


def _count(ev: np.ndarray, factors: int | None, mineigen: float) -> int:
    k = int((ev > mineigen).sum())
    if factors is not None:
        k = min(k, factors)
    return max(k, 0)


def _loadings(V: np.ndarray, ev: np.ndarray, k: int) -> np.ndarray:
    return V[:, :k] * np.sqrt(np.clip(ev[:k], 0, None))


def principal(R: np.ndarray, method: str, factors: int | None = None,
              mineigen: float | None = None, citerate: int | None = None) -> FactorFit:
    """pf (SMC communalities), pcf (ones on the diagonal) and ipf (communalities
    re-estimated until they settle, or citerate() times)."""
    p = len(R)
    if mineigen is None:
        mineigen = 1.0 if method == "pcf" else 5e-6
    if method == "pcf":
        ev, V = eigen_desc(R)
        k = _count(ev, factors, mineigen)
        L = _loadings(V, ev, k)
        return FactorFit("pcf", L, 1 - (L ** 2).sum(1), ev, float(p), k)
    h2 = smc(R)
    Rr = R.copy()
    np.fill_diagonal(Rr, h2)
    ev, V = eigen_desc(Rr)
    k = _count(ev, factors, mineigen)
    notes: list = []
    if method == "ipf":
        limit = citerate if citerate is not None else 1000
        for _ in range(limit):
            L = _loadings(V, ev, k)
            new = (L ** 2).sum(1)
            np.fill_diagonal(Rr, new)
            ev, V = eigen_desc(Rr)
            done = np.max(np.abs(new - h2)) < 1e-6
            h2 = new
            if done:
                break
    L = _loadings(V, ev, k)
    psi = 1 - (L ** 2).sum(1)
    if np.any(psi < 0):
        notes.append("Heywood case encountered")
    return FactorFit(method, L, psi, ev, float(ev.sum()), k, notes=notes)


def _ml_objective(psi: np.ndarray, R: np.ndarray, k: int) -> float:
    s = 1 / np.sqrt(psi)
    w = np.linalg.eigvalsh(R * np.outer(s, s))[::-1]
    e = w[k:]
    return -float(np.sum(np.log(e) - e) - k + len(R))


def _ml_gradient(psi: np.ndarray, R: np.ndarray, k: int) -> np.ndarray:
    s = 1 / np.sqrt(psi)
    w, V = np.linalg.eigh(R * np.outer(s, s))
    order = np.argsort(-w)
    w, V = w[order], V[:, order]
    load = V[:, :k] * np.sqrt(np.maximum(w[:k] - 1, 0))
    L = np.sqrt(psi)[:, None] * load
    g = (L ** 2).sum(1) + psi - np.diag(R)
    return g / psi ** 2


def ml_loadings(R: np.ndarray, psi: np.ndarray, k: int) -> np.ndarray:
    s = 1 / np.sqrt(psi)
    w, V = eigen_desc(R * np.outer(s, s))
    return np.sqrt(psi)[:, None] * (V[:, :k] * np.sqrt(np.maximum(w[:k] - 1, 0)))


def maximum_likelihood(R: np.ndarray, n: float, k: int) -> FactorFit:
    """Jöreskog's ML: minimise ln|S| + tr(R S^-1) - ln|R| - p over the uniquenesses (the
    loadings follow from them); log likelihood -(N-1)/2 times that criterion; the LR test
    of k factors vs saturated with Bartlett's correction."""
    from scipy.optimize import minimize

    p = len(R)
    start = (1 - 0.5 * k / p) / np.diag(np.linalg.inv(R))
    res = minimize(_ml_objective, start, args=(R, k), jac=_ml_gradient, method="L-BFGS-B",
                   bounds=[(0.005, 1.0)] * p, options={"maxiter": 1000, "ftol": 1e-14, "gtol": 1e-10})
    psi = res.x
    L = ml_loadings(R, psi, k)
    Sigma = L @ L.T + np.diag(psi)
    crit = (np.linalg.slogdet(Sigma)[1] + np.trace(R @ np.linalg.inv(Sigma))
            - np.linalg.slogdet(R)[1] - p)
    ev = (L ** 2).sum(0)
    df = ((p - k) ** 2 - (p + k)) // 2
    chi2 = (n - 1 - (2 * p + 5) / 6 - 2 * k / 3) * crit
    notes = ["Heywood case encountered"] if np.any(psi <= 0.0051) else []
    return FactorFit("ml", L, psi, ev, float(ev.sum()), k, ll=-(n - 1) / 2 * crit,
                     chi2_1=float(chi2), df_1=int(df), converged=bool(res.success), notes=notes)


def ml_max_factors(p: int) -> int:
    """The most factors ML can fit with nonnegative degrees of freedom."""
    k = 0
    while k + 1 < p and ((p - k - 1) ** 2 - (p + k + 1)) >= 0:
        k += 1
    return k


# ----------------------------------------------------------------------------- scoring
def scoring_coefficients(R: np.ndarray, L: np.ndarray, psi: np.ndarray, Phi: np.ndarray | None,
                         method: str) -> np.ndarray:
    """p x f coefficients applied to standardized variables: regression (Thomson)
    R^-1 L Phi, or Bartlett Psi^-1 L (L' Psi^-1 L)^-1."""
    if Phi is None:
        Phi = np.eye(L.shape[1])
    if method == "bartlett":
        Pi = L / psi[:, None]
        return Pi @ np.linalg.inv(L.T @ Pi)
    return np.linalg.solve(R, L @ Phi)
