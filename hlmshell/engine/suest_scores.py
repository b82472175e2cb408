"""Scores and information matrices of single models, and the stacked sandwich of suest.

suest combines models fitted on the same (or overlapping) data by stacking their
per-observation scores: V = c * D S D with D the block-diagonal inverse of each model's
information matrix, S the sum over observations (or clusters) of the outer products of the
stacked scores, and c = N/(N-1) (M/(M-1) with M clusters), as [R] suest describes. A linear
regression enters as a normal model with a mean equation and a log-variance equation
(lnvar = ln(RSS/N), the maximum-likelihood variance).

Pure numerics: the caller passes design matrices and outcomes of each model's sample.
"""
from __future__ import annotations

import math

import numpy as np


def _norm_cdf(x):
    from scipy.special import ndtr
    return ndtr(x)


def _w(w, n):
    return np.ones(n) if w is None else np.asarray(w, dtype=float)


def regress_parts(X: np.ndarray, y: np.ndarray, b: np.ndarray, w=None, s2=None):
    """(weighted scores n x (k+1), D (k+1)^2, extra estimate lnvar) for OLS as a normal model
    with lnvar = ln(s2): regress's e(rmse)^2 as suest reports it (RSS/(N-k) unweighted; the
    weighted maximum-likelihood value sum w e^2 / sum w when none is given)."""
    w = _w(w, len(y))
    e = y - X @ b
    if s2 is None:
        s2 = float(w @ (e * e)) / float(w.sum())
    scores = np.column_stack([X * (w * e / s2)[:, None], 0.5 * w * (e * e / s2 - 1.0)])
    k = X.shape[1]
    D = np.zeros((k + 1, k + 1))
    D[:k, :k] = s2 * np.linalg.pinv(X.T @ (X * w[:, None]))
    D[k, k] = 2.0 / float(w.sum())
    return scores, D, math.log(s2)


def logit_parts(X: np.ndarray, y: np.ndarray, b: np.ndarray, w=None):
    w = _w(w, len(y))
    p = 1.0 / (1.0 + np.exp(-(X @ b)))
    scores = X * (w * (y - p))[:, None]
    return scores, np.linalg.pinv(X.T @ (X * (w * p * (1 - p))[:, None]))


def probit_parts(X: np.ndarray, y: np.ndarray, b: np.ndarray, w=None):
    w = _w(w, len(y))
    eta = X @ b
    q = 2.0 * y - 1.0
    lam = q * np.exp(-0.5 * eta * eta) / math.sqrt(2 * math.pi) / _norm_cdf(q * eta)
    scores = X * (w * lam)[:, None]
    h = lam * (lam + eta)          # minus the second derivative of log Phi(q eta) in eta
    return scores, np.linalg.pinv(X.T @ (X * (w * h)[:, None]))


def poisson_parts(X: np.ndarray, y: np.ndarray, b: np.ndarray, w=None):
    w = _w(w, len(y))
    mu = np.exp(X @ b)
    return X * (w * (y - mu))[:, None], np.linalg.pinv(X.T @ (X * (w * mu)[:, None]))


def mlogit_parts(X: np.ndarray, outcome: np.ndarray, B: np.ndarray, base: int, w=None):
    """B: J x k coefficients (the base row zero); outcome: index 0..J-1 per observation.
    Scores and D over the non-base equations, in equation order."""
    eta = X @ B.T
    eta -= eta.max(axis=1, keepdims=True)
    P = np.exp(eta)
    P /= P.sum(axis=1, keepdims=True)
    J, k = B.shape
    w = _w(w, X.shape[0])
    eqs = [j for j in range(J) if j != base]
    Y = (outcome[:, None] == np.arange(J)[None, :]).astype(float)
    scores = np.column_stack([X * (w * (Y[:, j] - P[:, j]))[:, None] for j in eqs])
    m = len(eqs)
    H = np.zeros((m * k, m * k))
    for a, j in enumerate(eqs):
        for c, l in enumerate(eqs):
            h = w * P[:, j] * ((1.0 if j == l else 0.0) - P[:, l])
            H[a * k:(a + 1) * k, c * k:(c + 1) * k] = X.T @ (X * h[:, None])
    return scores, np.linalg.pinv(H)


def stacked_sandwich(scores: np.ndarray, D: np.ndarray, clusters: np.ndarray | None, freq=None):
    """c * D S D over all observations of the union of the samples (scores, already weighted,
    zero outside a model's own sample); freq: frequency weights, each observation standing for
    that many (S = sum s s' / f, N = sum f). Returns (V, number of clusters or None)."""
    n = scores.shape[0] if freq is None else float(np.sum(freq))
    if clusters is None:
        S = scores.T @ (scores if freq is None else scores / np.asarray(freq, float)[:, None])
        c = n / (n - 1) if n > 1 else float("nan")
        return c * D @ S @ D, None
    _, inv = np.unique(clusters, return_inverse=True)
    m = int(inv.max()) + 1 if n else 0
    sums = np.zeros((m, scores.shape[1]))
    np.add.at(sums, inv, scores)
    c = m / (m - 1) if m > 1 else float("nan")
    return c * D @ (sums.T @ sums) @ D, m


def _ordinal_scores(X, outcome, theta, J, probit: bool):
    """Scores of an ordered logit/probit at theta = (beta, cut_1..cut_{J-1}); outcome 0..J-1."""
    k = X.shape[1]
    beta, cuts = theta[:k], theta[k:]
    eta = X @ beta
    inf = 1e300
    hi = np.where(outcome < J - 1, cuts[np.minimum(outcome, J - 2)], inf) - eta
    lo = np.where(outcome > 0, cuts[np.maximum(outcome - 1, 0)], -inf) - eta
    if probit:
        from scipy.special import ndtr
        F = ndtr

        def f(z):
            return np.exp(-0.5 * np.minimum(z * z, 1e4)) / math.sqrt(2 * math.pi)
    else:
        def F(z):
            return 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700)))

        def f(z):
            p = F(z)
            return p * (1 - p)
    P = F(hi) - F(lo)
    fh, fl = f(hi), f(lo)
    S = np.zeros((len(eta), k + J - 1))
    S[:, :k] = X * (-(fh - fl) / P)[:, None]
    rows = np.arange(len(eta))
    top, bottom = outcome < J - 1, outcome > 0
    S[rows[top], k + outcome[top]] += fh[top] / P[top]
    S[rows[bottom], k + outcome[bottom] - 1] -= fl[bottom] / P[bottom]
    return S


def ordinal_parts(X: np.ndarray, outcome: np.ndarray, theta: np.ndarray, J: int, probit: bool,
                  w=None):
    """ologit/oprobit: (weighted scores, D) with D the inverse of minus the observed Hessian,
    taken by central differences of the summed analytic scores."""
    w = _w(w, X.shape[0])
    S = _ordinal_scores(X, outcome, theta, J, probit)
    m = len(theta)
    H = np.zeros((m, m))
    for j in range(m):
        h = 1e-5 * max(abs(theta[j]), 1e-2)
        up, dn = theta.copy(), theta.copy()
        up[j] += h
        dn[j] -= h
        H[:, j] = (w @ _ordinal_scores(X, outcome, up, J, probit)
                   - w @ _ordinal_scores(X, outcome, dn, J, probit)) / (2 * h)
    H = (H + H.T) / 2
    return S * w[:, None], np.linalg.pinv(-H)
