"""The blocked factorisation (engine.blocked on engine.suffstats) against a dense reference.

The reference forms Z densely (R.var columns materialised), the full augmented matrix
[Z Lambda, X, y]'W[Z Lambda, X, y] + diag(I, 0) and numpy's dense Cholesky of it; designs are
small and random: nested, crossed, partially crossed, slopes on crossed terms, weights.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlmshell.engine import blocked
from hlmshell.engine import linalg_core as core
from hlmshell.engine.blup import compute_blups
from hlmshell.engine.lmm import _numgrad, _Problem
from hlmshell.engine.suffstats import build
from hlmshell.engine.types import IndicatorMatrix, LmmFit, MixedModel, RandomBlock


# --------------------------------------------------------------------- dense reference
def dense_Z(b: RandomBlock, n: int) -> np.ndarray:
    Z = np.asarray(b.Z, dtype=float).reshape(n, -1)
    G = int(b.group.max()) + 1
    q = Z.shape[1]
    out = np.zeros((n, G * q))
    for j in range(q):
        out[np.arange(n), b.group * q + j] = Z[:, j]
    return out


def dense_parts(y, X, blocks, lams, w=None):
    """(log|Lambda'Z'WZ Lambda + I|, M0, the full Omega, Lambda, Z) by dense algebra; blocks and
    lams in depth order."""
    n = len(y)
    Zs, Ls = [], []
    for b, lam in zip(blocks, lams):
        Zs.append(dense_Z(b, n))
        G = int(b.group.max()) + 1
        q = Zs[-1].shape[1] // G
        if lam.shape[0] == 1 and q > 1:          # a compact identity factor: lambda I_q
            lam = lam[0, 0] * np.eye(q)
        Ls.append(np.kron(np.eye(G), lam))
    Z = np.hstack(Zs)
    k = Z.shape[1]
    Lam = np.zeros((k, k))
    o = 0
    for L in Ls:
        Lam[o:o + len(L), o:o + len(L)] = L
        o += len(L)
    w = np.ones(n) if w is None else w
    Om = np.hstack([Z @ Lam, X, y[:, None]])
    A = Om.T @ (Om * w[:, None])
    A[:k, :k] += np.eye(k)
    C = np.linalg.cholesky(A)
    logdet = 2 * np.log(np.diag(C)[:k]).sum()
    Ct = C[k:, k:]
    return logdet, Ct @ Ct.T, A, Lam, Z


def dense_dev(y, X, blocks, lams, reml, w=None):
    p = X.shape[1]
    logdet, M0, _, _, _ = dense_parts(y, X, blocks, lams, w)
    Q = M0[:p, :p]
    c = M0[:p, p]
    beta = np.linalg.solve(Q, c)
    r2 = M0[p, p] - c @ beta
    nn = len(y) if w is None else w.sum()
    nu = nn - p if reml else nn
    dev = logdet + nu * (1 + math.log(2 * math.pi * r2 / nu))
    if reml:
        dev += np.linalg.slogdet(Q)[1]
    return dev


# --------------------------------------------------------------------- designs
def indicators(codes, L, n, dense=None):
    return IndicatorMatrix([(codes, L, None)], dense, n)


def design(kind: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = 240
    subj = rng.integers(0, 20, n)
    item = rng.integers(0, 9, n)
    klass = rng.integers(0, 30, n)
    school = klass // 6
    x = rng.normal(size=n)
    y = 1 + x + rng.normal(size=20)[subj] + rng.normal(size=9)[item] + rng.normal(size=n)
    X = np.column_stack([x, rng.normal(size=n), np.ones(n)])
    ones = np.ones((n, 1))
    all0 = np.zeros(n, dtype=np.int64)
    xz = np.column_stack([x, ones])
    if kind == "crossed":            # || _all: R.item || subj:
        blocks = [RandomBlock(all0, indicators(item, 9, n), ["R.item"] * 9, "identity", "_all", 1),
                  RandomBlock(subj, ones, ["_cons"], "identity", "subj", 2)]
    elif kind == "two_factors":      # || _all: R.item || _all: R.subj
        blocks = [RandomBlock(all0, indicators(item, 9, n), ["R.item"] * 9, "identity", "_all", 1),
                  RandomBlock(all0, indicators(subj, 20, n), ["R.subj"] * 20, "identity", "_all", 2)]
    elif kind == "partial":          # || _all: R.item || school: x, un || class: x
        blocks = [RandomBlock(all0, indicators(item, 9, n), ["R.item"] * 9, "identity", "_all", 1),
                  RandomBlock(school, xz, ["x", "_cons"], "unstructured", "school", 2),
                  RandomBlock(klass, xz, ["x", "_cons"], "independent", "class", 3)]
    elif kind == "crossed_slopes":   # || item: x, un || subj: (crossed, slopes on the remainder)
        blocks = [RandomBlock(item, xz, ["x", "_cons"], "unstructured", "item", 1),
                  RandomBlock(subj, ones, ["_cons"], "identity", "subj", 2)]
    elif kind == "mixed_equation":   # R.item R.subj and a slope in one identity equation
        Z = IndicatorMatrix([(item, 9, None), (subj, 20, None)], x[:, None], n)
        blocks = [RandomBlock(all0, Z, ["R.item"] * 9 + ["R.subj"] * 20 + ["x"], "identity", "_all", 1),
                  RandomBlock(klass, ones, ["_cons"], "identity", "class", 2)]
    elif kind == "factor_in_level":  # || school: R.item (one effect per school and item) || subj:
        blocks = [RandomBlock(school, indicators(item, 9, n), ["R.item"] * 9, "identity", "school", 1),
                  RandomBlock(subj, ones, ["_cons"], "identity", "subj", 2)]
    else:                            # nested: school: x, un || class: _cons
        blocks = [RandomBlock(school, xz, ["x", "_cons"], "unstructured", "school", 1),
                  RandomBlock(klass, ones, ["_cons"], "identity", "class", 2)]
    return y, X, blocks


KINDS = ["crossed", "two_factors", "partial", "crossed_slopes", "mixed_equation", "factor_in_level",
         "nested"]


def some_lams(prob, seed):
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.3, 1.3, size=sum(prob.sizes))
    return theta, prob.lams(theta)


# --------------------------------------------------------------------- tests
@pytest.mark.parametrize("kind", KINDS)
def test_forward_matches_dense_cholesky(kind):
    y, X, blocks = design(kind)
    ss = build(y, X, blocks)
    theta, lams = some_lams(_Problem(ss, False), 1)
    ev = core.forward(ss, lams)
    logdet, M0, _, _, _ = dense_parts(y, X, blocks, lams)
    assert ev.logdet == pytest.approx(logdet, rel=1e-11)
    np.testing.assert_allclose(ev.M0, M0, rtol=1e-10, atol=1e-9 * np.abs(M0).max())


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_deviance_and_gradient(kind, reml):
    y, X, blocks = design(kind, seed=3)
    prob = _Problem(build(y, X, blocks), reml)
    theta, lams = some_lams(prob, 2)
    d, g = prob.dev_grad(theta)
    assert d == pytest.approx(dense_dev(y, X, blocks, lams, reml), rel=1e-11)
    num = _numgrad(lambda t: dense_dev(y, X, blocks, prob.lams(t), reml), theta, 1e-6)
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-5)


def test_crossed_layout_chain_and_remainder():
    y, X, blocks = design("partial")
    ss = build(y, X, blocks)
    # class (30 groups) is eliminated first, then school (contains it); item is crossed
    assert [lev.term.level for lev in ss.chain] == [1, 2]
    assert [rt.term.level for rt in ss.rterms] == [0] and ss.m == 9


def test_weights_equal_replicated_rows():
    y, X, blocks = design("partial", seed=5)
    n = len(y)
    w = np.random.default_rng(1).integers(1, 4, n).astype(float)
    rep = np.repeat(np.arange(n), w.astype(int))

    def take(b: RandomBlock) -> RandomBlock:
        Z = b.Z
        Z = (IndicatorMatrix([(c[rep], L, v) for c, L, v in Z.factors], None, len(rep))
             if isinstance(Z, IndicatorMatrix) else Z[rep])
        return RandomBlock(b.group[rep], Z, b.names, b.covariance, b.label, b.depth)

    ssw = build(y, X, blocks, weights=w)
    ssr = build(y[rep], X[rep], [take(b) for b in blocks])
    assert ssw.n == ssr.n == len(rep)
    assert build(y, X, blocks, weights=w, frequency=False).n == n     # precision weights
    for reml in (False, True):
        pw, pr = _Problem(ssw, reml), _Problem(ssr, reml)
        theta, _ = some_lams(pw, 4)
        dw, gw = pw.dev_grad(theta)
        dr, gr = pr.dev_grad(theta)
        assert dw == pytest.approx(dr, rel=1e-12)
        np.testing.assert_allclose(gw, gr, rtol=1e-9, atol=1e-9)
    theta, lams = some_lams(pw, 4)
    assert core.forward(ssw, lams).logdet == pytest.approx(dense_parts(y, X, blocks, lams, w)[0], rel=1e-11)


@pytest.mark.parametrize("kind", KINDS)
def test_modes_and_inverse_diagonal_match_dense(kind):
    y, X, blocks = design(kind, seed=7)
    ss = build(y, X, blocks)
    theta, lams = some_lams(_Problem(ss, False), 3)
    ev = core.forward(ss, lams)
    beta = np.array([0.3, -0.2, 1.1])
    _, _, A, Lam, Z = dense_parts(y, X, blocks, lams)
    k = Z.shape[1]
    Ainv = np.linalg.inv(A[:k, :k])
    b = Lam @ Ainv @ Lam.T @ Z.T @ (y - X @ beta)
    var = np.diag(Lam @ Ainv @ Lam.T)
    got_b = np.concatenate([m.reshape(-1) for m in blocked.modes(ss, ev, beta)])
    got_v = np.concatenate([m.reshape(-1) for m in blocked.inverse_diag(ss, ev)])
    np.testing.assert_allclose(got_b, b, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(got_v, var, rtol=1e-9, atol=1e-12)


def test_compact_identity_factor_equals_full():
    """A 1 x 1 factor for an identity level (lambda I) gives the same factorisation, and its
    gradient is the trace of the full one."""
    y, X, blocks = design("two_factors", seed=2)
    ss = build(y, X, blocks)
    lams = [0.7 * np.eye(9), 1.3 * np.eye(20)]
    full = core.forward(ss, lams)
    compact = core.forward(ss, [np.array([[0.7]]), np.array([[1.3]])])
    assert compact.logdet == pytest.approx(full.logdet, rel=1e-13)
    d, M0bar = core.profiled_terms(ss, full, False)
    bf = core.backward(ss, full, M0bar)
    bc = core.backward(ss, compact, M0bar)
    assert [b.shape for b in bc] == [(1, 1), (1, 1)]
    assert bc[0][0, 0] == pytest.approx(np.trace(bf[0]), rel=1e-12)
    assert bc[1][0, 0] == pytest.approx(np.trace(bf[1]), rel=1e-12)


def test_indicator_matrix_is_the_dense_indicators():
    codes = np.array([2, 0, 1, 2, 0])
    M = IndicatorMatrix([(codes, 3, None), (np.array([1, 1, 0, 0, 1]), 2, np.arange(5.0))],
                        np.ones((5, 1)), 5)
    assert M.shape == (5, 6)
    D = np.asarray(M)
    np.testing.assert_array_equal(D[:, :3], np.eye(3)[codes])
    np.testing.assert_array_equal(D[:, 3:5], np.eye(2)[[1, 1, 0, 0, 1]] * np.arange(5.0)[:, None])
    np.testing.assert_array_equal(D[:, 5], 1.0)
    np.testing.assert_array_equal(np.asarray(M.scaled(2.0)), D / 2)


def test_crossed_blups_match_dense():
    """BLUPs and their standard errors (with the fixed effects' uncertainty) of a crossed model
    from the blocked factorisation equal E[u|y] and Var(u_hat - u) by dense algebra."""
    y, X, blocks = design("crossed", seed=9)
    n = len(y)
    beta = np.array([0.9, 0.1, 1.2])
    covs = [np.eye(9) * 0.4, np.array([[0.8]])]
    s2 = 1.1
    Z = np.hstack([dense_Z(b, n) for b in blocks])
    Gm = np.diag(np.r_[np.full(9, 0.4), np.full(20, 0.8)])
    V = s2 * np.eye(n) + Z @ Gm @ Z.T
    Vi = np.linalg.inv(V)
    Vb = np.linalg.inv(X.T @ Vi @ X)
    P = Vi - Vi @ X @ Vb @ X.T @ Vi
    u = Gm @ Z.T @ Vi @ (y - X @ beta)
    se = np.sqrt(np.diag(Gm - Gm @ Z.T @ P @ Z @ Gm))
    fit = LmmFit(beta=beta, V_beta=Vb, ll=0.0, reml=False, converged=True, iterations=0, sigma2=s2,
                 covs=covs, vc_names=[], vc_theta=np.zeros(0), vc_V=None)
    model = MixedModel(y=y, X=X, blocks=blocks, fit=fit, fixed_names=["x", "z", "_cons"],
                       omitted=np.zeros(3, bool))
    bl = compute_blups(model)
    assert bl[0].u.shape == (1, 9) and bl[1].u.shape == (20, 1)
    np.testing.assert_allclose(np.r_[bl[0].u.ravel(), bl[1].u.ravel()], u, atol=1e-10)
    np.testing.assert_allclose(np.r_[bl[0].se.ravel(), bl[1].se.ravel()], se, atol=1e-9)


# --------------------------------------------------------------------- sparse coupling
SPARSE_KINDS = ["crossed", "two_factors", "indicator_values"]


@pytest.mark.parametrize("kind", SPARSE_KINDS)
def test_sparse_coupling_equals_dense(kind):
    """The chain's coupling to the remainder held as a sparse matrix (large crossed designs)
    gives the dense coupling's deviance, gradient, modes and inverse diagonal."""
    y, X, blocks = design("crossed" if kind == "indicator_values" else kind, seed=11)
    if kind == "indicator_values":         # indicators times a value column (a slope per level)
        codes = blocks[0].Z.factors[0][0]
        blocks[0].Z = IndicatorMatrix([(codes, 9, X[:, 0])], None, len(y))
    sp, de = build(y, X, blocks, sparse=True), build(y, X, blocks, sparse=False)
    assert sp.sparse and not de.sparse
    for reml in (False, True):
        ps, pd = _Problem(sp, reml), _Problem(de, reml)
        theta, lams = some_lams(ps, 6)
        d1, g1 = ps.dev_grad(theta)
        d2, g2 = pd.dev_grad(theta)
        assert d1 == pytest.approx(d2, rel=1e-12)
        assert d1 == pytest.approx(dense_dev(y, X, blocks, lams, reml), rel=1e-11)
        np.testing.assert_allclose(g1, g2, rtol=1e-9, atol=1e-9)
    es, ed = core.forward(sp, lams), core.forward(de, lams)
    for a, b in zip(blocked.modes(sp, es), blocked.modes(de, ed)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for a, b in zip(blocked.inverse_diag(sp, es), blocked.inverse_diag(de, ed)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_sparse_coupling_is_chosen_for_many_levels():
    rng = np.random.default_rng(0)
    n, S, I = 20_000, 4_000, 3_000
    subj, item = rng.integers(0, S, n), rng.integers(0, I, n)
    y = rng.normal(size=n)
    X = np.ones((n, 1))
    blocks = [RandomBlock(np.zeros(n, dtype=np.int64), indicators(item, I, n), ["R.item"] * I, "identity", "_all", 1),
              RandomBlock(subj, np.ones((n, 1)), ["_cons"], "identity", "subj", 2)]
    ss = build(y, X, blocks)
    assert ss.sparse and ss.m == I and ss.chain[0].Br.nnz <= n
    ev = core.forward(ss, [np.array([[0.5]]), np.array([[0.8]])])
    assert np.isfinite(ev.logdet) and ev.r2 > 0


# --------------------------------------------------------------------- property: nested == blocked
@st.composite
def nested_designs(draw):
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    n_outer = draw(st.integers(2, 5))
    per = draw(st.integers(1, 4))
    n = draw(st.integers(n_outer * per + 4, 60))
    klass = np.sort(np.r_[np.arange(n_outer * per), rng.integers(0, n_outer * per, n - n_outer * per)])
    school = klass // per
    x = rng.normal(size=n)
    q1 = draw(st.sampled_from([1, 2]))
    Z1 = np.column_stack([x, np.ones(n)])[:, 2 - q1:]
    cov1 = draw(st.sampled_from(["unstructured", "independent", "identity", "exchangeable"])) if q1 > 1 else "identity"
    blocks = [RandomBlock(school, Z1, ["x", "_cons"][2 - q1:], cov1, "school", 1),
              RandomBlock(klass, np.ones((n, 1)), ["_cons"], "identity", "class", 2)]
    X = np.column_stack([rng.normal(size=n), np.ones(n)])
    y = rng.normal(size=n) + rng.normal(size=n_outer)[school]
    theta_seed = draw(st.integers(0, 1000))
    return y, X, blocks, theta_seed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nested_designs(), st.booleans())
def test_nested_chain_equals_remainder_elimination(case, reml):
    """A nested model eliminated as a chain (block-diagonal Schur complements per parent) and
    with its outer level moved to the dense remainder give one deviance and one gradient,
    both equal to the dense Cholesky's."""
    y, X, blocks, seed = case
    chain = _Problem(build(y, X, blocks), reml)
    remainder = _Problem(build(y, X, blocks, max_chain=1), reml)
    assert len(chain.ss.chain) == 2 and len(remainder.ss.chain) == 1 and remainder.ss.m > 0
    theta = np.random.default_rng(seed).uniform(0.2, 1.5, size=sum(chain.sizes))
    d1, g1 = chain.dev_grad(theta)
    d2, g2 = remainder.dev_grad(theta)
    assert d1 == pytest.approx(d2, rel=1e-10)
    assert d1 == pytest.approx(dense_dev(y, X, blocks, chain.lams(theta), reml), rel=1e-10)
    np.testing.assert_allclose(g1, g2, rtol=1e-7, atol=1e-7 * max(1.0, np.abs(g1).max()))


def test_fit_never_forms_dense_indicator_columns(monkeypatch):
    """design.build_random keeps `R.var` as level codes, and fitting, BLUPs and fitted values
    never turn them into n x L dense columns."""
    from hlmshell.engine import design as dz
    from hlmshell.engine.blup import fitted_values
    from hlmshell.engine.lmm import fit_lmm

    y, X, _ = design("crossed", seed=4)
    rng = np.random.default_rng(4)
    n = len(y)
    cols = {"item": rng.integers(0, 9, n).astype(float) + 1, "subj": rng.integers(0, 20, n).astype(float)}
    blocks = dz.build_random([dz.RandomSpec("_all", [], rterms=["item"]), dz.RandomSpec("subj", [])],
                             cols.__getitem__, n)
    assert isinstance(blocks[0].Z, IndicatorMatrix) and blocks[0].Z.shape == (n, 9)
    np.testing.assert_array_equal(np.asarray(blocks[0].Z), (cols["item"][:, None] == np.arange(1, 10)).astype(float))

    def refuse(self, dtype=None, copy=None):
        raise AssertionError("dense indicator columns formed")

    monkeypatch.setattr(IndicatorMatrix, "__array__", refuse)
    fit = fit_lmm(y, X, blocks)
    model = MixedModel(y=y, X=X, blocks=blocks, fit=fit, fixed_names=["x", "z", "_cons"],
                       omitted=np.zeros(3, bool))
    bl = compute_blups(model)
    f = fitted_values(model, bl)
    item = cols["item"].astype(int) - 1
    np.testing.assert_allclose(f, X @ fit.beta + bl[0].u[0, item] + bl[1].u[cols["subj"].astype(int), 0],
                               rtol=1e-12)
