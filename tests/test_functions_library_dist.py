"""Stata's distribution functions (functions_dist.py) against R: every expression in
tests/data/functions_library/dist_reference.json was computed by R (base stats, mvtnorm's
TVPACK, statmod's inverse Gaussian; uniroot for inverses R lacks) from the R script next to it.
Plus the domain rules of the [FN] manual: outside the domain the result is missing, below or
above the support a cdf is 0/1, a tail 1/0, a density 0."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "data", "functions_library", "dist_reference.json")) as fh:
    R_VALUES = json.load(fh)


@pytest.fixture(scope="module")
def session():
    return Session(out=Capture())


def value(s, expr: str) -> float:
    s.out = Capture()
    rc = Interpreter(s).run_line(f"scalar __v = {expr}")
    assert rc == 0, s.out.getvalue()
    return float(s.scalars["__v"].value if hasattr(s.scalars["__v"], "value") else s.scalars["__v"])


# inverses found by R's uniroot / statmod's Newton steps carry their own tolerance
LOOSE = {"invnibeta(2,3,1.5,.5)": 1e-7, "tukeyprob(3,10,3.2)": 1e-7, "invtukeyprob(3,10,.9)": 1e-6}


@pytest.mark.parametrize("expr", sorted(R_VALUES))
def test_against_r(session, expr):
    got = value(session, expr)
    want = R_VALUES[expr]
    # noncentral distributions: R and scipy (different series) agree to about 1e-9
    rel = LOOSE.get(expr, 1e-8 if expr.startswith(("n", "invn", "npn")) else 1e-9)
    assert got == pytest.approx(want, rel=rel, abs=1e-13), (expr, got, want)


MISSING = [
    "binomial(-1,3,.4)", "binomial(10,3,1.5)", "binomialp(10,11,.5)", "binomialp(10,-1,.5)",
    "invbinomial(10,10,.5)", "invbinomial(10,3,0)", "invbinomialtail(10,0,.5)",
    "poisson(0,2)", "poissonp(2,-1)", "invpoisson(2,1)", "invpoissontail(0,.5)",
    "nbinomial(0,3,.5)", "nbinomialp(2,3,0)", "hypergeometric(20,21,5,2)", "hypergeometricp(20,7,5,6)",
    "ibeta(0,3,.5)", "invibeta(2,3,1.1)", "gammap(-1,2)", "invgammap(2,-.1)", "gammaden(2,0,0,1)",
    "lnigammaden(2,3,0)", "chi2den(0,1)", "nchi2(3,-1,2)", "npnchi2(3,2,1)", "Fden(0,3,1)",
    "invF(3,10,1.5)", "nF(3,10,-1,1)", "nchi2(3,20000,2)", "nt(5,2000,1)", "nFtail(3,10,20000,1)", "tden(0,1)", "invt(5,2)", "invnt(5,1,0)",
    "lnnormalden(1,0)", "normalden(1,0,-1)", "normalden(1,.,1)", "binormal(0,0,1.5)", "logistic(0,1)", "invlogistic(1.5)",
    "exponential(0,1)", "invexponential(2,1)", "weibull(0,2,1)", "invweibull(1,2,1.5)",
    "weibullph(1,-2,1)", "igaussian(0,3,1)", "invigaussian(2,3,1)", "lncauchyden(1,0,1)",
    "lnlaplaceden(1,-1,1)", "tukeyprob(1,10,3)", "invtukeyprob(3,10,1)",
    "binomial(.,3,.4)", "poisson(3,.)", "ibeta(2,3,.)", "weibull(1,2,.)",
]


@pytest.mark.parametrize("expr", MISSING)
def test_outside_domain_is_missing(session, expr):
    assert math.isnan(value(session, expr)), expr


SUPPORT = {
    "binomial(10,-1,.4)": 0.0, "binomial(10,12,.4)": 1.0, "binomialtail(10,0,.4)": 1.0,
    "binomialtail(10,11,.4)": 0.0, "poisson(2,-1)": 0.0, "poissontail(2,0)": 1.0,
    "nbinomial(2,-1,.5)": 0.0, "nbinomialtail(2,0,.5)": 1.0, "ibeta(2,3,-1)": 0.0, "ibeta(2,3,2)": 1.0,
    "ibetatail(2,3,-1)": 1.0, "betaden(2,3,1.5)": 0.0, "gammap(2,-1)": 0.0, "gammaptail(2,-1)": 1.0,
    "gammaden(2,1,3,2)": 0.0, "chi2den(3,-1)": 0.0, "Fden(3,10,-1)": 0.0, "nchi2(3,1,-1)": 0.0,
    "nF(3,10,1,-1)": 0.0, "exponential(2,-1)": 0.0, "exponentialtail(2,-1)": 1.0,
    "exponentialden(2,-1)": 0.0, "weibull(1.5,2,1,.5)": 0.0, "weibulltail(1.5,2,1,.5)": 1.0,
    "weibullphden(1.5,2,-1)": 0.0, "igaussian(2,3,-1)": 0.0, "igaussianden(2,3,0)": 0.0,
    "binormal(0,0,1)": 0.5, "binormal(0,0,-1)": 0.0, "binormal(0,0,0)": 0.25,
    "invibeta(2,3,0)": 0.0, "invibeta(2,3,1)": 1.0, "invexponential(2,0)": 0.0,
}


@pytest.mark.parametrize("expr", sorted(SUPPORT))
def test_edges_of_the_support(session, expr):
    assert value(session, expr) == pytest.approx(SUPPORT[expr], abs=1e-15), expr


def test_binormal_against_scipy_over_a_grid():
    from scipy.stats import multivariate_normal as mvn

    from hlmshell.syntax.functions_dist import _binormal

    rng = np.random.default_rng(7)
    h, k = rng.normal(size=(2, 60)) * 1.5
    r = np.concatenate([rng.uniform(-0.92, 0.92, 30), rng.choice([-1, 1], 30) * rng.uniform(0.93, 0.999, 30)])
    got = _binormal(h, k, r)
    want = [mvn.cdf([a, b], mean=[0, 0], cov=[[1, c], [c, 1]], abseps=1e-12, releps=1e-12)
            for a, b, c in zip(h, k, r)]
    assert np.allclose(got, want, rtol=1e-8, atol=1e-12)


def test_vectorised_over_observations_with_per_observation_parameters():
    s = Session(out=Capture())
    it = Interpreter(s)
    for line in ("set obs 4", "generate double n = _n + 5", "generate double k = _n - 2",
                 "generate double p = binomial(n, k, .3)", "generate double q = poissonp(n, k)",
                 "generate double w = invnFtail(3, n, k + 2, .05)"):
        assert it.run_line(line) == 0, s.out.getvalue()
    from scipy import stats
    n = np.arange(1, 5) + 5.0
    k = np.arange(1, 5) - 2.0
    assert np.allclose(s.data.var("p").values, stats.binom.cdf(k, n, .3), rtol=1e-12)
    q = s.data.var("q").values
    assert math.isnan(q[0]) and np.allclose(q[1:], stats.poisson.pmf(k[1:], n[1:]), rtol=1e-12)
    assert np.allclose(s.data.var("w").values, stats.ncf.isf(.05, 3, n, k + 2), rtol=1e-9)


def test_wrong_argument_count_and_type():
    s = Session(out=Capture())
    it = Interpreter(s)
    assert it.run_line("display binomial(10,3)") == 198
    assert it.run_line('display ibeta("a",3,.5)') == 109
    assert it.run_line("display logistic(1,2,3,4)") == 198


def test_noncentral_far_tails_against_poisson_mixtures(session):
    """Far in the tail R's pf/pchisq with ncp lose digits; the Poisson mixture of central tails
    (summed here with scipy.special) is the independent reference."""
    from scipy import special, stats

    j = np.arange(0, 300)
    w = stats.poisson.pmf(j, 1.0)                   # noncentrality 2: Poisson(1) weights
    for f in (12.0, 80.0, 239.56308237755675):
        want = float(np.sum(w * special.betaincc((3 + 2 * j) / 2, 10 / 2, 3 * f / (3 * f + 10))))
        assert value(session, f"nFtail(3,10,2,{f!r})") == pytest.approx(want, rel=1e-9)
        assert value(session, f"invnFtail(3,10,2,{want!r})") == pytest.approx(f, rel=1e-7)
    w = stats.poisson.pmf(j, 0.75)                  # noncentrality 1.5
    for x in (10.0, 40.0, 61.9):
        want = float(np.sum(w * special.gammaincc((3 + 2 * j) / 2, x / 2)))
        assert value(session, f"nchi2tail(3,1.5,{x!r})") == pytest.approx(want, rel=1e-9)
        assert value(session, f"invnchi2tail(3,1.5,{want!r})") == pytest.approx(x, rel=1e-7)


@pytest.mark.parametrize("a,x", [(0.5, 0.3), (2.0, 1.7), (7.5, 4.0), (30.0, 35.0), (1.0, 2.0)])
def test_gammap_derivatives_against_quadrature(session, a, x):
    """dP/da and d2P/da2 from integrals of t^(a-1) (ln t)^k e^-t (scipy quad), the x-derivatives
    from the density; P(a, x) = G(a, x) / Gamma(a)."""
    from scipy import integrate, special

    g = [integrate.quad(lambda t, k=k: t ** (a - 1) * math.log(t) ** k * math.exp(-t), 0, x,
                        epsabs=1e-15, epsrel=1e-13, limit=200)[0] / math.gamma(a) for k in (0, 1, 2)]
    psi, psi1 = special.digamma(a), special.polygamma(1, a)
    dens = x ** (a - 1) * math.exp(-x) / math.gamma(a)
    assert value(session, f"dgammapda({a},{x})") == pytest.approx(g[1] - g[0] * psi, rel=1e-8, abs=1e-12)
    assert value(session, f"dgammapdada({a},{x})") == pytest.approx(
        g[2] - 2 * psi * g[1] + g[0] * (psi * psi - psi1), rel=1e-6, abs=1e-9)
    assert value(session, f"dgammapdx({a},{x})") == pytest.approx(dens, rel=1e-12)
    assert value(session, f"dgammapdxdx({a},{x})") == pytest.approx(dens * ((a - 1) / x - 1), rel=1e-12)
    assert value(session, f"dgammapdadx({a},{x})") == pytest.approx(dens * (math.log(x) - psi), rel=1e-10)
    for f in ("dgammapda", "dgammapdx", "dgammapdadx"):
        assert value(session, f"{f}({a},-1)") == 0
        assert math.isnan(value(session, f"{f}(-1,{x})"))


def test_ln1p_ln1m(session):
    assert value(session, "ln1p(1e-10)") == pytest.approx(math.log1p(1e-10), rel=1e-15)
    assert value(session, "ln1m(1e-10)") == pytest.approx(math.log1p(-1e-10), rel=1e-15)
    assert math.isnan(value(session, "ln1m(1)"))
