"""Pseudo-maximum likelihood of the ordered and multinomial logit models with sampling
weights, for svy: ologit and svy: mlogit: maximize sum_i w_i log P(y_i | x_i) by Newton's
method; return the estimates, the information (minus the Hessian of the weighted log
likelihood) and the per-observation weighted scores, from which engine.survey makes the
linearized covariance H^-1 G H^-1.

Ordered logit: P(y = j) = F(k_j - xb) - F(k_{j-1} - xb), F logistic, k_0 = -inf, k_J = +inf;
parameters (b, k_1 ... k_{J-1}). Multinomial logit: P(y = j) = exp(x b_j) / sum_l exp(x b_l)
with b_base = 0; parameters the (J - 1) x k coefficients, outcome by outcome."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PseudoFit:
    x: np.ndarray            # estimates
    info: np.ndarray         # minus the Hessian of the weighted log likelihood
    scores: np.ndarray       # n x k, weighted: w_i d log P_i / d x
    ll: float                # weighted log pseudolikelihood
    converged: bool


def _expit(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _ologit_parts(X, codes, J, x):
    k = X.shape[1]
    b, cuts = x[:k], x[k:]
    eta = X @ b
    lo_c = np.concatenate([[-np.inf], cuts])[codes]
    hi_c = np.concatenate([cuts, [np.inf]])[codes]
    Fhi = np.where(np.isinf(hi_c), 1.0, _expit(hi_c - eta))
    Flo = np.where(np.isinf(lo_c), 0.0, _expit(lo_c - eta))
    fhi = Fhi * (1 - Fhi)
    flo = Flo * (1 - Flo)
    p = np.clip(Fhi - Flo, 1e-300, None)
    return p, fhi, flo


def ologit_loglik(X, codes, J, w, x) -> float:
    if np.any(np.diff(x[X.shape[1]:]) <= 0):
        return -np.inf
    p = _ologit_parts(X, codes, J, x)[0]
    return float(np.sum(w * np.log(p)))


def ologit_scores(X, codes, J, w, x) -> np.ndarray:
    """Weighted per-observation scores in (b, cuts)."""
    n, k = X.shape
    p, fhi, flo = _ologit_parts(X, codes, J, x)
    S = np.zeros((n, k + J - 1))
    S[:, :k] = (-(fhi - flo) / p)[:, None] * X
    rows = np.arange(n)
    up = codes < J - 1
    S[rows[up], k + codes[up]] += fhi[up] / p[up]
    dn = codes > 0
    S[rows[dn], k + codes[dn] - 1] -= flo[dn] / p[dn]
    return S * w[:, None]


def _newton(loglik, scores, x0, maxit=200):
    """Newton's method with step halving; the Hessian by central differences of the
    analytic gradient."""
    x = np.asarray(x0, float).copy()
    ll = loglik(x)
    converged = False
    for _ in range(maxit):
        g = scores(x).sum(axis=0)
        H = _hessian(scores, x)
        step = np.linalg.solve(-H, g)
        t = 1.0
        while True:
            new = x + t * step
            ll_new = loglik(new)
            if ll_new >= ll - 1e-12 or t < 1e-10:
                break
            t /= 2
        x, change = new, ll_new - ll
        ll = ll_new
        if abs(change) < 1e-12 * max(1.0, abs(ll)) and float(g @ step) < 1e-12:
            converged = True
            break
    H = _hessian(scores, x)
    return x, -H, ll, converged


def _hessian(scores, x, h=1e-6):
    k = len(x)
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h * max(1.0, abs(x[i]))
        H[:, i] = (scores(x + e).sum(axis=0) - scores(x - e).sum(axis=0)) / (2 * e[i])
    return 0.5 * (H + H.T)


def ologit(X: np.ndarray, codes: np.ndarray, J: int, w: np.ndarray) -> PseudoFit:
    """X without a constant; codes 0..J-1; w the pweights (zero outside a subpopulation)."""
    k = X.shape[1]
    share = np.array([w[codes == j].sum() for j in range(J)]) / w.sum()
    cum = np.clip(np.cumsum(share)[:-1], 1e-6, 1 - 1e-6)
    x0 = np.concatenate([np.zeros(k), np.log(cum / (1 - cum))])
    x, info, ll, conv = _newton(lambda v: ologit_loglik(X, codes, J, w, v),
                                lambda v: ologit_scores(X, codes, J, w, v), x0)
    return PseudoFit(x, info, ologit_scores(X, codes, J, w, x), ll, conv)


def _mlogit_probs(X, beta_full):
    eta = X @ beta_full.T
    eta -= eta.max(axis=1, keepdims=True)
    e = np.exp(eta)
    return e / e.sum(axis=1, keepdims=True)


def mlogit(X: np.ndarray, codes: np.ndarray, J: int, base: int, w: np.ndarray) -> PseudoFit:
    """Parameters ordered outcome by outcome (base left out), each over X's columns; analytic
    Hessian sum w x x' (x) (diag P - P P')."""
    n, k = X.shape
    others = [j for j in range(J) if j != base]
    Y = np.zeros((n, J))
    Y[np.arange(n), codes] = 1.0

    def full(v):
        B = np.zeros((J, k))
        B[others] = v.reshape(J - 1, k)
        return B

    def loglik(v):
        P = _mlogit_probs(X, full(v))
        return float(np.sum(w * np.log(np.clip(P[np.arange(n), codes], 1e-300, None))))

    def scores(v):
        P = _mlogit_probs(X, full(v))
        R = (Y - P)[:, others] * w[:, None]
        return (R[:, :, None] * X[:, None, :]).reshape(n, -1)

    def info(v):
        P = _mlogit_probs(X, full(v))[:, others]
        out = np.zeros(((J - 1) * k, (J - 1) * k))
        for a in range(J - 1):
            for c in range(J - 1):
                m = w * (P[:, a] * ((a == c) - P[:, c]))
                out[a * k:(a + 1) * k, c * k:(c + 1) * k] = X.T @ (m[:, None] * X)
        return out

    share = np.array([w[codes == j].sum() for j in range(J)]) / w.sum()
    v = np.zeros((J - 1) * k)
    cons = [j for j in range(k) if np.all(X[:, j] == 1.0)]
    if cons:
        for m, j in enumerate(others):
            v[m * k + cons[0]] = np.log(max(share[j], 1e-8) / max(share[base], 1e-8))
    ll = loglik(v)
    converged = False
    for _ in range(200):
        g = scores(v).sum(axis=0)
        step = np.linalg.solve(info(v), g)
        t = 1.0
        while True:
            new = v + t * step
            ll_new = loglik(new)
            if ll_new >= ll - 1e-12 or t < 1e-10:
                break
            t /= 2
        change, v, ll = ll_new - ll, new, ll_new
        if abs(change) < 1e-12 * max(1.0, abs(ll)) and float(g @ step) < 1e-12:
            converged = True
            break
    return PseudoFit(v, info(v), scores(v), ll, converged)
