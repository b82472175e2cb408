"""The O(n) and cross-product paths of issue 11 give what the slow ones gave.

* engine.factorize (direct addressing / hash) == np.unique's sorted levels and inverse;
* the cross-product collinearity check == Gram-Schmidt on the centred columns (the previous
  implementation, kept here as the reference), also for large means and exact collinearity;
* the linear model's ll from the mixed fit's cross-products == engine.ols on the data;
* engine.quasi_newton's BFGS reaches the minimiser of standard test problems, also where the
  objective is infinite outside its domain;
* the fixed design is stored once: X_keep is X itself when nothing is omitted.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hlmshell.engine import design as dz
from hlmshell.engine import lmm, ols
from hlmshell.engine.factorize import factorize, group_codes
from hlmshell.engine.quasi_newton import minimize_bfgs
from hlmshell.engine.standardize import centre_value
from hlmshell.engine.terms import FactorPart, Term
from hlmshell.engine.types import RandomBlock

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True)

keys = st.one_of(
    arrays(np.float64, st.integers(1, 60), elements=st.integers(-20, 20).map(float)),
    arrays(np.float64, st.integers(1, 60), elements=st.integers(0, 10 ** 12).map(float)),
    arrays(np.float64, st.integers(1, 60),
           elements=st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 2))),
    arrays(np.int64, st.integers(1, 60), elements=st.integers(-5, 300)),
)


@SETTINGS
@given(keys)
def test_factorize_is_np_unique(v):
    levels, codes = factorize(v)
    u, inv = np.unique(v, return_inverse=True)
    np.testing.assert_array_equal(levels, u)
    np.testing.assert_array_equal(codes, inv.reshape(-1))


@SETTINGS
@given(st.integers(1, 80).flatmap(lambda n: st.tuples(
    arrays(np.float64, n, elements=st.integers(0, 6).map(float)),
    arrays(np.float64, n, elements=st.sampled_from([0.5, 1e9, -3.0, 7.0])),
    arrays(np.float64, n, elements=st.integers(0, 3).map(float)))))
def test_group_codes_are_np_unique_rows(cols):
    n = len(cols[0])
    for k in range(1, 4):
        want = np.unique(np.column_stack(cols[:k]), axis=0, return_inverse=True)[1].reshape(-1)
        np.testing.assert_array_equal(group_codes(list(cols[:k]), n), want)


def test_factorize_large_and_sparse_ids_take_the_hash_path():
    v = np.array([3e15, 1.0, 3e15, 2.5, 1.0])
    levels, codes = factorize(v)
    assert levels.tolist() == [1.0, 2.5, 3e15] and codes.tolist() == [2, 0, 2, 1, 0]


# --- collinearity ---------------------------------------------------------------------------
def _gram_schmidt_omitted(X, constant):
    """The previous _rmcoll: Gram-Schmidt (twice) of each centred column against the kept ones."""
    n, p = X.shape
    basis = [np.ones(n) / math.sqrt(n)] if constant else []
    out = []
    for j in range(p):
        x = X[:, j]
        ref = x - centre_value(x) if constant else x.copy()
        r = ref.copy()
        for _ in range(2):
            for q in basis:
                r -= (q @ r) * q
        ss_ref, ss = float(ref @ ref), float(r @ r)
        if ss_ref <= 0 or ss <= dz.COLLINEAR_TOL * ss_ref or ss <= 1e-300:
            out.append(j)
            continue
        basis.append(r / math.sqrt(ss))
    return out


def _random_design(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 200))
    cols = []
    for _ in range(int(rng.integers(1, 7))):
        kind = rng.integers(0, 5)
        if kind == 0 or not cols:
            cols.append(rng.normal(size=n) * 10.0 ** rng.integers(-6, 7) + 10.0 ** rng.integers(0, 10))
        elif kind == 1:          # exact linear combination of earlier columns (+ a constant)
            w = rng.integers(-3, 4, size=len(cols))
            cols.append(np.column_stack(cols) @ w + float(rng.integers(-5, 5)))
        elif kind == 2:
            cols.append(np.full(n, float(rng.integers(-4, 4))))
        elif kind == 3:
            cols.append((rng.integers(0, 3, size=n) == 1).astype(float))
        else:
            cols.append(rng.normal(size=n))
    return np.asfortranarray(np.column_stack(cols))


@pytest.mark.parametrize("seed", range(120))
def test_cross_product_collinearity_agrees_with_gram_schmidt(seed):
    X = _random_design(seed)
    for constant in (True, False):
        got = dz._collinear_columns(X, list(range(X.shape[1])), constant)
        assert got == _gram_schmidt_omitted(X, constant), (seed, constant)


def test_collinearity_keeps_a_covariate_with_mean_1e9():
    rng = np.random.default_rng(3)
    x = rng.normal(size=500)
    X = np.asfortranarray(np.column_stack([x, x + 1e9, rng.normal(size=500) + 1e9]))
    assert dz._collinear_columns(X, [0, 1, 2], True) == [1]


# --- stored design ----------------------------------------------------------------------------
def _column(data):
    return lambda name: data[name]


def test_design_stores_estimable_columns_once():
    rng = np.random.default_rng(5)
    n = 300
    data = {"x": rng.normal(size=n), "f": rng.integers(1, 5, size=n).astype(float),
            "g": rng.integers(0, 2, size=n).astype(float)}
    terms = [Term((), ("x",)), Term((FactorPart("f"),), ()),
             Term((FactorPart("f"), FactorPart("g")), ())]
    d = dz.build_fixed(terms, _column(data), n)
    assert d.X.flags["F_CONTIGUOUS"]
    assert d.X.shape[1] == sum(not (c.base or c.empty) for c in d.columns)
    for j, c in enumerate(d.columns):          # every column as the indicator products say
        want = np.ones(n)
        for p, lv in zip(d.terms[c.term].factors if c.term >= 0 else [], c.levels):
            want = want * (data[p.name] == lv)
        if c.term >= 0:
            for v in d.terms[c.term].continuous:
                want = want * data[v]
        if c.base or c.empty:
            want = np.zeros(n)
        np.testing.assert_array_equal(d.column(j), want, err_msg=c.name)
    if not any(c.omitted for c in d.columns):
        assert d.X_keep is d.X


# --- the linear model's ll from the cross-products --------------------------------------------
@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("shift", [0.0, 1e8])
def test_linear_ll_from_the_fit_equals_ols(reml, shift):
    rng = np.random.default_rng(11)
    n, G = 600, 30
    g = rng.integers(0, G, size=n)
    x = rng.normal(size=n) + shift
    y = 2 + 0.5 * x + rng.normal(size=G)[g] + rng.normal(size=n)
    X = np.column_stack([x, np.ones(n)])
    blk = RandomBlock(group=g, Z=np.ones((n, 1)), names=["_cons"], covariance="identity",
                      label="g", depth=1)
    fit = lmm.fit_lmm(y, X, [blk], reml=reml)
    assert fit.extra["ll_linear"] == pytest.approx(ols.linear_ll(y, X, reml), rel=1e-11)


def test_linear_ll_falls_back_when_the_outcome_is_nearly_explained():
    rng = np.random.default_rng(2)
    n = 200
    g = rng.integers(0, 10, size=n)
    x = rng.normal(size=n)
    y = 1 + 2 * x + 1e-5 * rng.normal(size=n) + 1e-5 * rng.normal(size=10)[g]
    X = np.column_stack([x, np.ones(n)])
    blk = RandomBlock(group=g, Z=np.ones((n, 1)), names=["_cons"], covariance="identity",
                      label="g", depth=1)
    assert lmm.fit_lmm(y, X, [blk]).extra["ll_linear"] is None


# --- BFGS ---------------------------------------------------------------------------------------
def _rosenbrock(x):
    a, b = x
    f = (1 - a) ** 2 + 100 * (b - a * a) ** 2
    g = np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])
    return f, g


def test_bfgs_rosenbrock():
    res = minimize_bfgs(_rosenbrock, [-1.2, 1.0], gtol=1e-8, maxiter=500)
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)


def test_bfgs_quadratic_in_few_iterations():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(6, 6))
    A = M @ M.T + 6 * np.eye(6)
    b = rng.normal(size=6)
    res = minimize_bfgs(lambda x: (0.5 * x @ A @ x - b @ x, A @ x - b), np.zeros(6), gtol=1e-10)
    np.testing.assert_allclose(res.x, np.linalg.solve(A, b), rtol=1e-8)
    assert res.nit <= 20


def test_bfgs_backs_off_an_infinite_objective():
    # -log(x) + x: minimum at 1, undefined (inf) for x <= 0; the first step overshoots into it
    def fg(x):
        if x[0] <= 0:
            return math.inf, np.zeros(1)
        return -math.log(x[0]) + x[0], np.array([-1 / x[0] + 1])

    res = minimize_bfgs(fg, [0.05], gtol=1e-10)
    assert res.x[0] == pytest.approx(1.0, abs=1e-8)


# --- the standardization applied while the cross-products are gathered ------------------------
@pytest.mark.parametrize("G", [1, 40])
@pytest.mark.parametrize("crossed", [False, True])
def test_build_with_fixed_map_is_build_on_standardized_data(G, crossed):
    """suffstats.build(y, X, fixed_map=fm) makes no standardized copy of X, and gives bit for
    bit what build(*fm.apply(y, X)) gives (the same operations on the same values)."""
    from hlmshell.engine import standardize, suffstats

    rng = np.random.default_rng(G + 7 * crossed)
    n = 3000
    g = rng.integers(0, G, n)
    x = rng.normal(size=n) * 3e3 + 1e6
    x2 = rng.normal(size=n)
    y = 5e7 + 0.2 * x + rng.normal(size=G)[g] + rng.normal(size=n)
    X = np.column_stack([x, x2, np.ones(n)])
    blocks = [RandomBlock(group=g, Z=np.column_stack([x2, np.ones(n)]), names=["x2", "_cons"],
                          covariance="unstructured", label="g", depth=1)]
    if crossed:
        item = rng.integers(0, 30, n)
        blocks = [RandomBlock(group=np.zeros(n, dtype=np.int64),
                              Z=(item[:, None] == np.arange(30)).astype(float),
                              names=["R.item"] * 30, covariance="identity", label="_all",
                              depth=1),
                  RandomBlock(group=g, Z=np.ones((n, 1)), names=["_cons"],
                              covariance="identity", label="g", depth=2)]
    fm = standardize.fixed_map(y, X)
    a = suffstats.build(*fm.apply(y, X), blocks)
    b = suffstats.build(y, X, blocks, fixed_map=fm)
    np.testing.assert_array_equal(a.R0, b.R0)
    np.testing.assert_array_equal(a.Rgg, b.Rgg)
    for la, lb in zip(a.chain, b.chain):
        for name in ("Rww", "Rwa", "Rwg"):
            np.testing.assert_array_equal(getattr(la, name), getattr(lb, name))
