"""margins after logit and melogit: predictive margins of the probability (one level: Pr(y);
melogit: the mean over the random intercept by default, predict(mu fixedonly), predict(xb)),
marginal effects, delta-method SEs (after melogit the random-intercept variance moves too).
Reference numbers: tests/data/margins/glm_margins_reference.R (glm; glmmTMB's Laplace fit,
the random intercept integrated on a grid, numDeriv jacobians; no hlmshell code)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run

REF = json.loads((Path(__file__).parent / "data" / "margins" / "glm_margins_reference.json").read_text())
DATA = "import delimited using tests/data/glmm/contraception.csv, clear"


@pytest.fixture(scope="module")
def logit():
    s = Session()
    ok(s, DATA)
    ok(s, "quietly logit use i.urban age")
    return s


@pytest.fixture(scope="module")
def melogit():
    s = Session()
    ok(s, DATA)
    ok(s, "quietly melogit use i.urban age || district:, intmethod(laplace)")
    return s


def check(s, key, rel_m, rel_se):
    T = s.r.matrices["table"].values
    T = T[:, [j for j, nm in enumerate(s.r.matrices["table"].colnames) if "b." not in nm]]
    ref = REF[key]
    assert np.allclose(T[0], ref["margin"], rtol=rel_m), (T[0], ref["margin"])
    assert np.allclose(T[1], ref["se"], rtol=rel_se), (T[1], ref["se"])


@pytest.mark.parametrize("line,key", [("margins urban", "logit_urban"),
                                      ("margins, dydx(*)", "logit_dydx"),
                                      ("margins, at(age=(-10 0 10))", "logit_at")])
def test_logit_against_r(logit, line, key):
    ok(logit, line)
    check(logit, key, 1e-6, 1e-5)
    assert logit.r.macros["predict_label"] == "Pr(use)"


def test_logit_layout(logit):
    rc, out = run(logit, "margins urban")
    assert rc == 0
    assert "Expression: Pr(use), predict()" in out
    assert "Model VCE: OIM" in out
    rc, out = run(logit, "margins, predict(xb)")
    b, V = np.asarray(logit.e.b, float).reshape(-1), np.asarray(logit.e.V, float).reshape(4, 4)
    d = logit.data
    X = np.column_stack([np.zeros(d.n), d.values("urban"), d.values("age"), np.ones(d.n)])
    g = X.mean(axis=0)
    T = logit.r.matrices["table"].values
    assert np.isclose(T[0, 0], g @ b, rtol=1e-10)
    assert np.isclose(T[1, 0], np.sqrt(g @ V @ g), rtol=1e-10)
    assert "Expression: Linear prediction, predict(xb)" in out


@pytest.mark.parametrize("line,key", [("margins urban", "me_urban"),
                                      ("margins, at(age=(-10 10))", "me_at"),
                                      ("margins urban, predict(mu fixedonly)", "me_fixedonly")])
def test_melogit_against_r(melogit, line, key):
    assert np.isclose(melogit.e.scalars["ll"], REF["me_ll"], rtol=1e-7)
    ok(melogit, line)
    check(melogit, key, 1e-5, 2e-4)


def test_melogit_default_is_marginal_and_moves_the_variance(melogit):
    rc, out = run(melogit, "margins urban")
    assert "Expression: Marginal predicted mean, predict()" in out
    J = melogit.r.matrices["Jacobian"]
    assert J.colnames[-1] == "/:var(_cons[district])"
    assert np.all(np.abs(J.values[:, -1]) > 1e-4)
    rc, out = run(melogit, "margins urban, predict(mu fixedonly)")
    assert "Expression: Predicted mean, fixed portion only, predict(mu fixedonly)" in out
    assert len(melogit.r.matrices["Jacobian"].colnames) == 4


def test_melogit_expression_and_dydx(melogit):
    b = np.asarray(melogit.e.b, float).reshape(-1)
    d = melogit.data
    want = [np.mean(np.exp(b[1] * u + b[2] * np.asarray(d.values("age")) + b[3])) for u in (0, 1)]
    ok(melogit, "margins urban, expression(exp(predict(xb)))")
    assert np.allclose(melogit.r.matrices["table"].values[0], want, rtol=1e-10)
    ok(melogit, "margins urban")
    m = melogit.r.matrices["table"].values[0]
    ok(melogit, "margins, dydx(urban)")
    assert np.isclose(melogit.r.matrices["table"].values[0, 1], m[1] - m[0], rtol=1e-8)


@pytest.mark.parametrize("line,rc", [("margins, predict(reffects)", 498),
                                     ("margins, predict(mu conditional(ebmeans))", 498),
                                     ("margins, predict(bogus)", 198),
                                     ("margins, predict(mu xb)", 198),
                                     ("margins, vce(uncondx)", 198)])
def test_melogit_errors(melogit, line, rc):
    ok(melogit, "margins urban")
    before = melogit.r.matrices["table"].values.copy()
    got, out = run(melogit, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert np.array_equal(melogit.r.matrices["table"].values, before, equal_nan=True)


def test_logit_fixedonly_refused(logit):
    rc, out = run(logit, "margins, predict(pr fixedonly)")
    assert rc == 198


def test_melogit_random_slope_marginal_mean_by_hand():
    """With a random slope on age, z'u has variance var(_cons) + 2 cov age + var(age) age^2
    per row: the margin is the average of the logistic mean integrated on a fine grid."""
    s = Session()
    ok(s, DATA)
    ok(s, "quietly melogit use i.urban age || district: age, cov(unstr)")
    ok(s, "margins urban")
    names = [nm for _, nm in s.e.names]
    b = np.asarray(s.e.b, float).reshape(-1)
    v_age = b[names.index("var(age[district])")]
    v_c = b[names.index("var(_cons[district])")]
    cv = b[names.index("cov(age[district],_cons[district])")]
    age = np.asarray(s.data.values("age"), float)
    s2 = v_c + 2 * cv * age + v_age * age ** 2
    z = np.linspace(-10, 10, 4001)
    w = np.exp(-z ** 2 / 2) / np.sqrt(2 * np.pi) * (z[1] - z[0])
    want = []
    for u in (0, 1):
        eta = b[names.index("1.urban")] * u + b[names.index("age")] * age + b[names.index("_cons")]
        want.append(np.mean((1 / (1 + np.exp(-(eta[:, None] + np.sqrt(s2)[:, None] * z)))) @ w))
    assert np.allclose(s.r.matrices["table"].values[0], want, rtol=1e-9)


@pytest.mark.parametrize("model,key,units", [("logit", "uncond_logit", "rows"),
                                             ("probit", "uncond_probit", "rows"),
                                             ("logit", "uncond_logit", "cluster"),
                                             ("probit", "uncond_probit", "cluster")])
def test_unconditional_after_binary_models(model, key, units):
    s = Session()
    ok(s, DATA)
    vce = ", vce(cluster district)" if units == "cluster" else ""
    ok(s, f"quietly {model} use i.urban age{vce}")
    rc, out = run(s, "margins urban, vce(unconditional)")
    assert rc == 0 and "Unconditional" in out
    want = np.asarray(REF[key][units])
    T = s.r.matrices["table"].values
    assert np.allclose(T[0], want[:, 0], rtol=1e-7)
    assert np.allclose(T[1], want[:, 1], rtol=1e-5)


def test_poisson_exposure_enters_the_margins():
    """poisson ..., exposure(t): the predicted number of events is t exp(xb), so the margin
    at x = 0 is mean(t) exp(_cons); e(offset) = ln(t) is read as the exposure."""
    s = Session()
    ok(s, "set obs 200")
    ok(s, "set seed 1")
    ok(s, "generate x = rnormal()")
    ok(s, "generate t = runiform() + 0.5")
    ok(s, "generate y = rpoisson(t * exp(0.3 + 0.5*x))")
    ok(s, "quietly poisson y x, exposure(t)")
    ok(s, "margins, at(x=0)")
    b = np.asarray(s.e.b, float).reshape(-1)
    t = np.asarray(s.data.values("t"), float)
    assert np.isclose(s.r.matrices["table"].values[0, 0], t.mean() * np.exp(b[1]), rtol=1e-9)
    V = np.asarray(s.e.V, float).reshape(2, 2)
    se = t.mean() * np.exp(b[1]) * np.sqrt(V[1, 1])
    assert np.isclose(s.r.matrices["table"].values[1, 0], se, rtol=1e-6)
    assert s.r.macros["predict_label"] == "Predicted number of events"


@pytest.fixture(scope="module")
def melogit30():
    s = Session()
    ok(s, DATA)
    ok(s, "quietly melogit use i.urban age || district:, intpoints(30)")
    return s


@pytest.mark.parametrize("line,key", [("margins urban, vce(unconditional)", "uncond_me"),
                                      ("margins urban, predict(mu fixedonly) vce(unconditional)",
                                       "uncond_me_fixedonly")])
def test_unconditional_after_melogit(melogit30, line, key):
    """The districts are the sampling units; their influence comes from their scores and the
    observed information (R: the likelihood integrated on a grid, numDeriv)."""
    assert np.isclose(melogit30.e.scalars["ll"], REF["me30_ll"], rtol=1e-7)
    rc, out = run(melogit30, line)
    assert rc == 0 and "Unconditional" in out
    want = np.asarray(REF[key])
    T = melogit30.r.matrices["table"].values
    assert np.allclose(T[0], want[:, 0], rtol=1e-5)
    assert np.allclose(T[1], want[:, 1], rtol=2e-4)


def test_glm_binomial_logit_equals_r_logit_margins():
    s = Session()
    ok(s, DATA)
    ok(s, "quietly glm use i.urban age, family(binomial) link(logit)")
    rc, out = run(s, "margins urban")
    assert rc == 0 and "Expression: Predicted mean use, predict()" in out
    check(s, "logit_urban", 1e-6, 1e-5)
    rc, out = run(s, "margins, vce(unconditional)")
    assert rc == 198
    ok(s, "quietly glm use age, family(binomial) link(logc)")
    rc, out = run(s, "margins")
    assert rc == 198 and "Traceback" not in out
