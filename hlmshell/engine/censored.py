"""Censored-normal likelihoods: Stata's tobit (one level) and xttobit (a normal random
intercept integrated out by mean-variance adaptive Gauss-Hermite quadrature).

Each observation is uncensored, left-censored (y <= its lower limit), right-censored
(y >= its upper limit) or, for xtintreg, interval-censored (y in [y1, y2]); kind holds 0, 1, 2,
3 and lim the limit that applies (the observation's value when uncensored; for an interval
y holds its lower end y1 and lim its upper end y2). With m the mean and sigma the error's
standard deviation:
  uncensored     ln phi((y - m)/sigma) - ln sigma
  left-censored  ln Phi((l - m)/sigma)
  right-censored ln Phi((m - u)/sigma)
  interval       ln [Phi((y2 - m)/sigma) - Phi((y1 - m)/sigma)].
Parameters are (b, ln sigma) for tobit and (b, ln sigma_u, ln sigma_e) for xttobit, so the
maximizer (engine.negbin_panel.maximize) works without bounds; the commands report sigma,
the variance and rho from them.

Why mean-variance adaptation: a panel's integrand exp(h(u)) is centred where the panel's
residuals put u, often far from 0 with long panels; the nodes follow its mode and
curvature first, then a few updates to its posterior mean and standard deviation (what
Stata's mvaghermite converges to), so 12 points integrate it to many digits.
"""
from __future__ import annotations

import math

import numpy as np

UNC, LEFT, RIGHT, INTERVAL = 0, 1, 2, 3
_LN2PI = 0.5 * math.log(2 * math.pi)


def _mills(c):
    """phi(c) / Phi(c), stable in both tails."""
    from scipy.special import log_ndtr
    return np.exp(-0.5 * c * c - _LN2PI - log_ndtr(c))


def obs_terms(m, y, lim, kind, lnsig):
    """Per-observation log likelihood and its first and second derivatives in m, and the
    first derivative in ln sigma (arrays broadcast over m)."""
    from scipy.special import log_ndtr
    sig = np.exp(np.float64(lnsig))
    z = (y - m) / sig
    c = np.where(kind == LEFT, (lim - m) / sig, (m - lim) / sig)
    cens = kind != UNC
    cc = np.where(cens, c, 0.0)
    lam = _mills(cc)
    sign = np.where(kind == LEFT, -1.0, 1.0)
    ll = np.where(cens, log_ndtr(cc), -0.5 * z * z - _LN2PI - np.log(sig))
    d1 = np.where(cens, sign * lam / sig, z / sig)
    d2 = np.where(cens, -lam * (cc + lam) / sig ** 2, -1.0 / sig ** 2 + 0.0 * z)
    dls = np.where(cens, -cc * lam, z * z - 1.0)
    iv = kind == INTERVAL
    if np.any(iv):
        ll, d1, d2, dls = _interval(m, y, lim, iv, sig, ll, d1, d2, dls)
    return ll, d1, d2, dls


def _interval(m, y, lim, iv, sig, ll, d1, d2, dls):
    """The interval rows' terms put in (computed on those rows only): with a, b the
    standardized ends and P = Phi(b) - Phi(a) (from the upper tails when a > 0, where the
    difference keeps its digits), d/dm ln P = (phi(a) - phi(b)) / (sigma P) and
    d/d ln sigma ln P = (a phi(a) - b phi(b)) / P."""
    from scipy.special import ndtr
    shape = np.shape(ll)
    sel = np.broadcast_to(iv, shape)
    mm = np.broadcast_to(m, shape)[sel]
    a = (np.broadcast_to(y, shape)[sel] - mm) / sig
    b = (np.broadcast_to(lim, shape)[sel] - mm) / sig
    up = a > 0
    P = np.where(up, ndtr(-a) - ndtr(-b), ndtr(b) - ndtr(a))
    P = np.maximum(P, 1e-300)
    pa = np.exp(-0.5 * a * a - _LN2PI)
    pb = np.exp(-0.5 * b * b - _LN2PI)
    r1 = (pa - pb) / P
    r2 = (a * pa - b * pb) / P
    out = [np.array(v, dtype=float, copy=True) for v in (ll, d1, d2, dls)]
    for arr, val in zip(out, (np.log(P), r1 / sig, (r2 - r1 * r1) / sig ** 2, r2)):
        arr[sel] = val
    return tuple(out)


# ------------------------------------------------------------------ tobit
def tobit_value(x, X, y, lim, kind, off, w=None):
    """ll and gradient in (b, ln sigma); w: observation weights (frequency or importance)."""
    p = X.shape[1]
    ll, d1, _, dls = obs_terms(X @ x[:p] + off, y, lim, kind, x[p])
    if w is not None:
        ll, d1, dls = w * ll, w * d1, w * dls
    return float(ll.sum()), np.concatenate([X.T @ d1, [dls.sum()]])


def tobit_scores(x, X, y, lim, kind, off):
    """Per-observation scores in (b, ln sigma) (n x (p + 1)), unweighted."""
    p = X.shape[1]
    _, d1, _, dls = obs_terms(X @ x[:p] + off, y, lim, kind, x[p])
    return np.column_stack([d1[:, None] * X, dls])


def fit_tobit(y, X, lim, kind, off, maxit: int = 300, w=None):
    """ML of (b, ln sigma) from the (weighted) OLS start on all observations."""
    from hlmshell.engine.negbin_panel import maximize
    sw = np.ones(len(y)) if w is None else np.sqrt(w)
    if X.shape[1]:
        b0 = np.linalg.lstsq(X * sw[:, None], (y - off) * sw, rcond=None)[0]
        r = y - off - X @ b0
    else:
        b0, r = np.zeros(0), y - off
    s0 = max(float(np.sqrt(np.average(r * r, weights=sw * sw))),
             1e-3 * (float(np.std(y)) + 1e-8), 1e-8)
    return maximize(lambda z: tobit_value(z, X, y, lim, kind, off, w), np.r_[b0, math.log(s0)],
                    maxit)


# ------------------------------------------------------------------ xttobit
class PanelQuad:
    """The random-intercept tobit likelihood over panels, by adaptive quadrature."""

    def __init__(self, y, X, lim, kind, off, groups, points: int, adaptive: bool = True):
        from numpy.polynomial.hermite import hermgauss
        self.y, self.X, self.lim, self.kind, self.off = y, X, lim, kind, off
        self.g = np.asarray(groups, dtype=np.int64)
        self.G = int(self.g.max()) + 1
        self.xk, wk = hermgauss(points)
        self.lwk = np.log(wk) + self.xk ** 2          # weights of exp(-x^2) removed
        self.adaptive = adaptive

    def _sum(self, v):
        """Panel sums of an (n, K) array."""
        out = np.zeros((self.G,) + v.shape[1:])
        np.add.at(out, self.g, v)
        return out

    def _mode(self, xb, lnse, su):
        """Each panel's mode and curvature of h(u) = sum_t ll_t(xb + u) + ln phi(u / su)."""
        u = np.zeros(self.G)
        for _ in range(100):
            _, d1, d2, _ = obs_terms(xb + u[self.g], self.y, self.lim, self.kind, lnse)
            g1 = np.bincount(self.g, weights=d1, minlength=self.G) - u / su ** 2
            g2 = np.bincount(self.g, weights=d2, minlength=self.G) - 1.0 / su ** 2
            step = -g1 / g2
            u = u + step
            if np.max(np.abs(step)) < 1e-10 * (1 + np.max(np.abs(u))):
                break
        _, _, d2, _ = obs_terms(xb + u[self.g], self.y, self.lim, self.kind, lnse)
        g2 = np.bincount(self.g, weights=d2, minlength=self.G) - 1.0 / su ** 2
        return u, 1.0 / np.sqrt(-g2)

    def _nodes(self, xb, lnse, su, mu, tau):
        """(log integrand at each panel's nodes (G, K), the nodes (G, K), log weights)."""
        u = mu[:, None] + math.sqrt(2.0) * tau[:, None] * self.xk[None, :]
        ll, _, _, _ = obs_terms(xb[:, None] + u[self.g], self.y[:, None], self.lim[:, None],
                                self.kind[:, None], lnse)
        h = self._sum(ll) - 0.5 * (u / su) ** 2 - _LN2PI - math.log(su)
        lw = self.lwk[None, :] + np.log(math.sqrt(2.0) * tau)[:, None]
        return h, u, lw

    def nodes(self, x):
        p = self.X.shape[1]
        xb = self.X @ x[:p] + self.off
        su, lnse = math.exp(x[p]), x[p + 1]
        if not self.adaptive:
            mu, tau = np.zeros(self.G), np.full(self.G, su)
            return xb, lnse, su, self._nodes(xb, lnse, su, mu, tau)
        mu, tau = self._mode(xb, lnse, su)
        for _ in range(3):                         # toward the posterior mean and sd
            h, u, lw = self._nodes(xb, lnse, su, mu, tau)
            a = h + lw
            w = np.exp(a - a.max(axis=1, keepdims=True))
            w /= w.sum(axis=1, keepdims=True)
            mu = np.sum(w * u, axis=1)
            tau = np.sqrt(np.maximum(np.sum(w * (u - mu[:, None]) ** 2, axis=1), 1e-300))
        return xb, lnse, su, self._nodes(xb, lnse, su, mu, tau)

    def value(self, x):
        """ll and its gradient in (b, ln sigma_u, ln sigma_e) (the nodes held where they are)."""
        xb, lnse, su, (h, u, lw) = self.nodes(x)
        a = h + lw
        amax = a.max(axis=1, keepdims=True)
        e = np.exp(a - amax)
        tot = e.sum(axis=1)
        ll = float(np.sum(np.log(tot) + amax[:, 0]))
        w = e / tot[:, None]                                       # (G, K) posterior weights
        _, d1, _, dls = obs_terms(xb[:, None] + u[self.g], self.y[:, None], self.lim[:, None],
                                  self.kind[:, None], lnse)
        wo = w[self.g]                                             # (n, K)
        gb = self.X.T @ np.sum(wo * d1, axis=1)
        gse = float(np.sum(wo * dls))
        gsu = float(np.sum(w * ((u / su) ** 2 - 1.0)))
        return ll, np.concatenate([gb, [gsu, gse]])

    def panel_ll(self, x):
        return self.value(x)[0]


def fit_xttobit(quad: PanelQuad, x0, maxit: int = 300):
    from hlmshell.engine.negbin_panel import maximize
    return maximize(quad.value, x0, maxit)
