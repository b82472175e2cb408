"""Multinomial logit by maximum likelihood ([R] mlogit): Newton-Raphson on the observed
information with step halving, from the constant-only estimates (whose log likelihood is
Stata's iteration 0 and e(ll_0)).

Outcomes are coded 0..J-1; `base` has its coefficients fixed at zero. The parameters are one
row of k coefficients per non-base outcome, in outcome order. Pr(y = j | x) =
exp(x b_j) / sum_l exp(x b_l); the information is sum_i (diag(p_i) - p_i p_i') (x) x_i x_i'."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class MlogitFit:
    beta: np.ndarray          # (J-1, k): the non-base outcomes' coefficients
    V: np.ndarray             # ((J-1)k, (J-1)k), equation-major
    ll: float
    ll_0: float
    scores: np.ndarray        # (n, (J-1)k): per-observation score contributions
    iterations: list
    converged: bool


def probabilities(X: np.ndarray, beta: np.ndarray, base: int) -> np.ndarray:
    """(n, J) outcome probabilities; beta (J-1, k) for the outcomes other than base."""
    eta = X @ beta.T
    eta = np.insert(eta, base, 0.0, axis=1)
    eta -= eta.max(axis=1, keepdims=True)
    ex = np.exp(eta)
    return ex / ex.sum(axis=1, keepdims=True)


def _loglik(X, Y, beta, base) -> float:
    P = probabilities(X, beta, base)
    return float(np.sum(np.log(np.clip(P[Y.astype(bool)], 1e-300, None))))


def _derivs(X, Y, beta, base):
    n, k = X.shape
    J = Y.shape[1]
    P = probabilities(X, beta, base)
    keep = [j for j in range(J) if j != base]
    R = (Y - P)[:, keep]                                  # (n, J-1)
    scores = (R[:, :, None] * X[:, None, :]).reshape(n, -1)
    Pk = P[:, keep]
    m = len(keep)
    H = np.zeros((m * k, m * k))
    for a in range(m):
        for c in range(a, m):
            w = Pk[:, a] * ((a == c) - Pk[:, c])
            blk = X.T @ (w[:, None] * X)
            H[a * k:(a + 1) * k, c * k:(c + 1) * k] = blk
            H[c * k:(c + 1) * k, a * k:(a + 1) * k] = blk
    return scores, H


def start(X: np.ndarray, codes: np.ndarray, J: int, base: int):
    """(Y, ll_0, beta, cons): the outcome indicators, the constant-only log likelihood, and
    its estimates as start values (zeros but the constant column, whose index is in cons)."""
    n, k = X.shape
    Y = np.zeros((n, J))
    Y[np.arange(n), codes] = 1.0
    counts = Y.sum(axis=0)
    share = counts / n
    ll_0 = float(np.sum(counts[counts > 0] * np.log(share[counts > 0])))
    beta = np.zeros((J - 1, k))
    cons = [j for j in range(k) if np.all(X[:, j] == 1.0)]
    if cons:
        keep = [j for j in range(J) if j != base]
        beta[:, cons[0]] = np.log(share[keep] / share[base])
    return Y, ll_0, beta, cons


def fit(X: np.ndarray, codes: np.ndarray, J: int, base: int, maxit: int = 300,
        trace=None) -> MlogitFit:
    """ML fit; X must hold a constant column (index cons) for the start values, or none."""
    n, k = X.shape
    Y, ll_0, beta, cons = start(X, codes, J, base)
    ll = _loglik(X, Y, beta, base) if not cons else ll_0
    lines = [ll]
    if trace:
        trace(0, ll)
    converged = False
    for it in range(1, maxit + 1):
        scores, H = _derivs(X, Y, beta, base)
        g = scores.sum(axis=0)
        step = np.linalg.solve(H, g).reshape(J - 1, k)
        t = 1.0
        while True:
            new = beta + t * step
            ll_new = _loglik(X, Y, new, base)
            if ll_new >= ll - 1e-12 or t < 1e-8:
                break
            t /= 2
        change = ll_new - ll
        beta, ll = new, ll_new
        lines.append(ll)
        if trace:
            trace(it, ll)
        if abs(change) < 1e-11 * max(1.0, abs(ll)) and float(g @ np.linalg.solve(H, g)) < 1e-12:
            converged = True
            break
    scores, H = _derivs(X, Y, beta, base)
    V = np.linalg.inv(H)
    return MlogitFit(beta=beta, V=V, ll=ll, ll_0=ll_0, scores=scores, iterations=lines,
                     converged=converged)
