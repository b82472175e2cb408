"""xtlogit, xtprobit, xtpoisson (re, fe, pa): numbers against lme4's glmer (normal random
intercept; tests/data/panel/xt_glmm_reference.R, run once, numbers in xt_glmm_reference.json),
survival's exact clogit (xtlogit, fe), the Poisson GLM with panel dummies (xtpoisson, fe) and,
for xtpoisson's gamma random effect, the marginal likelihood integrated numerically here
(scipy's quad over the gamma density, panel by panel); then Stata 17's layout, e() and errors.

glmer's nAGQ rule is mode-curvature adaptive and Stata's default mean-variance adaptive: at 12
points they differ in the fourth digit on ohio (sigma_u ~ 2.2 with 4 observations a panel), so
the binary models are compared at 25 points, where both are the integral.
"""
import json
import math
import os

import numpy as np
import pytest

from session_run import csv_session, ok, run

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "panel",
                                  "xt_glmm_reference.json")))


@pytest.fixture(scope="module")
def ohio():
    s = csv_session("tests/data/gee/ohio.csv")
    ok(s, "xtset id t")
    return s


@pytest.fixture(scope="module")
def seizure():
    s = csv_session("tests/data/gee/seizure.csv")
    ok(s, "xtset id t")
    ok(s, "generate v4 = t == 4")
    return s


def _fixed(s):
    k = s.e.k_f
    return np.ravel(s.e.b)[:k], np.sqrt(np.diag(s.e.V))[:k]


def _cons_first(v):
    return np.r_[v[-1:], v[:-1]]


@pytest.mark.parametrize("cmd,key,rtol", [("xtlogit", "xtlogit_re25", 1e-4),
                                          ("xtprobit", "xtprobit_re25", 1e-5)])
def test_re_binary_against_glmer(ohio, cmd, key, rtol):
    ok(ohio, f"{cmd} resp age smoke, intpoints(25) nolog")
    ref = REF[key]
    b, se = _fixed(ohio)
    np.testing.assert_allclose(_cons_first(b), ref["coef"], rtol=rtol)
    np.testing.assert_allclose(_cons_first(se), ref["se"], rtol=5e-3)
    assert ohio.e.scalars["ll"] == pytest.approx(ref["ll"], rel=2e-6)
    assert ohio.e.scalars["sigma_u"] == pytest.approx(ref["sigma_u"], rel=10 * rtol)
    lnsig2u = float(np.ravel(ohio.e.b)[-1])
    assert math.exp(lnsig2u / 2) == pytest.approx(ohio.e.scalars["sigma_u"], rel=1e-12)
    c = math.pi ** 2 / 3 if cmd == "xtlogit" else 1.0
    s2 = ohio.e.scalars["sigma_u"] ** 2
    assert ohio.e.scalars["rho"] == pytest.approx(s2 / (s2 + c), rel=1e-12)
    # the LR test against the pooled model (R's glm log likelihood for the logit)
    if cmd == "xtlogit":
        assert ohio.e.scalars["ll_c"] == pytest.approx(REF["pooled_logit_ll"], rel=1e-9)
    assert ohio.e.scalars["chi2_c"] == pytest.approx(
        2 * (ohio.e.scalars["ll"] - ohio.e.scalars["ll_c"]), rel=1e-12)


def test_re_poisson_normal_against_glmer(seizure):
    ok(seizure, "xtpoisson y trt lbase v4, normal nolog")
    ref = REF["xtpoisson_normal"]
    b, se = _fixed(seizure)
    np.testing.assert_allclose(_cons_first(b), ref["coef"], rtol=1e-5)
    np.testing.assert_allclose(_cons_first(se), ref["se"], rtol=2e-3)
    assert seizure.e.scalars["sigma_u"] == pytest.approx(ref["sigma_u"], rel=1e-5)
    assert seizure.e.names[-1] == ("/", "lnsig2u")


def test_re_poisson_gamma_against_numerical_integration(seizure):
    from scipy.integrate import quad
    from scipy.special import gammaln
    ok(seizure, "xtpoisson y trt lbase v4, nolog")
    b = np.ravel(seizure.e.b)
    d = {n: np.asarray(seizure.data.var(n).values, dtype=float)
         for n in ("y", "trt", "lbase", "v4", "id")}
    X = np.column_stack([d["trt"], d["lbase"], d["v4"], np.ones(len(d["y"]))])

    def ll(beta, lnalpha):
        r = math.exp(-lnalpha)
        lam = np.exp(X @ beta)
        total = 0.0
        for g in np.unique(d["id"]):
            i = d["id"] == g
            y, l = d["y"][i], lam[i]
            const = float(np.sum(y * np.log(l) - gammaln(y + 1)))
            Y, L = y.sum(), l.sum()
            # log of nu^Y exp(-nu L) times the Gamma(r, rate r) density; scaled at its mode
            def logf(nu):
                return (Y * math.log(nu) - nu * L + r * math.log(r) - gammaln(r)
                        + (r - 1) * math.log(nu) - r * nu)
            mode = max((Y + r - 1) / (L + r), 1e-8)
            shift = logf(mode)
            val = quad(lambda nu: math.exp(logf(nu) - shift), 0, 50 * mode + 50, points=[mode],
                       limit=200, epsabs=0, epsrel=1e-12)[0]
            total += const + shift + math.log(val)
        return total

    beta, lna = b[:4], b[4]
    assert seizure.e.scalars["ll"] == pytest.approx(ll(beta, lna), rel=1e-9)
    h = 1e-5
    for j in range(5):                      # the maximum: the numerical score vanishes
        e = np.zeros(5)
        e[j] = h
        x = np.r_[beta, lna]
        g = (ll((x + e)[:4], (x + e)[4]) - ll((x - e)[:4], (x - e)[4])) / (2 * h)
        assert abs(g) < 1e-3
    assert seizure.e.names[-1] == ("/", "lnalpha")
    assert seizure.e.scalars["alpha"] == pytest.approx(math.exp(lna), rel=1e-12)


def test_fe_logit_against_clogit(ohio):
    out = ok(ohio, "xtlogit resp age smoke, fe nolog")
    ref = REF["xtlogit_fe"]
    b, se = _fixed(ohio)
    assert b[0] == pytest.approx(ref["coef"], rel=1e-7)
    assert se[0] == pytest.approx(ref["se"], rel=1e-6)
    assert b[1] == 0 and ohio.e.names[1] == ("resp", "o.smoke")
    assert ohio.e.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-9)
    assert ohio.e.scalars["chi2"] == pytest.approx(2 * (ref["ll"] - ref["ll0"]), rel=1e-7)
    assert "note: 373 groups (1,492 obs) dropped because of all positive or" in out
    assert "      all negative outcomes." in out
    assert "note: smoke omitted because of no within-group variance." in out
    assert "       smoke |          0  (omitted)" in out
    assert ohio.e.scalars["N"] == 656 and ohio.e.scalars["N_g"] == 164
    assert int(np.sum(ohio.e.sample)) == 656


def test_fe_poisson_against_dummies(seizure):
    from scipy.special import gammaln
    out = ok(seizure, "xtpoisson y v4, fe nolog")
    ref = REF["xtpoisson_fe"]
    b, se = _fixed(seizure)
    assert b[0] == pytest.approx(ref["coef"], rel=1e-7)
    assert se[0] == pytest.approx(ref["se"], rel=1e-6)
    assert "note: 1 group (4 obs) dropped because of all zero outcomes" in out
    # the multinomial log likelihood Stata reports, written out
    s = np.asarray(seizure.e.sample, dtype=bool)
    y = np.asarray(seizure.data.var("y").values, dtype=float)[s]
    v4 = np.asarray(seizure.data.var("v4").values, dtype=float)[s]
    ids = np.asarray(seizure.data.var("id").values)[s]
    total = 0.0
    for g in np.unique(ids):
        i = ids == g
        w = np.exp(b[0] * v4[i])
        p = w / w.sum()
        total += gammaln(y[i].sum() + 1) - gammaln(y[i] + 1).sum() + np.sum(y[i] * np.log(p))
    assert seizure.e.scalars["ll"] == pytest.approx(total, rel=1e-10)
    assert seizure.e.macros["chi2type"] == "Wald"


def test_pa_is_xtgee(ohio):
    ok(ohio, "xtgee resp age smoke, family(binomial) link(logit) corr(exchangeable) nolog")
    b_gee = np.ravel(ohio.e.b).copy()
    out = ok(ohio, "xtlogit resp age smoke, pa nolog or")
    np.testing.assert_allclose(np.ravel(ohio.e.b), b_gee, rtol=1e-12)
    assert "GEE population-averaged model" in out and "Odds ratio" in out
    ok(ohio, "xtprobit resp age smoke, pa nolog")
    assert ohio.e.macros["link"] == "probit"


def test_layout_re(ohio):
    out = ok(ohio, "xtlogit resp age smoke, nolog")
    lines = out.splitlines()
    i = lines.index("Random-effects logistic regression              Number of obs     =      2,148")
    assert lines[i + 1] == "Group variable: id                              Number of groups  =        537"
    assert lines[i + 3] == "Random effects u_i ~ Gaussian                   Obs per group:"
    assert lines[i + 8] == "Integration method: mvaghermite                 Integration pts.  =         12"
    assert lines[i + 10].startswith(" " * 48 + "Wald chi2(2)      =")
    assert lines[i + 11].startswith("Log likelihood = -797.60")
    for label in ("    /lnsig2u |", "     sigma_u |", "         rho |"):
        assert any(ln.startswith(label) for ln in lines)
    assert any(ln.startswith("LR test of rho=0: chibar2(01) = ") and "Prob >= chibar2 = 0.000" in ln
               for ln in lines)
    rc, again = run(ohio, "xtlogit")
    assert rc == 0 and "Random-effects logistic regression" in again


def test_log_shows_comparison_and_full_model(ohio):
    out = ok(ohio, "xtprobit resp age smoke")
    assert "Fitting comparison model:" in out and "Fitting full model:" in out
    assert "Iteration 0:   log likelihood = " in out


@pytest.mark.parametrize("line,rc", [
    ("xtprobit resp age, fe", 198),
    ("xtlogit resp age, re fe", 198),
    ("xtlogit resp age, corr(ar1)", 198),
    ("xtlogit resp age, intpoints(0)", 198),
    ("xtlogit resp age, intmethod(laplace)", 198),
    ("xtlogit resp age, irr", 198),
    ("xtpoisson resp age, fe normal", 198),
    ("xtlogit resp age if resp == 1", 2000),
    ("xtlogit resp nosuch", 111),
    ("xtlogit", 301),
])
def test_errors(ohio, line, rc):
    before = ohio.e
    got, out = run(ohio, line)
    assert got == rc, out
    assert "Traceback" not in out and ohio.e is before


def test_errors_need_panel_and_counts():
    s = csv_session("tests/data/gee/seizure.csv")
    assert run(s, "xtpoisson y trt")[0] == 459                    # no xtset
    ok(s, "replace y = -1 in 1")
    assert run(s, "xtpoisson y trt, i(id)")[0] == 459


def test_predict_xb(ohio):
    ok(ohio, "xtlogit resp age smoke, nolog")
    ok(ohio, "capture drop xbh")
    ok(ohio, "predict double xbh, xb")
    b = np.ravel(ohio.e.b)
    d = {n: np.asarray(ohio.data.var(n).values, dtype=float) for n in ("age", "smoke", "xbh")}
    np.testing.assert_allclose(d["xbh"], b[0] * d["age"] + b[1] * d["smoke"] + b[2], rtol=1e-12)


def _gamma_panel_ll(x, X, y, ids):
    """Per-panel log likelihood of the gamma random-effect Poisson, written out here from the
    negative-binomial-type closed form (checked against numerical integration above)."""
    from scipy.special import gammaln
    p = X.shape[1]
    r = math.exp(-x[p])
    lam = np.exp(X @ x[:p])
    out = []
    for g in np.unique(ids):
        i = ids == g
        Y, L = y[i].sum(), lam[i].sum()
        out.append(np.sum(y[i] * np.log(lam[i]) - gammaln(y[i] + 1)) + r * math.log(r)
                   - gammaln(r) + gammaln(r + Y) - (r + Y) * math.log(r + L))
    return np.array(out)


def test_gamma_vce_oim_and_robust(seizure):
    d = {n: np.asarray(seizure.data.var(n).values, dtype=float)
         for n in ("y", "trt", "lbase", "v4", "id")}
    X = np.column_stack([d["trt"], d["lbase"], d["v4"], np.ones(len(d["y"]))])
    ok(seizure, "xtpoisson y trt lbase v4, nolog")
    x = np.ravel(seizure.e.b).copy()
    V = np.asarray(seizure.e.V)
    k = len(x)
    h = 1e-4
    S = np.empty((59, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        S[:, j] = (_gamma_panel_ll(x + e, X, d["y"], d["id"])
                   - _gamma_panel_ll(x - e, X, d["y"], d["id"])) / (2 * h)
    H = np.empty((k, k))
    for j in range(k):                       # Hessian: differences of the summed scores
        e = np.zeros(k)
        e[j] = h

        def score(z):
            out = np.empty(k)
            for m in range(k):
                f = np.zeros(k)
                f[m] = h
                out[m] = (_gamma_panel_ll(z + f, X, d["y"], d["id"]).sum()
                          - _gamma_panel_ll(z - f, X, d["y"], d["id"]).sum()) / (2 * h)
            return out
        H[:, j] = (score(x + e) - score(x - e)) / (2 * h)
    Vm = np.linalg.inv(-0.5 * (H + H.T))
    np.testing.assert_allclose(np.sqrt(np.diag(V)), np.sqrt(np.diag(Vm)), rtol=1e-4)
    ok(seizure, "xtpoisson y trt lbase v4, nolog vce(robust)")
    Vr = Vm @ S.T @ S @ Vm * 59 / 58
    np.testing.assert_allclose(np.sqrt(np.diag(seizure.e.V)), np.sqrt(np.diag(Vr)), rtol=1e-4)
    assert seizure.e.macros["vcetype"] == "Robust" and seizure.e.scalars["N_clust"] == 59
    assert "chi2_c" not in seizure.e.scalars


def test_robust_layout(ohio):
    out = ok(ohio, "xtlogit resp age smoke, nolog vce(robust)")
    assert "Log pseudolikelihood = -797.60238               Prob > chi2       =" in out
    assert "(Std. err. adjusted for 537 clusters in id)" in out
    assert "LR test of rho=0" not in out and "Robust" in out
    ok(ohio, "xtlogit resp age smoke, nolog")
    se_oim = np.sqrt(np.diag(ohio.e.V))
    ok(ohio, "xtlogit resp age smoke, nolog vce(cluster id)")
    se_cl = np.sqrt(np.diag(ohio.e.V))
    assert not np.allclose(se_oim, se_cl) and np.allclose(se_oim, se_cl, rtol=0.2)
    assert run(ohio, "xtlogit resp age smoke, fe vce(robust)")[0] == 198
    assert run(ohio, "xtlogit resp age smoke, vce(cluster age)")[0] == 498


def test_predict_after_re_fe_pa(ohio):
    from scipy.integrate import quad
    from scipy.special import expit
    ok(ohio, "xtlogit resp age smoke, nolog")
    for v in ("pr_re", "xb_re", "mu_pa"):
        ok(ohio, f"capture drop {v}")
    assert "(option xb assumed; linear prediction)" in ok(ohio, "predict double xb_re")
    ok(ohio, "predict double pr_re, pr")
    s = ohio.e.scalars["sigma_u"]
    xb = np.asarray(ohio.data.var("xb_re").values, dtype=float)
    pr = np.asarray(ohio.data.var("pr_re").values, dtype=float)
    for i in (0, 5, 2000):
        ref = quad(lambda u: expit(xb[i] + u) * np.exp(-0.5 * (u / s) ** 2)
                   / (s * math.sqrt(2 * math.pi)), -12 * s, 12 * s, epsabs=1e-13)[0]
        assert pr[i] == pytest.approx(ref, rel=1e-6)
    assert run(ohio, "predict bad_re, reffects")[0] == 198
    ok(ohio, "xtlogit resp age smoke, pa nolog")
    assert "(option mu assumed; predicted mean resp)" in ok(ohio, "predict double mu_pa")
    b = np.ravel(ohio.e.b)
    d = {n: np.asarray(ohio.data.var(n).values, dtype=float) for n in ("age", "smoke", "mu_pa")}
    np.testing.assert_allclose(d["mu_pa"], expit(b[0] * d["age"] + b[1] * d["smoke"] + b[2]),
                               rtol=1e-12)


def test_tau_grid_log(ohio):
    out = ok(ohio, "xtlogit resp age smoke")
    lines = out.splitlines()
    taus = [ln for ln in lines if ln.startswith("tau = ")]
    assert taus[0].startswith("tau =  0.0     log likelihood = ")
    assert float(taus[0].split("=")[-1]) == pytest.approx(REF["pooled_logit_ll"], rel=1e-7)
    lls = [float(t.split("=")[-1]) for t in taus]
    assert all(a < b for a, b in zip(lls[:-2], lls[1:-1])) and lls[-1] < lls[-2]
    i0 = lines.index(taus[-1]) + 2
    assert lines[i0].startswith("Iteration 0:") and float(lines[i0].split("=")[1]) == \
        pytest.approx(max(lls), rel=1e-7)


def test_hausman_fe_re(ohio):
    """hausman fe vs re, first equations matched (re's e(b) has two: resp and /lnsig2u)."""
    ok(ohio, "capture drop agesm")
    ok(ohio, "generate agesm = age*smoke")
    ok(ohio, "xtlogit resp age agesm, fe nolog")
    ok(ohio, "estimates store hfe")
    bf, Vf = np.ravel(ohio.e.b)[:2].copy(), np.asarray(ohio.e.V)[:2, :2].copy()
    ok(ohio, "xtlogit resp age agesm, nolog")
    ok(ohio, "estimates store hre")
    br, Vr = np.ravel(ohio.e.b)[:2], np.asarray(ohio.e.V)[:2, :2]
    out = ok(ohio, "hausman hfe hre, equations(1:1)")
    d = bf - br
    chi2 = d @ np.linalg.solve(Vf - Vr, d)
    assert ohio.r.scalars["chi2"] == pytest.approx(chi2, rel=1e-6)
    assert "obtained from xtlogit" in out


def test_fe_logit_offset_against_clogit(ohio):
    ok(ohio, "capture drop off3")
    ok(ohio, "generate double off3 = age/3")
    out = ok(ohio, "xtlogit resp age, fe offset(off3) nolog")
    ref = REF["xtlogit_fe_offset"]
    assert np.ravel(ohio.e.b)[0] == pytest.approx(ref["coef"], rel=1e-7)
    assert ohio.e.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-9)
    assert ohio.e.scalars["chi2"] == pytest.approx(2 * (ref["ll"] - ref["ll0"]), rel=1e-7)
    assert "        off3 |          1  (offset)" in out


def test_boundary_variance(ohio):
    """With the lagged outcome the panel variance goes to 0: the LR test is 0, p = 1, and the
    ancillary rows carry no standard errors (the information is singular there)."""
    out = ok(ohio, "xtlogit resp L.resp age, nolog")
    assert "LR test of rho=0: chibar2(01) = 0.00" in out and "Prob >= chibar2 = 1.000" in out
    assert ohio.e.scalars["sigma_u"] < 1e-3
    row = [ln for ln in out.splitlines() if ln.startswith("     sigma_u |")][0]
    assert len(row.split()) == 3
    # the fit is then the pooled logit (R's glm on the same sample would agree); check against
    # the comparison model's own log likelihood
    assert ohio.e.scalars["ll"] == pytest.approx(ohio.e.scalars["ll_c"], abs=1e-6)


def test_fe_poisson_robust_against_dummy_sandwich(seizure):
    out = ok(seizure, "xtpoisson y v4, fe nolog vce(robust)")
    se = _fixed(seizure)[1]
    assert se[0] == pytest.approx(REF["xtpoisson_fe"]["se_cluster"], rel=1e-6)
    assert "(Std. err. adjusted for 58 clusters in id)" in out
    assert seizure.e.scalars["N_clust"] == 58


def test_lrmodel(ohio):
    ok(ohio, "xtlogit resp, nolog")
    ll0 = ohio.e.scalars["ll"]
    out = ok(ohio, "xtlogit resp age smoke, nolog lrmodel")
    assert ohio.e.scalars["chi2"] == pytest.approx(2 * (ohio.e.scalars["ll"] - ll0), rel=1e-6)
    assert ohio.e.macros["chi2type"] == "LR" and "LR chi2(2)" in out
    assert run(ohio, "xtlogit resp age, nolog lrmodel vce(robust)")[0] == 198
