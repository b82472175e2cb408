"""predict after me* fits with two or more random-effects levels (nested `|| a: || b:` and
crossed `|| _all: R.x || id:`): pearson, deviance and anscombe residuals, marginal mu/pr, and
the ordinal models' pr with outcome() or one variable per category
(commands.me_multilevel_predict, commands.me_multilevel_means, engine.glmm_multi_marginal).

References:
- conditional predictions: lme4::glmer Laplace fits (fitted(), residuals(m, "pearson"),
  residuals(m, "deviance"); Anscombe residuals by R's integrate() of V^(-1/3)) and an
  ordinal::clmm fit with two nested levels (category probabilities from its coefficients and
  ranef() modes), in tests/data/glmm/multilevel_predict_reference.json, made by
  make_multilevel_predict_reference.R beside it;
- marginal predictions: the integral over the random effects' prior at the fitted variances,
  done here independently of the code under test, over the full vector of effects (not the
  one-dimensional reduction the code uses): scipy's adaptive quad nested twice, a dense Gauss-Hermite
  product rule, and the closed form exp(xb + s^2/2) for a log link;
- one level vs several: a two-level Poisson fit whose lower variance is estimated at 0 gives
  the one-level fit's predictions (commands.me_predict).
"""
import json
import math
import os

import numpy as np
import pytest

from session_run import csv_session, ok, run

HERE = os.path.dirname(__file__)
REF = json.load(open(os.path.join(HERE, "data", "glmm", "multilevel_predict_reference.json")))
GU = "tests/data/glmm/guimmun.csv"

MODELS = {
    "gu_nested": (GU, "melogit immun kid2p mom25p rural pcind81 || cluster: || mom:, "
                      "intmethod(laplace)"),
    "gu_slope": (GU, "melogit immun kid2p rural || cluster: kid2p, cov(unstr) || mom:, "
                     "intmethod(laplace)"),
    "gu_poisson": (GU, "mepoisson immun kid2p rural || cluster: || mom:, intmethod(laplace)"),
    "verbagg_crossed": ("tests/data/glmm/verbagg.csv",
                        "melogit r2 anger male do other || _all: R.item || id:, "
                        "intmethod(laplace)"),
    "mmmec_nb2": ("tests/data/glmm/mmmec.csv", "menbreg deaths uvb || nation: || region:, "
                  "exposure(expected) intmethod(laplace)"),
    "mmmec_nb1": ("tests/data/glmm/mmmec.csv", "menbreg deaths uvb || nation: || region:, "
                  "exposure(expected) dispersion(constant) intmethod(laplace)"),
    "ordinal_nested": ("tests/data/glmm/ordinal.csv",
                       "meologit y age urban || district: || urban:, intmethod(laplace)"),
}


@pytest.fixture(scope="module")
def fits():
    """Each model fitted once for the module (fits are Laplace: the point here is predict)."""
    cache = {}

    def get(key):
        if key not in cache:
            path, cmd = MODELS[key]
            s = csv_session(path)
            ok(s, cmd)
            cache[key] = s
        return cache[key]
    return get


def _col(s, name):
    return np.asarray(s.data.values(name), dtype=float)


def _b(s):
    return {f"{e}:{n}": v for (e, n), v in zip(s.e.names, s.e.b)}


def _xb(s, depvar, names):
    b = _b(s)
    out = np.full(s.data.n, b.get(f"{depvar}:_cons", 0.0))
    for nm in names:
        out = out + b[f"{depvar}:{nm}"] * _col(s, nm)
    return out


# --------------------------------------------------------------------------- conditional
@pytest.mark.parametrize("key", ["gu_nested", "gu_slope", "gu_poisson", "verbagg_crossed"])
def test_conditional_mean_and_residuals_match_glmer(fits, key):
    s = fits(key)
    ref = REF[key]
    rows = np.asarray(ref["rows"]) - 1
    for stat in ("mu", "pearson", "deviance", "anscombe"):
        name = f"c_{stat}"
        out = ok(s, f"predict double {name}, {stat}")
        assert "missing" not in out
        got = _col(s, name)
        # the fits agree with glmer to ~1e-6 in the estimates; predictions to a few 1e-6
        np.testing.assert_allclose(got[rows], ref[stat], atol=1e-5, rtol=0, err_msg=stat)
        assert np.sum(got ** 2) == pytest.approx(ref[f"ss_{stat}"], rel=1e-6), stat
    assert s.data.var("c_pearson").label == "Pearson residuals"
    assert s.data.var("c_anscombe").label == "Anscombe residuals"


def test_fixedonly_residuals_use_the_fixed_part(fits):
    s = fits("gu_nested")
    ok(s, "predict double f_pe, pearson conditional(fixedonly)")
    eta = _xb(s, "immun", ["kid2p", "mom25p", "rural", "pcind81"])
    mu = 1 / (1 + np.exp(-eta))
    y = _col(s, "immun")
    np.testing.assert_allclose(_col(s, "f_pe"), (y - mu) / np.sqrt(mu * (1 - mu)), rtol=1e-10)


def test_ordinal_probabilities_match_clmm(fits):
    s = fits("ordinal_nested")
    ref = REF["ordinal_nested"]
    rows = np.asarray(ref["rows"]) - 1
    ok(s, "predict double op*")
    P = np.column_stack([_col(s, f"op{k}") for k in (1, 2, 3)])
    np.testing.assert_allclose(P[rows], ref["pr"], atol=2e-6, rtol=0)
    np.testing.assert_allclose((P ** 2).sum(axis=0), ref["ss_pr"], rtol=1e-5)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    # outcome(#k) by position, outcome(value) by the outcome's value; k names for k outcomes
    ok(s, "predict double o2, outcome(#2)")
    ok(s, "predict double o3, pr outcome(3)")
    ok(s, "predict double n1 n2 n3, pr")
    np.testing.assert_array_equal(_col(s, "o2"), P[:, 1])
    np.testing.assert_array_equal(_col(s, "o3"), P[:, 2])
    np.testing.assert_array_equal(_col(s, "n2"), P[:, 1])
    out = ok(s, "predict double first")
    assert "first outcome" in out
    np.testing.assert_array_equal(_col(s, "first"), P[:, 0])
    assert s.data.var("o3").label == "Pr(y==3)"
    assert s.data.var("n1").label == "Pr(y==1)"


@pytest.mark.parametrize("key", ["mmmec_nb2", "mmmec_nb1"])
def test_negative_binomial_with_exposure_matches_glmmtmb(fits, key):
    """NB2 (alpha = 1 / glmmTMB's theta) and NB1 (delta = glmmTMB's sigma) Pearson residuals
    and the NB2 deviance residuals, through the family's fitted dispersion parameter."""
    s = fits(key)
    ref = REF[key]
    rows = np.asarray(ref["rows"]) - 1
    stats = ("mu", "pearson", "deviance") if "deviance" in ref else ("mu", "pearson")
    for stat in stats:
        ok(s, f"predict double nb_{stat}, {stat}")
        got = _col(s, f"nb_{stat}")
        scale = 1e-4 * max(1.0, float(np.max(np.abs(ref[stat]))))
        np.testing.assert_allclose(got[rows], ref[stat], atol=scale, rtol=0, err_msg=stat)
        assert np.sum(got ** 2) == pytest.approx(ref[f"ss_{stat}"], rel=1e-5), stat
    # marginal: the lognormal mean, exposure included
    ok(s, "predict double nb_m, mu marginal")
    b = _b(s)
    s2 = b["/:var(_cons[nation])"] + b["/:var(_cons[nation>region])"]
    want = np.exp(_xb(s, "deaths", ["uvb"]) + np.log(_col(s, "expected")) + s2 / 2)
    np.testing.assert_allclose(_col(s, "nb_m"), want, rtol=1e-10)


# --------------------------------------------------------------------------- marginal
def _logistic(t):
    return 1 / (1 + np.exp(-t))


def _npdf(u, var):
    return math.exp(-0.5 * u * u / var) / math.sqrt(2 * math.pi * var)


def _dense_gh(fn, eta0, zrow, cov, points=40):
    """E over b ~ N(0, cov) (the full vector of effects) of fn(eta0 + zrow'b) by a dense
    q-dimensional Gauss-Hermite product rule."""
    from numpy.polynomial.hermite_e import hermegauss
    t, w = hermegauss(points)
    w = w / w.sum()
    q = len(zrow)
    grids = np.meshgrid(*([t] * q), indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=1)
    wts = np.prod(np.stack([g.ravel() for g in np.meshgrid(*([w] * q), indexing="ij")]), axis=0)
    L = np.linalg.cholesky(cov)
    return float(np.sum(wts * fn(eta0 + nodes @ L.T @ zrow)))


def test_marginal_mu_nested_equals_adaptive_double_integral(fits):
    from scipy import integrate
    s = fits("gu_nested")
    out = ok(s, "predict double m_mu, mu marginal")
    assert "missing" not in out
    b = _b(s)
    v1, v2 = b["/:var(_cons[cluster])"], b["/:var(_cons[cluster>mom])"]
    eta = _xb(s, "immun", ["kid2p", "mom25p", "rural", "pcind81"])
    got = _col(s, "m_mu")
    for i in (0, 1200, 2158):
        def inner(u2, e=eta[i]):
            # the cluster effect integrated by scipy's adaptive quad for a given mom effect
            def f(u1):
                return _npdf(u1, v1) / (1.0 + math.exp(-(e + u1 + u2)))
            return integrate.quad(f, -12 * math.sqrt(v1), 12 * math.sqrt(v1),
                                  epsabs=1e-12, epsrel=1e-12)[0]
        sd2 = math.sqrt(v2)
        want = integrate.quad(lambda u2: inner(u2) * _npdf(u2, v2),
                              -12 * sd2, 12 * sd2, epsabs=1e-11, epsrel=1e-11)[0]
        assert got[i] == pytest.approx(want, abs=1e-8), i
    # marginal pr is the same integral for a binary outcome; attenuated toward 1/2
    ok(s, "predict double m_pr, pr marginal")
    np.testing.assert_array_equal(_col(s, "m_pr"), got)
    cond0 = _logistic(eta)
    assert np.all(np.abs(got - 0.5) < np.abs(cond0 - 0.5))
    # margins' default after me* (mu marginal, its own 40-point rule) averages these
    ok(s, "margins")
    assert s.r.matrices["b"].values[0, 0] == pytest.approx(got.mean(), abs=1e-9)


def test_marginal_with_a_correlated_random_slope(fits):
    s = fits("gu_slope")
    ok(s, "predict double m_sl, mu marginal")
    b = _b(s)
    vs, vc = b["/:var(kid2p[cluster])"], b["/:var(_cons[cluster])"]
    cv, vm = b["/:cov(kid2p[cluster],_cons[cluster])"], b["/:var(_cons[cluster>mom])"]
    cov = np.array([[vs, cv, 0.0], [cv, vc, 0.0], [0.0, 0.0, vm]])
    eta = _xb(s, "immun", ["kid2p", "rural"])
    kid = _col(s, "kid2p")
    got = _col(s, "m_sl")
    picks = list(np.flatnonzero(kid == 0)[:2]) + list(np.flatnonzero(kid == 1)[:2])
    for i in picks:
        want = _dense_gh(_logistic, eta[i], np.array([kid[i], 1.0, 1.0]), cov)
        assert got[i] == pytest.approx(want, abs=1e-7), i


def test_marginal_poisson_is_the_lognormal_mean(fits):
    s = fits("gu_poisson")
    ok(s, "predict double m_po, mu marginal")
    b = _b(s)
    s2 = b["/:var(_cons[cluster])"] + b["/:var(_cons[cluster>mom])"]
    want = np.exp(_xb(s, "immun", ["kid2p", "rural"]) + s2 / 2)
    np.testing.assert_allclose(_col(s, "m_po"), want, rtol=1e-10)


def test_marginal_crossed_effects(fits):
    s = fits("verbagg_crossed")
    out = ok(s, "predict double m_cr, marginal")
    assert "missing" not in out
    b = _b(s)
    cov = np.diag([b["/:var(_cons[_all>item])"], b["/:var(_cons[id])"]])
    eta = _xb(s, "r2", ["anger", "male", "do", "other"])
    got = _col(s, "m_cr")
    for i in (0, 17, 4000, 7583):
        want = _dense_gh(_logistic, eta[i], np.array([1.0, 1.0]), cov, points=60)
        assert got[i] == pytest.approx(want, abs=1e-8), i


def test_marginal_ordinal_probabilities(fits):
    s = fits("ordinal_nested")
    ok(s, "predict double mo*, marginal")
    ok(s, "predict double mo2b, marginal outcome(#2)")
    b = _b(s)
    cov = np.diag([b["/:var(_cons[district])"], b["/:var(_cons[district>urban])"]])
    c1, c2 = b["/:cut1"], b["/:cut2"]
    eta = _xb(s, "y", ["age", "urban"])
    P = np.column_stack([_col(s, f"mo{k}") for k in (1, 2, 3)])
    np.testing.assert_array_equal(_col(s, "mo2b"), P[:, 1])
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    for i in (0, 400, 1933):
        z = np.array([1.0, 1.0])
        p1 = _dense_gh(lambda e: _logistic(c1 - e), eta[i], z, cov)
        p12 = _dense_gh(lambda e: _logistic(c2 - e), eta[i], z, cov)
        np.testing.assert_allclose(P[i], [p1, p12 - p1, 1 - p12], atol=1e-9)


# --------------------------------------------------------------------------- one vs several
def test_two_levels_with_a_zero_variance_give_the_one_level_predictions():
    s = csv_session(GU)
    ok(s, MODELS["gu_poisson"][1])
    assert _b(s)["/:var(_cons[cluster>mom])"] < 1e-8
    # the conditional statistics at the modes: after a Laplace fit the one-level predict's
    # default EB means are quadrature posterior means, the multi-level one's the modes
    stats = ("mu ebmodes", "pearson ebmodes", "deviance ebmodes", "anscombe ebmodes",
             "mu marginal", "eta ebmodes", "pearson fixedonly")
    for k, st in enumerate(stats):
        ok(s, f"predict double two{k}, {st}")
    ok(s, "mepoisson immun kid2p rural || cluster:, intmethod(laplace)")
    for k, st in enumerate(stats):
        ok(s, f"predict double one{k}, {st}")
        np.testing.assert_allclose(_col(s, f"two{k}"), _col(s, f"one{k}"), rtol=2e-5, atol=2e-6,
                                   err_msg=st)


# --------------------------------------------------------------------------- bad input
def test_bad_requests_get_statas_codes_and_change_nothing(fits):
    cases = [
        ("gu_nested", "predict z, outcome(1)", 198, "option outcome() not allowed"),
        ("gu_nested", "predict z, pearson marginal", 198, "marginal"),
        ("gu_nested", "predict z, eta marginal", 198, "marginal"),
        ("gu_nested", "predict z, mu marginal ebmodes", 198, "conditional()"),
        ("gu_nested", "predict z, marginal conditional(fixedonly)", 198, "conditional()"),
        ("gu_nested", "predict z, pearson deviance", 198, "only one statistic"),
        ("gu_nested", "predict z, rstandard", 198, "not allowed"),
        ("gu_nested", "predict z1 z2, pearson", 103, "too many variables"),
        ("gu_nested", "predict immun, pearson", 110, "already defined"),
        ("gu_poisson", "predict z, pr", 198, "pr not allowed"),
        ("ordinal_nested", "predict z, outcome(7)", 198, "outcome(7)"),
        ("ordinal_nested", "predict z, outcome(#4)", 198, "no outcome #4"),
        ("ordinal_nested", "predict z, outcome(abc)", 198, "invalid"),
        ("ordinal_nested", "predict z, mu", 198, "ordinal"),
        ("ordinal_nested", "predict z, pearson", 198, "ordinal"),
        ("ordinal_nested", "predict z1 z2, outcome(2)", 103, "too many variables"),
        ("ordinal_nested", "predict z1 z2", 102, "too few variables"),
    ]
    for key, line, rc, msg in cases:
        s = fits(key)
        names = list(s.data.names)
        b = s.e.b.copy()
        got, out = run(s, line)
        assert got == rc, (line, out)
        assert msg in out, (line, out)
        assert "Traceback" not in out
        assert np.array_equal(s.e.b, b)
        assert list(s.data.names) == names, line


def test_out_of_sample_rows_and_missing_covariates():
    """marginal needs no group: every row with its covariates gets one (outside the estimation
    sample too); conditional predictions are missing where a level's group was not estimated."""
    s = csv_session(GU)
    ok(s, "replace rural = . in 2")
    ok(s, "mepoisson immun kid2p rural if cluster < 100 || cluster: || mom:, intmethod(laplace)")
    out = ok(s, "predict double om, mu marginal")
    assert out.strip() == "(1 missing value generated)"
    b = _b(s)
    s2 = b["/:var(_cons[cluster])"] + b["/:var(_cons[cluster>mom])"]
    want = np.exp(_xb(s, "immun", ["kid2p", "rural"]) + s2 / 2)
    np.testing.assert_allclose(_col(s, "om"), want, rtol=1e-10)
    ok(s, "predict double oc, pearson")
    oc = _col(s, "oc")
    cluster = _col(s, "cluster")
    assert np.all(np.isnan(oc[cluster >= 100]))
    assert np.isnan(oc[1]) and np.all(np.isfinite(np.delete(oc, 1)[np.delete(cluster, 1) < 100]))


def test_marginal_probit_is_the_closed_form():
    """E[Phi(xb + e)], e ~ N(0, s^2), is Phi(xb / sqrt(1 + s^2)) exactly."""
    from scipy.stats import norm
    s = csv_session(GU)
    ok(s, "meprobit immun kid2p rural || cluster: || mom:, intmethod(laplace)")
    ok(s, "predict double pm, pr marginal")
    b = _b(s)
    s2 = b["/:var(_cons[cluster])"] + b["/:var(_cons[cluster>mom])"]
    want = norm.cdf(_xb(s, "immun", ["kid2p", "rural"]) / math.sqrt(1 + s2))
    np.testing.assert_allclose(_col(s, "pm"), want, rtol=0, atol=1e-10)


def test_marginal_with_an_identity_covariance_slope():
    """cov(identity): one variance shared by the slope and the intercept (kept as 1 x 1)."""
    s = csv_session(GU)
    ok(s, "melogit immun kid2p rural || cluster: kid2p, cov(identity) || mom:, intmethod(laplace)")
    ok(s, "predict double mi, mu marginal")
    b = _b(s)
    v, vm = b["/:var(kid2p[cluster])"], b["/:var(_cons[cluster>mom])"]
    eta = _xb(s, "immun", ["kid2p", "rural"])
    kid = _col(s, "kid2p")
    got = _col(s, "mi")
    for i in list(np.flatnonzero(kid == 0)[:2]) + list(np.flatnonzero(kid == 1)[:2]):
        want = _dense_gh(_logistic, eta[i], np.array([kid[i], 1.0, 1.0]), np.diag([v, v, vm]))
        assert got[i] == pytest.approx(want, abs=1e-7), i
