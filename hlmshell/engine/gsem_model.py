"""gsem's model, numerically: equations of observed responses with their own family and link,
latent variables at one cluster level (random intercepts `M1[cid]`, random slopes
`c.x#M1[cid]`), and the conditional log density of each response given its linear predictor.

Why stacked rows: an observation contributes one row per equation it takes part in (gsem drops
missing values equation-wise), and a path from one response to another (`science <- write`) is
just a covariate column: in a recursive model f(write, science | u) = f(write | u) f(science |
write, u), so the joint likelihood is the product of the equations' conditional densities.

The natural parameter vector theta (the metric of e(b)) is
    [beta of each equation, cutpoints of each ordinal equation, free loadings,
     var(latent j), free cov(latent j, latent k), var(e.y) of each gaussian equation].
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

LOG_2PI = math.log(2 * math.pi)


@dataclass
class Equation:
    """One response: family gaussian|bernoulli|poisson|ordinal, link identity|logit|probit|log.
    X is the (N, p) design over the estimation sample (ordinal: no constant); `use` marks the
    observations taking part in this equation; y is coded 0..K-1 for ordinal responses."""

    name: str
    family: str
    link: str
    y: np.ndarray
    X: np.ndarray
    use: np.ndarray
    n_cut: int = 0


@dataclass
class Loading:
    """Latent j enters equation eq with coefficient (1 when fixed, else a free parameter)
    times the observed values z (ones for an intercept, x for `c.x#M1[cid]`)."""

    eq: int
    latent: int
    z: np.ndarray
    fixed: bool = True


@dataclass
class GsemModel:
    eqs: list[Equation]
    loadings: list[Loading]
    q: int                                  # number of latent variables
    groups: np.ndarray                      # (N,) cluster codes 0..G-1 (each obs its own if q=0)
    n_groups: int
    cov_pairs: list[tuple[int, int]] = field(default_factory=list)   # free covariances
    # stacked rows, filled by stack()
    row_eq: np.ndarray = None
    row_obs: np.ndarray = None
    row_g: np.ndarray = None
    y_row: np.ndarray = None
    X_row: np.ndarray = None
    beta_slices: list = None
    starts: np.ndarray = None

    def __post_init__(self):
        self.stack()

    def stack(self) -> None:
        rows_eq, rows_obs = [], []
        for k, e in enumerate(self.eqs):
            idx = np.flatnonzero(e.use)
            rows_eq.append(np.full(idx.size, k))
            rows_obs.append(idx)
        row_eq = np.concatenate(rows_eq)
        row_obs = np.concatenate(rows_obs)
        order = np.argsort(self.groups[row_obs], kind="stable")     # clusters contiguous
        self.row_eq, self.row_obs = row_eq[order], row_obs[order]
        self.row_g = self.groups[self.row_obs]
        self.starts = np.flatnonzero(np.r_[True, np.diff(self.row_g) != 0])
        self.y_row = np.concatenate([e.y[e.use] for e in self.eqs]).astype(float)[order]
        p = [e.X.shape[1] for e in self.eqs]
        start = np.concatenate([[0], np.cumsum(p)]).astype(int)
        self.beta_slices = [slice(int(start[k]), int(start[k + 1])) for k in range(len(p))]
        X = np.zeros((self.row_eq.size, int(start[-1])))
        for k, e in enumerate(self.eqs):
            on = self.row_eq == k
            X[on, self.beta_slices[k]] = e.X[self.row_obs[on]]
        self.X_row = X

    def gsum(self, values: np.ndarray) -> np.ndarray:
        """Sum of the stacked rows' values (R, ...) within each cluster -> (G, ...); every
        cluster has rows (the codes come from the sample) and the rows are sorted by cluster."""
        if self.starts.size != self.n_groups:
            return gsum(values, self.row_g, self.n_groups)
        return np.add.reduceat(values, self.starts, axis=0)

    # ---- parameter layout -------------------------------------------------------------
    @property
    def n_beta(self) -> int:
        return self.X_row.shape[1]

    @property
    def n_cut(self) -> int:
        return sum(e.n_cut for e in self.eqs)

    @property
    def free_loadings(self) -> list[int]:
        return [i for i, ld in enumerate(self.loadings) if not ld.fixed]

    @property
    def gauss_eqs(self) -> list[int]:
        return [k for k, e in enumerate(self.eqs) if e.family == "gaussian"]

    @property
    def n_par(self) -> int:
        return (self.n_beta + self.n_cut + len(self.free_loadings) + self.q
                + len(self.cov_pairs) + len(self.gauss_eqs))

    def split(self, theta: np.ndarray) -> dict:
        """theta -> beta, cutpoints per ordinal equation, loading values, Sigma, residual
        variances per equation (nan for non-gaussian)."""
        i = self.n_beta
        beta = theta[:i]
        cuts = {}
        for k, e in enumerate(self.eqs):
            if e.n_cut:
                cuts[k] = theta[i:i + e.n_cut]
                i += e.n_cut
        lam = np.ones(len(self.loadings))
        for li in self.free_loadings:
            lam[li] = theta[i]
            i += 1
        Sigma = np.zeros((self.q, self.q))
        Sigma[np.arange(self.q), np.arange(self.q)] = theta[i:i + self.q]
        i += self.q
        for a, b in self.cov_pairs:
            Sigma[a, b] = Sigma[b, a] = theta[i]
            i += 1
        s2 = np.full(len(self.eqs), np.nan)
        for k in self.gauss_eqs:
            s2[k] = theta[i]
            i += 1
        return {"beta": beta, "cuts": cuts, "lam": lam, "Sigma": Sigma, "s2": s2}

    def Z_row(self, lam: np.ndarray) -> np.ndarray:
        """(rows, q): each row's loading on each latent."""
        Z = np.zeros((self.row_eq.size, self.q))
        for li, ld in enumerate(self.loadings):
            on = self.row_eq == ld.eq
            Z[on, ld.latent] += lam[li] * ld.z[self.row_obs[on]]
        return Z


def gsum(values: np.ndarray, g: np.ndarray, G: int) -> np.ndarray:
    """Sum of the rows of values (R, ...) within each cluster g -> (G, ...)."""
    shape = values.shape[1:]
    flat = values.reshape(values.shape[0], -1)
    out = np.zeros((G, flat.shape[1]))
    np.add.at(out, g, flat)
    return out.reshape((G,) + shape)


# ---- conditional densities: l, dl/deta, d2l/deta2 per row ------------------------------

def _gaussian(y, eta, s2):
    r = y - eta
    return -0.5 * (LOG_2PI + np.log(s2) + r * r / s2), r / s2, -1.0 / s2 + 0 * r


def _logit(y, eta):
    p = 1.0 / (1.0 + np.exp(-eta))
    return y * eta - np.logaddexp(0.0, eta), y - p, -p * (1 - p)


def _probit(y, eta):
    from scipy.special import log_ndtr
    s = np.where(y > 0, 1.0, -1.0)
    t = s * eta
    lp = log_ndtr(t)
    m = np.exp(-0.5 * t * t - 0.5 * LOG_2PI - lp)
    return lp, s * m, -m * (t + m)


def _poisson(y, eta):
    from scipy.special import gammaln
    mu = np.exp(eta)
    return y * eta - mu - gammaln(y + 1), y - mu, -mu


def _cdf_pdf_d(link, x):
    """F, f, f' of the ordinal link at x (x may be +-inf)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if link == "logit":
            F = 1.0 / (1.0 + np.exp(-x))
            f = F * (1 - F)
            d = f * (1 - 2 * F)
        else:
            from scipy.special import ndtr
            F = ndtr(x)
            f = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
            d = -x * f
    inf = ~np.isfinite(x)
    f = np.where(inf, 0.0, f)
    d = np.where(inf, 0.0, d)
    return F, f, d


def _ordinal(y, eta, cuts, link):
    kap = np.concatenate([[-np.inf], cuts, [np.inf]])
    yi = y.astype(int)
    a = kap[yi + 1] - eta
    b = kap[yi] - eta
    Fa, fa, da = _cdf_pdf_d(link, a)
    Fb, fb, db = _cdf_pdf_d(link, b)
    p = np.maximum(Fa - Fb, 1e-300)
    p1 = -(fa - fb)
    p2 = da - db
    l1 = p1 / p
    return np.log(p), l1, p2 / p - l1 * l1


def conditional(model: GsemModel, parts: dict, eta: np.ndarray):
    """(l, l1, l2) of every stacked row at linear predictors eta (rows,) or (rows, P)."""
    l = np.empty_like(eta)
    l1 = np.empty_like(eta)
    l2 = np.empty_like(eta)
    for k, e in enumerate(model.eqs):
        on = model.row_eq == k
        y = model.y_row[on]
        et = eta[on]
        if eta.ndim == 2:
            y = y[:, None]
        if e.family == "gaussian":
            out = _gaussian(y, et, parts["s2"][k])
        elif e.family == "ordinal":
            out = _ordinal(np.broadcast_to(y, et.shape), et, parts["cuts"][k], e.link)
        elif e.family == "poisson":
            out = _poisson(y, et)
        elif e.link == "probit":
            out = _probit(np.broadcast_to(y, et.shape), et)
        else:
            out = _logit(y, et)
        l[on], l1[on], l2[on] = out
    return l, l1, l2


def mean_of(family: str, link: str, eta: np.ndarray) -> np.ndarray:
    """E(y | eta): the response's mean (for ordinal responses, eta itself is returned)."""
    if family == "bernoulli":
        if link == "probit":
            from scipy.special import ndtr
            return ndtr(eta)
        return 1.0 / (1.0 + np.exp(-eta))
    if family == "poisson":
        return np.exp(eta)
    return eta
