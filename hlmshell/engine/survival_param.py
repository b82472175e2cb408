"""Parametric survival models of streg by maximum likelihood on (t0, t, d) records:

    ll = sum d log h(t) - (H(t) - H(t0))       (log density of T for failures, truncated at t0)

in Stata's parametrisations: exponential and weibull (PH: h = exp(xb) [p t^(p-1)], AFT:
ln t = xb; ancillary ln_p), gompertz (PH only: h = exp(xb + gamma t); gamma), lognormal
(AFT: ln t ~ N(xb, sigma^2); ln_sig) and loglogistic (AFT: S = 1/(1 + (exp(-xb) t)^(1/gamma));
ln_gam). Newton-Raphson with numerical derivatives of the analytic log likelihood, from the
constant-only fit; pure numpy/scipy.special, no session."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ANCILLARY = {"exponential": None, "weibull": "ln_p", "gompertz": "gamma",
             "lognormal": "ln_sig", "loglogistic": "ln_gam"}


def _log_surv_and_haz(dist: str, aft: bool, xb, anc, t):
    """(log S(t), log h(t)) elementwise; t > 0 where log h is used."""
    from scipy.special import log_ndtr
    with np.errstate(all="ignore"):
        lt = np.log(np.where(t > 0, t, 1.0))
        if dist in ("exponential", "weibull"):
            p = 1.0 if dist == "exponential" else np.exp(anc)
            eta = -p * xb if aft else xb                  # log lambda
            logS = np.where(t > 0, -np.exp(eta + p * lt), 0.0)
            logh = eta + np.log(p) + (p - 1) * lt
            return logS, logh
        if dist == "gompertz":
            g = anc
            H = np.exp(xb) * (np.expm1(g * t) / g if abs(g) > 1e-12 else t)
            return -H, xb + g * t
        if dist == "lognormal":
            s = np.exp(anc)
            z = (lt - xb) / s
            logS = np.where(t > 0, log_ndtr(-z), 0.0)
            logf = -0.5 * z * z - 0.5 * np.log(2 * np.pi) - np.log(s) - lt
            return logS, logf - logS
        g = np.exp(anc)                                    # loglogistic
        u = (lt - xb) / g
        logS = np.where(t > 0, -np.logaddexp(0, u), 0.0)
        logh = u - lt - np.log(g) - np.logaddexp(0, u)
        return logS, logh


def loglik(theta, dist, aft, X, t0, t, d, groups=None):
    """Log likelihood; with `groups` (codes 0..G-1) the last parameter is ln(theta) of a gamma
    frailty shared within groups, integrated out in closed form: per group
    sum d log h + lnG(1/theta + D) - lnG(1/theta) + D ln theta - (1/theta + D) ln(1 + theta H)
    with D its failures and H its cumulative hazard over the records' intervals."""
    k = X.shape[1]
    xb = X @ theta[:k]
    anc = theta[k] if ANCILLARY[dist] else None
    lS, lh = _log_surv_and_haz(dist, aft, xb, anc, t)
    lS0, _ = _log_surv_and_haz(dist, aft, xb, anc, t0)
    lS0 = np.where(t0 > 0, lS0, 0.0)
    if groups is None:
        return float(np.sum(np.where(d > 0, lh, 0.0) + lS - lS0))
    from scipy.special import gammaln
    lnth = theta[-1]
    th = np.exp(lnth)
    Hg = np.bincount(groups, weights=lS0 - lS)
    Dg = np.bincount(groups, weights=(d > 0).astype(float))
    inv = 1.0 / th
    with np.errstate(all="ignore"):
        frail = gammaln(inv + Dg) - gammaln(inv) + Dg * lnth - (inv + Dg) * np.log1p(th * Hg)
    return float(np.sum(np.where(d > 0, lh, 0.0)) + np.sum(frail))


def _derivs(f, x, h=1e-4):
    n = len(x)
    g = np.zeros(n)
    H = np.zeros((n, n))
    f0 = f(x)
    E = np.eye(n) * h
    fp = np.array([f(x + E[i]) for i in range(n)])
    fm = np.array([f(x - E[i]) for i in range(n)])
    g = (fp - fm) / (2 * h)
    for i in range(n):
        H[i, i] = (fp[i] - 2 * f0 + fm[i]) / h ** 2
        for j in range(i):
            v = (f(x + E[i] + E[j]) - f(x + E[i] - E[j]) - f(x - E[i] + E[j])
                 + f(x - E[i] - E[j])) / (4 * h * h)
            H[i, j] = H[j, i] = v
    return f0, g, H


@dataclass
class ParamFit:
    theta: np.ndarray
    V: np.ndarray
    ll: float
    lls: list = field(default_factory=list)
    converged: bool = True


def newton(f, x, maxit=100, tol=1e-10) -> ParamFit:
    ll, g, H = _derivs(f, x)
    lls = [ll]
    ok = False
    for _ in range(maxit):
        try:
            step = np.linalg.solve(-H, g)
        except np.linalg.LinAlgError:
            step = g
        if not np.all(np.linalg.eigvalsh(-H) > 0):
            step = g / max(1.0, np.max(np.abs(g)))
        s = 1.0
        for _half in range(40):
            nll = f(x + s * step)
            if np.isfinite(nll) and nll >= ll - 1e-12:
                break
            s /= 2
        x = x + s * step
        done = abs(nll - ll) < tol * (1 + abs(ll))
        ll, g, H = _derivs(f, x)
        lls.append(ll)
        if done:
            try:
                dec = float(g @ np.linalg.solve(-H, g))
            except np.linalg.LinAlgError:
                dec = np.inf
            if 0 <= dec < 1e-12:
                ok = True
                break
    try:
        V = np.linalg.inv(-H)
    except np.linalg.LinAlgError:
        V = np.full(H.shape, np.nan)
    return ParamFit(x, V, ll, lls, ok)


def start_values(dist, aft, t, d) -> np.ndarray:
    """(constant, ancillary) for the constant-only fit: exponential rate or mean log time."""
    rate = max(d.sum(), 1) / max(np.sum(t), 1e-12)
    if dist in ("exponential", "weibull", "gompertz") and not aft:
        return np.array([np.log(rate), 0.0][: 1 + (ANCILLARY[dist] is not None)])
    if dist in ("exponential", "weibull"):
        return np.array([-np.log(rate), 0.0][: 1 + (ANCILLARY[dist] is not None)])
    lt = np.log(t[t > 0])
    return np.array([lt.mean(), np.log(max(lt.std(), 0.1))])


def fit_frailty(dist, aft, X, t0, t, d, groups, start: np.ndarray) -> ParamFit:
    """The gamma shared-frailty fit from the no-frailty estimates `start` (plus ln theta)."""
    scale = np.max(np.abs(X), axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    k = X.shape[1]
    n_anc = len(start) - k
    D = 1.0 / np.r_[scale, [1.0] * (n_anc + 1)]
    best = None
    for lnth in (-1.0, -3.0, 0.5):
        th0 = np.r_[start / D[:-1], lnth]
        fit = newton(lambda th: loglik(th, dist, aft, X / scale, t0, t, d, groups), th0)
        if best is None or (np.isfinite(fit.ll) and fit.ll > best.ll):
            best = fit
    best.theta = best.theta * D
    best.V = best.V * np.outer(D, D)
    return best


def fit_streg(dist, aft, X, t0, t, d):
    """(constant-only fit, full fit); X's last column is the constant. The covariates are
    scaled to at most 1 in absolute value while fitting (the numerical derivatives need
    parameters of like size), and the estimates scaled back."""
    k = X.shape[1]
    has_anc = ANCILLARY[dist] is not None
    st = start_values(dist, aft, t, d)
    Xc = X[:, -1:]
    c_fit = newton(lambda th: loglik(th, dist, aft, Xc, t0, t, d), st)
    scale = np.max(np.abs(X), axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    Xs = X / scale
    start = np.zeros(k + has_anc)
    start[k - 1] = c_fit.theta[0] * scale[-1]
    if has_anc:
        start[k] = c_fit.theta[1]
    full = newton(lambda th: loglik(th, dist, aft, Xs, t0, t, d), start)
    D = 1.0 / np.r_[scale, [1.0] * has_anc]
    full.theta = full.theta * D
    full.V = full.V * np.outer(D, D)
    return c_fit, full


def survival_at(dist, aft, xb, anc, t) -> np.ndarray:
    lS, _ = _log_surv_and_haz(dist, aft, xb, anc, t)
    return np.exp(lS)


def median_time(dist, aft, xb, anc) -> np.ndarray:
    """Predicted median survival time (S = 0.5)."""
    return quantile_time(dist, aft, xb, anc, 0.5)


def quantile_time(dist, aft, xb, anc, s) -> np.ndarray:
    L = -np.log(s)
    if dist in ("exponential", "weibull"):
        p = 1.0 if dist == "exponential" else np.exp(anc)
        eta = -p * xb if aft else xb
        return (L / np.exp(eta)) ** (1 / p)
    if dist == "gompertz":
        with np.errstate(all="ignore"):
            return np.log1p(anc * L / np.exp(xb)) / anc if abs(anc) > 1e-12 else L / np.exp(xb)
    if dist == "lognormal":
        from scipy.special import ndtri
        return np.exp(xb + np.exp(anc) * ndtri(1 - s))
    return np.exp(xb) * ((1 - s) / s) ** np.exp(anc)


def mean_time(dist, aft, xb, anc) -> np.ndarray:
    """Predicted mean survival time (closed forms; gompertz by quadrature)."""
    from scipy.special import gamma as G
    if dist in ("exponential", "weibull"):
        p = 1.0 if dist == "exponential" else np.exp(anc)
        eta = -p * xb if aft else xb
        return np.exp(-eta / p) * G(1 + 1 / p)
    if dist == "lognormal":
        return np.exp(xb + np.exp(2 * anc) / 2)
    if dist == "loglogistic":
        g = np.exp(anc)
        with np.errstate(all="ignore"):
            return np.where(g < 1, np.exp(xb) * np.pi * g / np.sin(np.pi * g), np.nan)
    import warnings

    from scipy.integrate import quad
    if not anc > 0:                      # gompertz with gamma <= 0: S(t) does not reach 0
        return np.full(np.shape(xb), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.array([quad(lambda u, v=v: float(survival_at(dist, aft, np.array([v]), anc,
                                                               np.array([u]))[0]), 0, np.inf)[0]
                         for v in np.atleast_1d(xb)])
