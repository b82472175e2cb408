"""drawnorm and corr2data: multivariate normal draws for simulations. corr2data's sample moments
are exact (checked with numpy on the stored values); drawnorm's are checked statistically on a
large sample, its draws are reproducible under seed(), and bad input leaves the data alone."""
import numpy as np
import pytest

from hlmshell.session import Session
from session_run import ok, run


@pytest.fixture
def s():
    sess = Session()
    ok(sess, "clear")
    return sess


def _cols(s, *names):
    return np.column_stack([np.asarray(s.data.values(n), float) for n in names])


def test_corr2data_moments_are_exact(s):
    ok(s, "matrix C = (1, .5, -.2 \\ .5, 1, .3 \\ -.2, .3, 1)")
    out = ok(s, "corr2data a b c, n(40) corr(C) means(1 2 3) sds(3,4,5) double seed(7)")
    assert "(obs 40)" in out
    X = _cols(s, "a", "b", "c")
    np.testing.assert_allclose(X.mean(axis=0), [1, 2, 3], atol=1e-10)
    np.testing.assert_allclose(X.std(axis=0, ddof=1), [3, 4, 5], rtol=1e-10)
    np.testing.assert_allclose(np.corrcoef(X.T), [[1, .5, -.2], [.5, 1, .3], [-.2, .3, 1]], atol=1e-10)
    assert s.data.var("a").vtype == "double"


def test_drawnorm_large_sample_and_seed(s):
    ok(s, "matrix V = (4, 1.2 \\ 1.2, 1)")
    ok(s, "drawnorm u0 u1, n(40000) cov(V) means(10, -1) seed(123)")
    X = _cols(s, "u0", "u1")
    se_mean = np.sqrt(np.array([4, 1]) / 40000)
    assert np.all(np.abs(X.mean(axis=0) - [10, -1]) < 5 * se_mean)
    C = np.cov(X.T)
    np.testing.assert_allclose(C, [[4, 1.2], [1.2, 1]], atol=0.06)
    assert s.data.var("u0").vtype == "float"
    first = X.copy()
    ok(s, "clear")
    ok(s, "drawnorm u0 u1, n(40000) cov(V) means(10, -1) seed(123)")
    np.testing.assert_array_equal(_cols(s, "u0", "u1"), first)


def test_triangle_storage_and_adding_to_data(s):
    ok(s, "set obs 30000")
    ok(s, "gen id = _n")
    ok(s, "matrix L = (1, .6, 1)")
    ok(s, "drawnorm x y, corr(L) cstorage(lower) sds(2 3) seed(5)")
    assert s.data.names == ["id", "x", "y"] and s.data.n == 30000
    X = _cols(s, "x", "y")
    assert np.corrcoef(X.T)[0, 1] == pytest.approx(0.6, abs=0.02)
    np.testing.assert_allclose(X.std(axis=0, ddof=1), [2, 3], rtol=0.03)
    ok(s, "matrix U = (1, .6, 1)")
    ok(s, "drawnorm p q, corr(U) cstorage(upper) seed(5)")
    assert np.corrcoef(_cols(s, "p", "q").T)[0, 1] == pytest.approx(0.6, abs=0.02)


def test_semidefinite_and_forcepsd(s):
    ok(s, "matrix S = (1, 1 \\ 1, 1)")
    ok(s, "drawnorm a b, n(100) cov(S) seed(1)")          # singular but semidefinite
    np.testing.assert_allclose(s.data.values("a"), s.data.values("b"), rtol=1e-6)
    ok(s, "matrix B = (1, 2 \\ 2, 1)")
    assert run(s, "drawnorm c d, cov(B)")[0] == 506
    ok(s, "drawnorm c d, cov(B) forcepsd")


@pytest.mark.parametrize("line,rc", [
    ("drawnorm a b, n(10)", 4),                   # would replace changed data
    ("drawnorm id", 110),
    ("drawnorm q r, corr(1 2)", 503),
    ("drawnorm q r, corr(B2)", 498),
    ("drawnorm q r, corr(N2)", 505),
    ("drawnorm q r, means(1 2 3)", 503),
    ("drawnorm q r, corr(C2) cov(C2)", 198),
    ("drawnorm q r, cstorage(diag)", 198),
    ("drawnorm q r, corr(nosuch)", 111),
    ("drawnorm", 100),
    ("corr2data q r, sds(-1 1)", 498),
])
def test_errors_leave_data_unchanged(s, line, rc):
    ok(s, "set obs 5")
    ok(s, "gen id = _n")
    ok(s, "matrix B2 = (2, 0 \\ 0, 1)")
    ok(s, "matrix N2 = (1, .2 \\ .3, 1)")
    ok(s, "matrix C2 = I(2)")
    got, out = run(s, line)
    assert got == rc, out
    assert s.data.names == ["id"] and s.data.n == 5
