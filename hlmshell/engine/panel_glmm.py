"""Panel-data likelihoods of Stata's xtlogit/xtpoisson that are not the one-level GLMM of
engine.glmm: the conditional (fixed-effects) logit and Poisson likelihoods, and the Poisson
model with a gamma-distributed random effect (closed form).

Why batched recursions: the conditional logit's denominator per panel is the elementary
symmetric polynomial e_k(w) of w_t = exp(x_t b) (k = the panel's number of ones), computed
by the recursion E_t[j] = E_{t-1}[j] + w_t E_{t-1}[j-1] over the time positions of a (G, T)
grid, for all panels at once, with its first and second derivatives carried along; the loop
is over time positions, never over panels.

Conditional logit:  ll = sum_g [ sum_t y_gt eta_gt - log e_{k_g}(exp eta_g) ].
Conditional Poisson (Stata's, multinomial): ll = sum_g [ lnG(Y_g + 1) - sum_t lnG(y_gt + 1)
  + sum_t y_gt log p_gt ], p_gt = exp(eta_gt) / sum_s exp(eta_gs).
Gamma random effect (nu_g ~ Gamma(1/alpha, 1/alpha), mean 1, variance alpha), r = 1/alpha,
  lambda = exp(eta): ll_g = sum_t [y ln lambda - lnG(y + 1)] + r ln r - lnG(r) + lnG(r + Y_g)
  - (r + Y_g) ln(r + Lambda_g); parameters (b, ln alpha) as Stata's /lnalpha.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PanelFit:
    beta: np.ndarray
    V: np.ndarray
    ll: float
    ll0: float                      # at b = 0 (fe) or the comparison model (re)
    iterations: int
    converged: bool
    log: list
    n_clust: int = 0


def _grid(groups: np.ndarray):
    """(pos (G, T) of rows, -1 where missing) laying each panel's rows in order."""
    g = np.asarray(groups, dtype=np.int64)
    G = int(g.max()) + 1
    order = np.argsort(g, kind="stable")
    counts = np.bincount(g, minlength=G)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    t = np.empty(len(g), dtype=np.int64)
    t[order] = np.arange(len(g)) - np.repeat(starts, counts)
    pos = np.full((G, int(counts.max())), -1, dtype=np.int64)
    pos[g, t] = np.arange(len(g))
    return pos


def _lay(v, pos):
    v = np.asarray(v, dtype=float)
    ext = np.concatenate([v, np.zeros((1,) + v.shape[1:])])
    return ext[pos]


# ------------------------------------------------------------------ conditional logit
def clogit_value(beta, Xg, yg, mask, k, offg=0.0):
    """ll, gradient and Hessian of the conditional logit over the (G, T) grid."""
    eta = Xg @ beta + offg
    eta = np.where(mask, eta, -np.inf)
    m = np.max(np.where(mask, eta, -np.inf), axis=1)
    w = np.where(mask, np.exp(eta - m[:, None]), 0.0)           # (G, T)
    G, T = w.shape
    p = Xg.shape[2]
    K = int(k.max())
    E = np.zeros((G, K + 1))
    E[:, 0] = 1.0
    dE = np.zeros((G, K + 1, p))
    d2E = np.zeros((G, K + 1, p, p))
    for t in range(T):
        wt = w[:, t][:, None]
        x = Xg[:, t, :]                                           # (G, p)
        Ep, dEp, d2Ep = E[:, :-1], dE[:, :-1], d2E[:, :-1]
        xx = x[:, None, :, None] * x[:, None, None, :]
        xd = x[:, None, :, None] * dEp[:, :, None, :]
        add2 = xx * Ep[:, :, None, None] + xd + np.swapaxes(xd, 2, 3) + d2Ep
        add1 = x[:, None, :] * Ep[:, :, None] + dEp
        d2E[:, 1:] = d2E[:, 1:] + wt[:, :, None, None] * add2
        dE[:, 1:] = dE[:, 1:] + wt[:, :, None] * add1
        E[:, 1:] = E[:, 1:] + wt * Ep
    idx = np.arange(G)
    Ek, dEk, d2Ek = E[idx, k], dE[idx, k], d2E[idx, k]
    g1 = dEk / Ek[:, None]
    num = np.sum(np.where(mask, yg * np.where(mask, Xg @ beta + offg, 0.0), 0.0))
    ll = float(num - np.sum(np.log(Ek) + k * m))
    grad = np.einsum("gt,gtp->p", yg, Xg) - g1.sum(axis=0)
    H = -(d2Ek / Ek[:, None, None] - g1[:, :, None] * g1[:, None, :]).sum(axis=0)
    return ll, grad, H


def _newton(fun, beta, maxit, log):
    """Newton-Raphson with step halving on ll; log gets the ll of every iteration."""
    ll, g, H = fun(beta)
    log.append(ll)
    conv = False
    it = 0
    for it in range(1, maxit + 1):
        step = np.linalg.solve(-H, g)
        t = 1.0
        for _ in range(40):
            nb = beta + t * step
            nll, ng, nH = fun(nb)
            if np.isfinite(nll) and nll >= ll - 1e-10 * abs(ll):
                break
            t *= 0.5
        done = abs(nll - ll) < 1e-11 * (abs(ll) + 1) and np.max(np.abs(t * step)) < 1e-7
        beta, ll, g, H = nb, nll, ng, nH
        log.append(ll)
        if done:
            conv = True
            break
    return beta, ll, H, it, conv


def conditional_logit(y, X, groups, maxit: int = 100, offset=None) -> PanelFit:
    """Conditional fixed-effects logit on panels that have both outcomes (the caller drops the
    others); X without a constant and without columns constant within every panel."""
    pos = _grid(groups)
    mask = pos >= 0
    Xg, yg = _lay(X, pos), _lay(y, pos)
    offg = 0.0 if offset is None else _lay(offset, pos)
    k = yg.sum(axis=1).round().astype(np.int64)
    n_i = mask.sum(axis=1)
    from scipy.special import gammaln
    ll0 = float(-np.sum(gammaln(n_i + 1) - gammaln(k + 1) - gammaln(n_i - k + 1)))
    log: list = []
    beta, ll, H, it, conv = _newton(lambda b: clogit_value(b, Xg, yg, mask, k, offg),
                                    np.zeros(X.shape[1]), maxit, log)
    if offset is not None:                       # the null model keeps the offset
        ll0 = clogit_value(np.zeros(X.shape[1]), Xg, yg, mask, k, offg)[0]
    return PanelFit(beta, np.linalg.inv(-H), ll, ll0, it, conv, log)


# ------------------------------------------------------------------ conditional Poisson
def cpoisson_value(beta, X, y, off, groups, G, const):
    eta = X @ beta + off
    m = np.full(G, -np.inf)
    np.maximum.at(m, groups, eta)
    e = np.exp(eta - m[groups])
    S = np.bincount(groups, weights=e, minlength=G)
    P = e / S[groups]
    Y = np.bincount(groups, weights=y, minlength=G)
    ll = float(np.sum(y * np.log(P)) + const)
    r = y - Y[groups] * P
    grad = X.T @ r
    xbar = np.zeros((G, X.shape[1]))
    np.add.at(xbar, groups, P[:, None] * X)
    Xc = X - xbar[groups]
    H = -(Xc.T @ ((Y[groups] * P)[:, None] * Xc))
    return ll, grad, H


def cpoisson_scores(beta, X, y, off, groups) -> np.ndarray:
    """Each panel's score of the conditional Poisson likelihood, sum_t (y_t - Y p_t) x_t."""
    g = np.asarray(groups, dtype=np.int64)
    G = int(g.max()) + 1
    eta = X @ beta + off
    m = np.full(G, -np.inf)
    np.maximum.at(m, g, eta)
    e = np.exp(eta - m[g])
    P = e / np.bincount(g, weights=e, minlength=G)[g]
    Y = np.bincount(g, weights=y, minlength=G)
    S = np.zeros((G, X.shape[1]))
    np.add.at(S, g, (y - Y[g] * P)[:, None] * X)
    return S


def conditional_poisson(y, X, off, groups, maxit: int = 100) -> PanelFit:
    from scipy.special import gammaln
    g = np.asarray(groups, dtype=np.int64)
    G = int(g.max()) + 1
    Y = np.bincount(g, weights=y, minlength=G)
    const = float(np.sum(gammaln(Y + 1)) - np.sum(gammaln(y + 1)))
    log: list = []
    beta, ll, H, it, conv = _newton(lambda b: cpoisson_value(b, X, y, off, g, G, const),
                                    np.zeros(X.shape[1]), maxit, log)
    return PanelFit(beta, np.linalg.inv(-H), ll, cpoisson_value(np.zeros(X.shape[1]), X, y, off,
                                                                 g, G, const)[0], it, conv, log)


# ------------------------------------------------------------------ gamma random effect
def gamma_poisson_value(x, X, y, off, groups, G):
    """ll and gradient in (b, ln alpha)."""
    from scipy.special import digamma, gammaln
    p = X.shape[1]
    beta, lna = x[:p], x[p]
    r = np.exp(-lna)
    eta = X @ beta + off
    lam = np.exp(eta)
    Y = np.bincount(groups, weights=y, minlength=G)
    L = np.bincount(groups, weights=lam, minlength=G)
    ll = float(np.sum(y * eta - gammaln(y + 1)) + np.sum(r * np.log(r) - gammaln(r) + gammaln(r + Y)
                                                       - (r + Y) * np.log(r + L)))
    q = ((r + Y) / (r + L))[groups]
    gb = X.T @ (y - q * lam)
    dr = np.sum(np.log(r) + 1 - digamma(r) + digamma(r + Y) - np.log(r + L) - (r + Y) / (r + L))
    return ll, np.concatenate([gb, [-r * dr]])


def gamma_poisson_scores(x, X, y, off, groups) -> np.ndarray:
    """Each panel's score in (b, ln alpha) (G x (p + 1)): what vce(robust) sums."""
    from scipy.special import digamma
    g = np.asarray(groups, dtype=np.int64)
    G = int(g.max()) + 1
    p = X.shape[1]
    r = np.exp(-x[p])
    lam = np.exp(X @ x[:p] + off)
    Y = np.bincount(g, weights=y, minlength=G)
    L = np.bincount(g, weights=lam, minlength=G)
    q = ((r + Y) / (r + L))[g]
    S = np.zeros((G, p + 1))
    Sb = np.zeros((G, p))
    np.add.at(Sb, g, (y - q * lam)[:, None] * X)
    S[:, :p] = Sb
    dr = np.log(r) + 1 - digamma(r) + digamma(r + Y) - np.log(r + L) - (r + Y) / (r + L)
    S[:, p] = -r * dr
    return S


def fit_gamma_poisson(y, X, off, groups, x0, maxit: int = 200):
    """Maximum likelihood of (b, ln alpha) by Newton-Raphson (as Stata's ml): the exact
    gradient, its Jacobian by central differences, step halving on the log likelihood, a
    modified Newton direction where the Hessian is not negative definite; returns (x, ll,
    the inverse observed information, iterations, converged, the log of every iteration)."""
    g = np.asarray(groups, dtype=np.int64)
    G = int(g.max()) + 1

    def value(z):
        return gamma_poisson_value(z, X, y, off, g, G)

    x = np.asarray(x0, dtype=float).copy()
    ll, gr = value(x)
    log = [ll]
    conv = False
    it = 0
    for it in range(1, maxit + 1):
        H = _fd_hessian(lambda z: value(z)[1], x)
        w, U = np.linalg.eigh(-H)
        step = U @ ((U.T @ gr) / np.maximum(w, 1e-8 * max(1.0, np.abs(w).max())))
        t = 1.0
        for _ in range(40):
            nll, ngr = value(x + t * step)
            if np.isfinite(nll) and nll >= ll - 1e-10 * abs(ll):
                break
            t *= 0.5
        x = x + t * step
        done = abs(nll - ll) < 1e-12 * (abs(ll) + 1) and np.max(np.abs(t * step)) < 1e-9
        ll, gr = nll, ngr
        log.append(ll)
        if done or np.max(np.abs(gr)) < 1e-9:
            conv = True
            break
    H = _fd_hessian(lambda z: value(z)[1], x)
    conv = conv and bool(np.all(np.isfinite(gr)))
    return x, ll, np.linalg.inv(-H), it, conv, log


def _fd_hessian(grad, x, h: float = 1e-5):
    k = len(x)
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h * max(1.0, abs(x[i]))
        H[:, i] = (grad(x + e) - grad(x - e)) / (2 * e[i])
    return 0.5 * (H + H.T)
