"""The conditional distributions of mestreg (multilevel parametric survival models) as a family
of the GLMM engine (engine.glmm): per st record the log likelihood contribution

    l(eta) = d log h(t | eta) - (H(t | eta) - H(t0 | eta))

as a function of the linear predictor eta = xb + z'u, with its first three derivatives in eta.

Why a family: the random effects enter only through eta, so the engine's Laplace approximation
and mean-variance adaptive quadrature, its EB means and its observed information apply
unchanged; only the record's likelihood differs from a GLM's. The record's (t0, t, d) cannot
travel through the engine's `y` and `trials` (one number each), so `y` holds the record's
index into the arrays this object keeps (the engine sorts y with the rows it belongs to).

Stata's parametrisations (as streg's, engine.survival_param):
exponential / weibull PH: h = exp(eta) p t^(p-1), p = exp(ln_p) (1 for exponential);
exponential / weibull AFT (`time`): the same with exp(eta) replaced by exp(-p eta);
lognormal AFT: ln t ~ N(eta, s^2), s = exp(logs); loglogistic AFT: S = 1/(1 + (exp(-eta)
t)^(1/s)), s = exp(logs).
"""
from __future__ import annotations

import math

import numpy as np

from .glmm_families import Family
from . import survival_param as sp

DISTRIBUTIONS = ("exponential", "weibull", "lognormal", "loglogistic")
ANCILLARY = {"exponential": None, "weibull": "ln_p", "lognormal": "logs", "loglogistic": "logs"}
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _ph_terms(eta, logh0, dH0, d):
    """(l, l1, l2, l3) of d (eta + log h0) - exp(eta) dH0 in eta."""
    with np.errstate(over="ignore", invalid="ignore"):
        m = np.exp(eta) * dH0
    l = np.where(d > 0, eta + logh0, 0.0) - m
    return l, (d > 0) - m, -m, -m


def _lognormal_z(z):
    """log S, and the first three derivatives in z of log S (S = 1 - Phi(z))."""
    from scipy.special import log_ndtr
    logS = log_ndtr(-z)
    m = np.exp(-0.5 * z * z - LOG_SQRT_2PI - logS)        # hazard of the standard normal
    m1 = m * (m - z)
    m2 = m1 * (m - z) + m * (m1 - 1.0)
    return logS, -m, -m1, -m2


def _loglogistic_u(u):
    """-softplus(u) (log S) and its first three derivatives in u."""
    F = 0.5 * (1.0 + np.tanh(0.5 * u))
    F1 = F * (1.0 - F)
    return -np.logaddexp(0.0, u), -F, -F1, -F1 * (1.0 - 2.0 * F)


def _location_terms(dist, eta, anc, t0, t, d):
    """lognormal and loglogistic: derivatives in the standardised log time w = (ln t - eta)/s,
    mapped to eta by dw/deta = -1/s."""
    s = math.exp(anc)
    lt = np.log(np.where(t > 0, t, 1.0))
    w = (lt - eta) / s
    entry = t0 > 0
    w0 = (np.log(np.where(entry, t0, 1.0)) - eta) / s
    fail = d > 0
    if dist == "lognormal":
        c = np.where(fail, -math.log(s) - lt - LOG_SQRT_2PI, 0.0)
        fw = (-0.5 * w * w, -w, -np.ones_like(w), np.zeros_like(w))
        cw = _lognormal_z(w)
        ew = _lognormal_z(w0)
    else:
        c = np.where(fail, -math.log(s) - lt, 0.0)
        sp_, F_, F1, F2 = _loglogistic_u(w)
        fw = (w + 2 * sp_, 1 + 2 * F_, 2 * F1, 2 * F2)   # log f = w - ln s - ln t - 2 softplus(w)
        cw = (sp_, F_, F1, F2)
        ew = _loglogistic_u(w0)
    out = []
    for k in range(4):
        v = np.where(fail, fw[k], cw[k]) - np.where(entry, ew[k], 0.0)
        out.append(v * (-1.0 / s) ** k)
    out[0] = out[0] + c
    return tuple(out)


def record_derivs(dist: str, aft: bool, eta, anc, t0, t, d):
    """(l, l1, l2, l3) per record (arrays broadcast together)."""
    with np.errstate(all="ignore"):
        if dist in ("exponential", "weibull"):
            p = 1.0 if dist == "exponential" else math.exp(anc)
            lt = np.log(np.where(t > 0, t, 1.0))
            logh0 = math.log(p) + (p - 1.0) * lt
            dH0 = t ** p - np.where(t0 > 0, t0, 0.0) ** p
            if not aft:
                return _ph_terms(eta, logh0, dH0, d)
            l, l1, l2, l3 = _ph_terms(-p * eta, logh0, dH0, d)
            return l, -p * l1, p * p * l2, -p ** 3 * l3
        return _location_terms(dist, eta, anc, t0, t, d)


class SurvivalFamily(Family):
    """mestreg's conditional distribution; `y` is the record's index into (t0, t, d)."""

    name = "survival"

    def __init__(self, dist: str, aft: bool, t0, t, d):
        if dist not in DISTRIBUTIONS:
            raise ValueError(f"distribution {dist} not available")
        self.link = dist
        self.dist, self.aft = dist, aft
        self.t0 = np.asarray(t0, dtype=float)
        self.t = np.asarray(t, dtype=float)
        self.d = np.asarray(d, dtype=float)
        anc = ANCILLARY[dist]
        self.n_extra = 0 if anc is None else 1
        self.extra = np.zeros(self.n_extra)
        self.extra_names = [anc] if anc else []

    def _anc(self):
        return float(self.extra[0]) if self.n_extra else 0.0

    def derivs(self, y, eta, trials):
        i = np.asarray(y).astype(np.int64)
        return record_derivs(self.dist, self.aft, eta, self._anc(), self.t0[i], self.t[i],
                             self.d[i])

    def mean(self, eta, trials):
        return sp.mean_time(self.dist, self.aft, eta, self._anc())


def fixed_effects_fit(dist: str, aft: bool, X, t0, t, d):
    """The model without random effects (streg's): (b + ancillary, ll, log of iterations).
    With a constant (X's last column) from streg's constant-only start; otherwise Newton from
    zero on covariates scaled to at most 1."""
    if X.shape[1] and np.all(X[:, -1] == 1.0):
        _c, fit = sp.fit_streg(dist, aft, X, t0, t, d)
        return fit.theta, fit.ll, fit.lls
    scale = np.max(np.abs(X), axis=0) if X.shape[1] else np.zeros(0)
    scale = np.where(scale > 0, scale, 1.0)
    has_anc = ANCILLARY[dist] is not None
    fit = sp.newton(lambda th: sp.loglik(th, dist, aft, X / scale, t0, t, d),
                    np.zeros(X.shape[1] + has_anc))
    return fit.theta / np.r_[scale, [1.0] * has_anc], fit.ll, fit.lls


def hazard(dist, aft, eta, anc, t):
    """h(t) at linear predictor eta."""
    _lS, lh = sp._log_surv_and_haz(dist, aft, eta, anc, t)
    return np.exp(lh)


def survival(dist, aft, eta, anc, t):
    return sp.survival_at(dist, aft, eta, anc, t)
