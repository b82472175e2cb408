"""hlmshell.distributions gives what scipy.stats gives, over a grid of arguments (tails,
degrees of freedom from tiny to infinite, the ends of the support, probabilities 0 and 1 and
outside [0, 1], missing values), for arrays and for scalars: bit for bit from scipy.special for
large arrays, and to 1e-12 relative from the closed forms it uses for small inputs (the normal
and integer-df chi-squared functions a coefficient table needs, without importing scipy);
importing it does not import scipy."""
from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy import special, stats

from hlmshell import distributions as D

INF, NAN = np.inf, np.nan
X = np.array([-INF, -1e300, -1e5, -40.0, -38.5, -10.0, -3.3, -1.96, -1.0, -1e-10, -1e-300, -0.0,
              0.0, 1e-300, 1e-10, 0.5, 1.0, 1.96, 3.3, 5.0, 10.0, 37.0, 38.5, 40.0, 100.0, 700.0,
              1e5, 1e300, INF, NAN])
DF = np.array([-INF, -1.0, 0.0, 1e-300, 1e-10, 0.1, 0.5, 1.0, 2.0, 3.0, 5.5, 10.0, 30.0, 100.0,
               158.0, 1e5, 1e10, 1e300, INF, NAN])
Q = np.array([-INF, -0.1, -0.0, 0.0, 5e-324, 1e-300, 1e-100, 1e-16, 1e-10, 0.001, 0.025, 0.05,
              0.1, 0.5, 0.9, 0.95, 0.975, 0.999, 1 - 1e-10, 1 - 1e-16, 1.0, 1.1, INF, NAN])
F_DF = np.array([-1.0, 0.0, 1e-10, 0.5, 1.0, 2.0, 3.0, 10.0, 30.0, 157.0, 1e5, 1e10, INF, NAN])

# (ours, scipy.stats's, shape-parameter grid or None)
CASES = [
    (D.norm_pdf, stats.norm.pdf, None),
    (D.norm_cdf, stats.norm.cdf, None),
    (D.norm_sf, stats.norm.sf, None),
    (D.chi2_cdf, stats.chi2.cdf, DF),
    (D.chi2_sf, stats.chi2.sf, DF),
    (D.t_cdf, stats.t.cdf, DF),
    (D.t_sf, stats.t.sf, DF),
]
QUANTILES = [
    (D.norm_ppf, stats.norm.ppf, None),
    (D.norm_isf, stats.norm.isf, None),
    (D.chi2_ppf, stats.chi2.ppf, DF),
    (D.chi2_isf, stats.chi2.isf, DF),
    (D.t_ppf, stats.t.ppf, DF),
    (D.t_isf, stats.t.isf, DF),
]


def same(ours, theirs) -> bool:
    """Identical float64 values: NaN where NaN, same sign of zero, same bits otherwise."""
    a, b = np.asarray(ours), np.asarray(theirs)
    if a.shape != b.shape or a.dtype != np.float64:
        return False
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if not np.array_equal(nan_a, nan_b):
        return False
    return bool(np.all((a == b) & (np.signbit(a) == np.signbit(b)) | nan_a))


def close(ours, theirs, rtol=1e-12) -> bool:
    """Same NaNs, same values at 0, +-inf and 1 exactly, else within rtol (or 1e-300 absolute):
    the closed forms of small inputs agree with scipy.special to a few units in the last
    place, far below any printed digit."""
    a, b = np.asarray(ours), np.asarray(theirs)
    if a.shape != b.shape or a.dtype != np.float64:
        return False
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if not np.array_equal(nan_a, nan_b):
        return False
    a, b = a[~nan_a], b[~nan_b]
    exact = np.isinf(b) | (b == 0) | (b == 1)
    if not np.array_equal(a[exact], b[exact]):
        return False
    d = np.abs(a[~exact] - b[~exact])
    return bool(np.all((d <= rtol * np.abs(b[~exact])) | (d <= 1e-300)))


def _grid(ours, theirs, points, shapes):
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # ours must not warn either
        with np.errstate(all="ignore"):
            if shapes is None:
                return ours(points), theirs(points)
            p, k = np.meshgrid(points, shapes, indexing="ij")
            return ours(p, k), _quiet(theirs, p, k)


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


@pytest.mark.parametrize("ours, theirs, shapes", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_cdf_sf_pdf_grid(ours, theirs, shapes):
    got, want = _grid(ours, theirs, X, shapes)
    assert close(got, want), np.argwhere(~((got == want) | np.isnan(want)))


@pytest.mark.parametrize("ours, theirs, shapes", CASES + QUANTILES,
                         ids=lambda c: getattr(c, "__name__", ""))
def test_large_arrays_are_scipy_bit_for_bit(ours, theirs, shapes):
    """Above the small-input size every value is scipy.special's own."""
    points = Q if (ours, theirs, shapes) in QUANTILES else X
    big = np.resize(points, 30 * len(points))
    if shapes is None:
        got, want = ours(big), _quiet(theirs, big)
    else:
        k = np.resize(DF, len(big))
        with np.errstate(all="ignore"):
            got, want = ours(big, k), _quiet(theirs, big, k)
    assert same(got, want)


@pytest.mark.parametrize("ours, theirs, shapes", QUANTILES, ids=lambda c: getattr(c, "__name__", ""))
def test_quantile_grid(ours, theirs, shapes):
    got, want = _grid(ours, theirs, Q, shapes)
    assert close(got, want), np.argwhere(~((got == want) | np.isnan(want)))


@pytest.mark.parametrize("ours, theirs", [(D.f_cdf, stats.f.cdf), (D.f_sf, stats.f.sf)])
def test_f_grid(ours, theirs):
    x, m, n = np.meshgrid(X, F_DF, F_DF, indexing="ij")
    with np.errstate(all="ignore"):
        got, want = ours(x, m, n), _quiet(theirs, x, m, n)
    assert same(got, want)


@pytest.mark.parametrize("ours, theirs, shapes", CASES + QUANTILES,
                         ids=lambda c: getattr(c, "__name__", ""))
def test_scalars(ours, theirs, shapes):
    """Python floats and ints in, a numpy float64 out, as scipy.stats."""
    points = Q if (ours, theirs, shapes) in QUANTILES else X
    ks = [None] if shapes is None else [1, 3, 2.5, 1e6, INF, 0, NAN]
    for k in ks:
        for p in list(points[::3]) + [0, 1, 2]:
            args = (float(p),) if isinstance(p, np.floating) else (p,)
            args += () if k is None else (k,)
            got, want = ours(*args), _quiet(theirs, *args)
            assert isinstance(got, np.float64), (ours.__name__, args)
            assert close(got, want), (ours.__name__, args, got, want)


def test_f_scalars():
    for args in [(3.2, 2, 100), (0, 1, 1), (-1.0, 2, 3), (np.inf, 2, 3), (1.5, 0, 3), (2.0, 3, np.inf),
                 (np.nan, 1, 1), (1e-5, 1, 1e10)]:
        for ours, theirs in [(D.f_cdf, stats.f.cdf), (D.f_sf, stats.f.sf)]:
            got, want = ours(*args), _quiet(theirs, *args)
            assert isinstance(got, np.float64) and same(got, want), (ours.__name__, args)


def test_mixed_shapes_broadcast():
    """A column of statistics against a row of degrees of freedom, and ints."""
    x = np.array([[0.5], [2.0], [7.9]])
    df = np.array([1, 2, 5])
    assert close(D.chi2_sf(x, df), stats.chi2.sf(x, df))
    assert same(D.t_isf(np.array([0.025, 0.05]), 7), stats.t.isf(np.array([0.025, 0.05]), 7))
    assert close(D.norm_cdf(np.arange(-3, 4)), stats.norm.cdf(np.arange(-3, 4)))


def test_special_passthroughs():
    v = np.array([-2.5, 0.5, 1.0, 3.0, 171.5, 1e10, NAN])
    assert same(D.gammaln(v), special.gammaln(v))
    p = np.array([1e-300, 0.025, 0.5, 1 - 1e-16, 0.0, 1.0, NAN])
    assert same(D.ndtri(p), special.ndtri(p))
    assert same(D.expit(v), special.expit(v))
    assert same(D.comb(np.array([5.0, 10.0, 52.0, NAN]), np.array([2.0, 3.0, 5.0, 1.0])),
                special.comb(np.array([5.0, 10.0, 52.0, NAN]), np.array([2.0, 3.0, 5.0, 1.0])))


def test_import_does_not_load_scipy():
    code = ("import sys, numpy as np, hlmshell.distributions as d; "
            "assert 'scipy' not in sys.modules; "
            "d.norm_sf(1.0); d.norm_isf(0.025); d.chi2_sf(3.0, 2); "
            "assert 'scipy' not in sys.modules, 'small inputs need no scipy'; "
            "d.norm_sf(np.zeros(1000)); assert 'scipy.special' in sys.modules; "
            "assert 'scipy.stats' not in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
