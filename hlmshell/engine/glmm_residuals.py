"""What predict computes after the one-level GLMMs beyond the mean: Pearson, deviance and
Anscombe residuals for the families of engine.glmm_families, the ordinal models' category
probabilities, and predictions integrated over the random effects (`marginal`).

Why here and not in the families: these are per-observation summaries at a given mean (the
conditional mean at the empirical Bayes predictions, or the marginal mean), used only after a
fit; the families stay what the likelihood needs.

Residuals for a mean mu with variance function V:
  Pearson  (y - mu) / sqrt(V(mu));
  deviance sign(y - mu) sqrt(2 [l(y; y) - l(y; mu)]) with the family's own parameters fixed;
  Anscombe A(y) - A(mu) over V(mu)^(1/6), A(t) = integral of V^(-1/3) (closed forms: the
  incomplete beta function for binomial outcomes, a hypergeometric function for NB2).
"""
from __future__ import annotations

import math

import numpy as np


def _xlogy(x, y):
    with np.errstate(all="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


def variance(fam, mu, trials):
    """V(mu) of the family (binomial: mu(1 - mu/n); NB2: mu(1 + alpha mu); NB1: mu(1 + delta))."""
    if fam.name == "binomial":
        return mu * (1.0 - mu / trials)
    if fam.name == "poisson":
        return mu
    if fam.name == "nbinomial":
        a = math.exp(float(fam.extra[0]))
        return mu * (1.0 + a * mu) if getattr(fam, "dispersion", "mean") == "mean" else mu * (1.0 + a)
    raise ValueError(f"no residuals for family {fam.name}")


def pearson(fam, y, mu, trials):
    with np.errstate(all="ignore"):
        return (y - mu) / np.sqrt(variance(fam, mu, trials))


def _unit_deviance(fam, y, mu, trials):
    n = fam.name
    if n == "binomial":
        return 2.0 * (_xlogy(y, y / mu) + _xlogy(trials - y, (trials - y) / (trials - mu)))
    if n == "poisson":
        return 2.0 * (_xlogy(y, y / mu) - (y - mu))
    if getattr(fam, "dispersion", "mean") == "mean":
        a = math.exp(float(fam.extra[0]))
        return 2.0 * (_xlogy(y, y / mu) - (y + 1.0 / a) * np.log((1.0 + a * y) / (1.0 + a * mu)))
    # NB1: 2 [l(y; mu = y) - l(y; mu)] from the family's own log density (l(0; 0) = 0)
    with np.errstate(all="ignore"):
        l_mu = fam.derivs(y, np.log(mu), trials)[0]
        ysafe = np.where(y > 0, y, 1.0)
        l_y = np.where(y > 0, fam.derivs(y, np.log(ysafe), trials)[0], 0.0)
    return 2.0 * (l_y - l_mu)


def deviance(fam, y, mu, trials):
    with np.errstate(all="ignore"):
        d = np.clip(_unit_deviance(fam, y, mu, trials), 0.0, None)
        return np.sign(y - mu) * np.sqrt(d)


def _a_binomial(p):
    from scipy.special import beta, betainc
    return beta(2.0 / 3.0, 2.0 / 3.0) * betainc(2.0 / 3.0, 2.0 / 3.0, np.clip(p, 0.0, 1.0))


def anscombe(fam, y, mu, trials):
    n = fam.name
    with np.errstate(all="ignore"):
        if n == "binomial":
            p, py = mu / trials, y / trials
            return (np.sqrt(trials) * (_a_binomial(py) - _a_binomial(p))
                    / (p * (1.0 - p)) ** (1.0 / 6.0))
        if n == "poisson":
            return 1.5 * (y ** (2.0 / 3.0) - mu ** (2.0 / 3.0)) / mu ** (1.0 / 6.0)
        a = math.exp(float(fam.extra[0]))
        if getattr(fam, "dispersion", "mean") == "constant":
            return (1.5 * (1.0 + a) ** (-1.0 / 3.0) * (y ** (2.0 / 3.0) - mu ** (2.0 / 3.0))
                    / ((1.0 + a) * mu) ** (1.0 / 6.0))
        from scipy.special import hyp2f1

        def A(t):
            return 1.5 * t ** (2.0 / 3.0) * hyp2f1(1.0 / 3.0, 2.0 / 3.0, 5.0 / 3.0, -a * t)
        return (A(y) - A(mu)) / (mu * (1.0 + a * mu)) ** (1.0 / 6.0)


def ordinal_probs(fam, eta) -> np.ndarray:
    """Probabilities of the K categories of an ordinal family at eta (a new last axis)."""
    cuts = np.concatenate([[-np.inf], np.asarray(fam.extra, dtype=float), [np.inf]])
    F = np.stack([fam._pieces(c - eta)[0] for c in cuts], axis=-1)
    return np.diff(F, axis=-1)


def marginal(fn, xb, A, cov, points: int = 0):
    """E over b ~ N(0, cov) of fn(xb + a'b) per observation (A: the rows a_i of Z, (n, q)):
    a Gauss-Hermite product rule in the standardised effects (30 points in one dimension,
    fewer per dimension above, as the product grows). fn maps (n, K) etas to (n, K, ...)."""
    from numpy.polynomial.hermite_e import hermegauss
    q = A.shape[1]
    points = points or {1: 30, 2: 15}.get(q, 7)
    t, w = hermegauss(points)
    w = w / w.sum()
    grids = np.meshgrid(*([t] * q), indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=1)                   # (K, q)
    wts = np.prod(np.stack(np.meshgrid(*([w] * q), indexing="ij"), axis=0).reshape(q, -1), axis=0)
    ev, U = np.linalg.eigh(np.asarray(cov, dtype=float))
    L = U * np.sqrt(np.clip(ev, 0.0, None))                                # cov = L L^T
    eta = xb[:, None] + A @ (L @ nodes.T)                                  # (n, K)
    vals = fn(eta)
    return np.tensordot(vals, wts, axes=([1], [0]))
