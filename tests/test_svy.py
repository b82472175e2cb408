"""svy: estimation (linearized) checked against R's survey package (tests/data/svy_reference.json,
made by tests/data/svy_reference.R from hsb with the variables built below), the probit fit
against an independent numpy computation, and the layout, e() and bad input."""
import json
import os

import numpy as np
import pytest
from hsb_fixtures import s  # noqa: F401
from session_run import ok, run

with open(os.path.join(os.path.dirname(__file__), "data", "svy_reference.json")) as _f:
    REF = json.load(_f)
SETUP = ["gen double w = 1 + mod(id,7)/3 + (minority==1)*0.5", "gen hi = mathach > 13",
         "gen double fpcn = cond(sector==1, 150, 200)", "gen st1 = cond(id == 1224, 2, sector)"]
A = "svyset id [pw=w], strata(sector)"
B = "svyset id [pw=w], strata(sector) fpc(fpcn)"
C = "svyset _n [pw=w], strata(sector)"
R_TO_STATA = [1, 2, 0]          # R: (Intercept), ses, minority; Stata: ses, minority, _cons


@pytest.fixture
def sv(s):  # noqa: F811
    for line in SETUP:
        ok(s, line)
    return s


def _check(ses, key, perm=None, rtol=1e-6):
    b, V = np.asarray(ses.e.b, float), np.asarray(ses.e.V, float)
    rb = np.atleast_1d(np.asarray(REF[key]["b"], float))
    rV = np.atleast_2d(np.asarray(REF[key]["V"], float))
    if perm is not None:
        rb, rV = rb[perm], rV[np.ix_(perm, perm)]
    np.testing.assert_allclose(b, rb, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(V, rV, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("design,cmd,key,perm", [
    (A, "svy: mean mathach ses", "mean_A", None),
    (B, "svy: mean mathach ses", "mean_B", None),
    (C, "svy: mean mathach ses", "mean_C", None),
    (A, "svy: mean mathach, over(sector)", "mean_over_A", None),
    (A, "svy: proportion minority", "prop_A", None),
    (A, "svy: total hi", "total_A", None),
    (A, "svy: ratio mathach/size", "ratio_A", None),
    (A, "svy, subpop(female): mean mathach", "mean_sub_A", None),
    (A, "svy: regress mathach ses minority", "reg_A", R_TO_STATA),
    (B, "svy: regress mathach ses minority", "reg_B", R_TO_STATA),
    (A, "svy, subpop(if female == 1): regress mathach ses minority", "reg_sub_A", R_TO_STATA),
    (A, "svy: logit hi ses minority", "logit_A", R_TO_STATA),
    (A, "svy, subpop(female): logit hi ses minority", "logit_sub_A", R_TO_STATA),
    (A, "svy: poisson size ses", "poisson_A", [1, 0]),
    ("svyset id [pw=w], strata(st1) singleunit(certainty)", "svy: mean mathach", "mean_single_certainty", None),
    ("svyset id [pw=w], strata(st1) singleunit(centered)", "svy: mean mathach", "mean_single_centered", None),
])
def test_matches_r_survey(sv, design, cmd, key, perm):
    ok(sv, design)
    ok(sv, cmd)
    _check(sv, key, perm, rtol=1e-5 if "logit" in key or "poisson" in key else 1e-6)
    assert sv.e.macros["prefix"] == "svy" and sv.e.macros["vcetype"] == "Linearized"


def _design_variance(scores, strata, psu):
    """Textbook first-stage linearized variance (with replacement): PSU totals centred within
    their stratum, sum n_h/(n_h - 1) d d'."""
    import pandas as pd
    df = pd.DataFrame(scores)
    df["h"], df["i"] = strata, psu
    tot = df.groupby(["h", "i"]).sum()
    G = np.zeros((scores.shape[1], scores.shape[1]))
    for _, t in tot.groupby(level=0):
        d = t.values - t.values.mean(axis=0)
        G += len(t) / (len(t) - 1) * d.T @ d
    return G


def _probit_scores(y, eta):
    from scipy.special import log_ndtr
    from scipy.stats import norm
    q = 2 * y - 1
    return q * np.exp(norm.logpdf(q * eta) - log_ndtr(q * eta))


def _cloglog_scores(y, eta):
    mu = np.exp(eta)
    p = -np.expm1(-mu)
    return np.where(y == 1, mu * np.exp(-mu) / p, -mu)


@pytest.mark.parametrize("cmd,dlogl", [("probit", _probit_scores), ("cloglog", _cloglog_scores)])
def test_binary_links_against_numpy(sv, cmd, dlogl):
    """Probit and cloglog (non-canonical links, so R's svyglm with its expected information
    is not Stata's): pseudo-ML by Newton with a finite-difference Hessian of the weighted
    log likelihood's gradient, and the sandwich with the design variance of the scores,
    computed here from the data alone."""
    ok(sv, A)
    ok(sv, f"svy: {cmd} hi ses minority")
    d = sv.data
    y = d.var("hi").values.astype(float)
    X = np.column_stack([d.var("ses").values, d.var("minority").values, np.ones(d.n)]).astype(float)
    w = d.var("w").values.astype(float)

    def grad(b):
        return X * (w * dlogl(y, X @ b))[:, None]

    b = np.zeros(3)
    for _ in range(60):
        g = grad(b).sum(axis=0)
        H = np.column_stack([(grad(b + 1e-6 * e).sum(axis=0) - grad(b - 1e-6 * e).sum(axis=0)) / 2e-6
                             for e in np.eye(3)])
        step = np.linalg.solve(H, g)
        b -= step
        if np.max(np.abs(step)) < 1e-12:
            break
    Hinv = np.linalg.inv(H)
    V = Hinv @ _design_variance(grad(b), d.var("sector").values, d.var("id").values) @ Hinv
    np.testing.assert_allclose(sv.e.b, b, rtol=1e-7)
    np.testing.assert_allclose(sv.e.V, V, rtol=1e-5)


def test_design_counts_and_adjusted_wald(sv):
    ok(sv, A)
    out = ok(sv, "svy: regress mathach ses minority")
    e = sv.e
    w = sv.data.var("w").values.astype(float)
    assert e.scalars["N"] == 7185 and e.scalars["N_psu"] == 160 and e.scalars["N_strata"] == 2
    assert e.scalars["df_r"] == REF["df_A"]
    assert e.scalars["N_pop"] == pytest.approx(w.sum(), rel=1e-12)
    assert e.scalars["N_pop"] == pytest.approx(REF["N_pop"], rel=1e-9)
    # adjusted Wald F from R's estimates: (d - k + 1) / (d k) b'V^-1 b on (k, d - k + 1)
    rb = np.asarray(REF["reg_A"]["b"])[R_TO_STATA][:2]
    rV = np.asarray(REF["reg_A"]["V"])[np.ix_(R_TO_STATA, R_TO_STATA)][:2, :2]
    d, k = REF["df_A"], 2
    F = (d - k + 1) / (d * k) * rb @ np.linalg.solve(rV, rb)
    assert e.scalars["F"] == pytest.approx(F, rel=1e-6)
    assert f"F(   2,    {d - 1})" in out
    assert e.macros["cmd"] == "regress" and e.macros["wexp"] == "= w" and e.macros["su1"] == "id"
    rc, out = run(sv, "test ses minority")
    assert rc == 0 and "Adjusted Wald test" in out
    assert sv.r.scalars["F"] == pytest.approx(F, rel=1e-6) and sv.r.scalars["df_r"] == d - 1
    # lincom: t on the design df with the linearized variance
    ok(sv, "lincom ses + minority")
    se = np.sqrt(rV[0, 0] + rV[1, 1] + 2 * rV[0, 1])
    assert sv.r.scalars["se"] == pytest.approx(se, rel=1e-6) and sv.r.scalars["df"] == d


def test_subpop_counts_and_t_intervals(sv):
    ok(sv, A)
    out = ok(sv, "svy, subpop(female): mean mathach")
    e = sv.e
    fem = sv.data.var("female").values == 1
    w = sv.data.var("w").values.astype(float)
    assert e.scalars["N_sub"] == fem.sum() and e.scalars["N_subpop"] == pytest.approx(w[fem].sum())
    assert e.scalars["N"] == 7185                     # the whole sample stays in the design
    from scipy.stats import t
    se = np.sqrt(REF["mean_sub_A"]["V"][0][0])
    lo = REF["mean_sub_A"]["b"] - t.ppf(0.975, REF["df_A"]) * se
    row = next(ln for ln in out.splitlines() if ln.strip().startswith("mathach |"))
    assert float(row.split()[4]) == pytest.approx(lo, abs=5e-6 * abs(lo))
    assert "Subpop. no. obs" in out and "Subpop. size" in out


# the columns of Stata's coefficient-table header (_coef_table_header) for svy results: the
# compact scheme of mean/proportion/ratio/total and the 78-column one of the models
MEAN_LAYOUT = """(running mean on estimation sample)

Survey: Mean estimation

Number of strata =       2        Number of obs   =      7,185
Number of PSUs   =     160        Population size =     15,506
                                  Design df       =        158

--------------------------------------------------------------
             |             Linearized
             |       Mean   std. err.     [95% conf. interval]
-------------+------------------------------------------------"""

REG_LAYOUT = """Survey: Linear regression

Number of strata   =         2                  Number of obs     =      7,185
Number of PSUs     =       160                  Population size   =     15,506
                                                Design df         =        158
                                                F(   2,    157)   =     297.92
                                                Prob > F          =     0.0000
                                                R-squared         =     0.1715

------------------------------------------------------------------------------
             |             Linearized
     mathach | Coefficient  std. err.      t    P>|t|     [95% conf. interval]"""


def test_layout(sv):
    ok(sv, A)
    ok(sv, "replace w = w * 10000")
    out = ok(sv, "svy: mean mathach")          # a population size wider than ten characters
    assert "Number of PSUs   =     160      Population size =  155,060,000" in out
    ok(sv, "replace w = w / 10000")
    out = ok(sv, "svy: mean mathach")
    assert MEAN_LAYOUT in out
    out = ok(sv, "svy linearized: regress mathach ses i.minority")
    assert REG_LAYOUT in out
    assert "  1.minority |" in out
    out = ok(sv, "svy, or: logit hi ses minority")
    assert "Odds ratio" in out and "Note: _cons estimates baseline odds." in out
    assert ok(sv, "svy").count("Survey: Logistic regression") == 1      # replay
    out = ok(sv, "svy: proportion minority")
    assert "Linearized                    Logit" in out


def test_postestimation_keeps_working(sv):
    ok(sv, A)
    ok(sv, "svy: regress mathach ses i.minority")
    b = np.array(sv.e.b)
    ok(sv, "estimates store r1")
    ok(sv, "svy: mean mathach")
    ok(sv, "estimates restore r1")
    assert sv.e.macros["prefix"] == "svy" and np.allclose(sv.e.b, b)
    assert "Survey: Linear regression" in ok(sv, "estimates replay")
    assert "Survey: Linear regression" in ok(sv, "regress")
    ok(sv, "margins minority")
    ok(sv, "predict xbhat")
    ok(sv, "svy: logit hi ses i.minority")
    ok(sv, "margins, dydx(ses)")
    ok(sv, "svy: poisson size ses, irr")
    assert "IRR" in ok(sv, "svy, irr")


def test_singleunit_missing_gives_missing_se(sv):
    ok(sv, "svyset id [pw=w], strata(st1)")
    out = ok(sv, "svy: mean mathach")
    assert np.isnan(sv.e.V[0, 0])
    assert "Missing standard errors because of stratum with single sampling unit" in out
    ok(sv, "svyset id [pw=w], strata(st1) singleunit(scaled)")
    ok(sv, "svy: mean mathach")
    # scaled: the certainty variance times #strata / #strata with several PSUs (3 / 2)
    assert sv.e.V[0, 0] == pytest.approx(REF["mean_single_certainty"]["V"][0][0] * 1.5, rel=1e-6)


def _state(ses):
    e = ses.e
    return (None if e is None else (e.cmd, tuple(np.ravel(e.b)), e.serial), tuple(ses.data.names),
            ses.data.n, dict(ses.data.dta_chars))


def test_bad_input_leaves_session_unchanged(sv):
    import importlib.util
    path = os.path.join(os.path.dirname(__file__), "robustness_cases", "svy_cases.py")
    spec = importlib.util.spec_from_file_location("svy_cases", path)
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    ok(sv, 'generate str8 name = "s" + string(id)')
    ok(sv, "quietly regress mathach ses")
    for line, rc in cases.NO_DESIGN:
        before = _state(sv)
        got, out = run(sv, line)
        assert got == rc, (line, out)
        assert "Traceback" not in out and _state(sv) == before
    ok(sv, A)
    for line, rc in cases.BAD:
        before = _state(sv)
        got, out = run(sv, line)
        assert got == rc, (line, out)
        assert "Traceback" not in out and "unexpected" not in out and _state(sv) == before, line
    ok(sv, "svyset id [pw=w], strata(sector) vce(jackknife)")
    assert run(sv, "svy: mean mathach")[0] == 198


def test_estat_effects(sv):
    """DEFF = V / V_srswor with V_srswor(mean) = sum w (y - ybar)^2 / ((M - 1) m) (no fpc), V
    from R; for a regression the same SRS variance of the scores w x e through X'WX."""
    ok(sv, A)
    ok(sv, "svy: mean mathach")
    ok(sv, "estat effects")
    d = sv.data
    y, w = d.var("mathach").values.astype(float), d.var("w").values.astype(float)
    M, m = w.sum(), len(w)
    ybar = (w * y).sum() / M
    v_srs = (w * (y - ybar) ** 2).sum() / ((M - 1) * m)
    deff = REF["mean_A"]["V"][0][0] / v_srs
    assert sv.r.matrices["deff"][0, 0] == pytest.approx(deff, rel=1e-6)
    assert sv.r.matrices["deft"][0, 0] == pytest.approx(np.sqrt(deff), rel=1e-6)
    ok(sv, "svy: regress mathach ses minority")
    out = ok(sv, "estat effects, deff")
    assert "DEFF" in out and "DEFT" not in out
    X = np.column_stack([d.var("ses").values, d.var("minority").values, np.ones(m)]).astype(float)
    bread = np.linalg.inv(X.T @ (w[:, None] * X))
    e = y - X @ (bread @ (X.T @ (w * y)))
    u = X * e[:, None]
    dev = u - (w[:, None] * u).sum(axis=0) / M
    Vs = bread @ ((M * M / m) / (M - 1) * (w[:, None] * dev).T @ dev) @ bread
    rV = np.asarray(REF["reg_A"]["V"])[np.ix_(R_TO_STATA, R_TO_STATA)]
    np.testing.assert_allclose(sv.r.matrices["deff"][0], np.diag(rV) / np.diag(Vs), rtol=1e-6)
    ok(sv, "regress mathach ses")
    assert run(sv, "estat effects")[0] == 321


def test_margins_average_with_the_survey_weights(sv):
    """margins after svy: the predictions averaged with the pweights (as Stata's margins
    does after weighted fits), the delta method on the linearized e(V)."""
    ok(sv, A)
    ok(sv, "svy: regress mathach ses i.minority")
    b, V = np.asarray(sv.e.b, float), np.asarray(sv.e.V, float)     # ses, 0b.minority, 1.minority, _cons
    ok(sv, "margins minority")
    w = sv.data.var("w").values.astype(float)
    ses = sv.data.var("ses").values.astype(float)
    J = np.array([[np.average(ses, weights=w), 0, 0, 1], [np.average(ses, weights=w), 0, 1, 1]])
    tab = np.asarray(sv.r.matrices["table"].values, float)
    np.testing.assert_allclose(tab[0], J @ b, rtol=1e-10)
    np.testing.assert_allclose(tab[1], np.sqrt(np.diag(J @ V @ J.T)), rtol=1e-8)
    ok(sv, "regress mathach ses i.minority [pw=w]")                 # any weighted fit alike
    ok(sv, "margins minority")
    b = np.asarray(sv.e.b, float)
    np.testing.assert_allclose(np.asarray(sv.r.matrices["table"].values, float)[0], J @ b, rtol=1e-10)


def test_subpop_missing_values_leave_the_sample(sv):
    """A missing subpop() variable (or condition) takes the observation out of the estimation
    sample, as Stata's svy does; a subpopulation equal to the sample gets Stata's note."""
    ok(sv, A)
    ok(sv, "gen double fem = female")
    ok(sv, "replace fem = . in 1/10")
    ok(sv, "svy, subpop(fem): mean mathach")
    assert sv.e.scalars["N"] == 7175 and sv.e.scalars["N_sub"] == sv.data.var("female").values[10:].sum()
    out = ok(sv, "svy, subpop(if ses < .): mean mathach")
    assert "Note: subpop() subpopulation is same as full population" in out
    assert sv.e.scalars["N_sub"] == 7185
    rc, out = run(sv, "svy, subpop(nosuch): mean mathach")
    assert rc == 111 and "invalid subpop() option" in out


def test_noadjust_and_dof(sv):
    """noadjust: the unadjusted Wald F = W / k on (k, d); dof(#): the design df used for the
    test and the t statistics."""
    ok(sv, A)
    ok(sv, "svy, noadjust: regress mathach ses minority")
    rb = np.asarray(REF["reg_A"]["b"])[R_TO_STATA][:2]
    rV = np.asarray(REF["reg_A"]["V"])[np.ix_(R_TO_STATA, R_TO_STATA)][:2, :2]
    W = rb @ np.linalg.solve(rV, rb)
    assert sv.e.scalars["F"] == pytest.approx(W / 2, rel=1e-6)
    ok(sv, "svy, dof(40): regress mathach ses minority")
    assert sv.e.scalars["df_r"] == 40
    assert sv.e.scalars["F"] == pytest.approx((40 - 2 + 1) / (40 * 2) * W, rel=1e-6)
