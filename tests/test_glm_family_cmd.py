"""glm (family x link) and cloglog against R: glm's coefficients, EIM standard errors,
deviance, Pearson X2 and log likelihood; sandwich's HC0 and cluster sandwiches with Stata's
n/(n-1) and G/(G-1); numerical observed information (optimHess) for non-canonical links;
MASS's negative.binomial family. Reference numbers: tests/data/glm_family/reference.json
(made by make_reference.R there; the optional test re-runs it when R is installed)."""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess

import numpy as np
import pytest

from hlmshell.session import Session
from session_run import csv_session, ok, run

HERE = os.path.dirname(os.path.abspath(__file__))
REF = json.load(open(os.path.join(HERE, "data", "glm_family", "reference.json")))


def _res(s):
    from hlmshell.commands._postest import active
    return active(s)


def _se(res):
    return np.sqrt(np.diag(res.V))


def _perm(res):
    """e(b) order (covariates, _cons) -> R's order (intercept first)."""
    k = len(res.b)
    return [k - 1] + list(range(k - 1))


@pytest.fixture(scope="module")
def melanoma():
    s = Session()
    ok(s, "use melanoma")
    return s


@pytest.fixture(scope="module")
def contraception():
    s = Session()
    ok(s, "use contraception")
    return s


@pytest.fixture(scope="module")
def synth():
    return csv_session("tests/data/glm_family/synth.csv")


def _check(res, ref, *, se_key="se", rtol=1e-6):
    p = _perm(res)
    np.testing.assert_allclose(res.b[p], ref["b"], rtol=rtol, atol=1e-8)
    np.testing.assert_allclose(_se(res)[p], ref[se_key], rtol=1e-5)
    assert res.scalars["deviance"] == pytest.approx(ref["deviance"], rel=1e-8)
    assert res.scalars["deviance_p"] == pytest.approx(ref["pearson"], rel=1e-6)


def test_poisson_exposure_header_and_e(melanoma):
    out = ok(melanoma, "glm deaths uvb, family(poisson) exposure(expected)")
    res = _res(melanoma)
    ref = REF["poisson"]
    _check(res, ref)
    sc = res.scalars
    n, k = ref["n"], 2
    assert sc["ll"] == pytest.approx(ref["ll"], rel=1e-10)
    assert sc["aic"] == pytest.approx((-2 * ref["ll"] + 2 * k) / n, rel=1e-10)
    assert sc["bic"] == pytest.approx(ref["deviance"] - (n - k) * math.log(n), rel=1e-8)
    assert sc["df"] == n - k and sc["phi"] == 1
    assert sc["dispers"] == pytest.approx(ref["deviance"] / (n - k))
    assert res.macros["varfunct"] == "Poisson" and res.macros["linkt"] == "Log"
    lines = out.splitlines()
    start = lines.index(next(ln for ln in lines if ln.startswith("Generalized linear models")))
    head = lines[start:start + 12]
    assert head[0] == "Generalized linear models                         Number of obs   =        354"
    assert head[1] == "Optimization     : ML                             Residual df     =        352"
    assert head[2] == "                                                  Scale parameter =          1"
    assert head[3].startswith("Deviance         =  1852.49788") and "(1/df) Deviance =   5.262778" in head[3]
    assert head[6] == "Variance function: V(u) = u                       [Poisson]"
    assert head[7] == "Link function    : g(u) = ln(u)                   [Log]"
    assert head[10].startswith("Log likelihood   = -1723.7727") and head[10].endswith("BIC             =  -213.4946")
    assert "                 OIM" in out


def test_poisson_robust_and_cluster(melanoma):
    ref = REF["poisson"]
    ok(melanoma, "glm deaths uvb, family(poisson) exposure(expected) vce(robust)")
    res = _res(melanoma)
    np.testing.assert_allclose(_se(res)[_perm(res)], ref["se_robust"], rtol=1e-5)
    out = ok(melanoma, "glm deaths uvb, f(p) exp(expected) vce(cluster region)")
    res = _res(melanoma)
    np.testing.assert_allclose(_se(res)[_perm(res)], ref["se_cluster"], rtol=1e-5)
    assert res.scalars["N_clust"] == ref["n_clust"]
    assert "Log pseudolikelihood" in out and "Robust" in out


def test_scale_options(melanoma):
    ref = REF["poisson"]
    df = ref["n"] - 2
    ok(melanoma, "glm deaths uvb, family(poisson) exposure(expected) scale(dev)")
    res = _res(melanoma)
    np.testing.assert_allclose(_se(res)[_perm(res)],
                               np.array(ref["se"]) * math.sqrt(ref["deviance"] / df), rtol=1e-5)
    out = ok(melanoma, "glm deaths uvb, family(poisson) exposure(expected) scale(x2)")
    res = _res(melanoma)
    np.testing.assert_allclose(_se(res)[_perm(res)],
                               np.array(ref["se"]) * math.sqrt(ref["pearson"] / df), rtol=1e-5)
    assert res.scalars["phi"] == pytest.approx(ref["pearson"] / df)
    assert "(Standard errors scaled using square root of Pearson X2-based dispersion.)" in out
    ok(melanoma, "glm deaths uvb, family(poisson) exposure(expected) scale(4)")
    np.testing.assert_allclose(_se(_res(melanoma))[_perm(res)], np.array(ref["se"]) * 2, rtol=1e-5)


def test_eform_and_irls(melanoma):
    out = ok(melanoma, "glm deaths uvb, family(poisson) exposure(expected) irls eform")
    res = _res(melanoma)
    assert "IRR" in out and "EIM" in out and "MQL Fisher scoring" in out and "(IRLS EIM)" in out
    assert "Log likelihood" not in out and "AIC" not in out
    assert "ll" not in res.scalars
    b = res.b[0]
    assert f"{math.exp(b):.7f}"[1:] in out       # .9444134


def test_cloglog_link_oim(contraception):
    ref = REF["cloglog"]
    ok(contraception, "glm use age urban, family(binomial) link(cloglog)")
    res = _res(contraception)
    _check(res, ref, se_key="se_oim")
    assert res.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-10)
    ok(contraception, "glm use age urban, family(binomial) link(c) irls")
    _check(_res(contraception), ref, se_key="se")


def test_cloglog_command(contraception):
    ref = REF["cloglog"]
    out = ok(contraception, "cloglog use age urban")
    res = _res(contraception)
    p = _perm(res)
    np.testing.assert_allclose(res.b[p], ref["b"], rtol=1e-6)
    np.testing.assert_allclose(_se(res)[p], ref["se_oim"], rtol=1e-5)
    assert res.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-10)
    assert res.scalars["ll_0"] == pytest.approx(ref["ll0"], rel=1e-10)
    assert res.scalars["N_f"] == 1175 and res.scalars["N_s"] == 759
    assert res.scalars["chi2"] == pytest.approx(2 * (ref["ll"] - ref["ll0"]), rel=1e-8)
    assert "Complementary log-log regression                Number of obs     =      1,934" in out
    assert "                                                Zero outcomes     =      1,175" in out
    assert "Pseudo R2" not in out
    out = ok(contraception, "cloglog use age urban, eform")
    assert "exp(b)" in out


def test_probit_link(contraception):
    ref = REF["probit"]
    ok(contraception, "glm use age urban, family(binomial) link(probit)")
    res = _res(contraception)
    assert res.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-10)
    np.testing.assert_allclose(res.b[_perm(res)], ref["b"], rtol=1e-6)
    ok(contraception, "glm use age urban, family(binomial) link(probit) irls")
    _check(_res(contraception), ref)


def test_gaussian_is_regress(synth):
    ref = REF["gaussian"]
    out = ok(synth, "glm ynorm x1 x2")
    res = _res(synth)
    _check(res, ref)
    assert res.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-10)
    assert res.scalars["phi"] == pytest.approx(ref["deviance"] / (ref["n"] - 3))
    assert "V(u) = 1" in out and "[Gaussian]" in out and "[Identity]" in out


def test_gamma_log(synth):
    ref = REF["gamma_log"]
    out = ok(synth, "glm ygam x1 x2, family(gamma) link(log)")
    res = _res(synth)
    _check(res, ref, se_key="se_oim", rtol=1e-6)
    assert res.scalars["phi"] == pytest.approx(ref["phi"], rel=1e-6)
    assert "V(u) = u^2" in out
    ok(synth, "glm ygam x1 x2, family(gam) link(log) irls")
    _check(_res(synth), ref, rtol=1e-6)


def test_igaussian_log(synth):
    ref = REF["igaussian"]
    ok(synth, "glm yig x1 x2, family(igaussian) link(log) irls")
    _check(_res(synth), ref, rtol=1e-6)


def test_binomial_trials(synth):
    ref = REF["binomial_m"]
    out = ok(synth, "glm yb x1 x2, family(binomial m)")
    res = _res(synth)
    _check(res, ref)
    assert res.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-10)
    assert "V(u) = u*(1-u/m)" in out and "[Binomial]" in out


def test_nbinomial_fixed_alpha(synth):
    ref = REF["nbinomial"]
    out = ok(synth, "glm ycount x1 x2, family(nbinomial .5)")
    res = _res(synth)
    np.testing.assert_allclose(res.b[_perm(res)], ref["b"], rtol=1e-6)
    assert res.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-9)
    assert "V(u) = u+(.5)u^2" in out
    ok(synth, "glm ycount x1 x2, family(nbinomial .5) irls")    # log is not canonical: EIM = R's
    _check(_res(synth), ref, rtol=1e-6)


@pytest.mark.parametrize("line,rc", [
    ("glm ynorm x1, family(foo)", 198), ("glm ynorm x1, link(foo)", 198),
    ("glm ynorm x1, family(gaussian 3)", 198), ("glm ynorm x1, family(gamma)", 459),
    ("glm ycount x1, family(binomial)", 459), ("glm yb x1, family(binomial 3)", 459),
    ("glm ynorm x1, scale(foo)", 198), ("glm ynorm x1, link(power a)", 198),
    ("glm ycount x1, family(nbinomial -1)", 198), ("glm ynorm nosuch", 111),
    ("glm ynorm x1, vce(foo)", 198), ("glm ynorm x1 if x1 > 99", 2000),
])
def test_bad_input(synth, line, rc):
    ok(synth, "quietly glm ynorm x1 x2")
    before = _res(synth)
    got, out = run(synth, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert _res(synth) is before


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R not installed")
def test_reference_reproducible(tmp_path):
    """The stored references are what R gives (the script re-run on the same data)."""
    import pandas as pd
    for name in ("melanoma", "contraception"):
        pd.read_stata(os.path.join(HERE, "..", "hlmshell", "sample_data", f"{name}.dta")) \
            .to_csv(f"/tmp/{name}.csv", index=False)
    folder = os.path.join(HERE, "data", "glm_family")
    for f in ("make_reference.R", "synth.csv"):
        shutil.copy(os.path.join(folder, f), tmp_path / f)
    subprocess.run(["Rscript", "make_reference.R"], cwd=tmp_path, check=True, capture_output=True)
    fresh = json.load(open(tmp_path / "reference.json"))
    for key, ref in REF.items():
        np.testing.assert_allclose(fresh[key]["b"], ref["b"], rtol=1e-9)


# ---- published Stata output on data that can be rebuilt exactly ---------------------------------
# Breslow and Day's British doctors data (tests/data/glm_family/dollhill.csv)

# Stata's own `poisson deaths smokes i.agecat, exposure(pyears) irr` (stata.com's Poisson
# regression feature page; Breslow and Day's British doctors data): the printed rows
STATA_ROWS = [
    "      smokes |   1.425519   .1530638     3.30   0.001     1.154984    1.759421",
    "          2  |   4.410584   .8605197     7.61   0.000     3.009011    6.464997",
    "          3  |    13.8392   2.542638    14.30   0.000     9.654328    19.83809",
    "          4  |   28.51678   5.269878    18.13   0.000     19.85177    40.96395",
    "          5  |   40.45121   7.775511    19.25   0.000     27.75326    58.95885",
    "       _cons |   .0003636   .0000697   -41.30   0.000     .0002497    .0005296",
    "  ln(pyears) |          1  (exposure)",
]


@pytest.fixture(scope="module")
def dollhill():
    return csv_session("tests/data/glm_family/dollhill.csv", "clear")


@pytest.mark.parametrize("line", [
    "poisson deaths smokes i.agecat, exposure(pyears) irr",
    "glm deaths smokes i.agecat, family(poisson) exposure(pyears) eform"])
def test_published_stata_poisson_output(dollhill, line):
    out = ok(dollhill, line)
    lines = out.splitlines()
    for row in STATA_ROWS:
        assert row in lines, row
    res = _res(dollhill)
    assert f"{res.scalars['ll']:.6f}" == "-33.600153"
    assert res.macros["offset"] == "ln(pyears)"
    if line.startswith("poisson"):
        assert "LR chi2(5)" in out and "922.93" in out and "0.9321" in out


def test_canonical_gamma_and_power_links(synth):
    ref = REF["gamma_inverse"]
    out = ok(synth, "glm ygam x1 x2, family(gamma)")             # canonical: OIM = EIM
    _check(_res(synth), ref)
    assert "g(u) = 1/u" in out and "[Reciprocal]" in out
    ref = REF["poisson_sqrt"]
    out = ok(synth, "glm ycount x1 x2, family(poisson) link(power .5) irls")
    _check(_res(synth), ref)
    assert "g(u) = u^(.5)" in out


def test_loglog_is_cloglog_of_the_complement(contraception):
    """g(u) = -ln(-ln u) on y is cloglog on 1 - y with the signs of b reversed."""
    s = contraception
    ok(s, "capture drop nouse")
    ok(s, "generate nouse = 1 - use")
    ok(s, "glm use age urban, family(binomial) link(loglog)")
    a = _res(s)
    ok(s, "glm nouse age urban, family(binomial) link(cloglog)")
    b = _res(s)
    np.testing.assert_allclose(a.b, -b.b, rtol=1e-7)
    np.testing.assert_allclose(np.sqrt(np.diag(a.V)), np.sqrt(np.diag(b.V)), rtol=1e-6)
    assert a.scalars["ll"] == pytest.approx(b.scalars["ll"], rel=1e-12)


def test_nbinomial_ml(melanoma):
    """family(nbinomial ml): alpha by maximum likelihood, then fixed (MASS::glm.nb)."""
    ref = REF["nb_ml"]
    out = ok(melanoma, "glm deaths uvb, family(nbinomial ml) exposure(expected)")
    res = _res(melanoma)
    np.testing.assert_allclose(res.b[_perm(res)], ref["b"], rtol=1e-5)
    assert res.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-9)
    assert res.scalars["nbml"] == 1
    assert "Note: Negative binomial parameter estimated via ML" in out
    k = float(res.macros["varfuncf"].split("(")[1].split(")")[0])
    assert k == pytest.approx(ref["alpha"], rel=1e-5)
    ok(melanoma, "glm deaths uvb, family(nbinomial ml) exposure(expected) irls")
    _check(_res(melanoma), ref, rtol=1e-5)


# ---- predict after the one-level GLM commands ------------------------------------------------------
def _v(s, name):
    return np.asarray(s.data.values(name), dtype=float)


def test_predict_glm_residuals_against_r(synth):
    s = synth
    ref = REF["gamma_log"]
    ok(s, "quietly glm ygam x1 x2, family(gamma) link(log)")
    for stat in ("mu", "pearson", "deviance", "response", "anscombe"):
        ok(s, f"capture drop g_{stat}")
        ok(s, f"predict double g_{stat}, {stat}")
    np.testing.assert_allclose(_v(s, "g_mu"), ref["mu"], rtol=1e-7)
    np.testing.assert_allclose(_v(s, "g_pearson"), ref["res_pearson"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_v(s, "g_deviance"), ref["res_deviance"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_v(s, "g_response"), ref["res_response"], rtol=1e-6, atol=1e-7)
    from scipy.integrate import quad
    y, mu = _v(s, "ygam"), _v(s, "g_mu")
    for i in range(0, 200, 23):            # Anscombe: integral of V^(-1/3) over V(mu)^(1/6)
        want = quad(lambda t: t ** (-2 / 3), mu[i], y[i])[0] / mu[i] ** (1 / 3)
        assert _v(s, "g_anscombe")[i] == pytest.approx(want, rel=1e-7)
    ref = REF["binomial_m"]
    ok(s, "quietly glm yb x1 x2, family(binomial m)")
    ok(s, "predict double b_mu")
    ok(s, "predict double b_pe, pearson")
    ok(s, "predict double b_dv, deviance")
    np.testing.assert_allclose(_v(s, "b_mu"), ref["mu"], rtol=1e-7)
    np.testing.assert_allclose(_v(s, "b_pe"), ref["res_pearson"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_v(s, "b_dv"), ref["res_deviance"], rtol=1e-6, atol=1e-7)
    assert run(s, "predict bad, pr")[0] == 198 and "bad" not in s.data


def test_predict_defaults_after_one_level_models(contraception, melanoma):
    s = contraception
    for cmd, F in [("logit", lambda e: 1 / (1 + np.exp(-e))),
                   ("cloglog", lambda e: 1 - np.exp(-np.exp(e)))]:
        ok(s, f"quietly {cmd} use age urban")
        ok(s, f"capture drop p_{cmd}")
        ok(s, f"predict double p_{cmd}")
        res = _res(s)
        eta = res.b[0] * _v(s, "age") + res.b[1] * _v(s, "urban") + res.b[2]
        np.testing.assert_allclose(_v(s, f"p_{cmd}"), F(eta), rtol=1e-12)
        assert s.data.var(f"p_{cmd}").label == "Pr(use)"
    m = melanoma
    ok(m, "quietly poisson deaths uvb, exposure(expected)")
    ok(m, "capture drop n_")
    ok(m, "capture drop ir_")
    ok(m, "predict double n_")
    ok(m, "predict double ir_, ir")
    res = _res(m)
    xb = res.b[0] * _v(m, "uvb") + res.b[1]
    np.testing.assert_allclose(_v(m, "ir_"), np.exp(xb), rtol=1e-12)
    np.testing.assert_allclose(_v(m, "n_"), np.exp(xb) * _v(m, "expected"), rtol=1e-12)


def test_predict_after_ologit(contraception):
    s = contraception
    ok(s, "capture drop rate")
    ok(s, "generate byte rate = 1 + (age > 0) + use + urban")
    ok(s, "quietly ologit rate age urban")
    res = _res(s)
    ok(s, "predict double c1 c2 c3 c4")
    ok(s, "predict double k2, outcome(#2)")
    eta = res.b[0] * _v(s, "age") + res.b[1] * _v(s, "urban")
    cuts = np.r_[-np.inf, res.b[2:5], np.inf]
    F = lambda x: 1 / (1 + np.exp(-x))
    for k in range(4):
        np.testing.assert_allclose(_v(s, f"c{k + 1}"), F(cuts[k + 1] - eta) - F(cuts[k] - eta),
                                   rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(_v(s, "k2"), _v(s, "c2"), rtol=1e-12)
    assert run(s, "predict bad, outcome(7)")[0] == 198


@pytest.mark.parametrize("name,power,eta", [
    ("identity", 0, 0.3), ("log", 0, -0.7), ("logit", 0, 0.4), ("probit", 0, -0.2),
    ("cloglog", 0, 0.1), ("loglog", 0, 0.5), ("logc", 0, -0.9), ("power", -1, 0.8),
    ("power", -2, 0.6), ("power", 0.5, 1.3), ("opower", 0.5, 0.2), ("opower", -0.3, 0.4),
    ("nbinomial", 0.5, -0.8)])
def test_links_invert_and_differentiate(name, power, eta):
    """g(g^-1(eta)) = eta, and dp/deta, d2p/deta2 equal central differences of g^-1."""
    from hlmshell.engine import glm_family as gfm
    link = gfm.make_link(name, power)
    e = np.array([eta])
    p, d1, d2 = link.inv(e)
    assert link.g(p)[0] == pytest.approx(eta, abs=1e-12)
    h = 1e-5
    pp, dp, _ = link.inv(e + h)
    pm, dm, _ = link.inv(e - h)
    assert d1[0] == pytest.approx((pp[0] - pm[0]) / (2 * h), rel=1e-7)
    assert d2[0] == pytest.approx((dp[0] - dm[0]) / (2 * h), rel=1e-6, abs=1e-9)


def test_gamma_log_likelihood_at_unit_scale(synth):
    """Stata's gamma log likelihood takes the scale as 1: -sum(y/mu + ln mu)."""
    ok(synth, "quietly glm ygam x1 x2, family(gamma) link(log)")
    ok(synth, "capture drop gm")
    ok(synth, "predict double gm")
    y, mu = _v(synth, "ygam"), _v(synth, "gm")
    res = _res(synth)
    assert res.scalars["ll"] == pytest.approx(-np.sum(y / mu + np.log(mu)), rel=1e-10)
    assert res.scalars["aic"] == pytest.approx((2 * np.sum(y / mu + np.log(mu)) + 6) / 200, rel=1e-10)


def test_replay(melanoma):
    first = ok(melanoma, "glm deaths uvb, family(poisson) exposure(expected) nolog")
    res = _res(melanoma)
    again = ok(melanoma, "glm")
    assert again.strip() == first.strip()
    out = ok(melanoma, "glm, eform level(90)")
    assert "IRR" in out and "[90% conf. interval]" in out
    assert _res(melanoma) is res
    assert run(melanoma, "glm, irls")[0] == 198
    ok(melanoma, "quietly poisson deaths uvb")
    assert run(melanoma, "glm")[0] == 301
