"""xtologit and xtoprobit against R's ordinal::clmm on the wine data (tests/data/xt_ordinal/:
make_reference.R, run once, numbers in xt_ordinal_reference.json), the non-adaptive rule and
the marginal probabilities against a Gauss-Hermite sum written out here, then Stata 17's layout,
e(), predict and refusals.

clmm's nAGQ > 1 is mode-curvature adaptive, Stata's default mean-variance adaptive; on wine
(8 ratings a judge) both rules give the integral at 12 points to ~1e-9, so the references at
12 and 25 points agree and the comparison is tight.
"""
import json
import math
import os

import numpy as np
import pytest

from session_run import csv_session, ok, run

HERE = os.path.dirname(__file__)
REF = json.load(open(os.path.join(HERE, "data", "xt_ordinal", "xt_ordinal_reference.json")))


@pytest.fixture(scope="module")
def wine():
    s = csv_session("tests/data/xt_ordinal/wine.csv")
    ok(s, "xtset judge bottle")
    return s


def _b(s):
    return {f"{eq}:{nm}": float(v) for (eq, nm), v in zip(s.e.names, np.ravel(s.e.b))}


def _se(s):
    return np.sqrt(np.diag(np.asarray(s.e.V)))


def _check(s, ref, rel=1e-5):
    b = _b(s)
    dep = s.e.depvar
    assert s.e.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-8)
    assert [b[f"{dep}:warm"], b[f"{dep}:contact"]] == pytest.approx(ref["beta"], rel=rel, abs=2e-5)
    assert [b[f"/:cut{j}"] for j in range(1, 5)] == pytest.approx(ref["cuts"], rel=rel, abs=2e-5)
    assert b["/:sigma2_u"] == pytest.approx(ref["sigma2_u"], rel=1e-4)
    se = _se(s)
    # clmm's vcov: cutpoints first, then the slopes
    assert list(se[:2]) == pytest.approx(ref["se"][4:6], rel=1e-3)
    assert list(se[2:6]) == pytest.approx(ref["se"][:4], rel=1e-3)


def test_xtologit_matches_clmm(wine):
    out = ok(wine, "xtologit rating warm contact")
    _check(wine, REF["logit12"])
    _check(wine, REF["logit25"])
    assert wine.e.scalars["ll_c"] == pytest.approx(REF["clm_logit_ll"], rel=1e-8)
    for text in ("Fitting comparison model:", "Refining starting values:",
                 "Random-effects ordered logistic regression      Number of obs     =         72",
                 "Group variable: judge", "Random effects u_i ~ Gaussian",
                 "Integration method: mvaghermite                 Integration pts.  =         12",
                 "Wald chi2(2)      =", "       /cut1 |", "   /sigma2_u |",
                 "LR test vs. ologit model: chibar2(01) ="):
        assert text in out, text
    e = wine.e
    assert e.cmd == "xtologit" and e.macros["ivar"] == "judge"
    assert e.scalars["k_cat"] == 5 and e.scalars["N_g"] == 9 and e.scalars["n_quad"] == 12
    chibar = 2 * (REF["logit12"]["ll"] - REF["clm_logit_ll"])
    assert e.scalars["chi2_c"] == pytest.approx(chibar, rel=1e-6)
    assert [nm for _, nm in e.names] == ["warm", "contact", "cut1", "cut2", "cut3", "cut4",
                                         "sigma2_u"]
    assert list(np.ravel(e.matrices["cat"])) == [1, 2, 3, 4, 5]


def test_sigma2_interval_is_on_the_log_scale(wine):
    out = ok(wine, "xtologit rating warm contact, nolog")
    b, se = float(np.ravel(wine.e.b)[-1]), float(_se(wine)[-1])
    lo = b * math.exp(-1.959963984540054 * se / b)
    row = next(ln for ln in out.splitlines() if "/sigma2_u" in ln)
    assert float(row.split()[-2]) == pytest.approx(lo, rel=1e-6)


def test_xtoprobit_matches_clmm(wine):
    out = ok(wine, "xtoprobit rating warm contact, nolog")
    _check(wine, REF["probit12"])
    _check(wine, REF["probit25"])
    assert wine.e.scalars["ll_c"] == pytest.approx(REF["clm_probit_ll"], rel=1e-8)
    assert "Random-effects ordered probit regression" in out
    assert "LR test vs. oprobit model" in out


def test_lead_of_the_outcome_and_odds_ratios(wine):
    """xtologit F1.y x, or (a public do-file's tables): the lead within judge, by bottle."""
    out = ok(wine, "xtologit F1.rating warm contact, or nolog")
    _check(wine, REF["lead_logit25"])
    assert wine.e.scalars["N"] == 63 and "Odds ratio" in out and "F.rating |" in out
    row = next(ln for ln in out.splitlines() if ln.strip().startswith("warm |"))
    assert float(row.split()[2]) == pytest.approx(math.exp(REF["lead_logit25"]["beta"][0]),
                                                  rel=1e-5)


def _gh_loglik(s, b, cuts, s2, q):
    """The ordered-logit panel likelihood by plain Gauss-Hermite over u ~ N(0, s2)."""
    from numpy.polynomial.hermite_e import hermegauss
    from scipy.special import expit
    t, w = hermegauss(q)
    w = w / w.sum()
    y = np.asarray(s.data.values("rating"), int) - 1
    xb = b[0] * np.asarray(s.data.values("warm")) + b[1] * np.asarray(s.data.values("contact"))
    g = np.asarray(s.data.values("judge"))
    e = np.r_[-np.inf, cuts, np.inf]
    u = math.sqrt(s2) * t
    total = 0.0
    for j in np.unique(g):
        m = g == j
        p = expit(e[y[m] + 1][:, None] - xb[m][:, None] - u) - expit(e[y[m]][:, None] - xb[m][:, None] - u)
        total += math.log(np.prod(p, axis=0) @ w)
    return total


def test_ghermite_maximises_the_plain_rule(wine):
    ok(wine, "xtologit rating warm contact, intmethod(ghermite) nolog")
    b = np.ravel(wine.e.b)
    assert wine.e.macros["intmethod"] == "ghermite"
    assert wine.e.scalars["ll"] == pytest.approx(_gh_loglik(wine, b[:2], b[2:6], b[6], 12),
                                                 abs=1e-7)
    ref = REF["logit12"]
    assert wine.e.scalars["ll"] > _gh_loglik(wine, ref["beta"], ref["cuts"], ref["sigma2_u"], 12)


def test_predict_probabilities(wine):
    from numpy.polynomial.hermite_e import hermegauss
    from scipy.special import expit
    ok(wine, "xtologit rating warm contact, nolog")
    for v in ("pm1", "pm2", "pm3", "pm4", "pm5", "q1", "q2", "q3", "q4", "q5", "xbv", "p3", "z3"):
        if v in wine.data:
            ok(wine, f"drop {v}")
    out = ok(wine, "predict pm*")
    ok(wine, "predict q*, pu0")
    ok(wine, "predict xbv, xb")
    ok(wine, "predict p3, outcome(3)")
    ok(wine, "predict z3, pu0 outcome(#3)")
    assert "option pr assumed" not in out
    b = np.ravel(wine.e.b)
    xb = b[0] * np.asarray(wine.data.values("warm")) + b[1] * np.asarray(wine.data.values("contact"))
    assert np.allclose(wine.data.values("xbv"), xb, rtol=1e-6)
    e = np.r_[-np.inf, b[2:6], np.inf]
    t, w = hermegauss(60)
    w = w / w.sum()
    u = math.sqrt(b[6]) * t
    pm = np.column_stack([wine.data.values(f"pm{k}") for k in range(1, 6)])
    q = np.column_stack([wine.data.values(f"q{k}") for k in range(1, 6)])
    for k in range(5):
        marg = (expit(e[k + 1] - xb[:, None] - u) - expit(e[k] - xb[:, None] - u)) @ w
        assert np.allclose(pm[:, k], marg, atol=1e-6)
        assert np.allclose(q[:, k], expit(e[k + 1] - xb) - expit(e[k] - xb), atol=1e-6)
    assert np.allclose(pm.sum(axis=1), 1, atol=1e-6)
    assert np.allclose(wine.data.values("p3"), pm[:, 2], atol=1e-7)
    assert np.allclose(wine.data.values("z3"), q[:, 2], atol=1e-7)
    assert run(wine, "predict zz, outcome(9)")[0] == 198
    assert run(wine, "predict zz, reffects")[0] == 198
    assert run(wine, "predict zz, xb outcome(2)")[0] == 198


def test_robust_and_replay(wine):
    out = ok(wine, "xtologit rating warm contact, vce(robust) nolog")
    assert "(Std. err. adjusted for 9 clusters in judge)" in out
    assert "Log pseudolikelihood" in out and "LR test" not in out
    assert wine.e.macros["vcetype"] == "Robust" and wine.e.scalars["N_clust"] == 9
    assert _b(wine)["rating:warm"] == pytest.approx(REF["logit12"]["beta"][0], rel=1e-5)
    out = ok(wine, "xtologit, or")
    assert "Odds ratio" in out and "Robust" in out


@pytest.mark.parametrize("line,rc", [
    ("xtologit rating warm, intmethod(aghermite)", 198),
    ("xtoprobit rating warm, or", 198),
    ("xtologit rating warm || judge:", 198),
    ("xtologit rating warm, intpoints(0)", 198),
    ("xtologit rating nosuch", 111),
    ("xtologit rating warm [pw=warm]", 101),
    ("xtologit rating warm, vce(cluster bottle)", 498),
    ("xtologit rating warm if rating == 3", 2000),
    ("xtologit rating warm, vce(bootstrap)", 198),
])
def test_refusals_leave_the_results(wine, line, rc):
    ok(wine, "xtologit rating warm contact, nolog")
    before = np.ravel(wine.e.b).copy()
    got, out = run(wine, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert np.array_equal(np.ravel(wine.e.b), before)


def test_panel_variable_required():
    s = csv_session("tests/data/xt_ordinal/wine.csv")
    rc, out = run(s, "xtologit rating warm contact")
    assert rc == 459 and "must specify panelvar" in out
    ok(s, "xtologit rating warm contact, i(judge) nolog")
    assert s.e.scalars["ll"] == pytest.approx(REF["logit12"]["ll"], rel=1e-8)
    assert run(s, "xtoprobit")[0] == 301


def test_two_categories_are_the_random_effects_logit():
    """With a binary outcome xtologit is xtlogit's model: -cut1 is the constant and sigma2_u
    sigma_u^2; checked against lme4's glmer at 25 points on ohio
    (tests/data/panel/xt_glmm_reference.json)."""
    ref = json.load(open(os.path.join(HERE, "data", "panel", "xt_glmm_reference.json")))["xtlogit_re25"]
    s = csv_session("tests/data/gee/ohio.csv")
    ok(s, "xtset id t")
    ok(s, "xtologit resp age smoke, intpoints(25) nolog")
    b = _b(s)
    # the two adaptive rules differ by ~1e-3 in ll at 25 points here (sigma_u ~ 2.2, four
    # observations a panel), the tolerances of tests/test_xt_glmm.py
    assert s.e.scalars["ll"] == pytest.approx(ref["ll"], rel=2e-6)
    assert [-b["/:cut1"], b["resp:age"], b["resp:smoke"]] == pytest.approx(ref["coef"], rel=1e-4)
    assert b["/:sigma2_u"] == pytest.approx(ref["sigma_u"] ** 2, rel=2e-3)


def test_factor_variables_get_base_levels(wine):
    """i.warm##i.contact: base levels as ologit has them (the cutpoints replace the constant,
    no level is taken for collinear with it); clmm's warm * contact."""
    out = ok(wine, "xtologit rating i.warm##i.contact, nolog")
    ref = REF["interaction12"]
    b = _b(wine)
    assert "omitted" not in out and "1.warm |" in out
    assert wine.e.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-8)
    assert [b["rating:1.warm"], b["rating:1.contact"], b["rating:1.warm#1.contact"]] == \
        pytest.approx(ref["beta"], rel=1e-4, abs=2e-5)
    assert [b[f"/:cut{j}"] for j in range(1, 5)] == pytest.approx(ref["cuts"], rel=1e-4, abs=2e-5)


def test_level_is_checked(wine):
    ok(wine, "xtologit rating warm contact, nolog")
    before = wine.e
    rc, out = run(wine, "xtologit rating warm, level(200)")
    assert rc == 198 and "level() must be between 10 and 99.99 inclusive" in out
    assert wine.e is before
    out = ok(wine, "xtologit, level(90)")
    assert "[90% conf. interval]" in out


def test_robust_se_is_the_judges_sandwich(wine):
    """vce(robust): the sandwich recomputed here from the ordered-logit panel likelihood
    (60-point Gauss-Hermite, which is the integral here): the bread the inverse Hessian by
    central differences, the meat the judges' score outer products, times G/(G-1)."""
    from numpy.polynomial.hermite_e import hermegauss
    from scipy.special import expit
    ok(wine, "xtologit rating warm contact, vce(robust) nolog")
    theta = np.ravel(wine.e.b).copy()
    se_ours = _se(wine)
    t, w = hermegauss(60)
    w = w / w.sum()
    y = np.asarray(wine.data.values("rating"), int) - 1
    X = np.column_stack([wine.data.values("warm"), wine.data.values("contact")])
    g = np.asarray(wine.data.values("judge"))
    judges = np.unique(g)

    def group_ll(th):
        b, cuts, s2 = th[:2], th[2:6], th[6]
        e = np.r_[-np.inf, cuts, np.inf]
        xb = X @ b
        u = math.sqrt(s2) * t
        out = []
        for j in judges:
            m = g == j
            p = expit(e[y[m] + 1][:, None] - xb[m][:, None] - u) - expit(e[y[m]][:, None] - xb[m][:, None] - u)
            out.append(math.log(np.prod(p, axis=0) @ w))
        return np.array(out)

    k, h = len(theta), 1e-4
    S = np.zeros((len(judges), k))
    H = np.zeros((k, k))
    for i in range(k):
        ei = np.eye(k)[i] * h
        S[:, i] = (group_ll(theta + ei) - group_ll(theta - ei)) / (2 * h)
        for j in range(k):
            ej = np.eye(k)[j] * h
            H[i, j] = (group_ll(theta + ei + ej).sum() - group_ll(theta + ei - ej).sum()
                       - group_ll(theta - ei + ej).sum() + group_ll(theta - ei - ej).sum()) / (4 * h * h)
    Hinv = np.linalg.inv(-H)
    G = len(judges)
    V = Hinv @ (S.T @ S) @ Hinv * G / (G - 1)
    np.testing.assert_allclose(se_ours, np.sqrt(np.diag(V)), rtol=2e-3)
