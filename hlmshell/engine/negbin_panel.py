"""The panel negative binomial likelihoods of Hausman, Hall and Griliches (1984) that Stata's
xtnbreg fits with `re` and `fe`, in closed form, and the Newton maximizer they share.

Why these and not a GLMM: in the HHG models the panel effect acts on the dispersion, not on
the mean. Given the panel's delta_i, y_it is negative binomial with lambda_it = exp(x_it b +
offset) and variance lambda_it (1 + delta_i) / delta_i (NB1 within the panel).

re: delta_i / (1 + delta_i) ~ Beta(r, s); integrating it out (Y = sum_t y_it, L = sum_t
  lambda_it) gives
  ll_i = lnG(r + s) + lnG(r + L) + lnG(s + Y) - lnG(r) - lnG(s) - lnG(r + s + L + Y)
         + sum_t [lnG(lambda_it + y_it) - lnG(lambda_it) - lnG(y_it + 1)],
  parameters (b, ln r, ln s) as Stata's /ln_r and /ln_s.
fe: conditioning on Y removes delta_i:
  ll_i = lnG(L) + lnG(Y + 1) - lnG(L + Y) + sum_t [lnG(lambda_it + y_it) - lnG(lambda_it)
         - lnG(y_it + 1)];
  unlike the conditional Poisson, a constant and covariates fixed within a panel stay
  identified (they scale lambda, and the NB1 variance keeps its level).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class MLFit:
    x: np.ndarray                 # the estimates
    ll: float
    V: np.ndarray                 # inverse of the observed information
    iterations: int
    converged: bool
    log: list                     # log likelihood of every iteration (iteration 0 first)


_BIG = 1e3          # above it, lnG and digamma differences come from Stirling's series


def lgamma_diff(a, d):
    """lnG(a + d) - lnG(a) (a > 0, d >= 0) without the cancellation of two huge lnG values
    when a is large (lambda = exp(xb) can be 1e20 at a trial step)."""
    from scipy.special import gammaln
    a, d = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(d, dtype=float))
    big = a > _BIG
    ab = np.where(big, a, _BIG + 1.0)
    db = np.where(big, d, 0.0)
    e = ab + db
    stir = ((ab - 0.5) * np.log1p(db / ab) + db * np.log(e) - db
            + (1.0 / e - 1.0 / ab) / 12.0 - (1.0 / e ** 3 - 1.0 / ab ** 3) / 360.0)
    small = np.where(big, 1.0, a)
    return np.where(big, stir, gammaln(small + np.where(big, 0.0, d)) - gammaln(small))


def digamma_diff(a, d):
    """digamma(a + d) - digamma(a), as lgamma_diff (large a by the asymptotic series)."""
    from scipy.special import digamma
    a, d = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(d, dtype=float))
    big = a > _BIG
    ab = np.where(big, a, _BIG + 1.0)
    db = np.where(big, d, 0.0)
    e = ab + db
    asym = (np.log1p(db / ab) - 0.5 * (1.0 / e - 1.0 / ab) - (1.0 / e ** 2 - 1.0 / ab ** 2) / 12.0
            + (1.0 / e ** 4 - 1.0 / ab ** 4) / 120.0)
    small = np.where(big, 1.0, a)
    return np.where(big, asym, digamma(small + np.where(big, 0.0, d)) - digamma(small))


def _panel_sums(groups, G, *cols):
    return [np.bincount(groups, weights=c, minlength=G) for c in cols]


def re_value(x, X, y, off, groups, G):
    """ll and gradient of the HHG random-effects model in (b, ln r, ln s)."""
    from scipy.special import gammaln
    p = X.shape[1]
    b, r, s = x[:p], np.exp(x[p]), np.exp(x[p + 1])
    lam = np.exp(X @ b + off)
    L, Y = _panel_sums(groups, G, lam, y)
    # lnB(r + L, s + Y) - lnB(r, s) as three lnG differences; of its two such forms, the one
    # whose cancelling terms grow with the smaller of L and s (lnG of 1e60 cancels to noise)
    rs, LY = r + s, L + Y
    small_L = lgamma_diff(r, L) - lgamma_diff(rs, LY)
    small_s = lgamma_diff(r, s) - lgamma_diff(r + L, s + Y)
    panel = np.where(L <= s, small_L, small_s) + lgamma_diff(s, Y)
    ll = float(np.sum(panel) + np.sum(lgamma_diff(lam, y) - gammaln(y + 1)))
    common = -digamma_diff(r + L, s + Y)[groups]
    dlam = lam * (common + digamma_diff(lam, y))
    gr = r * np.sum(digamma_diff(r, L) - digamma_diff(rs, LY))
    gs = s * np.sum(digamma_diff(s, Y) - digamma_diff(rs, LY))
    return ll, np.concatenate([X.T @ dlam, [gr, gs]])


def fe_value(b, X, y, off, groups, G):
    """ll and gradient of the HHG conditional (fixed-effects) model in b."""
    from scipy.special import gammaln
    lam = np.exp(X @ b + off)
    L, Y = _panel_sums(groups, G, lam, y)
    ll = float(np.sum(gammaln(Y + 1) - lgamma_diff(L, Y))
               + np.sum(lgamma_diff(lam, y) - gammaln(y + 1)))
    dlam = lam * (-digamma_diff(L, Y)[groups] + digamma_diff(lam, y))
    return ll, X.T @ dlam


def fd_hessian(grad, x, h: float = 1e-5) -> np.ndarray:
    """The Jacobian of an analytic gradient by central differences, symmetrized."""
    k = len(x)
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h * max(1.0, abs(x[i]))
        H[:, i] = (grad(x + e) - grad(x - e)) / (2 * e[i])
    return 0.5 * (H + H.T)


def maximize(value, x0, maxit: int = 300) -> MLFit:
    """Newton-Raphson as Stata's ml does it: the exact gradient, its Jacobian by central
    differences, a modified direction (eigenvalues' magnitudes) where the Hessian is not
    negative definite, steps capped, step halving on the log likelihood; stops when the scaled gradient
    g' inv(-H) g falls below 1e-10 or the log likelihood stops moving."""
    x = np.asarray(x0, dtype=float).copy()
    ll, gr = value(x)
    if not np.isfinite(ll):
        raise FloatingPointError("initial values not feasible")
    log = [ll]
    conv = False
    it = 0
    for it in range(1, maxit + 1):
        H = fd_hessian(lambda z: value(z)[1], x)
        w, U = np.linalg.eigh(-H)
        # where -H is not positive definite, its eigenvalues' magnitudes (an ascent direction
        # that does not jump along the flat or convex ones), and no step beyond 5 units
        step = U @ ((U.T @ gr) / np.maximum(np.abs(w), 1e-6 * max(1.0, np.abs(w).max())))
        big = np.max(np.abs(step) / (5.0 * (1.0 + np.abs(x))))
        if big > 1.0:
            step = step / big
        t = 1.0
        for _ in range(50):
            nll, ngr = value(x + t * step)
            if np.isfinite(nll) and nll >= ll - 1e-10 * abs(ll):
                break
            t *= 0.5
        else:
            break
        x = x + t * step
        moved = abs(nll - ll)
        ll, gr = nll, ngr
        log.append(ll)
        if (np.all(w > 0) and float(gr @ np.linalg.solve(-H, gr)) < 1e-12) or \
                (moved < 1e-13 * (abs(ll) + 1) and np.max(np.abs(t * step)) < 1e-9):
            conv = True
            break
    H = fd_hessian(lambda z: value(z)[1], x)
    V = np.linalg.inv(-H)
    return MLFit(x, ll, 0.5 * (V + V.T), it, conv and bool(np.all(np.isfinite(gr))), log)


def fit_re(y, X, off, groups, x0, maxit: int = 300) -> MLFit:
    g = np.asarray(groups, dtype=np.int64)
    G = int(g.max()) + 1
    return maximize(lambda z: re_value(z, X, y, off, g, G), x0, maxit)


def fit_fe(y, X, off, groups, b0, maxit: int = 300) -> MLFit:
    g = np.asarray(groups, dtype=np.int64)
    G = int(g.max()) + 1
    return maximize(lambda z: fe_value(z, X, y, off, g, G), b0, maxit)


def re_start(y, X, off, groups, b0) -> np.ndarray:
    """Starting values for (b, ln r, ln s): the pooled coefficients b0 with the best (ln r,
    ln s) of a small grid."""
    g = np.asarray(groups, dtype=np.int64)
    G = int(g.max()) + 1
    best, best_ll = None, -np.inf
    for lr in (0.5, 1.0, 1.5, 2.0, 3.0):
        for ls in (-0.5, 0.0, 0.5, 1.0, 2.0):
            x = np.r_[b0, lr, ls]
            with np.errstate(all="ignore"):
                v = re_value(x, X, y, off, g, G)[0]
            if np.isfinite(v) and v > best_ll:
                best, best_ll = x, v
    return best if best is not None else np.r_[b0, 1.0, 1.0]


def nb1_value(x, X, y, off):
    """ll and gradient of the pooled negative binomial of constant dispersion (nbreg,
    dispersion(constant)) in (b, ln delta): y ~ NB(size = lambda / delta, p = 1 / (1 + delta)),
    variance lambda (1 + delta). The comparison model of the random-effects fit."""
    from scipy.special import gammaln
    p = X.shape[1]
    d = math.exp(x[p])
    lam = np.exp(X @ x[:p] + off)
    m = lam / d
    l1d = math.log1p(d)
    ll = float(np.sum(lgamma_diff(m, y) - gammaln(y + 1) - m * l1d + y * (x[p] - l1d)))
    br = digamma_diff(m, y) - l1d
    g_d = float(np.sum(-m * br - m * d / (1 + d) + y / (1 + d)))
    return ll, np.concatenate([X.T @ (m * br), [g_d]])


def fit_nb1(y, X, off, b0, maxit: int = 300) -> MLFit:
    return maximize(lambda z: nb1_value(z, X, y, off), np.r_[b0, 0.0], maxit)
