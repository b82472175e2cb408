"""Stata's probability distribution functions beyond normal/chi2/t/F: cdf, tail, density and
inverse of the binomial, Poisson, negative binomial, hypergeometric, beta, gamma, F, t and
chi-squared (central and noncentral), logistic, exponential, Weibull (and its proportional-
hazards form), inverse Gaussian, Cauchy and Laplace, the bivariate normal and Tukey's
studentized range.

Arguments are in Stata's order (binomialp(n,k,p), poissonp(m,k), F-family (df1,df2,f), ...).
Outside a function's domain, or with a missing argument, the result is missing; below/above
the support a cdf is 0/1, a tail 1/0 and a density 0, as the [FN] manual states. Counts are
floor()ed as Stata documents ("floor(k) or fewer successes in floor(n) trials").

scipy.special (and, for a few densities and inverses, scipy.stats) is imported on first use:
start-up time matters more than the first call's."""
from __future__ import annotations

import numpy as np

from hlmshell import distributions as dist
from hlmshell.syntax.function_args import numeric_fn as fn
from hlmshell.syntax.function_args import numeric_fn_opt as fn_opt

_NAN = np.nan


def _sp():
    import scipy.special

    return scipy.special


def _st():
    import scipy.stats

    return scipy.stats


def _fin(*xs):
    ok = np.bool_(True)
    for x in xs:
        ok = ok & np.isfinite(x)
    return ok


def _prob(p, closed=False):
    return ((p >= 0) & (p <= 1)) if closed else ((p > 0) & (p < 1))


def _w(ok, value):
    return np.where(ok, value, _NAN)


# ----------------------------------------------------------------------------- binomial
def _binomial(n, k, p):
    n, k = np.floor(n), np.floor(k)
    ok = _fin(n, k, p) & (n >= 0) & _prob(p, True)
    v = np.where(k < 0, 0.0, np.where(k >= n, 1.0, _sp().bdtr(np.clip(k, 0, None), n, p)))
    return _w(ok, v)


def _binomialtail(n, k, p):
    n, k = np.floor(n), np.floor(k)
    ok = _fin(n, k, p) & (n >= 0) & _prob(p, True)
    v = np.where(k <= 0, 1.0, np.where(k > n, 0.0, _sp().bdtrc(np.clip(k - 1, 0, None), n, p)))
    return _w(ok, v)


def _binomialp(n, k, p):
    n, k = np.floor(n), np.floor(k)
    ok = _fin(n, k, p) & (n >= 1) & (k >= 0) & (k <= n) & _prob(p, True)
    sp = _sp()
    lv = (sp.gammaln(n + 1) - sp.gammaln(k + 1) - sp.gammaln(n - k + 1)
          + sp.xlogy(k, p) + sp.xlog1py(n - k, -p))
    return _w(ok, np.exp(lv))


def _invbinomial(n, k, q):
    n, k = np.floor(n), np.floor(k)
    ok = _fin(n, k, q) & (n >= 1) & (k >= 0) & (k <= n - 1) & _prob(q)
    # P(K <= k) = 1 - I_theta(k+1, n-k) = q
    return _w(ok, _sp().betainccinv(k + 1, n - k, q))


def _invbinomialtail(n, k, q):
    n, k = np.floor(n), np.floor(k)
    ok = _fin(n, k, q) & (n >= 1) & (k >= 1) & (k <= n) & _prob(q)
    # P(K >= k) = I_theta(k, n-k+1) = q
    return _w(ok, _sp().betaincinv(k, n - k + 1, q))


# ----------------------------------------------------------------------------- Poisson
def _poisson(m, k):
    k = np.floor(k)
    ok = _fin(m, k) & (m > 0)
    return _w(ok, np.where(k < 0, 0.0, _sp().pdtr(np.clip(k, 0, None), m)))


def _poissontail(m, k):
    k = np.floor(k)
    ok = _fin(m, k) & (m > 0)
    return _w(ok, np.where(k <= 0, 1.0, _sp().pdtrc(np.clip(k - 1, 0, None), m)))


def _poissonp(m, k):
    k = np.floor(k)
    ok = _fin(m, k) & (m > 0) & (k >= 0)
    sp = _sp()
    return _w(ok, np.exp(sp.xlogy(k, m) - m - sp.gammaln(k + 1)))


def _invpoisson(k, p):
    k = np.floor(k)
    ok = _fin(k, p) & (k >= 0) & _prob(p)
    return _w(ok, _sp().gammainccinv(k + 1, p))      # P(K <= k) = Q(k+1, m)


def _invpoissontail(k, q):
    k = np.floor(k)
    ok = _fin(k, q) & (k >= 1) & _prob(q)
    return _w(ok, _sp().gammaincinv(k, q))           # P(K >= k) = P(k, m)


# ----------------------------------------------------------------------------- negative binomial
def _nbinomial(n, k, p):
    k = np.floor(k)
    ok = _fin(n, k, p) & (n > 0) & (p > 0) & (p <= 1)
    return _w(ok, np.where(k < 0, 0.0, _sp().betainc(n, np.clip(k, 0, None) + 1, p)))


def _nbinomialtail(n, k, p):
    k = np.floor(k)
    ok = _fin(n, k, p) & (n > 0) & (p > 0) & (p <= 1)
    return _w(ok, np.where(k <= 0, 1.0, _sp().betaincc(n, np.clip(k, 1, None), p)))


def _nbinomialp(n, k, p):
    k = np.floor(k)
    ok = _fin(n, k, p) & (n > 0) & (k >= 0) & (p > 0) & (p <= 1)
    sp = _sp()
    lv = sp.gammaln(n + k) - sp.gammaln(k + 1) - sp.gammaln(n) + n * np.log(p) + sp.xlog1py(k, -p)
    return _w(ok, np.exp(lv))


def _invnbinomial(n, k, q):
    k = np.floor(k)
    ok = _fin(n, k, q) & (n > 0) & (k >= 0) & _prob(q)
    return _w(ok, _sp().betaincinv(n, k + 1, q))


def _invnbinomialtail(n, k, q):
    k = np.floor(k)
    ok = _fin(n, k, q) & (n > 0) & (k >= 1) & _prob(q)
    return _w(ok, _sp().betainccinv(n, k, q))


# ----------------------------------------------------------------------------- hypergeometric
def _hyper_ok(N, K, n):
    return (_fin(N, K, n) & (N == np.floor(N)) & (K == np.floor(K)) & (n == np.floor(n))
            & (N >= 2) & (K >= 1) & (K < N) & (n >= 1) & (n < N))


def _hyper_lpmf(N, K, n, k):
    lg = _sp().gammaln
    lc = lambda a, b: lg(a + 1) - lg(b + 1) - lg(a - b + 1)
    return lc(K, k) + lc(N - K, n - k) - lc(N, n)


def _hypergeometricp(N, K, n, k):
    ok = _hyper_ok(N, K, n) & np.isfinite(k) & (k == np.floor(k))
    ok = ok & (k >= np.maximum(0, n - N + K)) & (k <= np.minimum(K, n))
    return _w(ok, np.exp(_hyper_lpmf(N, K, n, k)))


def _hypergeometric(N, K, n, k):
    """P(X <= k): the pmf summed over the support (a population is at most 1e5, Stata's bound)."""
    k = np.floor(k)
    ok = _hyper_ok(N, K, n) & np.isfinite(k) & (N <= 1e5)
    N, K, n, k, ok = np.broadcast_arrays(N, K, n, k, ok)
    out = np.full(N.shape, _NAN)
    for idx in zip(*np.nonzero(ok)) if N.ndim else [()]:
        if not ok[idx]:
            continue
        lo, hi = max(0.0, n[idx] - N[idx] + K[idx]), min(K[idx], n[idx])
        if k[idx] < lo:
            out[idx] = 0.0
            continue
        j = np.arange(lo, min(k[idx], hi) + 1)
        out[idx] = min(1.0, float(np.exp(_hyper_lpmf(N[idx], K[idx], n[idx], j)).sum()))
    return out


# ----------------------------------------------------------------------------- beta
def _ab_ok(a, b):
    return (a > 0) & (b > 0)


def _ibeta(a, b, x):
    ok = _fin(a, b, x) & _ab_ok(a, b)
    return _w(ok, np.where(x <= 0, 0.0, np.where(x >= 1, 1.0, _sp().betainc(a, b, np.clip(x, 0, 1)))))


def _ibetatail(a, b, x):
    ok = _fin(a, b, x) & _ab_ok(a, b)
    return _w(ok, np.where(x <= 0, 1.0, np.where(x >= 1, 0.0, _sp().betaincc(a, b, np.clip(x, 0, 1)))))


def _invibeta(a, b, p):
    return _w(_fin(a, b, p) & _ab_ok(a, b) & _prob(p, True), _sp().betaincinv(a, b, p))


def _invibetatail(a, b, p):
    return _w(_fin(a, b, p) & _ab_ok(a, b) & _prob(p, True), _sp().betainccinv(a, b, p))


def _betaden(a, b, x):
    ok = _fin(a, b, x) & _ab_ok(a, b)
    inside = (x >= 0) & (x <= 1)
    sp = _sp()
    lv = sp.xlogy(a - 1, x) + sp.xlog1py(b - 1, -x) - sp.betaln(a, b)
    return _w(ok, np.where(inside, np.exp(lv), 0.0))


def _poisson_weights(lam, tol=1e-15):
    """Indices and weights of Poisson(lam) covering all but tol of the mass."""
    lam = float(lam)
    sd = np.sqrt(lam)
    lo = max(0, int(lam - 12 * sd - 10))
    hi = int(lam + 12 * sd + 40)
    j = np.arange(lo, hi + 1, dtype=float)
    sp = _sp()
    w = np.exp(sp.xlogy(j, lam) - lam - sp.gammaln(j + 1))
    keep = w > tol * 1e-3
    return j[keep], w[keep]


def _mixture(lam, term, *args):
    """sum_j Poisson(j; lam) * term(j, *args), element by element (noncentral beta)."""
    arrs = np.broadcast_arrays(lam, *args)
    out = np.full(arrs[0].shape, _NAN)
    for idx in np.ndindex(out.shape):
        vals = [float(a[idx]) for a in arrs]
        if not all(np.isfinite(vals)):
            continue
        j, w = _poisson_weights(vals[0]) if vals[0] > 0 else (np.zeros(1), np.ones(1))
        out[idx] = float(np.sum(w * term(j, *vals[1:])))
    return out


def _nibeta(a, b, lam, x):
    ok = _fin(a, b, lam, x) & _ab_ok(a, b) & (lam >= 0) & (lam <= 10000)
    xc = np.clip(x, 0, 1)
    v = _mixture(np.where(ok, lam / 2, _NAN), lambda j, a, b, x: _sp().betainc(a + j, b, x), a, b, xc)
    return _w(ok, np.where(x <= 0, 0.0, np.where(x >= 1, 1.0, v)))


def _nbetaden(a, b, lam, x):
    ok = _fin(a, b, lam, x) & _ab_ok(a, b) & (lam >= 0) & (lam <= 10000)
    xc = np.clip(x, 0, 1)
    v = _mixture(np.where(ok, lam / 2, _NAN), lambda j, a, b, x: _betaden(a + j, b, x), a, b, xc)
    return _w(ok, np.where((x < 0) | (x > 1), 0.0, v))


def _invnibeta(a, b, lam, p):
    """x with nibeta(a, b, lam, x) = p, by bisection (the cdf increases in x)."""
    ok = _fin(a, b, lam, p) & _ab_ok(a, b) & (lam >= 0) & (lam <= 1000) & _prob(p)
    lo = np.zeros(np.broadcast(a, b, lam, p).shape)
    hi = np.ones_like(lo)
    for _ in range(60):
        mid = (lo + hi) / 2
        below = _nibeta(a, b, lam, mid) < p
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return _w(ok, (lo + hi) / 2)


# ----------------------------------------------------------------------------- gamma
def _gammap(a, x):
    ok = _fin(a, x) & (a > 0)
    return _w(ok, np.where(x <= 0, 0.0, _sp().gammainc(a, np.clip(x, 0, None))))


def _gammaptail(a, x):
    ok = _fin(a, x) & (a > 0)
    return _w(ok, np.where(x <= 0, 1.0, _sp().gammaincc(a, np.clip(x, 0, None))))


def _invgammap(a, p):
    return _w(_fin(a, p) & (a > 0) & _prob(p, True), _sp().gammaincinv(a, p))


def _invgammaptail(a, p):
    return _w(_fin(a, p) & (a > 0) & _prob(p, True), _sp().gammainccinv(a, p))


def _gammap_density(a, x):
    """dP(a, x)/dx, the gamma(a) density; 0 below 0 (missing at 0 when a < 1: infinite)."""
    sp = _sp()
    xc = np.where(x > 0, x, 1.0)
    v = np.exp(sp.xlogy(a - 1, xc) - xc - sp.gammaln(a))
    return np.where(x < 0, 0.0, np.where(x == 0, np.where(a == 1, 1.0, np.where(a > 1, 0.0, _NAN)), v))


def _dgammapdx(a, x):
    return _w(_fin(a, x) & (a > 0), _gammap_density(a, x))


def _dgammapdxdx(a, x):
    xc = np.where(x > 0, x, 1.0)
    v = _gammap_density(a, xc) * ((a - 1) / xc - 1)
    return _w(_fin(a, x) & (a > 0) & ~((x == 0) & (a <= 2)), np.where(x <= 0, 0.0, v))


def _dgammapdadx(a, x):
    xc = np.where(x > 0, x, 1.0)
    v = _gammap_density(a, xc) * (np.log(xc) - _sp().digamma(a))
    return _w(_fin(a, x) & (a > 0), np.where(x <= 0, 0.0, v))


def _a_steps(a, x):
    """P(a + k h, x) for k = -2..2 (h = a/1000): the stencil of the derivatives in a."""
    h = a * 1e-3
    xc = np.clip(x, 0, None)
    return h, [_sp().gammainc(a + k * h, xc) for k in (-2, -1, 0, 1, 2)]


def _dgammapda(a, x):
    """dP(a, x)/da by the five-point central difference (P has no closed-form derivative in a;
    the step a/1000 leaves an error near 1e-12)."""
    h, (m2, m1, _, p1, p2) = _a_steps(a, x)
    return _w(_fin(a, x) & (a > 0), np.where(x <= 0, 0.0, (m2 - 8 * m1 + 8 * p1 - p2) / (12 * h)))


def _dgammapdada(a, x):
    h, (m2, m1, z, p1, p2) = _a_steps(a, x)
    v = (-m2 + 16 * m1 - 30 * z + 16 * p1 - p2) / (12 * h * h)
    return _w(_fin(a, x) & (a > 0), np.where(x <= 0, 0.0, v))


def _gammaden(a, b, g, x):
    ok = _fin(a, b, g, x) & (a > 0) & (b > 0)
    z = (x - g) / b
    sp = _sp()
    v = np.exp(sp.xlogy(a - 1, np.clip(z, 0, None)) - z - sp.gammaln(a)) / b
    return _w(ok, np.where(x < g, 0.0, np.where((z == 0) & (a < 1), _NAN, v)))


def _lnigammaden(a, b, x):
    ok = _fin(a, b, x) & (a > 0) & (b > 0) & (x > 0)
    return _w(ok, a * np.log(b) - _sp().gammaln(a) - (a + 1) * np.log(x) - b / x)


# ----------------------------------------------------------------------------- chi2 / F / t
def _nc_ok(lam):
    """Stata's domain of a noncentrality parameter: 0 to 10,000 (beyond it the series behind
    the noncentral chi-squared and F take minutes)."""
    return (lam >= 0) & (lam <= 10000)


def _lam_c(lam):
    """The noncentrality handed to scipy: outside the domain a harmless 0 (masked anyway)."""
    return np.where(_nc_ok(lam), lam, 0.0)


def _lam_t(lam):
    return np.where(np.abs(lam) <= 1000, lam, 0.0)


def _chi2den(df, x):
    ok = _fin(df, x) & (df > 0)
    return _w(ok, np.where(x < 0, 0.0, _gammaden(df / 2, 2.0, 0.0, x)))


def _nchi2(df, lam, x):
    ok = _fin(df, lam, x) & (df > 0) & _nc_ok(lam)
    return _w(ok, np.where(x <= 0, 0.0, _sp().chndtr(np.clip(x, 0, None), df, _lam_c(lam))))


def _nchi2tail(df, lam, x):
    ok = _fin(df, lam, x) & (df > 0) & _nc_ok(lam)
    return _w(ok, np.where(x <= 0, 1.0, _st().ncx2.sf(np.clip(x, 0, None), df, _lam_c(lam))))


def _nchi2den(df, lam, x):
    ok = _fin(df, lam, x) & (df > 0) & _nc_ok(lam)
    return _w(ok, np.where(x < 0, 0.0, _st().ncx2.pdf(np.clip(x, 0, None), df, _lam_c(lam))))


def _invnchi2(df, lam, p):
    ok = _fin(df, lam, p) & (df > 0) & _nc_ok(lam) & _prob(p, True)
    return _w(ok, _st().ncx2.ppf(p, df, _lam_c(lam)))


def _invnchi2tail(df, lam, p):
    ok = _fin(df, lam, p) & (df > 0) & _nc_ok(lam) & _prob(p, True)
    return _w(ok, _st().ncx2.isf(p, df, _lam_c(lam)))


def _npnchi2(df, x, p):
    ok = _fin(df, x, p) & (df > 0) & (x > 0) & _prob(p)
    return _w(ok, _sp().chndtrinc(x, df, p))


def _Fden(d1, d2, f):
    ok = _fin(d1, d2, f) & (d1 > 0) & (d2 > 0)
    sp = _sp()
    fc = np.clip(f, 0, None)
    lv = (0.5 * d1 * np.log(d1) + 0.5 * d2 * np.log(d2) + sp.xlogy(d1 / 2 - 1, fc)
          - (d1 + d2) / 2 * np.log(d2 + d1 * fc) - sp.betaln(d1 / 2, d2 / 2))
    return _w(ok, np.where(f < 0, 0.0, np.exp(lv)))


def _invF(d1, d2, p):
    return _w(_fin(d1, d2, p) & (d1 > 0) & (d2 > 0) & _prob(p, True), _sp().fdtri(d1, d2, p))


def _invFtail(d1, d2, p):
    # P(F > f) = I_x(d2/2, d1/2) with x = d2 / (d2 + d1 f): exact in the far tail
    x = _sp().betaincinv(d2 / 2, d1 / 2, p)
    return _w(_fin(d1, d2, p) & (d1 > 0) & (d2 > 0) & _prob(p, True), d2 * (1 - x) / (d1 * x))


def _nF_ok(d1, d2, lam, x):
    return _fin(d1, d2, lam, x) & (d1 > 0) & (d2 > 0) & _nc_ok(lam)


def _nF(d1, d2, lam, f):
    return _w(_nF_ok(d1, d2, lam, f), np.where(f <= 0, 0.0, _sp().ncfdtr(d1, d2, _lam_c(lam), np.clip(f, 0, None))))


def _nFtail(d1, d2, lam, f):
    return _w(_nF_ok(d1, d2, lam, f), np.where(f <= 0, 1.0, _st().ncf.sf(np.clip(f, 0, None), d1, d2, _lam_c(lam))))


def _nFden(d1, d2, lam, f):
    return _w(_nF_ok(d1, d2, lam, f), np.where(f < 0, 0.0, _st().ncf.pdf(np.clip(f, 0, None), d1, d2, _lam_c(lam))))


def _invnF(d1, d2, lam, p):
    return _w(_nF_ok(d1, d2, lam, p) & _prob(p, True), _st().ncf.ppf(p, d1, d2, _lam_c(lam)))


def _invnFtail(d1, d2, lam, p):
    return _w(_nF_ok(d1, d2, lam, p) & _prob(p, True), _st().ncf.isf(p, d1, d2, _lam_c(lam)))


def _tden(df, t):
    ok = _fin(df, t) & (df > 0)
    sp = _sp()
    lv = (sp.gammaln((df + 1) / 2) - sp.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
          - (df + 1) / 2 * np.log1p(t * t / df))
    return _w(ok, np.exp(lv))


def _invt(df, p):
    return _w(_fin(df, p) & (df > 0) & _prob(p, True), _sp().stdtrit(df, p))


def _nt(df, lam, t):
    return _w(_fin(df, lam, t) & (df > 0) & (np.abs(lam) <= 1000), _st().nct.cdf(t, df, _lam_t(lam)))


def _nttail(df, lam, t):
    return _w(_fin(df, lam, t) & (df > 0) & (np.abs(lam) <= 1000), _st().nct.sf(t, df, _lam_t(lam)))


def _ntden(df, lam, t):
    return _w(_fin(df, lam, t) & (df > 0) & (np.abs(lam) <= 1000), _st().nct.pdf(t, df, _lam_t(lam)))


def _invnt(df, lam, p):
    return _w(_fin(df, lam, p) & (df > 0) & (np.abs(lam) <= 1000) & _prob(p), _st().nct.ppf(p, df, _lam_t(lam)))


def _invnttail(df, lam, p):
    return _w(_fin(df, lam, p) & (df > 0) & (np.abs(lam) <= 1000) & _prob(p), _st().nct.isf(p, df, _lam_t(lam)))


# ----------------------------------------------------------------------------- normal
def _lnnormal(z):
    return _w(np.isfinite(z), _sp().log_ndtr(z))


def _lnnormalden(*a):
    x, m, s = (a[0], 0.0, 1.0) if len(a) == 1 else (a[0], 0.0, a[1]) if len(a) == 2 else a
    ok = _fin(x, m, s) & (s > 0)
    return _w(ok, -0.5 * ((x - m) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi))


def _normalden(*a):
    """normalden(z), normalden(x, s), normalden(x, m, s): the N(m, s^2) density."""
    if len(a) == 1:
        return dist.norm_pdf(a[0])
    x, m, s = (a[0], 0.0, a[1]) if len(a) == 2 else a
    ok = ~np.isnan(x) & _fin(m, s) & (s > 0)
    return _w(ok, dist.norm_pdf((x - m) / np.where(ok, s, 1.0)) / np.where(ok, s, 1.0))


def _bvn_upper(h, k, r):
    """P(X > h, Y > k) for a standard bivariate normal with correlation r (Genz's BVND:
    Gauss-Legendre quadrature of Drezner & Wesolowsky's formula), vectorised."""
    sp = _sp()
    h, k, r = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float), np.asarray(r, float))
    x20 = np.array([-0.9931285991850949, -0.9639719272779138, -0.9122344282513259, -0.8391169718222188,
                    -0.7463319064601508, -0.6360536807265150, -0.5108670019508271, -0.3737060887154196,
                    -0.2277858511416451, -0.07652652113349733])
    w20 = np.array([0.01761400713915212, 0.04060142980038694, 0.06267204833410906, 0.08327674157670475,
                    0.1019301198172404, 0.1181945319615184, 0.1316886384491766, 0.1420961093183821,
                    0.1491729864726037, 0.1527533871307259])
    x = np.concatenate([x20, -x20])
    w = np.concatenate([w20, w20])
    hk = h * k
    out = np.empty(h.shape)
    small = np.abs(r) < 0.925
    # |r| < 0.925
    hs = (h * h + k * k) / 2
    asr = np.arcsin(r)
    sn = np.sin(asr[..., None] * (x + 1) / 2)
    bv = (w * np.exp((sn * hk[..., None] - hs[..., None]) / (1 - sn * sn))).sum(-1)
    v_small = bv * asr / (4 * np.pi) + sp.ndtr(-h) * sp.ndtr(-k)
    # |r| >= 0.925
    kk = np.where(r < 0, -k, k)
    hkk = np.where(r < 0, -hk, hk)
    ass = (1 - r) * (1 + r)
    a = np.sqrt(np.abs(ass))
    bs = (h - kk) ** 2
    c = (4 - hkk) / 8
    d = (12 - hkk) / 16
    asr2 = -(bs / np.where(ass == 0, 1, ass) + hkk) / 2
    with np.errstate(all="ignore"):
        bv2 = np.where(asr2 > -100,
                       a * np.exp(asr2) * (1 - c * (bs - ass) * (1 - d * bs / 5) / 3 + c * d * ass * ass / 5), 0.0)
        bb = np.sqrt(bs)
        bv2 = np.where(hkk > -100, bv2 - np.exp(-hkk / 2) * np.sqrt(2 * np.pi) * sp.ndtr(-bb / np.where(a == 0, 1, a))
                       * bb * (1 - c * bs * (1 - d * bs / 5) / 3), bv2)
        aa = a[..., None] / 2 * (x + 1)
        xs = aa * aa
        rs = np.sqrt(1 - xs)
        asr3 = -(bs[..., None] / np.where(xs == 0, 1, xs) + hkk[..., None]) / 2
        term = np.where(asr3 > -100, np.exp(asr3) * (np.exp(-hkk[..., None] * (1 - rs) / (2 * (1 + rs))) / rs
                                                          - (1 + c[..., None] * xs * (1 + d[..., None] * xs))), 0.0)
        bv2 = bv2 + (a / 2 * (w * term).sum(-1))
        bv2 = -bv2 / (2 * np.pi)
    pos = bv2 + sp.ndtr(-np.maximum(h, kk))
    neg = np.where(h < kk, np.maximum(0.0, sp.ndtr(-h) - sp.ndtr(-kk)), 0.0) - bv2
    v_big = np.where(r > 0, pos, neg)
    out = np.where(small, v_small, v_big)
    out = np.where(r == 1, sp.ndtr(-np.maximum(h, k)), out)
    out = np.where(r == -1, np.maximum(0.0, sp.ndtr(-k) - sp.ndtr(h)), out)
    return np.clip(out, 0.0, 1.0)


def _binormal(h, k, r):
    ok = ~np.isnan(h) & ~np.isnan(k) & np.isfinite(r) & (r >= -1) & (r <= 1)
    return _w(ok, _bvn_upper(-np.where(ok, h, 0.0), -np.where(ok, k, 0.0), np.where(ok, r, 0.0)))


# ----------------------------------------------------------------------------- logistic / exponential
def _loc_scale(a, lo=1):
    """(m, s, x) of logistic(x) / logistic(s,x) / logistic(m,s,x)."""
    if len(a) == 1:
        return 0.0, 1.0, a[0]
    if len(a) == 2:
        return 0.0, a[0], a[1]
    return a


def _logistic(*a):
    m, s, x = _loc_scale(a)
    return _w(_fin(m, s, x) & (s > 0), _sp().expit((x - m) / s))


def _logistictail(*a):
    m, s, x = _loc_scale(a)
    return _w(_fin(m, s, x) & (s > 0), _sp().expit(-(x - m) / s))


def _logisticden(*a):
    m, s, x = _loc_scale(a)
    z = np.abs((x - m) / s)
    return _w(_fin(m, s, x) & (s > 0), np.exp(-z) / (s * (1 + np.exp(-z)) ** 2))


def _invlogistic(*a):
    m, s, p = _loc_scale(a)
    return _w(_fin(m, s, p) & (s > 0) & _prob(p), m + s * _sp().logit(p))


def _invlogistictail(*a):
    m, s, p = _loc_scale(a)
    return _w(_fin(m, s, p) & (s > 0) & _prob(p), m - s * _sp().logit(p))


def _exponential(b, x):
    return _w(_fin(b, x) & (b > 0), np.where(x < 0, 0.0, -np.expm1(-np.clip(x, 0, None) / b)))


def _exponentialtail(b, x):
    return _w(_fin(b, x) & (b > 0), np.where(x < 0, 1.0, np.exp(-np.clip(x, 0, None) / b)))


def _exponentialden(b, x):
    return _w(_fin(b, x) & (b > 0), np.where(x < 0, 0.0, np.exp(-np.clip(x, 0, None) / b) / b))


def _invexponential(b, p):
    return _w(_fin(b, p) & (b > 0) & (p >= 0) & (p < 1), -b * np.log1p(-p))


def _invexponentialtail(b, p):
    return _w(_fin(b, p) & (b > 0) & (p > 0) & (p <= 1), -b * np.log(p))


# ----------------------------------------------------------------------------- Weibull
def _wargs(a):
    """(a, b, g, x) of weibull(a,b,x) / weibull(a,b,g,x): shape a, scale b, location g."""
    return (a[0], a[1], 0.0, a[2]) if len(a) == 3 else a


def _weibull_h(a, b, g, x, ph):
    """Cumulative hazard at x (0 below g): ((x-g)/b)^a, or b*(x-g)^a in the PH form."""
    z = np.clip(x - g, 0, None)
    return b * z ** a if ph else (z / b) ** a


def _wok(a, b, g, x):
    return _fin(a, b, g, x) & (a > 0) & (b > 0)


def _weib(kind, ph):
    def impl(*args):
        a, b, g, x = _wargs(args)
        ok = _wok(a, b, g, x)
        H = _weibull_h(a, b, g, x, ph)
        if kind == "cdf":
            v = np.where(x < g, 0.0, -np.expm1(-H))
        elif kind == "tail":
            v = np.where(x < g, 1.0, np.exp(-H))
        else:
            z = np.clip(x - g, 0, None)
            dH = a * b * z ** (a - 1) if ph else a / b * (z / b) ** (a - 1)
            v = np.where(x < g, 0.0, dH * np.exp(-H))
        return _w(ok, v)

    return impl


def _invweib(tail, ph):
    def impl(*args):
        a, b, g, p = _wargs(args)
        ok = _wok(a, b, g, p) & _prob(p, True)
        H = -np.log(p) if tail else -np.log1p(-p)
        z = (H / b) ** (1 / a) if ph else b * H ** (1 / a)
        return _w(ok, g + z)

    return impl


# ----------------------------------------------------------------------------- inverse Gaussian
def _ig_ok(m, a, x):
    return _fin(m, a, x) & (m > 0) & (a > 0)


def _igaussian(m, a, x):
    ok = _ig_ok(m, a, x)
    xp = np.where(x > 0, x, 1.0)
    return _w(ok, np.where(x <= 0, 0.0, _st().invgauss.cdf(xp, m / a, scale=a)))


def _igaussiantail(m, a, x):
    ok = _ig_ok(m, a, x)
    xp = np.where(x > 0, x, 1.0)
    return _w(ok, np.where(x <= 0, 1.0, _st().invgauss.sf(xp, m / a, scale=a)))


def _lnigaussianden(m, a, x):
    ok = _ig_ok(m, a, x) & (x > 0)
    return _w(ok, 0.5 * np.log(a / (2 * np.pi * x ** 3)) - a * (x - m) ** 2 / (2 * m * m * x))


def _igaussianden(m, a, x):
    ok = _ig_ok(m, a, x)
    return _w(ok, np.where(x <= 0, 0.0, np.exp(_lnigaussianden(m, a, np.where(x > 0, x, 1.0)))))


def _invigaussian(m, a, p):
    return _w(_ig_ok(m, a, p) & _prob(p), _st().invgauss.ppf(p, m / a, scale=a))


def _invigaussiantail(m, a, p):
    return _w(_ig_ok(m, a, p) & _prob(p), _st().invgauss.isf(p, m / a, scale=a))


# ----------------------------------------------------------------------------- Cauchy / Laplace
def _cauchy(a, b, x):
    return _w(_fin(a, b, x) & (b > 0), 0.5 + np.arctan((x - a) / b) / np.pi)


def _cauchytail(a, b, x):
    return _w(_fin(a, b, x) & (b > 0), 0.5 - np.arctan((x - a) / b) / np.pi)


def _cauchyden(a, b, x):
    return _w(_fin(a, b, x) & (b > 0), 1 / (np.pi * b * (1 + ((x - a) / b) ** 2)))


def _lncauchyden(a, b, x):
    return _w(_fin(a, b, x) & (b > 0), -np.log(np.pi * b) - np.log1p(((x - a) / b) ** 2))


def _invcauchy(a, b, p):
    return _w(_fin(a, b, p) & (b > 0) & _prob(p), a + b * np.tan(np.pi * (p - 0.5)))


def _invcauchytail(a, b, p):
    return _w(_fin(a, b, p) & (b > 0) & _prob(p), a - b * np.tan(np.pi * (p - 0.5)))


def _laplace(m, b, x):
    z = (x - m) / b
    return _w(_fin(m, b, x) & (b > 0), np.where(z < 0, 0.5 * np.exp(z), 1 - 0.5 * np.exp(-z)))


def _laplacetail(m, b, x):
    z = (x - m) / b
    return _w(_fin(m, b, x) & (b > 0), np.where(z < 0, 1 - 0.5 * np.exp(z), 0.5 * np.exp(-z)))


def _laplaceden(m, b, x):
    return _w(_fin(m, b, x) & (b > 0), np.exp(-np.abs(x - m) / b) / (2 * b))


def _lnlaplaceden(m, b, x):
    return _w(_fin(m, b, x) & (b > 0), -np.abs(x - m) / b - np.log(2 * b))


def _invlaplace(m, b, p):
    v = np.where(p < 0.5, m + b * np.log(2 * p), m - b * np.log(2 * (1 - p)))
    return _w(_fin(m, b, p) & (b > 0) & _prob(p), v)


def _invlaplacetail(m, b, p):
    return _invlaplace(m, b, 1 - p)


# ----------------------------------------------------------------------------- Tukey
def _tukey_ok(k, df):
    """Stata's domain: 2 to 1e6 ranges and degrees of freedom."""
    return (k >= 2) & (k <= 1e6) & (df >= 2) & (df <= 1e6)


def _tukeyprob(k, df, x):
    ok = _fin(k, df, x) & _tukey_ok(k, df)
    return _w(ok, np.where(x <= 0, 0.0, _elementwise(lambda kk, d, xx: _st().studentized_range.cdf(xx, kk, d),
                                                     ok, k, df, np.clip(x, 0, None))))


def _invtukeyprob(k, df, p):
    ok = _fin(k, df, p) & _tukey_ok(k, df) & _prob(p)
    return _w(ok, _elementwise(lambda kk, d, pp: _st().studentized_range.ppf(pp, kk, d), ok, k, df, p))


def _elementwise(f, ok, *args):
    """f on each observation where ok (scipy's studentized range does not broadcast quickly)."""
    arrs = np.broadcast_arrays(ok, *args)
    out = np.full(arrs[0].shape, _NAN)
    cache: dict = {}
    for idx in np.ndindex(out.shape):
        if arrs[0][idx]:
            key = tuple(float(a[idx]) for a in arrs[1:])
            if key not in cache:
                cache[key] = float(f(*key))
            out[idx] = cache[key]
    return out


DIST_FUNCTIONS = {
    "binomial": fn(3, _binomial), "binomialp": fn(3, _binomialp), "binomialtail": fn(3, _binomialtail),
    "invbinomial": fn(3, _invbinomial), "invbinomialtail": fn(3, _invbinomialtail),
    "poisson": fn(2, _poisson), "poissonp": fn(2, _poissonp), "poissontail": fn(2, _poissontail),
    "invpoisson": fn(2, _invpoisson), "invpoissontail": fn(2, _invpoissontail),
    "nbinomial": fn(3, _nbinomial), "nbinomialp": fn(3, _nbinomialp), "nbinomialtail": fn(3, _nbinomialtail),
    "invnbinomial": fn(3, _invnbinomial), "invnbinomialtail": fn(3, _invnbinomialtail),
    "hypergeometric": fn(4, _hypergeometric), "hypergeometricp": fn(4, _hypergeometricp),
    "ibeta": fn(3, _ibeta), "ibetatail": fn(3, _ibetatail), "invibeta": fn(3, _invibeta),
    "invibetatail": fn(3, _invibetatail), "betaden": fn(3, _betaden),
    "nibeta": fn(4, _nibeta), "nbetaden": fn(4, _nbetaden), "invnibeta": fn(4, _invnibeta),
    "gammap": fn(2, _gammap), "gammaptail": fn(2, _gammaptail), "invgammap": fn(2, _invgammap),
    "invgammaptail": fn(2, _invgammaptail), "gammaden": fn(4, _gammaden),
    "lnigammaden": fn(3, _lnigammaden), "dgammapdx": fn(2, _dgammapdx), "dgammapdxdx": fn(2, _dgammapdxdx),
    "dgammapdadx": fn(2, _dgammapdadx), "dgammapda": fn(2, _dgammapda), "dgammapdada": fn(2, _dgammapdada),
    "chi2den": fn(2, _chi2den), "nchi2": fn(3, _nchi2), "nchi2tail": fn(3, _nchi2tail),
    "nchi2den": fn(3, _nchi2den), "invnchi2": fn(3, _invnchi2), "invnchi2tail": fn(3, _invnchi2tail),
    "npnchi2": fn(3, _npnchi2),
    "Fden": fn(3, _Fden), "invF": fn(3, _invF), "invFtail": fn(3, _invFtail),
    "nF": fn(4, _nF), "nFtail": fn(4, _nFtail), "nFden": fn(4, _nFden), "invnF": fn(4, _invnF),
    "invnFtail": fn(4, _invnFtail),
    "tden": fn(2, _tden), "invt": fn(2, _invt), "nt": fn(3, _nt), "nttail": fn(3, _nttail),
    "ntden": fn(3, _ntden), "invnt": fn(3, _invnt), "invnttail": fn(3, _invnttail),
    "normalden": fn_opt(1, 3, _normalden), "lnnormal": fn(1, _lnnormal), "lnnormalden": fn_opt(1, 3, _lnnormalden), "binormal": fn(3, _binormal),
    "logistic": fn_opt(1, 3, _logistic), "logistictail": fn_opt(1, 3, _logistictail),
    "logisticden": fn_opt(1, 3, _logisticden), "invlogistic": fn_opt(1, 3, _invlogistic),
    "invlogistictail": fn_opt(1, 3, _invlogistictail),
    "exponential": fn(2, _exponential), "exponentialtail": fn(2, _exponentialtail),
    "exponentialden": fn(2, _exponentialden), "invexponential": fn(2, _invexponential),
    "invexponentialtail": fn(2, _invexponentialtail),
    "weibull": fn_opt(3, 4, _weib("cdf", False)), "weibulltail": fn_opt(3, 4, _weib("tail", False)),
    "weibullden": fn_opt(3, 4, _weib("den", False)), "invweibull": fn_opt(3, 4, _invweib(False, False)),
    "invweibulltail": fn_opt(3, 4, _invweib(True, False)),
    "weibullph": fn_opt(3, 4, _weib("cdf", True)), "weibullphtail": fn_opt(3, 4, _weib("tail", True)),
    "weibullphden": fn_opt(3, 4, _weib("den", True)), "invweibullph": fn_opt(3, 4, _invweib(False, True)),
    "invweibullphtail": fn_opt(3, 4, _invweib(True, True)),
    "igaussian": fn(3, _igaussian), "igaussiantail": fn(3, _igaussiantail),
    "igaussianden": fn(3, _igaussianden), "lnigaussianden": fn(3, _lnigaussianden),
    "invigaussian": fn(3, _invigaussian), "invigaussiantail": fn(3, _invigaussiantail),
    "cauchy": fn(3, _cauchy), "cauchytail": fn(3, _cauchytail), "cauchyden": fn(3, _cauchyden),
    "lncauchyden": fn(3, _lncauchyden), "invcauchy": fn(3, _invcauchy), "invcauchytail": fn(3, _invcauchytail),
    "laplace": fn(3, _laplace), "laplacetail": fn(3, _laplacetail), "laplaceden": fn(3, _laplaceden),
    "lnlaplaceden": fn(3, _lnlaplaceden), "invlaplace": fn(3, _invlaplace),
    "invlaplacetail": fn(3, _invlaplacetail),
    "tukeyprob": fn(3, _tukeyprob), "invtukeyprob": fn(3, _invtukeyprob),
}
