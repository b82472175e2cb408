"""A linear structural equation model in RAM form (McArdle and McDonald), and its ML discrepancy.

Every variable of the model, observed first and latent after, has one row in
  A (n x n)  A[i, j] = the path coefficient of j on i (i <- j),
  S (n x n)  variances and covariances of the exogenous variables and of the errors,
  m (n)      intercepts of endogenous variables and means of exogenous ones,
so that the total covariance of all variables is B S B' and their means B m, B = (I - A)^-1;
the observed variables' implied moments are the first rows (the selection F).

Each entry of A, S and m is either fixed (a number) or a free parameter; several entries may
share one parameter (Stata's `@name` equality constraints). The ML discrepancy
  F = log|Sigma| + tr(S_N Sigma^-1) + (xbar - mu)' Sigma^-1 (xbar - mu)
with S_N the covariance divided by N is what sem minimizes; log L = -N/2 (p log 2pi + F).
Its gradient is analytic, so the optimizer and the observed information (numerical Hessian of
the analytic gradient) are accurate to many digits.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LOG2PI = float(np.log(2 * np.pi))


@dataclass
class Entry:
    """One cell of A, S or m: matrix 'A' | 'S' | 'm', row i, column j (0 for m), and either
    a parameter index k >= 0 or the fixed value."""

    mat: str
    i: int
    j: int
    k: int = -1
    value: float = 0.0


@dataclass
class RamModel:
    """The model's structure: n_obs observed variables (rows 0..n_obs-1), n variables in all,
    n_par free parameters, and the cells of A, S, m (S cells listed once, i >= j)."""

    n_obs: int
    n: int
    n_par: int
    entries: list[Entry] = field(default_factory=list)

    def matrices(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        A = np.zeros((self.n, self.n))
        S = np.zeros((self.n, self.n))
        m = np.zeros(self.n)
        for e in self.entries:
            v = theta[e.k] if e.k >= 0 else e.value
            if e.mat == "A":
                A[e.i, e.j] = v
            elif e.mat == "S":
                S[e.i, e.j] = v
                S[e.j, e.i] = v
            else:
                m[e.i] = v
        return A, S, m

    def total(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(B, covariance of all variables B S B', their means B m)."""
        A, S, m = self.matrices(theta)
        B = np.linalg.inv(np.eye(self.n) - A)
        return B, B @ S @ B.T, B @ m

    def implied(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, C, mu = self.total(theta)
        p = self.n_obs
        return C[:p, :p], mu[:p]

    def variance_params(self) -> set[int]:
        """Parameters that sit on the diagonal of S (kept >= 0 unless heywood)."""
        return {e.k for e in self.entries if e.mat == "S" and e.i == e.j and e.k >= 0}


def discrepancy(model: RamModel, theta: np.ndarray, S_N: np.ndarray, xbar: np.ndarray,
                want_grad: bool = True):
    """(F, dF/dtheta) at theta; F = inf (gradient None) where Sigma is not positive definite."""
    try:
        A, Sm, m = model.matrices(theta)
        B = np.linalg.inv(np.eye(model.n) - A)
    except np.linalg.LinAlgError:
        return np.inf, None
    p = model.n_obs
    FB = B[:p, :]
    Sigma = FB @ Sm @ FB.T
    mu = FB @ m
    try:
        L = np.linalg.cholesky(Sigma)
    except np.linalg.LinAlgError:
        return np.inf, None
    dL = np.diag(L)
    if dL.min() <= 1e-7 * dL.max():             # numerically singular: no usable likelihood
        return np.inf, None
    Si = np.linalg.inv(Sigma)
    d = xbar - mu
    logdet = 2 * np.sum(np.log(np.diag(L)))
    F = logdet + np.trace(S_N @ Si) + d @ Si @ d
    if not want_grad:
        return float(F), None
    return float(F), _gradient(model, B, FB, Sm, m, Si, S_N, d)


def _gradient(model, B, FB, Sm, m, Si, S_N, d) -> np.ndarray:
    W = Si - Si @ (S_N + np.outer(d, d)) @ Si        # dF/dSigma (symmetric)
    g_mu = -2 * Si @ d                                # dF/dmu
    BtW = FB.T @ W @ FB                               # B'F'WFB
    gS = BtW
    gA = 2 * BtW @ Sm @ B.T + np.outer(FB.T @ g_mu, B @ m)
    gm = FB.T @ g_mu
    grad = np.zeros(model.n_par)
    for e in model.entries:
        if e.k < 0:
            continue
        if e.mat == "A":
            grad[e.k] += gA[e.i, e.j]
        elif e.mat == "S":
            grad[e.k] += gS[e.i, e.j] if e.i == e.j else 2 * gS[e.i, e.j]
        else:
            grad[e.k] += gm[e.i]
    return grad


def loglik(F: float, N: float, p: int) -> float:
    return -0.5 * N * (p * LOG2PI + F)


def saturated_loglik(S_N: np.ndarray, N: float) -> float:
    """log L of the saturated model: every mean, variance and covariance free."""
    p = S_N.shape[0]
    sign, logdet = np.linalg.slogdet(S_N)
    if sign <= 0:
        return float("nan")
    return -0.5 * N * (p * LOG2PI + logdet + p)


def baseline_loglik(S_N: np.ndarray, N: float, exog: list[int]) -> float:
    """log L of Stata's baseline model: observed endogenous variables uncorrelated with each
    other and with the exogenous ones (means and variances free), the observed exogenous
    variables' covariances free among themselves."""
    p = S_N.shape[0]
    endo = [i for i in range(p) if i not in exog]
    ll = sum(saturated_loglik(S_N[np.ix_([i], [i])], N) for i in endo)
    if exog:
        ll += saturated_loglik(S_N[np.ix_(exog, exog)], N)
    return float(ll)


def observation_scores(model: RamModel, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Per-observation gradients of log L_i (N x n_par), for the robust (sandwich) variance:
    log L_i = -1/2 (p log 2pi + log|Sigma| + d_i' Sigma^-1 d_i)."""
    A, Sm, m = model.matrices(theta)
    B = np.linalg.inv(np.eye(model.n) - A)
    p = model.n_obs
    FB = B[:p, :]
    Sigma = FB @ Sm @ FB.T
    Si = np.linalg.inv(Sigma)
    mu = FB @ m
    out = np.empty((X.shape[0], model.n_par))
    zero = np.zeros((p, p))
    for r in range(X.shape[0]):
        out[r] = -0.5 * _gradient(model, B, FB, Sm, m, Si, zero, X[r] - mu)
    return out
