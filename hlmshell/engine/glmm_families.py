"""Conditional distributions of the generalized linear mixed models (melogit, meprobit,
mecloglog, mepoisson, meglm): per observation the log density l(eta) of the outcome given the
linear predictor and its first three derivatives in eta.

Why three derivatives: the Laplace approximation's exact gradient (engine.glmm) differentiates
log|H| with H = I + Lambda'Z'WZ Lambda and W = -l''(eta), whose change with eta is l'''. The
weights are the observed ones (-l''), which for the canonical links (logit, log) equal the
expected (Fisher) weights, so the Laplace approximation is lme4's and Stata's.

All functions are vectorised over observations; `trials` is the binomial denominator (1 for
Bernoulli outcomes).
"""
from __future__ import annotations

import math

import numpy as np

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class Family:
    """name, link, and derivs(y, eta, trials) -> (l, l1, l2, l3); `constant(y, trials)` is the
    part of l free of eta and of the family's own parameters (log binomial coefficients,
    -log y!), added once. n_extra: parameters of the distribution itself (the negative
    binomial's ln alpha), set by `extra`."""

    name = ""
    link = ""
    n_extra = 0
    extra = np.zeros(0)

    def derivs(self, y, eta, trials):
        raise NotImplementedError

    def first(self, y, eta, trials):
        """(l, l1) only: what adaptive quadrature evaluates at every node."""
        d = self.derivs(y, eta, trials)
        return d[0], d[1]

    def constant(self, y, trials) -> float:
        return 0.0

    def constant_terms(self, y, trials) -> np.ndarray:
        """The per-observation pieces of `constant` (weighted likelihoods sum w_i c_i)."""
        return np.zeros(len(y))

    def mean(self, eta, trials):
        raise NotImplementedError


def _log_choose_terms(n, k) -> np.ndarray:
    from scipy.special import gammaln
    n = np.broadcast_to(np.asarray(n, dtype=float), np.shape(k))
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def _log_choose(n, k) -> float:
    from scipy.special import gammaln
    return float(np.sum(gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)))


class BinomialLogit(Family):
    name, link = "binomial", "logit"

    def derivs(self, y, eta, trials):
        e = np.exp(-np.abs(eta))                            # one exp: expit and log(1 + e^eta)
        r = 1.0 / (1.0 + e)
        p = np.where(eta >= 0, r, e * r)
        l = y * eta - trials * (np.maximum(eta, 0.0) + np.log1p(e))
        v = p * (1.0 - p)
        tv = trials * v
        return l, y - trials * p, -tv, -tv * (1.0 - 2.0 * p)

    def first(self, y, eta, trials):
        e = np.exp(-np.abs(eta))
        r = 1.0 / (1.0 + e)
        p = np.where(eta >= 0, r, e * r)
        return y * eta - trials * (np.maximum(eta, 0.0) + np.log1p(e)), y - trials * p

    def constant_terms(self, y, trials):
        return _log_choose_terms(trials, y)

    def constant(self, y, trials) -> float:
        return _log_choose(trials, y) if np.any(trials != 1) else 0.0

    def mean(self, eta, trials):
        return trials * 0.5 * (1.0 + np.tanh(0.5 * eta))


def _mills(eta):
    """phi(eta)/Phi(eta) and phi(eta)/Phi(-eta), stably in both tails."""
    return _mills_logs(eta)[:2]


def _mills_logs(eta):
    """(phi/Phi(eta), phi/Phi(-eta), log Phi(eta), log Phi(-eta)): each log_ndtr once (the
    costly part of a probit evaluation at every quadrature node)."""
    from scipy.special import log_ndtr
    logphi = -0.5 * eta * eta - LOG_SQRT_2PI
    lp, lm = log_ndtr(eta), log_ndtr(-eta)
    return np.exp(logphi - lp), np.exp(logphi - lm), lp, lm


class BinomialProbit(Family):
    name, link = "binomial", "probit"

    def first(self, y, eta, trials):
        l1m, l0m, lp, lm = _mills_logs(eta)
        return y * lp + (trials - y) * lm, y * l1m - (trials - y) * l0m

    def derivs(self, y, eta, trials):
        l1m, l0m, lp, lm = _mills_logs(eta)
        l = y * lp + (trials - y) * lm
        d1m = -l1m * (eta + l1m)                  # d/deta phi/Phi
        d0m = l0m * (l0m - eta)                   # d/deta phi/(1 - Phi)
        g1 = y * l1m - (trials - y) * l0m
        g2 = y * d1m - (trials - y) * d0m
        dd1 = -(d1m * (eta + l1m) + l1m * (1.0 + d1m))
        dd0 = d0m * (l0m - eta) + l0m * (d0m - 1.0)
        return l, g1, g2, y * dd1 - (trials - y) * dd0

    def constant_terms(self, y, trials):
        return _log_choose_terms(trials, y)

    def constant(self, y, trials) -> float:
        return _log_choose(trials, y) if np.any(trials != 1) else 0.0

    def mean(self, eta, trials):
        from scipy.special import ndtr
        return trials * ndtr(eta)


class BinomialCloglog(Family):
    name, link = "binomial", "cloglog"

    def derivs(self, y, eta, trials):
        t = np.exp(np.minimum(eta, 700.0))
        em1 = np.expm1(t)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            g = np.where(t > 1e-300, t / em1, 1.0)            # t / (e^t - 1)
            et = np.exp(np.minimum(t, 700.0))
            g1 = g * (1.0 - g * et)                           # dg/deta
            g2 = g1 * (1.0 - g * et) - g * et * (g1 + g * t)  # d2g/deta2
            logmu = np.log(-np.expm1(-t))
        l = y * logmu - (trials - y) * t
        return l, y * g - (trials - y) * t, y * g1 - (trials - y) * t, y * g2 - (trials - y) * t

    def constant_terms(self, y, trials):
        return _log_choose_terms(trials, y)

    def constant(self, y, trials) -> float:
        return _log_choose(trials, y) if np.any(trials != 1) else 0.0

    def mean(self, eta, trials):
        return trials * -np.expm1(-np.exp(eta))


class PoissonLog(Family):
    name, link = "poisson", "log"

    def derivs(self, y, eta, trials):
        mu = np.exp(eta)
        return y * eta - mu, y - mu, -mu, -mu

    def first(self, y, eta, trials):
        mu = np.exp(eta)
        return y * eta - mu, y - mu

    def constant_terms(self, y, trials):
        from scipy.special import gammaln
        return -gammaln(y + 1.0)

    def constant(self, y, trials) -> float:
        from scipy.special import gammaln
        return -float(np.sum(gammaln(y + 1.0)))

    def mean(self, eta, trials):
        return np.exp(eta)


class NegBinomialMean(Family):
    """Negative binomial with mean dispersion (Stata's nbinomial mean, NB2): Var = mu(1 +
    alpha mu), alpha = exp(extra[0]) (e(b)'s /lnalpha)."""

    name, link = "nbinomial", "log"
    n_extra = 1
    extra_names = ["lnalpha"]
    dispersion = "mean"

    def __init__(self):
        self.extra = np.zeros(1)

    def derivs(self, y, eta, trials):
        from scipy.special import gammaln
        r = math.exp(-float(self.extra[0]))                   # 1 / alpha
        mu = np.exp(eta)
        rm = r + mu
        l = gammaln(y + r) - gammaln(r) + r * math.log(r) - (r + y) * np.log(rm) + y * eta
        g1 = r * (y - mu) / rm
        g2 = -(r + y) * r * mu / rm ** 2
        g3 = -(r + y) * r * mu * (r - mu) / rm ** 3
        return l, g1, g2, g3

    def constant_terms(self, y, trials):
        from scipy.special import gammaln
        return -gammaln(y + 1.0)

    def constant(self, y, trials) -> float:
        from scipy.special import gammaln
        return -float(np.sum(gammaln(y + 1.0)))

    def mean(self, eta, trials):
        return np.exp(eta)


class NegBinomialConstant(Family):
    """Negative binomial with constant dispersion (Stata's dispersion(constant), NB1): Var =
    mu(1 + delta), delta = exp(extra[0]) (e(b)'s /lndelta); y ~ NB(size r = mu/delta,
    p = 1/(1 + delta)). With r = mu/delta, A = psi(y+r) - psi(r) - ln(1+delta), B and C the
    same differences of trigamma and tetragamma: l' = rA, l'' = rA + r^2 B,
    l3 = rA + 3 r^2 B + r^3 C (as dr/deta = r)."""

    name, link = "nbinomial", "log"
    n_extra = 1
    extra_names = ["lndelta"]
    dispersion = "constant"

    def __init__(self):
        self.extra = np.zeros(1)

    def derivs(self, y, eta, trials):
        from scipy.special import gammaln, polygamma, psi
        ld = float(self.extra[0])
        d = math.exp(ld)
        l1pd = math.log1p(d)
        r = np.exp(eta - ld)
        yr = y + r
        l = gammaln(yr) - gammaln(r) - r * l1pd + y * (ld - l1pd)
        A = psi(yr) - psi(r) - l1pd
        B = polygamma(1, yr) - polygamma(1, r)
        C = polygamma(2, yr) - polygamma(2, r)
        rA, r2B = r * A, r * r * B
        return l, rA, rA + r2B, rA + 3.0 * r2B + r ** 3 * C

    def first(self, y, eta, trials):
        """(l, l1) without the trigamma and tetragamma terms: quadrature evaluates this at
        every node, and polygamma(1|2, .) is the costly part of derivs."""
        from scipy.special import gammaln, psi
        ld = float(self.extra[0])
        l1pd = math.log1p(math.exp(ld))
        r = np.exp(eta - ld)
        yr = y + r
        l = gammaln(yr) - gammaln(r) - r * l1pd + y * (ld - l1pd)
        return l, r * (psi(yr) - psi(r) - l1pd)

    def constant_terms(self, y, trials):
        from scipy.special import gammaln
        return -gammaln(y + 1.0)

    def constant(self, y, trials) -> float:
        from scipy.special import gammaln
        return -float(np.sum(gammaln(y + 1.0)))

    def mean(self, eta, trials):
        return np.exp(eta)


class Ordinal(Family):
    """Ordered logit or probit: y holds category codes 0..K-1, extra the K-1 cutpoints
    (increasing; e(b)'s /cut1 ...), Pr(y = k) = F(cut_k+1 - eta) - F(cut_k - eta) with
    cut_0 = -inf, cut_K = +inf. A non-increasing set of cutpoints gives l = -inf (outside the
    parameter space: the optimiser backs off)."""

    name = "ordinal"

    def __init__(self, link: str, ncat: int):
        self.link = link
        self.n_extra = ncat - 1
        self.extra = np.zeros(ncat - 1)

    def _pieces(self, x):
        """F, its density f and the density's first two derivatives at x (+-inf allowed)."""
        if self.link == "logit":
            F = 0.5 * (1.0 + np.tanh(0.5 * np.where(np.isfinite(x), x, np.sign(x) * 800)))
            f = F * (1.0 - F)
            return F, f, f * (1.0 - 2.0 * F), f * (1.0 - 6.0 * F + 6.0 * F * F)
        from scipy.special import ndtr
        xf = np.where(np.isfinite(x), x, 0.0)
        F = np.where(np.isfinite(x), ndtr(xf), (x > 0).astype(float))
        f = np.where(np.isfinite(x), np.exp(-0.5 * xf * xf) / math.sqrt(2 * math.pi), 0.0)
        return F, f, -xf * f, (xf * xf - 1.0) * f

    def derivs(self, y, eta, trials):
        cuts = np.concatenate([[-np.inf], np.asarray(self.extra, dtype=float), [np.inf]])
        k = np.asarray(y, dtype=np.int64)
        Fa, fa, ga, ha = self._pieces(cuts[k + 1] - eta)
        Fb, fb, gb, hb = self._pieces(cuts[k] - eta)
        with np.errstate(divide="ignore", invalid="ignore"):
            P = Fa - Fb
            if np.any(np.diff(self.extra) <= 0):
                P = np.full_like(P, -1.0)
            l = np.where(P > 0, np.log(np.where(P > 0, P, 1.0)), -np.inf)
            d1, d2, d3 = fa - fb, ga - gb, ha - hb       # differences of F's derivatives
            r1, r2, r3 = -d1 / P, d2 / P, -d3 / P       # dP/P, d2P/P, d3P/P in eta
            g1 = r1
            g2 = r2 - r1 * r1
            g3 = r3 - 3.0 * r2 * r1 + 2.0 * r1 ** 3
        return l, g1, g2, g3

    def mean(self, eta, trials):
        raise ValueError("no mean for an ordinal outcome")


FAMILIES = {("binomial", "logit"): BinomialLogit, ("binomial", "probit"): BinomialProbit,
            ("binomial", "cloglog"): BinomialCloglog, ("poisson", "log"): PoissonLog,
            ("nbinomial", "log"): NegBinomialMean}


def family(name: str, link: str, ncat: int = 0, dispersion: str = "mean") -> Family:
    """The family object; dispersion="constant" gives the NB1 negative binomial."""
    if name == "nbinomial" and link == "log" and dispersion == "constant":
        return NegBinomialConstant()
    if name == "ordinal":
        if link not in ("logit", "probit") or ncat < 2:
            raise ValueError(f"family ordinal with link {link} not available")
        return Ordinal(link, ncat)
    try:
        return FAMILIES[(name, link)]()
    except KeyError:
        raise ValueError(f"family {name} with link {link} not available") from None
