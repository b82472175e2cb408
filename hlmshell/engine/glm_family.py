"""Generalized linear models as Stata's `glm` fits them: a variance function (the family) and
a link, fitted by Fisher scoring (iteratively reweighted least squares) and then summarised by
the observed (OIM, Stata's default `ml`) or expected (EIM, `irls`) information.

Why a module of its own: the me* engine's families (engine.glmm_families) are log densities
with eta-derivatives for the Laplace approximation; glm needs quasi-likelihood pieces instead
(V(mu), its derivative, deviance units, the link's first two derivatives) for every
family x link pair, including non-canonical ones (binomial with log link, gamma with log link,
power links) where the observed and expected information differ.

Binomial outcomes with m trials: mu is the expected count m*p, V(mu) = mu(1 - mu/m) and the link
acts on p = mu/m (Stata's convention). All functions are vectorised over observations.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

EPS = 1e-10


# ------------------------------------------------------------------------------ links
@dataclass
class Link:
    """g maps p (mu/m for the binomial, mu otherwise) to eta; inverse, dp/deta, d2p/deta2."""

    name: str
    title: str
    formula: str
    power: float = 0.0

    def g(self, p):
        n, a = self.name, self.power
        with np.errstate(all="ignore"):
            if n == "identity":
                return p
            if n == "log":
                return np.log(p)
            if n == "logit":
                return np.log(p / (1 - p))
            if n == "probit":
                from scipy.special import ndtri
                return ndtri(p)
            if n == "cloglog":
                return np.log(-np.log1p(-p))
            if n == "loglog":
                return -np.log(-np.log(p))
            if n == "logc":
                return np.log1p(-p)
            if n == "power":
                return np.log(p) if a == 0 else p ** a
            if n == "opower":
                o = p / (1 - p)
                return np.log(o) if a == 0 else (o ** a - 1) / a
            if n == "nbinomial":
                return np.log(p / (p + 1.0 / a))
        raise ValueError(n)

    def inv(self, eta):
        """(p, dp/deta, d2p/deta2)."""
        n, a = self.name, self.power
        with np.errstate(all="ignore"):
            if n == "identity" or (n == "power" and a == 1):
                return eta, np.ones_like(eta), np.zeros_like(eta)
            if n == "log" or (n == "power" and a == 0):
                e = np.exp(eta)
                return e, e, e
            if n == "logit" or (n == "opower" and a == 0):
                p = 0.5 * (1.0 + np.tanh(0.5 * eta))
                d = p * (1 - p)
                return p, d, d * (1 - 2 * p)
            if n == "probit":
                from scipy.special import ndtr
                phi = np.exp(-0.5 * eta * eta) / math.sqrt(2 * math.pi)
                return ndtr(eta), phi, -eta * phi
            if n == "cloglog":
                t = np.exp(eta)
                d = t * np.exp(-t)
                return -np.expm1(-t), d, d * (1 - t)
            if n == "loglog":
                t = np.exp(-eta)
                p = np.exp(-t)
                return p, t * p, p * t * (t - 1)
            if n == "logc":
                e = np.exp(eta)
                return 1 - e, -e, -e
            if n == "power":
                p = eta ** (1.0 / a)
                d = (1.0 / a) * eta ** (1.0 / a - 1)
                return p, d, (1.0 / a) * (1.0 / a - 1) * eta ** (1.0 / a - 2)
            if n == "opower":
                o = (1 + a * eta) ** (1.0 / a)
                p = o / (1 + o)
                do = (1 + a * eta) ** (1.0 / a - 1)
                d2o = (1 - a) * (1 + a * eta) ** (1.0 / a - 2)
                dp = do / (1 + o) ** 2
                return p, dp, d2o / (1 + o) ** 2 - 2 * do * do / (1 + o) ** 3
            if n == "nbinomial":
                k = 1.0 / a
                e = np.exp(eta)
                p = k * e / (1 - e)
                d = k * e / (1 - e) ** 2
                return p, d, d * (1 + e) / (1 - e)
        raise ValueError(n)


def _num(a: float) -> str:
    """A number as Stata shows it in the link's formula (no leading zero: .5, -.5)."""
    t = f"{a:g}"
    if t.startswith("0."):
        return t[1:]
    return "-" + t[2:] if t.startswith("-0.") else t


def _power_text(a: float) -> tuple[str, str]:
    if a == 1:
        return "Identity", "u"
    if a == 0:
        return "Log", "ln(u)"
    if a == -1:
        return "Reciprocal", "1/u"
    num = _num(a)
    return f"Power({num})", f"u^({num})"


def make_link(name: str, power: float = 0.0) -> Link:
    """A link by Stata's name (already unabbreviated)."""
    fixed = {"identity": ("Identity", "u"), "log": ("Log", "ln(u)"),
             "logit": ("Logit", "ln(u/(1-u))"), "probit": ("Probit", "invnorm(u)"),
             "cloglog": ("Complementary log-log", "ln(-ln(1-u))"),
             "loglog": ("Log-log", "-ln(-ln(u))"), "logc": ("Log complement", "ln(1-u)")}
    if name in fixed:
        return Link(name, *fixed[name])
    if name == "power":
        if power == 1:
            return Link("identity", "Identity", "u")
        if power == 0:
            return Link("log", "Log", "ln(u)")
        return Link("power", *_power_text(power), power=power)
    if name == "opower":
        if power == 0:
            return Link("logit", "Logit", "ln(u/(1-u))")
        p = _num(power)
        return Link("opower", f"Odds power({p})", f"[(u/(1-u))^({p})-1]/({p})", power=power)
    if name == "nbinomial":
        return Link("nbinomial", "Neg. Binomial", f"ln(u/(u+{_num(1.0 / power)}))", power=power)
    raise ValueError(name)


# --------------------------------------------------------------------------- families
@dataclass
class Family:
    """The variance function, deviance units and log likelihood of one family. `k` is the
    negative binomial's alpha (V = mu + k mu^2); `m` the binomial trials (per observation)."""

    name: str
    k: float = 1.0
    m: np.ndarray | None = None
    bernoulli: bool = True
    m_text: str = "1"

    def V(self, mu):
        n = self.name
        if n == "gaussian":
            return np.ones_like(mu)
        if n == "binomial":
            return mu * (1 - mu / self.m)
        if n == "poisson":
            return mu
        if n == "nbinomial":
            return mu + self.k * mu * mu
        if n == "gamma":
            return mu * mu
        return mu ** 3                                      # igaussian

    def dV(self, mu):
        n = self.name
        if n == "gaussian":
            return np.zeros_like(mu)
        if n == "binomial":
            return 1 - 2 * mu / self.m
        if n == "poisson":
            return np.ones_like(mu)
        if n == "nbinomial":
            return 1 + 2 * self.k * mu
        if n == "gamma":
            return 2 * mu
        return 3 * mu * mu

    def dev_units(self, y, mu):
        n = self.name
        with np.errstate(all="ignore"):
            if n == "gaussian":
                return (y - mu) ** 2
            if n == "binomial":
                m = self.m
                return 2 * (_xlogy(y, y / mu) + _xlogy(m - y, (m - y) / (m - mu)))
            if n == "poisson":
                return 2 * (_xlogy(y, y / mu) - (y - mu))
            if n == "nbinomial":
                k = self.k
                return 2 * (_xlogy(y, y / mu) - (y + 1 / k) * np.log((1 + k * y) / (1 + k * mu)))
            if n == "gamma":
                return -2 * (np.log(y / mu) - (y - mu) / mu)
            return (y - mu) ** 2 / (mu * mu * y)

    def loglik(self, y, mu, phi: float, dev: float) -> float:
        """The log likelihood Stata reports; phi is the scale (the inverse Gaussian's)."""
        from scipy.special import gammaln
        n = self.name
        with np.errstate(all="ignore"):
            if n == "gaussian":
                s2 = dev / len(y)                           # ML variance: regress's ll
                return float(-0.5 * len(y) * (1 + math.log(2 * math.pi * s2)))
            if n == "binomial":
                m = self.m
                lc = gammaln(m + 1) - gammaln(y + 1) - gammaln(m - y + 1)
                p = mu / m
                return float(np.sum(lc + _xlogy(y, p) + _xlogy(m - y, 1 - p)))
            if n == "poisson":
                return float(np.sum(_xlogy(y, mu) - mu - gammaln(y + 1)))
            if n == "nbinomial":
                k = self.k
                return float(np.sum(_xlogy(y, k * mu / (1 + k * mu)) - np.log1p(k * mu) / k
                                    + gammaln(y + 1 / k) - gammaln(y + 1) - gammaln(1 / k)))
            if n == "gamma":
                # Stata computes the gamma log likelihood with the scale set to 1 (its glm
                # manual, as quoted on Statalist 1680539): -sum(y/mu + ln mu)
                return float(-np.sum(y / mu + np.log(mu)))
            return float(np.sum(-0.5 * ((y - mu) ** 2 / (y * mu * mu * phi)
                                        + np.log(2 * math.pi * phi * y ** 3))))

    def start_mu(self, y):
        if self.name == "binomial":
            return self.m * (y + 0.5) / (self.m + 1)
        return (y + float(np.mean(y))) / 2

    def valid_mu(self, mu) -> bool:
        if not np.all(np.isfinite(mu)):
            return False
        if self.name == "binomial":
            return bool(np.all((mu > 0) & (mu < self.m)))
        if self.name in ("poisson", "nbinomial", "gamma", "igaussian"):
            return bool(np.all(mu > 0))
        return True


def _xlogy(x, y):
    """x log y with 0 log 0 = 0."""
    with np.errstate(all="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


# ------------------------------------------------------------------------------- fit
@dataclass
class GlmFit:
    beta: np.ndarray
    mu: np.ndarray
    eta: np.ndarray
    deviance: float
    pearson: float
    info_oim: np.ndarray               # X'W X at phi = 1 (observed information)
    info_eim: np.ndarray               # expected information at phi = 1
    scores: np.ndarray                 # per-observation scores at phi = 1 (n x p)
    iterations: int
    converged: bool
    devs: list = field(default_factory=list)
    betas: list = field(default_factory=list)      # the start and every iteration (the log)


def _pieces(fam: Family, link: Link, eta):
    p, d1, d2 = link.inv(eta)
    m = fam.m if fam.name == "binomial" else 1.0
    return m * p, m * d1, m * d2


def fit(y, X, offset, fam: Family, link: Link, *, maxit: int = 300, tol: float = 1e-12):
    """Fisher scoring with step halving on the deviance, from Stata's starting means;
    returns GlmFit (None when the means leave the family's range for good)."""
    mu = fam.start_mu(y)
    m = fam.m if fam.name == "binomial" else 1.0
    eta = link.g(mu / m)
    beta = None
    dev_old = np.inf
    devs: list[float] = []
    betas: list[np.ndarray] = []
    conv = False
    it = 0
    for it in range(1, maxit + 1):
        mu, d1, _ = _pieces(fam, link, eta)
        w = d1 * d1 / fam.V(mu)
        z = eta - offset + (y - mu) / d1
        sw = np.sqrt(w)
        if not (np.all(np.isfinite(sw)) and np.all(np.isfinite(z))):
            raise FloatingPointError("weights not finite")
        bn, *_ = np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)
        target = X @ bn + offset
        t = 1.0
        for _h in range(60):
            # halving in eta: from a fitted eta this is beta + t (bn - beta); from the start
            # means (not in X's column space) it walks back towards them until feasible
            en = target if t == 1.0 else eta + t * (target - eta)
            mun = _pieces(fam, link, en)[0]
            if fam.valid_mu(mun):
                dn = float(np.sum(fam.dev_units(y, mun)))
                if np.isfinite(dn) and (beta is None or dn <= dev_old + 1e-12 * abs(dev_old)):
                    break
            t *= 0.5
        else:
            if beta is None:
                raise FloatingPointError("starting values not feasible")
            break
        if t == 1.0:
            cand = bn
        elif beta is not None:
            cand = beta + t * (bn - beta)
        else:
            cand = None                     # a feasible eta short of the fit: iterate from it
        step = np.inf if beta is None or cand is None else float(np.max(np.abs(cand - beta)))
        eta, mu = en, mun
        if cand is None:
            continue
        beta = cand
        devs.append(dn)
        betas.append(beta)
        if abs(dev_old - dn) <= tol * (abs(dn) + 0.1) and step < 1e-8:
            conv = True
            break
        dev_old = dn
    if beta is None:
        raise FloatingPointError("no fit")
    out = finish(y, X, offset, fam, link, beta, it, conv, devs)
    out.betas = betas
    return out


def finish(y, X, offset, fam, link, beta, it=0, conv=True, devs=None) -> GlmFit:
    """Deviance, Pearson and the information matrices at beta."""
    eta = X @ beta + offset
    mu, d1, d2 = _pieces(fam, link, eta)
    V = fam.V(mu)
    r = y - mu
    w_eim = d1 * d1 / V
    w_oim = w_eim - r * (d2 / V - d1 * d1 * fam.dV(mu) / (V * V))
    return GlmFit(beta=beta, mu=mu, eta=eta, deviance=float(np.sum(fam.dev_units(y, mu))),
                  pearson=float(np.sum(r * r / V)), info_oim=X.T @ (w_oim[:, None] * X),
                  info_eim=X.T @ (w_eim[:, None] * X), scores=(r * d1 / V)[:, None] * X,
                  iterations=it, converged=conv, devs=list(devs or []))


def anscombe(fam: Family, y, mu):
    """Anscombe residuals A(y) - A(mu) over V(mu)^(1/6), A the integral of V^(-1/3):
    closed forms per family (incomplete beta for the binomial, 2F1 for the negative binomial)."""
    from scipy.special import beta, betainc, hyp2f1
    n = fam.name
    with np.errstate(all="ignore"):
        if n == "gaussian":
            return y - mu
        if n == "binomial":
            m = fam.m
            a = beta(2 / 3, 2 / 3)
            p, py = mu / m, y / m
            return (np.sqrt(m) * a * (betainc(2 / 3, 2 / 3, py) - betainc(2 / 3, 2 / 3, p))
                    / (p * (1 - p)) ** (1 / 6))
        if n == "poisson":
            return 1.5 * (y ** (2 / 3) - mu ** (2 / 3)) / mu ** (1 / 6)
        if n == "nbinomial":
            k = fam.k

            def A(t):
                return 1.5 * t ** (2 / 3) * hyp2f1(1 / 3, 2 / 3, 5 / 3, -k * t)
            return (A(y) - A(mu)) / (mu + k * mu * mu) ** (1 / 6)
        if n == "gamma":
            return 3 * (y ** (1 / 3) - mu ** (1 / 3)) / mu ** (1 / 3)
        return (np.log(y) - np.log(mu)) / np.sqrt(mu)
