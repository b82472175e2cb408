"""[XT] manual lines that the sweep of the manual's examples found rejected or silently wrong,
checked here against independent numpy/scipy computations from the data and e(b), e(V):

- predict after xtlogit/xtprobit/xtpoisson re and fe: pu0, pr, pc1, nu0, iru0, pr0(n),
  pr0(a,b), n (re normal); a statistic the model does not define is r(198), not xb;
- predict after xtnbreg, re: nu0 = exp(xb + offset) s/(r-1); pr0() refused;
- predict rate after xtgee (the mean without the exposure);
- margins after xtlogit (pr integrated over u_i, its AME and delta-method SE), xtpoisson
  (nu0) and xttobit (e(a,b) marginal over u_i);
- `regress, cformat()` and `xtrc, cformat()` on replay; `xtrc, beta` on replay;
- hausman fe re after xtpoisson (the manual's ships example); xtnbreg ..., eform pa.
The ships data are MASS::ships (McCullagh and Nelder), the same data as Stata's ships.dta.
"""
import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit

from tests.session_run import csv_session, ok, run

SHIPS = "tests/data/xt_manual/ships.csv"
COVS = "op_75_79 co_65_69 co_70_74 co_75_79"


def _col(s, name):
    return np.asarray(s.data.var(name).values, dtype=float)


def _b(s):
    return {nm: float(v) for (_, nm), v in zip(s.e.names, np.ravel(s.e.b))}


@pytest.fixture(scope="module")
def binary():
    from hlmshell.interpreter import Interpreter
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    s = Session(out=Capture())
    Interpreter(s)
    for line in ("set obs 600", "set seed 2024", "generate id = ceil(_n/6)",
                 "generate t = _n - 6*(id-1)", "generate u = rnormal(0, 1.2) if t == 1",
                 "bysort id (t): replace u = u[1]", "generate x = rnormal()",
                 "generate w = runiform() < .4",
                 "generate y = runiform() < invlogit(-.3 + .8*x - .5*w + u)", "xtset id t"):
        ok(s, line)
    return s


def _xb(s, names=("x", "w")):
    b = _b(s)
    return sum(b[v] * _col(s, v) for v in names) + b.get("_cons", 0.0)


def _integrated_pr(xb, s_u, F):
    """Pr(y=1) = int F(xb + u) phi(u / s_u) / s_u du by adaptive quadrature, row by row."""
    f = lambda u, e: F(e + u) * stats.norm.pdf(u, scale=s_u)
    return np.array([__import__("scipy.integrate", fromlist=["quad"]).quad(f, -10 * s_u, 10 * s_u,
                     args=(e,), epsabs=1e-12)[0] for e in xb])


def test_xtlogit_re_pu0_pr_and_refusals(binary):
    s = binary
    ok(s, "quietly xtlogit y x w")
    ok(s, "predict p0, pu0")
    ok(s, "predict pm, pr")
    out = ok(s, "predict lin")
    assert "(option xb assumed; linear prediction)" in out
    xb = _xb(s)
    np.testing.assert_allclose(_col(s, "p0"), expit(xb), rtol=1e-6)
    np.testing.assert_allclose(_col(s, "lin"), xb, rtol=1e-6)
    s_u = math.exp(_b(s)["lnsig2u"] / 2)
    rows = np.arange(0, 600, 37)
    np.testing.assert_allclose(_col(s, "pm")[rows], _integrated_pr(xb[rows], s_u, expit), rtol=1e-6)
    assert s.data.var("p0").label == "Pr(y=1 assuming u_i=0)"
    n_before = s.data.nvar if hasattr(s.data, "nvar") else len(s.data.names)
    for line, msg in (("predict bad, nu0", "option nu0 not allowed"),
                      ("predict bad, pc1", "option pc1 not allowed"),
                      ("predict bad, pr0(1)", "option pr0() not allowed"),
                      ("predict bad, pu0 pr", "only one statistic may be specified")):
        rc, o = run(s, line)
        assert rc == 198 and msg in o, (line, o)
        assert "bad" not in s.data
    assert (s.data.nvar if hasattr(s.data, "nvar") else len(s.data.names)) == n_before
    for v in ("p0", "pm", "lin"):
        ok(s, f"drop {v}")


def test_xtprobit_pu0(binary):
    s = binary
    ok(s, "quietly xtprobit y x w")
    ok(s, "predict q, pu0")
    np.testing.assert_allclose(_col(s, "q"), stats.norm.cdf(_xb(s)), rtol=1e-6)
    ok(s, "drop q")


def test_xtlogit_fe_pc1_default_and_pu0(binary):
    s = binary
    ok(s, "quietly xtlogit y x w, fe")
    out = ok(s, "predict pc")
    assert "(option pc1 assumed;" in out
    ok(s, "predict pz, pu0")
    b = _b(s)
    xb = b["x"] * _col(s, "x") + b["w"] * _col(s, "w")
    np.testing.assert_allclose(_col(s, "pz"), expit(xb), rtol=1e-6)
    ids = _col(s, "id")
    e = np.exp(xb)
    share = e / np.array([e[ids == i].sum() for i in ids])
    np.testing.assert_allclose(_col(s, "pc"), share, rtol=1e-6)
    ok(s, "drop pc pz")


def test_margins_after_xtlogit_re(binary):
    """The default margin is Pr(y=1) integrated over u_i, averaged; dydx(x) its average
    derivative; the delta-method SE moves the coefficients and /lnsig2u (numeric Jacobian of an
    independent numpy integral)."""
    s = binary
    ok(s, "quietly xtlogit y x w")
    out = ok(s, "margins")
    assert "Expression: Pr(y=1), predict()" in out
    names = [nm for _, nm in s.e.names]
    theta = np.ravel(s.e.b).astype(float)
    V = np.asarray(s.e.V, dtype=float)
    X = np.column_stack([_col(s, "x"), _col(s, "w"), np.ones(600)])
    t, wts = np.polynomial.hermite_e.hermegauss(80)
    wts = wts / wts.sum()

    def avg_pr(th, dx=0.0):
        s_u = math.exp(th[names.index("lnsig2u")] / 2)
        eta = (X + np.c_[dx * np.ones(600), np.zeros((600, 2))]) @ th[:3]
        return float(np.mean(expit(eta[:, None] + s_u * t[None, :]) @ wts))

    def ame(th):
        h = 1e-5
        return (avg_pr(th, h) - avg_pr(th, -h)) / (2 * h)

    def jac(f):
        g = np.zeros(len(theta))
        for j in range(len(theta)):
            e = np.zeros(len(theta))
            e[j] = 1e-5
            g[j] = (f(theta + e) - f(theta - e)) / 2e-5
        return g

    tab = s.r.matrices["table"].values
    assert tab[0, 0] == pytest.approx(avg_pr(theta), rel=1e-6)
    g = jac(avg_pr)
    assert tab[1, 0] == pytest.approx(math.sqrt(g @ V @ g), rel=1e-4)
    ok(s, "margins, dydx(x)")
    tab = s.r.matrices["table"].values
    assert tab[0, 0] == pytest.approx(ame(theta), rel=1e-5)
    g = jac(ame)
    assert tab[1, 0] == pytest.approx(math.sqrt(g @ V @ g), rel=1e-3)
    ok(s, "margins, predict(pu0)")
    assert s.r.matrices["table"].values[0, 0] == pytest.approx(float(np.mean(expit(X @ theta[:3]))), rel=1e-6)
    for line, msg in (("margins, predict(stdp)", "option stdp not allowed"),
                      ("margins, predict(pc1)", "option pc1 not allowed"),
                      ("margins, predict(nu0)", "option nu0 not allowed")):
        r_before = s.r
        rc, o = run(s, line)
        assert rc == 198 and msg in o, (line, o)
        assert s.r.scalars == r_before.scalars


@pytest.fixture(scope="module")
def ships():
    s = csv_session(SHIPS)
    ok(s, "xtset ship")
    return s


def test_xtpoisson_re_count_statistics(ships):
    s = ships
    ok(s, f"quietly xtpoisson accident {COVS}, exposure(service)")
    for line in ("predict cnt, nu0", "predict ir, iru0", "predict p, pr0(0)", "predict p2, pr0(5,.)",
                 "predict p3, pr0(1,3)", "predict lin, xb"):
        ok(s, line)
    b = _b(s)
    xb = sum(b[v] * _col(s, v) for v in COVS.split()) + b["_cons"]
    mu = np.exp(xb + np.log(_col(s, "service")))
    np.testing.assert_allclose(_col(s, "lin"), np.log(mu), rtol=1e-6)
    np.testing.assert_allclose(_col(s, "cnt"), mu, rtol=1e-6)
    np.testing.assert_allclose(_col(s, "ir"), np.exp(xb), rtol=1e-6)
    np.testing.assert_allclose(_col(s, "p"), stats.poisson.pmf(0, mu), rtol=1e-5)
    np.testing.assert_allclose(_col(s, "p2"), stats.poisson.sf(4, mu), rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(_col(s, "p3"), stats.poisson.cdf(3, mu) - stats.poisson.pmf(0, mu),
                               rtol=1e-5)
    for line, msg in (("predict bad, pr0(.,3)", "invalid syntax"), ("predict bad, n", "option n not allowed"),
                      ("predict bad, pu0", "option pu0 not allowed")):
        rc, o = run(s, line)
        assert rc == 198 and msg in o, (line, o)
    ok(s, "margins, predict(nu0)")
    assert s.r.matrices["table"].values[0, 0] == pytest.approx(float(mu.mean()), rel=1e-6)
    ok(s, "drop cnt ir p p2 p3 lin")


def test_xtpoisson_normal_n(ships):
    s = ships
    ok(s, f"quietly xtpoisson accident {COVS}, exposure(service) normal")
    ok(s, "predict n, n")
    b = _b(s)
    eta = sum(b[v] * _col(s, v) for v in COVS.split()) + b["_cons"] + np.log(_col(s, "service"))
    np.testing.assert_allclose(_col(s, "n"), np.exp(eta + math.exp(b["lnsig2u"]) / 2), rtol=1e-6)
    ok(s, "drop n")


def test_xtgee_rate_ignores_the_exposure(ships):
    s = ships
    ok(s, f"quietly xtgee accident {COVS}, family(poisson) link(log) corr(exchangeable) exposure(service)")
    ok(s, "predict m, mu")
    ok(s, "predict r, rate")
    b = _b(s)
    xb = sum(b[v] * _col(s, v) for v in COVS.split()) + b["_cons"]
    np.testing.assert_allclose(_col(s, "r"), np.exp(xb), rtol=1e-6)
    np.testing.assert_allclose(_col(s, "m"), np.exp(xb) * _col(s, "service"), rtol=1e-6)
    ok(s, "drop m r")


def test_hausman_fe_re_after_xtpoisson(ships):
    s = ships
    ok(s, f"quietly xtpoisson accident {COVS}, exposure(service)")
    ok(s, "estimates store re")
    bre, Vre = np.ravel(s.e.b)[:4].astype(float), np.asarray(s.e.V, float)[:4, :4]
    ok(s, f"quietly xtpoisson accident {COVS}, exposure(service) fe")
    ok(s, "estimates store fe")
    bfe, Vfe = np.ravel(s.e.b)[:4].astype(float), np.asarray(s.e.V, float)[:4, :4]
    ok(s, "hausman fe re")
    d = bfe - bre
    assert s.r.scalars["chi2"] == pytest.approx(float(d @ np.linalg.solve(Vfe - Vre, d)), rel=1e-6)
    assert s.r.scalars["df"] == 4


def test_xtnbreg_re_nu0_scale_eform_pa_and_pr0():
    s = csv_session(SHIPS)
    ok(s, "xtset ship")
    ok(s, "quietly xtnbreg accident op_75_79 co_65_69, exposure(service)")
    ok(s, "predict nu, nu0")
    b = _b(s)
    xb = b["op_75_79"] * _col(s, "op_75_79") + b["co_65_69"] * _col(s, "co_65_69") + b["_cons"]
    r, sc = math.exp(b["ln_r"]), math.exp(b["ln_s"])
    expected = np.exp(xb) * _col(s, "service") * (sc / (r - 1) if r > 1 else math.nan)
    np.testing.assert_allclose(_col(s, "nu"), expected, rtol=1e-6)
    rc, o = run(s, "predict p, pr0(0)")
    assert rc == 198 and "pr0() after xtnbreg is not implemented" in o and "p" not in s.data
    out = ok(s, "xtnbreg accident op_75_79 co_65_69, exposure(service) eform pa")
    assert "IRR" in out and s.e.macros["model"] == "pa"


def test_margins_after_xttobit_e_marginal_over_u():
    from hlmshell.interpreter import Interpreter
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    s = Session(out=Capture())
    Interpreter(s)
    for line in ("set obs 400", "set seed 7", "generate id = ceil(_n/5)", "generate t = _n - 5*(id-1)",
                 "generate u = rnormal(0, .4) if t == 1", "bysort id (t): replace u = u[1]",
                 "generate x = rnormal()", "generate y = min(1 + .5*x + u + rnormal(0, .5), 1.9)",
                 "xtset id t", "quietly xttobit y x, ul(1.9)"):
        ok(s, line)
    ok(s, "margins, predict(e(., 1.9))")
    b = _b(s)
    xb = b["_cons"] + b["x"] * _col(s, "x")
    sd = math.hypot(b["sigma_u"], b["sigma_e"])
    z = (1.9 - xb) / sd
    e_trunc = xb - sd * stats.norm.pdf(z) / stats.norm.cdf(z)
    assert s.r.matrices["table"].values[0, 0] == pytest.approx(float(e_trunc.mean()), rel=1e-6)
    ok(s, "predict em, e(., 1.9)")
    ok(s, "predict e0, e0(., 1.9)")
    np.testing.assert_allclose(_col(s, "em"), e_trunc, rtol=1e-6)
    z0 = (1.9 - xb) / b["sigma_e"]
    np.testing.assert_allclose(_col(s, "e0"), xb - b["sigma_e"] * stats.norm.pdf(z0) / stats.norm.cdf(z0),
                               rtol=1e-6)
    rc, _o = run(s, "margins, predict(e(a, 1.9))")
    assert rc == 198


def test_cformat_on_replay_and_xtrc_betas():
    s = csv_session("tests/data/grunfeld_xt.csv")
    ok(s, "xtset firm year")
    ok(s, "quietly regress inv value")
    out = ok(s, "regress, cformat(%8.4f)")
    assert f"{_b(s)['value']:8.4f}".strip() in out
    ok(s, "quietly xtrc inv value capital")
    assert s.e.matrices["beta_ps"].values.shape[1] == 3        # stored without betas
    out = ok(s, "xtrc, cformat(%8.4f)")
    assert f"{_b(s)['value']:8.4f}".strip() in out
    ok(s, "margins")
    xb = _b(s)["value"] * _col(s, "value") + _b(s)["capital"] * _col(s, "capital") + _b(s)["_cons"]
    assert s.r.matrices["table"].values[0, 0] == pytest.approx(float(xb.mean()), rel=1e-9)
    out = ok(s, "xtrc, beta")
    assert "Group-specific coefficients" in out or "Group 1" in out
    rc, _o = run(s, "xtrc, cformat(%junk)")
    assert rc == 198


def test_iv_block_after_operator_lists():
    """[XT] xtivreg's `xtivreg n l2.n l(0/1).w l(0/2).(k ys) yr1981-yr1984 (l.n = l3.n), fd`:
    the operators' parentheses are not the (endog = inst) block; same fit as with the lags
    generated by hand."""
    from hlmshell.interpreter import Interpreter
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    s = Session(out=Capture())
    Interpreter(s)
    for line in ("set obs 300", "set seed 11", "generate id = ceil(_n/10)", "generate t = _n - 10*(id-1)",
                 "xtset id t", "generate k = rnormal()", "generate w = rnormal()",
                 "generate n = rnormal() + .5*k", "bysort id (t): replace n = .5*n[_n-1] + k + rnormal() if _n > 1",
                 "generate Lw = L.w", "generate L2k = L2.k", "generate Ln = L.n", "generate L2n = L2.n",
                 "generate L3n = L3.n"):
        ok(s, line)
    ok(s, "quietly ivregress 2sls n l(0/1).w l(0/2).k (l.n = l3.n)")
    b1 = np.ravel(s.e.b).copy()
    ok(s, "quietly ivregress 2sls n w Lw k L.k L2k (Ln = L3n)")
    np.testing.assert_allclose(sorted(b1), sorted(np.ravel(s.e.b)), rtol=1e-9)
    ok(s, "quietly xtivreg n l2.n l(0/1).w (l.n = l3.n), fd")
    b2 = np.ravel(s.e.b).copy()
    ok(s, "quietly xtivreg n L2n w Lw (Ln = L3n), fd")
    np.testing.assert_allclose(sorted(b2), sorted(np.ravel(s.e.b)), rtol=1e-9)
    for line in ("ivregress 2sls n l(0/1).w (l.n = l3.n) (k = w)", "ivregress 2sls n l(0/1).w"):
        rc, _o = run(s, line)
        assert rc == 198, line


def test_xtcloglog_re_matches_lme4_and_pa_predict():
    """xtcloglog, re: the random-intercept complementary log-log model of union_like.csv
    against lme4::glmer(nAGQ = 12) (cloglog_ref.R); rho = sigma_u^2 / (sigma_u^2 + pi^2/6);
    pu0 = 1 - exp(-exp(xb)); fe is r(198) as Stata's (no conditional cloglog)."""
    import json
    import os
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "xt_manual")
    with open(os.path.join(here, "cloglog_ref.json")) as f:
        ref = json.load(f)
    s = csv_session("tests/data/xt_manual/union_like.csv")
    ok(s, "xtset idcode year")
    out = ok(s, "xtcloglog union age grade south")
    assert "Random-effects complementary log-log model" in out and "LR test of rho=0" in out
    b = np.ravel(s.e.b)
    order = [3, 0, 1, 2]                    # R: (Intercept) age grade south
    np.testing.assert_allclose(b[order], ref["b"], rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(np.sqrt(np.diag(np.asarray(s.e.V)))[order], ref["se"], rtol=2e-3)
    assert s.e.scalars["ll"] == pytest.approx(ref["ll"], abs=1e-3)
    s2 = math.exp(b[4])
    assert s2 == pytest.approx(ref["sigma2_u"], rel=2e-3)
    assert s.e.scalars["rho"] == pytest.approx(s2 / (s2 + math.pi ** 2 / 6), rel=1e-9)
    ok(s, "predict p0, pu0")
    xb = b[0] * _col(s, "age") + b[1] * _col(s, "grade") + b[2] * _col(s, "south") + b[3]
    np.testing.assert_allclose(_col(s, "p0"), -np.expm1(-np.exp(xb)), rtol=1e-6)
    rc, o = run(s, "xtcloglog union age grade, fe")
    assert rc == 198 and "option fe not allowed" in o
    out = ok(s, "xtcloglog union age grade south, pa")
    assert "Complementary log-log" in out and s.e.macros["model"] == "pa"
    ok(s, "predict m")
    bp = np.ravel(s.e.b)
    xbp = bp[0] * _col(s, "age") + bp[1] * _col(s, "grade") + bp[2] * _col(s, "south") + bp[3]
    np.testing.assert_allclose(_col(s, "m"), -np.expm1(-np.exp(xbp)), rtol=1e-6)


def _xtintreg_session():
    from hlmshell.interpreter import Interpreter
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    s = Session(out=Capture())
    Interpreter(s)
    for line in ("set obs 240", "set seed 99", "generate id = ceil(_n/4)", "generate t = _n - 4*(id-1)",
                 "generate u = rnormal(0, .5) if t == 1", "bysort id (t): replace u = u[1]",
                 "generate x = rnormal()", "generate ys = 1 + .6*x + u + rnormal(0, .7)",
                 "generate lo = floor(ys)", "generate hi = lo + 1",
                 "replace lo = . if ys < 0", "replace hi = . if ys > 2.5",
                 "replace lo = ys if _n <= 20", "replace hi = ys if _n <= 20", "xtset id t"):
        ok(s, line)
    return s


def test_xtintreg_brute_force_likelihood():
    """xtintreg: e(ll) equals the panels' integrals (200-point plain Gauss-Hermite) of the product of the
    rows' interval, censored and point contributions at e(b), and e(b) is that likelihood's
    maximum (central differences of the brute-force ll near zero); the counts by kind."""
    s = _xtintreg_session()
    out = ok(s, "xtintreg lo hi x, nolog")
    assert "Random-effects interval regression" in out and "Interval-cens." in out
    lo, hi, x, ids = _col(s, "lo"), _col(s, "hi"), _col(s, "x"), _col(s, "id")
    assert s.e.scalars["N_unc"] == 20
    assert s.e.scalars["N_lc"] == np.sum(np.isnan(lo))
    assert s.e.scalars["N_rc"] == np.sum(np.isnan(hi))

    z, w = np.polynomial.hermite_e.hermegauss(200)      # dense, non-adaptive: E f(sigma_u Z)
    w = w / w.sum()
    codes = np.unique(ids, return_inverse=True)[1].ravel()

    def ll(theta):
        b1, b0, su, se = theta
        mu = (b0 + b1 * x)[:, None] + su * z[None, :]
        a, c = lo[:, None], hi[:, None]
        with np.errstate(all="ignore"):
            p = np.where(np.isnan(a), stats.norm.cdf((c - mu) / se),
                         np.where(np.isnan(c), stats.norm.sf((a - mu) / se),
                                  np.where(a == c, stats.norm.pdf((a - mu) / se) / se,
                                           stats.norm.cdf((c - mu) / se) - stats.norm.cdf((a - mu) / se))))
            logp = np.zeros((codes.max() + 1, len(z)))
            np.add.at(logp, codes, np.log(p))
        return float(np.sum(np.log(np.exp(logp) @ w)))

    theta = np.ravel(s.e.b).astype(float)
    assert s.e.scalars["ll"] == pytest.approx(ll(theta), rel=1e-7)
    for j in range(4):
        e = np.zeros(4)
        e[j] = 1e-4
        assert abs((ll(theta + e) - ll(theta - e)) / 2e-4) < 2e-3, j
    ok(s, "margins, predict(e(0, 2))")
    ok(s, "predict em, e(0, 2)")
    assert s.r.matrices["table"].values[0, 0] == pytest.approx(float(np.mean(_col(s, "em"))), rel=1e-6)
    for line, rc_ in (("xtintreg lo", 102), ("xtintreg hi lo x", 498), ("xtintreg lo hi x, tobit", 198),
                      ("xtintreg lo hi x, vce(robust)", 198)):
        rc, _o = run(s, line)
        assert rc == rc_, (line, _o)
    assert s.e.cmd == "xtintreg"


def test_margins_model_vce_after_pa_is_conventional(binary):
    """Stata labels the xtgee (and xt*, pa) model VCE `Conventional` in margins' header."""
    ok(binary, "quietly xtlogit y x w, pa")
    out = ok(binary, "margins")
    assert "Model VCE: Conventional" in out
    assert binary.r.matrices["table"].values[0, 0] == pytest.approx(
        float(np.mean(expit(_xb(binary)))), rel=1e-6)
