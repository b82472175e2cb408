"""The statistical distributions hlmshell prints from: normal, chi-squared, Student's t and F.

Each function is what `scipy.stats.<dist>.<method>` returns for the standard distribution
(loc 0, scale 1), computed from the same `scipy.special` function scipy.stats itself calls and
with scipy.stats's rules at the edges of the domain, so every number is bit for bit the one
scipy.stats gives (tests/test_distributions.py checks that over a grid of arguments, tails,
extreme degrees of freedom and missing values):

    x outside the support             cdf 0 / sf 1 below it, cdf 1 / sf 0 above it
    a probability of exactly 0 or 1   ppf/isf return the end of the support (0, +-inf)
    a probability outside [0, 1]      nan
    degrees of freedom <= 0 or nan    nan
    x or probability nan              nan

Arguments are numbers or numpy arrays (broadcast together); a scalar gives a numpy float64, an
array an array. Argument order is scipy.stats's: the point first, then the degrees of freedom
(`chi2_sf(x, df)` is `scipy.stats.chi2.sf(x, df)`).

Why not scipy.stats: importing it costs about 0.4 s (it pulls in scipy.optimize, scipy.linalg,
scipy.spatial, ...), most of hlmshell's start-up. scipy.special itself is imported on the first
call, so a session that never computes a p-value never imports scipy. This module imports
nothing from hlmshell: every layer, the engine included, may use it.

    normal     norm_pdf(x) norm_cdf(x) norm_sf(x) norm_ppf(q) norm_isf(q)
    chi2       chi2_cdf(x, df) chi2_sf(x, df) chi2_ppf(q, df) chi2_isf(q, df)
    t          t_cdf(x, df) t_sf(x, df) t_ppf(q, df) t_isf(q, df)
    F          f_cdf(x, dfn, dfd) f_sf(x, dfn, dfd)
    special    ndtri(p) gammaln(x) expit(x) comb(n, k)   (scipy.special's, loaded lazily too)
"""
from __future__ import annotations

import math

import numpy as np

_SQRT_2PI = np.sqrt(2 * np.pi)       # scipy.stats's _norm_pdf_C, the same float64

__all__ = ["norm_pdf", "norm_cdf", "norm_sf", "norm_ppf", "norm_isf",
           "chi2_cdf", "chi2_sf", "chi2_ppf", "chi2_isf",
           "t_cdf", "t_sf", "t_ppf", "t_isf", "f_cdf", "f_sf",
           "ndtri", "gammaln", "expit", "comb"]


def _special():
    import scipy.special   # heavy (~0.15 s to import): loaded when a distribution is first used

    return scipy.special


# ---- small inputs without scipy ---------------------------------------------------------------
# A coefficient table needs a dozen normal tail areas, one normal quantile and a chi-squared
# tail or two; importing scipy.special for them costs ~0.1-0.2 s, more than the whole fit of a
# course model. Up to _SMALL values these come from the closed forms below (math.erf/erfc, the
# chi-squared series for integer degrees of freedom); they agree with scipy.special to a few
# units in the last place (tests/test_distributions.py), far below any printed digit. Larger
# arrays (a `generate` over the data) and non-integer degrees of freedom use scipy.special.
_SMALL = 256
_SQRT1_2 = math.sqrt(0.5)
_SQRT2PI = math.sqrt(2 * math.pi)
_TWO_OVER_SQRTPI = 2.0 / math.sqrt(math.pi)


def _ndtr1(x: float) -> float:
    """Normal cdf as Cephes' ndtr computes it (erf near 0, erfc in the tails)."""
    if math.isnan(x):
        return math.nan
    t = x * _SQRT1_2
    if abs(t) < _SQRT1_2:
        return 0.5 + 0.5 * math.erf(t)
    y = 0.5 * math.erfc(abs(t))
    return 1.0 - y if t > 0 else y


# Acklam's rational approximation of the normal quantile (relative error < 1.2e-9), polished
# by two Halley steps on ndtr to full double precision
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
      3.754408661907416e+00)


def _acklam(p: float) -> float:
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        return ((((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5])
                / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1))
    if p > 1 - 0.02425:
        return -_acklam(1 - p)
    q = p - 0.5
    r = q * q
    return ((((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
            / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1))


def _ndtri1(p: float) -> float:
    if not 0 < p < 1:
        return math.nan if not (p == 0 or p == 1) else (-math.inf if p == 0 else math.inf)
    if p > 0.5:                         # the lower tail is where ndtr has its relative accuracy
        return -_ndtri1(1.0 - p) if 1.0 - p > 0 else math.inf
    if p < 1e-290:                      # subnormal tails: beyond what the Newton steps resolve
        return float(_special().ndtri(p))
    x = _acklam(p)
    for _ in range(2):
        e = _ndtr1(x) - p
        if e == 0:
            break
        # e / pdf(x), in logs: pdf underflows where p is below 1e-300
        u = math.copysign(math.exp(math.log(abs(e)) + math.log(_SQRT2PI) + 0.5 * x * x), e)
        x = x - u / (1 + 0.5 * x * u)
    return x


def _chdtrc1(k: float, x: float) -> float:
    """P(chi2(k) > x) for a positive integer k: the finite series of the regularized upper
    incomplete gamma function at half-integer and integer orders."""
    if math.isnan(x) or math.isnan(k):
        return math.nan
    if x <= 0:
        return 1.0
    h = 0.5 * x
    m = int(k) // 2
    if k % 2 == 0:
        total, first, start = 0.0, 0.0, 0            # sum_{i<m} h^i / i!
    else:
        total = math.erfc(math.sqrt(h))              # + sum_{i=1..m} h^(i-1/2) / Gamma(i+1/2)
        first, start = -0.5, 1
    lh = math.log(h)
    for i in range(start, m + (0 if k % 2 == 0 else 1)):
        a = i + first if k % 2 else i               # exponent of h in the term
        total += math.exp(-h + a * lh - math.lgamma(a + 1))
    return min(total, 1.0)


def _small(*args) -> bool:
    return all(np.size(a) <= _SMALL for a in args)


def _int_dfs(k) -> bool:
    k = np.asarray(k, dtype=float)
    return bool(np.all((k == np.floor(k)) & (k >= 1) & (k <= 2000)))


def _map(fn, *args) -> np.ndarray:
    """fn over broadcast arguments, element by element (small inputs only)."""
    arrs = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in args])
    out = np.empty(arrs[0].shape)
    for idx in np.ndindex(out.shape):
        out[idx] = fn(*[float(a[idx]) for a in arrs])
    return out


def _ndtr(z):
    return _map(_ndtr1, z) if _small(z) else _special().ndtr(z)


def _ndtri(p):
    return _map(_ndtri1, p) if _small(p) else _special().ndtri(p)


def _chdtrc(k, z):
    if _small(k, z) and _int_dfs(k):
        return _map(_chdtrc1, k, z)
    return _special().chdtrc(k, z)


# ---- scipy.stats's rules at the edges (rv_continuous.cdf/sf/ppf/isf with loc 0, scale 1) ----
def _shape_ok(shapes):
    """rv_continuous._argcheck: every shape parameter (degrees of freedom) > 0."""
    ok = np.bool_(True)
    for s in shapes:
        ok = np.logical_and(ok, s > 0)
    return ok


def _scalar(out: np.ndarray):
    return out[()] if out.ndim == 0 else out


def _tail(fn, x, shapes, lo, hi, upper: bool):
    """cdf (upper=False) or sf (upper=True) of a distribution supported on (lo, hi)."""
    x = np.asarray(x)
    x = np.asarray(x, dtype=np.promote_types(x.dtype, np.float64))
    shapes = tuple(np.asarray(s) for s in shapes)
    ok = _shape_ok(shapes)
    with np.errstate(all="ignore"):
        inside = (lo < x) & (x < hi)
        beyond = ok & ((x <= lo) if upper else (x >= hi))   # sf below the support, cdf above: 1
        value = fn(x, *shapes)
    out = np.where(ok & inside, value, np.where(beyond, 1.0, 0.0))
    out = np.where(np.logical_not(ok) | np.isnan(x), np.nan, out)
    return _scalar(np.asarray(out, dtype=np.float64))


def _quantile(fn, q, shapes, lo, hi, upper: bool):
    """ppf (upper=False) or isf (upper=True): a probability of 0 or 1 maps to an end of the
    support, anything outside (0, 1) to nan."""
    q = np.asarray(q)
    shapes = tuple(np.asarray(s) for s in shapes)
    ok = _shape_ok(shapes)
    with np.errstate(all="ignore"):
        inside = (0 < q) & (q < 1)
        value = fn(q, *shapes) * 1.0 + 0.0     # scipy's `* scale + loc` (turns -0.0 into 0.0)
        at_lo, at_hi = (q == 1, q == 0) if upper else (q == 0, q == 1)
    out = np.where(ok & inside, value, np.nan)
    out = np.where(ok & at_lo, lo * 1.0 + 0.0, out)
    out = np.where(ok & at_hi, hi * 1.0 + 0.0, out)
    return _scalar(np.asarray(out, dtype=np.float64))


_INF = math.inf


# ---- normal -------------------------------------------------------------------------------
def norm_pdf(x):
    """scipy.stats.norm.pdf(x)."""
    x = np.asarray(x)
    x = np.asarray(x, dtype=np.promote_types(x.dtype, np.float64))
    with np.errstate(all="ignore"):
        value = np.exp(-x ** 2 / 2.0) / _SQRT_2PI
    return _scalar(np.asarray(np.where(np.isnan(x), np.nan, value), dtype=np.float64))


def norm_cdf(x):
    """scipy.stats.norm.cdf(x) (special.ndtr)."""
    return _tail(_ndtr, x, (), -_INF, _INF, upper=False)


def norm_sf(x):
    """scipy.stats.norm.sf(x) (special.ndtr(-x))."""
    return _tail(lambda z: _ndtr(-z), x, (), -_INF, _INF, upper=True)


def norm_ppf(q):
    """scipy.stats.norm.ppf(q) (special.ndtri)."""
    return _quantile(_ndtri, q, (), -_INF, _INF, upper=False)


def norm_isf(q):
    """scipy.stats.norm.isf(q) (-special.ndtri(q))."""
    return _quantile(lambda p: -_ndtri(p), q, (), -_INF, _INF, upper=True)


# ---- chi-squared --------------------------------------------------------------------------
def chi2_cdf(x, df):
    """scipy.stats.chi2.cdf(x, df) (special.chdtr)."""
    return _tail(lambda z, k: _special().chdtr(k, z), x, (df,), 0.0, _INF, upper=False)


def chi2_sf(x, df):
    """scipy.stats.chi2.sf(x, df) (special.chdtrc)."""
    return _tail(lambda z, k: _chdtrc(k, z), x, (df,), 0.0, _INF, upper=True)


def chi2_ppf(q, df):
    """scipy.stats.chi2.ppf(q, df) (2 * special.gammaincinv(df/2, q))."""
    return _quantile(lambda p, k: 2 * _special().gammaincinv(k / 2, p), q, (df,), 0.0, _INF,
                     upper=False)


def chi2_isf(q, df):
    """scipy.stats.chi2.isf(q, df) (special.chdtri)."""
    return _quantile(lambda p, k: _special().chdtri(k, p), q, (df,), 0.0, _INF, upper=True)


# ---- Student's t --------------------------------------------------------------------------
def t_cdf(x, df):
    """scipy.stats.t.cdf(x, df) (special.stdtr)."""
    return _tail(lambda z, k: _special().stdtr(k, z), x, (df,), -_INF, _INF, upper=False)


def t_sf(x, df):
    """scipy.stats.t.sf(x, df) (special.stdtr(df, -x))."""
    return _tail(lambda z, k: _special().stdtr(k, -z), x, (df,), -_INF, _INF, upper=True)


def t_ppf(q, df):
    """scipy.stats.t.ppf(q, df) (special.stdtrit)."""
    return _quantile(lambda p, k: _special().stdtrit(k, p), q, (df,), -_INF, _INF, upper=False)


def t_isf(q, df):
    """scipy.stats.t.isf(q, df) (-special.stdtrit(df, q))."""
    return _quantile(lambda p, k: -_special().stdtrit(k, p), q, (df,), -_INF, _INF, upper=True)


# ---- F ------------------------------------------------------------------------------------
def f_cdf(x, dfn, dfd):
    """scipy.stats.f.cdf(x, dfn, dfd) (special.fdtr)."""
    return _tail(lambda z, m, n: _special().fdtr(m, n, z), x, (dfn, dfd), 0.0, _INF, upper=False)


def f_sf(x, dfn, dfd):
    """scipy.stats.f.sf(x, dfn, dfd) (special.fdtrc)."""
    return _tail(lambda z, m, n: _special().fdtrc(m, n, z), x, (dfn, dfd), 0.0, _INF, upper=True)


# ---- scipy.special functions the expression language exposes ------------------------------
def ndtri(p):
    """scipy.special.ndtri: the normal quantile without scipy.stats's edge rules."""
    return _special().ndtri(p)


def gammaln(x):
    """scipy.special.gammaln (Stata's lngamma())."""
    return _special().gammaln(x)


def expit(x):
    """scipy.special.expit (Stata's invlogit())."""
    return _special().expit(x)


def comb(n, k):
    """scipy.special.comb(n, k) (floating point; Stata's comb() rounds it)."""
    return _special().comb(n, k)
