"""Engine internals against brute force: dense-V likelihoods, finite-difference gradients."""
import math

import numpy as np
import pytest

from hlmshell.engine import linalg_core as core
from hlmshell.engine.lmm import _Problem, _numgrad, fit_lmm, linear_ll
from hlmshell.engine.suffstats import build
from hlmshell.engine.types import RandomBlock


def nested_data(seed=1, crossed=False):
    rng = np.random.default_rng(seed)
    school, klass, rows = [], [], []
    c = 0
    for s in range(12):
        for _ in range(rng.integers(2, 5)):
            m = rng.integers(3, 9)
            school += [s] * m
            klass += [c] * m
            c += 1
    school, klass = np.array(school), np.array(klass)
    n = len(school)
    x = rng.normal(size=n)
    w = rng.normal(size=n)
    u0 = rng.normal(size=12)[school] * 1.5
    u1 = rng.normal(size=12)[school] * 0.5
    v = rng.normal(size=c)[klass] * 0.8
    y = 1 + 2 * x - w + u0 + u1 * x + v + rng.normal(size=n)
    X = np.column_stack([x, w, np.ones(n)])
    ones = np.ones((n, 1))
    blocks = [RandomBlock(group=school, Z=np.column_stack([x, ones]), names=["x", "_cons"],
                          covariance="unstructured", label="school", depth=1),
              RandomBlock(group=klass, Z=np.column_stack([w, ones]), names=["w", "_cons"],
                          covariance="independent", label="class", depth=2)]
    if crossed:
        f = rng.integers(0, 4, size=n)
        y = y + rng.normal(size=4)[f]
        Zf = (f[:, None] == np.arange(4)[None, :]).astype(float)
        blocks = [RandomBlock(group=np.zeros(n, dtype=np.int64), Z=Zf, names=[f"{i}.f" for i in range(4)],
                              covariance="identity", label="_all", depth=1),
                  RandomBlock(group=klass, Z=ones, names=["_cons"], covariance="identity",
                              label="class", depth=2)]
    return y, X, blocks


def dense_dev(y, X, blocks, lams, reml):
    """-2 ll profiled over beta and sigma^2, from the n x n matrix H = I + sum Z Psi Z'."""
    n, p = X.shape
    H = np.eye(n)
    for b, lam in zip(sorted(blocks, key=lambda b: b.depth), lams):
        G = b.group.max() + 1
        psi = lam @ lam.T
        if psi.shape[0] == 1 and b.Z.shape[1] > 1:     # a compact identity factor: lambda I
            psi = psi[0, 0] * np.eye(b.Z.shape[1])
        for g in range(G):
            idx = np.flatnonzero(b.group == g)
            Zg = b.Z[idx]
            H[np.ix_(idx, idx)] += Zg @ psi @ Zg.T
    Hi = np.linalg.inv(H)
    Q = X.T @ Hi @ X
    beta = np.linalg.solve(Q, X.T @ Hi @ y)
    r = y - X @ beta
    r2 = r @ Hi @ r
    nu = n - p if reml else n
    dev = np.linalg.slogdet(H)[1] + nu * (1 + math.log(2 * math.pi * r2 / nu))
    if reml:
        dev += np.linalg.slogdet(Q)[1]
    return dev


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("crossed", [False, True])
def test_nested_deviance_matches_dense(reml, crossed):
    y, X, blocks = nested_data(crossed=crossed)
    ss = build(y, X, blocks)
    prob = _Problem(ss, reml)
    rng = np.random.default_rng(5)
    for _ in range(3):
        theta = rng.normal(size=sum(prob.sizes))
        d = prob.dev(theta)
        assert d == pytest.approx(dense_dev(y, X, blocks, prob.lams(theta), reml), rel=1e-11, abs=1e-9)


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("crossed", [False, True])
def test_gradient_matches_finite_differences(reml, crossed):
    y, X, blocks = nested_data(seed=3, crossed=crossed)
    prob = _Problem(build(y, X, blocks), reml)
    rng = np.random.default_rng(7)
    theta = rng.normal(size=sum(prob.sizes))
    _, g = prob.dev_grad(theta)
    num = _numgrad(prob.dev, theta, 1e-6)
    assert np.allclose(g, num, rtol=1e-5, atol=1e-5)


def test_exchangeable_gradient_and_dense():
    y, X, blocks = nested_data(seed=4)
    n = len(y)
    rng = np.random.default_rng(2)
    blocks[0].Z = np.column_stack([X[:, 0], rng.normal(size=n), np.ones(n)])
    blocks[0].names = ["x", "z", "_cons"]
    blocks[0].covariance = "exchangeable"
    prob = _Problem(build(y, X, blocks), False)
    theta = np.array([0.7, 1.3, 0.4, 0.9])
    assert prob.dev(theta) == pytest.approx(dense_dev(y, X, blocks, prob.lams(theta), False), rel=1e-11)
    _, g = prob.dev_grad(theta)
    assert np.allclose(g, _numgrad(prob.dev, theta, 1e-6), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("reml", [False, True])
def test_stata_metric_gradient(reml):
    y, X, blocks = nested_data(seed=8)
    prob = _Problem(build(y, X, blocks), reml)
    theta = np.array([0.5, 0.2, 0.9, 0.6, 0.7])
    s, _, _ = prob.stata_point(theta)
    s = s + 0.05

    # -2 ll at s by brute force, then compare analytic d/ds with finite differences
    def m2ll(sv):
        sigma2 = math.exp(2 * sv[-1])
        lams, pos = [], 0
        for lev in prob.ss.levels:
            st = lev.structure
            k = len(st.stata_names(1, 1))
            psi, _ = st.cov_from_stata(sv[pos:pos + k])
            pos += k
            lams.append(st.lam(st.theta_from_relcov(psi / sigma2)))
        ev = core.forward(prob.ss, lams)
        return core.unprofiled_terms(prob.ss, ev, sigma2, reml)[0]

    assert np.allclose(prob.stata_grad(s), _numgrad(m2ll, s, 1e-6), rtol=1e-5, atol=1e-5)


def test_fit_reaches_dense_optimum_three_levels():
    y, X, blocks = nested_data(seed=11)
    fit = fit_lmm(y, X, blocks)
    prob = _Problem(build(y, X, blocks), False)
    best = dense_dev(y, X, blocks, prob.lams(fit.extra["theta"]), False)
    assert fit.ll == pytest.approx(-0.5 * best, abs=1e-9)
    assert np.abs(fit.extra["gradient"]).max() < 1e-4
    # no direction improves on it
    rng = np.random.default_rng(0)
    for _ in range(5):
        t = fit.extra["theta"] + 1e-3 * rng.normal(size=len(fit.extra["theta"]))
        assert prob.dev(t) >= -2 * fit.ll - 1e-9


def test_linear_ll_is_ols():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=50), np.ones(50)])
    y = X @ [1.0, 2.0] + rng.normal(size=50)
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    s2 = np.sum((y - X @ b) ** 2) / 50
    ll = np.sum(-0.5 * np.log(2 * np.pi * s2) - (y - X @ b) ** 2 / (2 * s2))
    assert linear_ll(y, X) == pytest.approx(ll, rel=1e-12)
