"""Random-number functions: reproducible after `set seed`, independent across seeds, and drawn
from the right distributions (scipy goodness-of-fit tests at fixed seeds). hlmshell's stream is
numpy's PCG64, not Stata's: only reproducibility within hlmshell is promised."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

N = 4000


def draws(expr: str, seed: int = 12345, n: int = N) -> np.ndarray:
    s = Session(out=Capture())
    it = Interpreter(s)
    for line in (f"set obs {n}", f"set seed {seed}", f"generate double x = {expr}"):
        assert it.run_line(line) == 0, s.out.getvalue()
    return s.data.var("x").values.copy()


CONTINUOUS = [
    ("runiform()", stats.uniform()),
    ("runiform(2, 5)", stats.uniform(2, 3)),
    ("rnormal(1, 2)", stats.norm(1, 2)),
    ("rbeta(2, 3)", stats.beta(2, 3)),
    ("rgamma(2, 3)", stats.gamma(2, scale=3)),
    ("rt(5)", stats.t(5)),
    ("rchi2(4)", stats.chi2(4)),
    ("rlogistic()", stats.logistic()),
    ("rlogistic(2)", stats.logistic(0, 2)),
    ("rlogistic(1, 2)", stats.logistic(1, 2)),
    ("rexponential(3)", stats.expon(scale=3)),
    ("rweibull(1.5, 2)", stats.weibull_min(1.5, scale=2)),
    ("rweibull(1.5, 2, 10)", stats.weibull_min(1.5, loc=10, scale=2)),
    ("rlognormal(0.5, 0.4)", stats.lognorm(0.4, scale=np.exp(0.5))),
    ("rigaussian(2, 3)", stats.invgauss(2 / 3, scale=3)),
]


@pytest.mark.parametrize("expr,law", CONTINUOUS)
def test_continuous_distributions(expr, law):
    x = draws(expr)
    assert not np.isnan(x).any()
    assert stats.kstest(x, law.cdf).pvalue > 1e-3


DISCRETE = [
    ("runiformint(1, 6)", stats.randint(1, 7)),
    ("rbinomial(10, 0.3)", stats.binom(10, 0.3)),
    ("rpoisson(3.5)", stats.poisson(3.5)),
    ("rnbinomial(3, 0.4)", stats.nbinom(3, 0.4)),
    ("rhypergeometric(20, 7, 5)", stats.hypergeom(20, 7, 5)),
]


@pytest.mark.parametrize("expr,law", DISCRETE)
def test_discrete_distributions(expr, law):
    x = draws(expr)
    assert np.all(x == np.floor(x))
    support = np.arange(x.min(), x.max() + 1)
    observed = np.array([(x == k).sum() for k in support])
    expected = law.pmf(support) * len(x)
    keep = expected >= 5          # pool the sparse tails so the chi-squared test is valid
    obs = np.r_[observed[keep], observed[~keep].sum()]
    exp = np.r_[expected[keep], len(x) - expected[keep].sum()]
    if exp[-1] < 5:
        obs, exp = obs[:-1], exp[:-1] * obs[:-1].sum() / exp[:-1].sum()
    assert stats.chisquare(obs, exp).pvalue > 1e-3


def test_runiformint_covers_its_range():
    x = draws("runiformint(-2, 2)", n=500)
    assert set(np.unique(x)) == {-2, -1, 0, 1, 2}


@pytest.mark.parametrize("expr", [
    "runiformint(2, 1)", "runiformint(1.5, 3)", "rbinomial(0, .5)", "rbinomial(3, 1.5)",
    "rbinomial(2.5, .5)", "rpoisson(0)", "rpoisson(-1)", "rbeta(0, 1)", "rgamma(1, -1)", "rt(0)",
    "rchi2(-2)", "rexponential(0)", "rnbinomial(0, .5)", "rnbinomial(1, 0)",
    "rhypergeometric(5, 6, 2)", "rweibull(0, 1)", "rlognormal(0, -1)", "rlogistic(0, -1)",
    "rnormal(0, .)", "rpoisson(.)", "runiform(.,1)", "rbeta(1, .a)",
])
def test_outside_the_domain_is_missing(expr):
    assert np.isnan(draws(expr, n=20)).all()


def test_parameters_may_vary_by_observation():
    s = Session(out=Capture())
    it = Interpreter(s)
    for line in ("set obs 2000", "set seed 7", "generate double m = cond(_n <= 1000, 1, 100)",
                 "replace m = . in 1", "generate double x = rpoisson(m)"):
        assert it.run_line(line) == 0, s.out.getvalue()
    x = s.data.var("x").values
    assert np.isnan(x[0])
    assert abs(x[1:1000].mean() - 1) < 0.15 and abs(x[1000:].mean() - 100) < 2


@pytest.mark.parametrize("expr", [e for e, _ in CONTINUOUS + DISCRETE] + ["rnormal()"])
def test_set_seed_makes_draws_reproducible(expr):
    a, b = draws(expr, seed=2024, n=50), draws(expr, seed=2024, n=50)
    assert np.array_equal(a, b)
    c = draws(expr, seed=2025, n=50)
    assert not np.array_equal(a, c)


def test_successive_draws_differ_and_seeds_are_independent():
    s = Session(out=Capture())
    it = Interpreter(s)
    for line in ("set obs 3000", "set seed 1", "gen double a = rnormal()", "gen double b = rnormal()",
                 "set seed 2", "gen double c = rnormal()"):
        assert it.run_line(line) == 0
    a, b, c = (s.data.var(v).values for v in "abc")
    assert not np.array_equal(a, b)
    for x, y in ((a, b), (a, c)):
        assert abs(stats.pearsonr(x, y)[0]) < 0.06


def test_scalar_draws_and_rngstate_round_trip():
    s = Session(out=Capture())
    it = Interpreter(s)
    assert it.run_line("set seed 99") == 0
    it.run_line('local st = c(rngstate)')
    s.out = Capture()
    it.run_line("display runiform()")
    first = s.out.getvalue()
    it.run_line("set rngstate `st'")
    s.out = Capture()
    it.run_line("display runiform()")
    assert s.out.getvalue() == first
    s.out = Capture()
    assert it.run_line("set rngstate nonsense") == 198
    assert "rngstate invalid" in s.out.getvalue()


def test_wrong_argument_counts_and_types():
    s = Session(out=Capture())
    it = Interpreter(s)
    it.run_line("set obs 2")
    for line, rc in (("gen x = rpoisson()", 198), ("gen x = rbinomial(1)", 198),
                     ('gen x = rpoisson("a")', 109), ("gen x = rlogistic(1,2,3)", 198),
                     ("gen x = rweibull(1)", 198)):
        assert it.run_line(line) == rc, line
