"""Issue 15's post-estimation gaps after the one-level me* commands and the NB1 negative
binomial: menbreg/nbreg dispersion(constant) against glmmTMB's nbinom1; predict's pearson,
deviance and anscombe residuals, outcome() and marginal predictions against numpy computations
from the posted estimates; estat sd against the delta method by hand; level-1 fweights against
the expanded data and pweights against an independent weighted likelihood.
References: tests/data/me_postest_extra/*.json (made by the R scripts there)."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from hlmshell.session import Session
from session_run import ok, run

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "me_postest_extra")
NB1 = json.load(open(os.path.join(DATA, "nb1_reference.json")))


def _res(s):
    from hlmshell.commands._postest import active
    return active(s)


@pytest.fixture(scope="module")
def melanoma():
    s = Session()
    ok(s, "use melanoma")
    return s


def test_nbreg_constant_dispersion(melanoma):
    ref = NB1["one_level"]
    out = ok(melanoma, "nbreg deaths uvb, exposure(expected) dispersion(constant)")
    res = _res(melanoma)
    names = [nm for _, nm in res.names]
    assert names == ["uvb", "_cons", "lndelta"]
    np.testing.assert_allclose(res.b[[1, 0]], ref["b"], rtol=2e-5)
    np.testing.assert_allclose(np.sqrt(np.diag(res.V))[[1, 0]], ref["se"], rtol=1e-4)
    assert res.b[2] == pytest.approx(ref["lndelta"], rel=2e-5)
    assert res.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-10)
    assert res.scalars["delta"] == pytest.approx(math.exp(ref["lndelta"]), rel=2e-5)
    assert "Dispersion: constant" in out and "    /lndelta |" in out and "       delta |" in out
    assert "LR test of delta=0: chibar2(01) =" in out


def test_menbreg_constant_dispersion_laplace(melanoma):
    ref = NB1["region"]
    out = ok(melanoma, "menbreg deaths uvb || region:, exposure(expected) dispersion(constant) "
                       "intmethod(laplace)")
    res = _res(melanoma)
    names = [nm for _, nm in res.names]
    assert names == ["uvb", "_cons", "lndelta", "var(_cons[region])"]
    assert res.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-6)
    np.testing.assert_allclose(res.b[[1, 0]], ref["b"], rtol=1e-4)
    assert res.b[2] == pytest.approx(ref["lndelta"], rel=1e-4)
    assert res.b[3] == pytest.approx(ref["var"], rel=1e-4)
    np.testing.assert_allclose(np.sqrt(np.diag(res.V))[[1, 0]], ref["se"], rtol=2e-3)
    assert res.macros["dispersion"] == "constant"
    assert "    /lndelta |" in out
    assert run(melanoma, "menbreg deaths uvb || region:, exposure(expected) disp(foo)")[0] == 198
    assert run(melanoma, "nbreg deaths uvb, exposure(expected) disp(foo)")[0] == 198


# ---- predict: residuals, marginal, ordinal outcomes -----------------------------------------
def _col(s, name):
    return np.asarray(s.data.values(name), dtype=float)


@pytest.fixture(scope="module")
def contraception():
    s = Session()
    ok(s, "use contraception")
    ok(s, "quietly melogit use age urban || district:, intmethod(laplace)")
    ok(s, "predict double m")
    ok(s, "predict double re, reffects")
    return s


def test_melogit_conditional_mean_and_residuals(contraception):
    s = contraception
    res = _res(s)
    b = res.b
    eta = b[0] * _col(s, "age") + b[1] * _col(s, "urban") + b[2] + _col(s, "re")
    mu = 1 / (1 + np.exp(-eta))
    np.testing.assert_allclose(_col(s, "m"), mu, rtol=1e-6)        # float storage
    y = _col(s, "use")
    ok(s, "predict pe, pearson")
    ok(s, "predict dv, deviance")
    ok(s, "predict an, anscombe")
    m = _col(s, "m").astype(float)
    np.testing.assert_allclose(_col(s, "pe"), (y - mu) / np.sqrt(mu * (1 - mu)), rtol=1e-5, atol=1e-6)
    from scipy.stats import bernoulli
    dev = np.sign(y - mu) * np.sqrt(-2 * bernoulli.logpmf(y, mu))
    np.testing.assert_allclose(_col(s, "dv"), dev, rtol=1e-5, atol=1e-6)
    from scipy.integrate import quad
    for i in range(0, 1934, 97):                    # A(y) - A(mu) = integral of V^(-1/3)
        integral = quad(lambda t: (t * (1 - t)) ** (-1 / 3), mu[i], y[i])[0]
        want = integral / (mu[i] * (1 - mu[i])) ** (1 / 6)
        assert _col(s, "an")[i] == pytest.approx(want, rel=1e-5, abs=1e-6)
    assert s.data.var("pe").label == "Pearson residuals"


def test_melogit_marginal_and_fixedonly(contraception):
    s = contraception
    res = _res(s)
    b = res.b
    var = b[3]
    ok(s, "predict mm, marginal")
    ok(s, "predict mf, fixedonly")
    xb = b[0] * _col(s, "age") + b[1] * _col(s, "urban") + b[2]
    np.testing.assert_allclose(_col(s, "mf"), 1 / (1 + np.exp(-xb)), rtol=1e-6)
    from scipy.integrate import quad
    from scipy.stats import norm
    sd = math.sqrt(var)
    for i in range(0, 1934, 211):
        want = quad(lambda z: norm.pdf(z) / (1 + math.exp(-(xb[i] + sd * z))), -12, 12)[0]
        assert _col(s, "mm")[i] == pytest.approx(want, rel=1e-6)
    assert run(s, "predict bad, eta marginal")[0] == 198
    assert run(s, "predict bad, outcome(1)")[0] == 198
    assert "bad" not in s.data


@pytest.mark.parametrize("disp", ["mean", "constant"])
def test_menbreg_residuals(melanoma, disp):
    s = melanoma
    ok(s, f"quietly menbreg deaths uvb || region:, exposure(expected) dispersion({disp}) "
          "intmethod(laplace)")
    for v in ("mu_", "pe_", "dv_", "an_"):
        if v in s.data:
            ok(s, f"drop {v}")
    ok(s, "predict double mu_")
    ok(s, "predict pe_, pearson")
    ok(s, "predict dv_, deviance")
    ok(s, "predict an_, anscombe")
    a = math.exp(_res(s).b[2])
    y = _col(s, "deaths")
    mu = _col(s, "mu_")
    V = mu * (1 + a * mu) if disp == "mean" else mu * (1 + a)
    np.testing.assert_allclose(_col(s, "pe_"), (y - mu) / np.sqrt(V), rtol=1e-5, atol=1e-6)
    from scipy.integrate import quad
    from scipy.stats import nbinom
    for i in range(0, 354, 37):
        if disp == "mean":
            size, p = 1 / a, 1 / (1 + a * mu[i])
            sat = nbinom.logpmf(y[i], size, 1 / (1 + a * y[i])) if y[i] > 0 else 0.0
        else:
            size, p = mu[i] / a, 1 / (1 + a)
            sat = nbinom.logpmf(y[i], y[i] / a, p) if y[i] > 0 else 0.0
        d = 2 * (sat - nbinom.logpmf(y[i], size, p))
        assert _col(s, "dv_")[i] == pytest.approx(np.sign(y[i] - mu[i]) * math.sqrt(max(d, 0)),
                                                  rel=1e-4, abs=1e-6)
        Vf = (lambda t: t * (1 + a * t)) if disp == "mean" else (lambda t: t * (1 + a))
        want = quad(lambda t: Vf(t) ** (-1 / 3), mu[i], y[i])[0] / Vf(mu[i]) ** (1 / 6)
        assert _col(s, "an_")[i] == pytest.approx(want, rel=1e-4, abs=1e-6)


def test_mepoisson_anscombe_closed_form(melanoma):
    s = melanoma
    ok(s, "quietly mepoisson deaths uvb || region:, exposure(expected) intmethod(laplace)")
    ok(s, "predict double pmu")
    ok(s, "predict pan, anscombe")
    ok(s, "predict pdv, deviance")
    y, mu = _col(s, "deaths"), _col(s, "pmu")
    np.testing.assert_allclose(_col(s, "pan"), 1.5 * (y ** (2 / 3) - mu ** (2 / 3)) / mu ** (1 / 6),
                               rtol=1e-5, atol=1e-6)
    from scipy.stats import poisson
    d = 2 * (poisson.logpmf(y, y) - poisson.logpmf(y, mu))
    np.testing.assert_allclose(_col(s, "pdv"), np.sign(y - mu) * np.sqrt(d), rtol=1e-5, atol=1e-6)


def test_meologit_outcomes(contraception):
    s = contraception
    ok(s, "capture drop rate")
    ok(s, "generate byte rate = 1 + (age > 0) + use + urban")
    ok(s, "quietly meologit rate age || district:, intmethod(laplace)")
    res = _res(s)
    cuts = res.b[1:4]
    ok(s, "predict double ore, reffects")
    out = ok(s, "predict p1")
    assert "option pr assumed" in out
    ok(s, "predict q1 q2 q3 q4, pr")
    ok(s, "predict o3, outcome(3)")
    ok(s, "predict k3, outcome(#3)")
    ok(s, "predict mq*, pr marginal")
    eta = res.b[0] * _col(s, "age") + _col(s, "ore")
    F = lambda x: 1 / (1 + np.exp(-x))
    full = np.concatenate([[-np.inf], cuts, [np.inf]])
    P = np.stack([F(full[k + 1] - eta) - F(full[k] - eta) for k in range(4)], axis=1)
    for k in range(4):
        np.testing.assert_allclose(_col(s, f"q{k + 1}"), P[:, k], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_col(s, "p1"), P[:, 0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_col(s, "o3"), P[:, 2], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_col(s, "k3"), P[:, 2], rtol=1e-5, atol=1e-7)
    tot = sum(_col(s, f"mq{k}") for k in range(1, 5))
    np.testing.assert_allclose(tot, 1.0, rtol=1e-6)
    from scipy.integrate import quad
    from scipy.stats import norm
    sd = math.sqrt(res.b[-1])
    xb = res.b[0] * _col(s, "age")
    i = 5
    want = quad(lambda z: norm.pdf(z) * (F(cuts[1] - xb[i] - sd * z) - F(cuts[0] - xb[i] - sd * z)),
                -12, 12)[0]
    assert _col(s, "mq2")[i] == pytest.approx(want, rel=1e-6)
    assert s.data.var("q2").label == "Pr(rate==2)"
    for line, rc in [("predict bad, mu", 198), ("predict bad, outcome(9)", 198),
                     ("predict bad, outcome(#7)", 198), ("predict bad, pearson", 198),
                     ("predict b1 b2, pr", 102)]:
        assert run(s, line)[0] == rc, line
    assert "bad" not in s.data and "b1" not in s.data


# ---- estat sd -----------------------------------------------------------------------------------
def test_estat_sd_unstructured(contraception):
    s = contraception
    ok(s, "quietly melogit use age urban || district: urban, cov(unstructured) intmethod(laplace)")
    res = _res(s)
    out = ok(s, "estat sd")
    b, V = np.asarray(res.b, float), np.asarray(res.V, float)
    idx = {nm: i for i, (_, nm) in enumerate(res.names)}
    iu, ic = idx["var(urban[district])"], idx["var(_cons[district])"]
    icov = idx["cov(urban[district],_cons[district])"]

    def transform(x):
        y = x.copy()
        y[iu], y[ic] = math.sqrt(x[iu]), math.sqrt(x[ic])
        y[icov] = x[icov] / math.sqrt(x[iu] * x[ic])
        return y
    # delta method with a numerical Jacobian (central differences)
    J = np.zeros((len(b), len(b)))
    for j in range(len(b)):
        h = 1e-6 * max(1.0, abs(b[j]))
        e = np.zeros(len(b))
        e[j] = h
        J[:, j] = (transform(b + e) - transform(b - e)) / (2 * h)
    want_b, want_V = transform(b), J @ V @ J.T
    rb = s.r.matrices["b"]
    rV = s.r.matrices["V"]
    np.testing.assert_allclose(rb.values[0], want_b, rtol=1e-10)
    np.testing.assert_allclose(rV.values, want_V, rtol=1e-6, atol=1e-12)
    assert rb.colnames[iu] == "district:sd(urban)"
    assert rb.colnames[icov] == "district:corr(urban,_cons)"
    r = want_b[icov]
    se_r = math.sqrt(want_V[icov, icov])
    lo = math.tanh(math.atanh(r) - 1.959963984540054 * se_r / (1 - r * r))
    assert f"{lo:.6f}"[:7].replace("-0.", "-.") in out
    lines = out.splitlines()
    assert "             |   Estimate  Std. err.                      [95% conf. interval]" in lines
    assert "district     |" in lines and any(ln.startswith("    sd(urban)|") for ln in lines)
    sd = want_b[ic]
    se = math.sqrt(want_V[ic, ic])
    assert f"{sd * math.exp(-1.959963984540054 * se / sd):.7f}"[1:] in out
    assert run(s, "estat sd, variance")[0] == 198


def test_estat_sd_keeps_icc_and_recovariance(contraception):
    s = contraception
    ok(s, "quietly melogit use age urban || district:, intmethod(laplace)")
    res = _res(s)
    out = ok(s, "estat sd")
    assert "sd(_cons)|" in out
    assert s.r.matrices["b"].values[0, -1] == pytest.approx(math.sqrt(res.b[-1]), rel=1e-12)
    ok(s, "estat icc")
    assert s.r.scalars["icc2"] == pytest.approx(res.b[-1] / (res.b[-1] + math.pi ** 2 / 3), rel=1e-10)
    ok(s, "estat recovariance")
    assert s.r.matrices["cov"][0, 0] == pytest.approx(res.b[-1], rel=1e-8)


# ---- level-1 weights --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def weighted():
    s = Session()
    ok(s, "use contraception")
    ok(s, "set seed 15")
    ok(s, "generate fw = 1 + floor(3*runiform())")
    ok(s, "generate double pw = 0.5 + runiform()")
    return s


def test_fweights_equal_expanded_data(weighted):
    s = weighted
    ok(s, "quietly melogit use age urban [fw=fw] || district:")
    wres = _res(s)
    ok(s, "preserve")
    ok(s, "expand fw")
    ok(s, "quietly melogit use age urban || district:")
    eres = _res(s)
    ok(s, "restore")
    assert wres.scalars["ll"] == pytest.approx(eres.scalars["ll"], rel=1e-9)
    np.testing.assert_allclose(wres.b, eres.b, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.sqrt(np.diag(wres.V)), np.sqrt(np.diag(eres.V)), rtol=1e-4)
    assert wres.scalars["N"] == eres.scalars["N"] == float(np.sum(_col(s, "fw")))
    assert wres.macros["wtype"] == "fweight" and wres.macros["wexp"] == "= fw"
    assert wres.matrices["g_max"][0, 0] == eres.matrices["g_max"][0, 0]


def _laplace_pieces(y, X, g, w, x):
    """Independent weighted Laplace log likelihood of a random-intercept logit, per group:
    Newton for each group's mode (vectorised), then f(u^) - log(H)/2."""
    p = X.shape[1]
    beta, sd = x[:p], math.exp(x[p])
    xb = X @ beta
    G = g.max() + 1
    u = np.zeros(G)
    for _ in range(100):
        eta = xb + sd * u[g]
        pr = 1 / (1 + np.exp(-eta))
        grad = np.bincount(g, w * (y - pr) * sd, G) - u
        hess = np.bincount(g, w * pr * (1 - pr) * sd * sd, G) + 1
        step = grad / hess
        u += step
        if np.max(np.abs(step)) < 1e-12:
            break
    eta = xb + sd * u[g]
    ll_i = w * (y * eta - np.logaddexp(0, eta))
    pr = 1 / (1 + np.exp(-eta))
    H = np.bincount(g, w * pr * (1 - pr) * sd * sd, G) + 1
    return np.bincount(g, ll_i, G) - 0.5 * u * u - 0.5 * np.log(H)


def test_pweights_against_independent_pseudolikelihood(weighted):
    s = weighted
    out = ok(s, "melogit use age urban [pw=pw] || district:, intmethod(laplace)")
    res = _res(s)
    assert "Log pseudolikelihood" in out and "Robust" in out
    assert "(Std. err. adjusted for 60 clusters in district)" in out
    assert "LR test" not in out
    y = _col(s, "use")
    X = np.column_stack([_col(s, "age"), _col(s, "urban"), np.ones(len(y))])
    _, g = np.unique(_col(s, "district"), return_inverse=True)
    w = _col(s, "pw")
    from scipy.optimize import minimize
    f = lambda x: -float(np.sum(_laplace_pieces(y, X, g, w, x)))
    x0 = np.r_[res.b[:3], 0.5 * math.log(res.b[3])]
    opt = minimize(f, x0, method="BFGS", options={"gtol": 1e-9})
    assert res.scalars["ll"] == pytest.approx(-opt.fun, rel=1e-9)
    np.testing.assert_allclose(res.b[:3], opt.x[:3], rtol=1e-4, atol=1e-6)
    assert res.b[3] == pytest.approx(math.exp(2 * opt.x[3]), rel=1e-4)
    # the sandwich: numerical group scores and Hessian of the independent function, G/(G-1)
    x = opt.x
    k = len(x)
    S = np.zeros((g.max() + 1, k))
    Hm = np.zeros((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = 1e-5
        S[:, j] = (_laplace_pieces(y, X, g, w, x + e) - _laplace_pieces(y, X, g, w, x - e)) / 2e-5
        for i in range(k):
            ei = np.zeros(k)
            ei[i] = 1e-4
            Hm[i, j] = (f(x + ei + e * 10) - f(x + ei - e * 10) - f(x - ei + e * 10)
                        + f(x - ei - e * 10)) / (4 * 1e-4 * 1e-4)
    Hinv = np.linalg.inv(Hm)
    G = S.shape[0]
    Vr = Hinv @ (S.T @ S) @ Hinv * G / (G - 1)
    np.testing.assert_allclose(np.sqrt(np.diag(res.V))[:3], np.sqrt(np.diag(Vr))[:3], rtol=2e-3)


def test_weight_refusals(weighted):
    s = weighted
    ok(s, "quietly melogit use age urban || district:, intmethod(laplace)")
    before = _res(s)
    for line, rc in [("melogit use age [aw=pw] || district:", 101),
                     ("melogit use age [fw=pw] || district:", 401),
                     ("melogit use age [pw=age] || district:", 402),
                     ("melogit use age [fw=fw] || district: || urban:", 101)]:
        got, out = run(s, line)
        assert got == rc, (line, out)
        assert _res(s) is before


def test_estat_sd_verbose(melanoma):
    s = melanoma
    ok(s, "quietly menbreg deaths uvb || region:, exposure(expected) intmethod(laplace)")
    res = _res(s)
    out = ok(s, "estat sd, verbose")
    lines = out.splitlines()
    assert any(ln.startswith("         uvb |") for ln in lines)
    assert any(ln.startswith("    /lnalpha |") for ln in lines)
    sd_line = next(ln for ln in lines if ln.startswith("    sd(_cons)|"))
    from hlmshell.output.numfmt import fmt_g
    assert fmt_g(math.sqrt(res.b[-1]), 9) in sd_line
    assert lines.index(sd_line) > lines.index(next(ln for ln in lines if ln.startswith("    /lnalpha")))


def test_meglm_nbinomial_constant(melanoma):
    ref = NB1["region"]
    ok(melanoma, "quietly meglm deaths uvb || region:, family(nbinomial constant) "
                 "exposure(expected) intmethod(laplace)")
    res = _res(melanoma)
    assert res.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-6)
    assert [nm for _, nm in res.names][2] == "lndelta"
    ok(melanoma, "quietly meglm deaths uvb || region:, family(nb) exposure(expected) "
                 "intmethod(laplace)")
    assert [nm for _, nm in _res(melanoma).names][2] == "lnalpha"
    assert run(melanoma, "meglm deaths uvb || region:, family(poisson mean)")[0] == 198


def test_old_names_remeans_remodes(contraception):
    """Stata 13's predict names after me* models, still taken: remeans = reffects (ebmeans),
    remodes = reffects ebmodes."""
    s = contraception
    ok(s, "capture drop r_*")
    ok(s, "predict r_new, reffects")
    ok(s, "predict r_old, remeans")
    ok(s, "predict r_mod, remodes")
    ok(s, "predict r_mod2, reffects ebmodes")
    np.testing.assert_array_equal(_col(s, "r_new"), _col(s, "r_old"))
    np.testing.assert_array_equal(_col(s, "r_mod"), _col(s, "r_mod2"))
    rc, _ = run(s, "predict r_bad, remeans xb")
    assert rc == 198 and "r_bad" not in s.data.names


def test_exposure_abbreviation(melanoma):
    """mepoisson ..., exp(var): the abbreviation public scripts use gives the same fit."""
    ok(melanoma, "quietly mepoisson deaths uvb, exposure(expected) || region:")
    b1 = np.asarray(_res(melanoma).b).copy()
    ok(melanoma, "quietly mepoisson deaths uvb, exp(expected) || region:")
    np.testing.assert_array_equal(b1, np.asarray(_res(melanoma).b))
    assert run(melanoma, "mepoisson deaths uvb, ex(expected) || region:")[0] == 198
