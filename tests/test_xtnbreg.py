"""xtnbreg (re, fe, pa) and xtpqml against independent computations on the epilepsy
seizure counts (tests/data/gee/seizure.csv: 59 patients, 4 visits).

re and fe: the Hausman-Hall-Griliches log likelihoods written out here over the (patient,
visit) grid and maximized by scipy's BFGS and Nelder-Mead on numerical derivatives (no
analytic gradient, no code shared with hlmshell); the standard errors from central differences of that brute-force likelihood. The
LR test's pooled model, the constant-dispersion negative binomial, likewise with
scipy.stats.nbinom. pa is xtgee's family(nbinomial) fit. xtpqml: the conditional Poisson
scores and the clustered sandwich computed here with numpy.
"""
import math

import numpy as np
import pytest
from session_run import csv_session, ok, run


@pytest.fixture(scope="module")
def seizure():
    s = csv_session("tests/data/gee/seizure.csv")
    ok(s, "xtset id t")
    ok(s, "generate v4 = t == 4")
    ok(s, "generate ex = 1 + (t == 4)")
    return s


def _data(s, covs):
    d = s.data
    y = d.values("y")
    X = np.column_stack([d.values(v) for v in covs] + [np.ones(d.n)])
    g = d.values("id").astype(int)
    return y, X, g


def _panels(v, g):
    """(G, T) layout of a balanced panel's values (every patient has 4 visits, in order)."""
    order = np.argsort(g, kind="stable")
    return v[order].reshape(len(np.unique(g)), -1)


def _re_ll(theta, y, X, g, off=0.0):
    from scipy.special import gammaln
    p = X.shape[1]
    b, r, s_ = theta[:p], math.exp(theta[p]), math.exp(theta[p + 1])
    lam = _panels(np.exp(X @ b + off), g)
    yy = _panels(y, g)
    L, Y = lam.sum(axis=1), yy.sum(axis=1)
    return float(np.sum(gammaln(r + s_) + gammaln(r + L) + gammaln(s_ + Y) - gammaln(r)
                        - gammaln(s_) - gammaln(r + s_ + L + Y))
                 + np.sum(gammaln(lam + yy) - gammaln(lam) - gammaln(yy + 1)))


def _fe_ll(b, y, X, g):
    from scipy.special import gammaln
    lam, yy = _panels(np.exp(X @ b), g), _panels(y, g)
    L, Y = lam.sum(axis=1), yy.sum(axis=1)
    return float(np.sum(gammaln(L) + gammaln(Y + 1) - gammaln(L + Y))
                 + np.sum(gammaln(lam + yy) - gammaln(lam) - gammaln(yy + 1)))


def _maximize(f, x0):
    """BFGS on numerical gradients, then Nelder-Mead from there (no analytic derivatives)."""
    from scipy import optimize
    r = optimize.minimize(lambda t: -f(t), x0, method="BFGS", options={"gtol": 1e-8})
    r = optimize.minimize(lambda t: -f(t), r.x, method="Nelder-Mead",
                          options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000,
                                   "maxfev": 20000, "adaptive": True})
    return r.x, -r.fun


def _hessian_se(f, x, h=1e-4):
    k = len(x)
    H = np.zeros((k, k))
    f0 = f(x)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                 + f(x - ei - ej)) / (4 * h * h)
    return np.sqrt(np.diag(np.linalg.inv(-H)))


def test_re_against_brute_force(seizure):
    ok(seizure, "xtnbreg y trt lbase v4, nolog")
    e = seizure.e
    y, X, g = _data(seizure, ["trt", "lbase", "v4"])
    b = np.ravel(e.b)
    x, ll = _maximize(lambda t: _re_ll(t, y, X, g), np.r_[np.zeros(4), 1.0, 1.0])
    assert e.scalars["ll"] == pytest.approx(ll, rel=1e-9)
    np.testing.assert_allclose(b, x, rtol=2e-4, atol=2e-5)
    se = _hessian_se(lambda t: _re_ll(t, y, X, g), b)
    np.testing.assert_allclose(np.sqrt(np.diag(e.V)), se, rtol=2e-3)
    assert [nm for _, nm in e.names[-2:]] == ["ln_r", "ln_s"]
    assert e.scalars["r"] == pytest.approx(math.exp(b[-2]), rel=1e-12)
    assert e.scalars["s"] == pytest.approx(math.exp(b[-1]), rel=1e-12)
    assert e.macros["distrib"] == "Beta" and e.macros["model"] == "re"


def test_re_lr_test_against_pooled_nb1(seizure):
    """The comparison: nbreg, dispersion(constant) (variance mu (1 + delta))."""
    from scipy import stats
    ok(seizure, "xtnbreg y trt lbase v4, nolog")
    y, X, _ = _data(seizure, ["trt", "lbase", "v4"])

    def nb1(t):
        mu, d = np.exp(X @ t[:4]), math.exp(t[4])
        return float(np.sum(stats.nbinom.logpmf(y, mu / d, 1 / (1 + d))))
    _, ll_c = _maximize(nb1, np.r_[np.zeros(4), 0.0])
    sc = seizure.e.scalars
    assert sc["ll_c"] == pytest.approx(ll_c, rel=1e-9)
    assert sc["chi2_c"] == pytest.approx(2 * (sc["ll"] - ll_c), rel=1e-6)
    assert sc["p_c"] == pytest.approx(0.5 * stats.chi2.sf(sc["chi2_c"], 1), rel=1e-6)


def test_fe_against_brute_force(seizure):
    """lbase and trt are constant within patients and stay in: HHG's fe identifies them."""
    ok(seizure, "xtnbreg y trt lbase v4, fe nolog")
    e = seizure.e
    y, X, g = _data(seizure, ["trt", "lbase", "v4"])
    keep = np.isin(g, [i for i in np.unique(g) if y[g == i].sum() > 0])
    y, X, g = y[keep], X[keep], g[keep]
    b = np.ravel(e.b)
    x, ll = _maximize(lambda t: _fe_ll(t, y, X, g), np.r_[np.zeros(3), 1.0])
    assert e.scalars["ll"] == pytest.approx(ll, rel=1e-9)
    np.testing.assert_allclose(b, x, rtol=2e-4, atol=2e-5)
    se = _hessian_se(lambda t: _fe_ll(t, y, X, g), b)
    np.testing.assert_allclose(np.sqrt(np.diag(e.V)), se, rtol=2e-3)
    assert e.scalars["N"] == keep.sum() and e.scalars["N_g"] == len(np.unique(g))


def test_fe_drops_all_zero_panels_with_note(seizure):
    out = ok(seizure, "xtnbreg y trt lbase, fe nolog")
    y, _, g = _data(seizure, [])
    zero = sum(1 for i in np.unique(g) if y[g == i].sum() == 0)
    assert zero >= 1
    n = 4 * zero
    assert f"note: {zero} group{'s' if zero > 1 else ''} ({n} obs) dropped because of all zero outcomes" in out
    assert "Conditional FE negative binomial regression" in out


def test_exposure_and_predictions(seizure):
    ok(seizure, "xtnbreg y trt lbase, exposure(ex) nolog")
    e = seizure.e
    y, X, g = _data(seizure, ["trt", "lbase"])
    off = np.log(seizure.data.values("ex"))
    b = np.ravel(e.b)
    assert e.scalars["ll"] == pytest.approx(_re_ll(b, y, X, g, off), rel=1e-12)
    assert e.macros["offset"] == "ln(ex)"
    for line in ("predict xb1", "predict nu, nu0", "predict ir, iru0", "predict sp, stdp"):
        ok(seizure, line)
    d = seizure.data
    xb = X @ b[:3]
    np.testing.assert_allclose(d.values("xb1"), xb + off, rtol=1e-6)
    # after re, Stata's nu0 and iru0 are the means over the beta-distributed dispersion:
    # exp(xb) times s/(r-1) (r = exp(/ln_r), s = exp(/ln_s); [XT] xtnbreg postestimation)
    r, s_ = np.exp(b[3]), np.exp(b[4])
    assert [nm for _, nm in e.names][3:5] == ["ln_r", "ln_s"] and r > 1
    np.testing.assert_allclose(d.values("nu"), np.exp(xb + off) * s_ / (r - 1), rtol=1e-6)
    np.testing.assert_allclose(d.values("ir"), np.exp(xb) * s_ / (r - 1), rtol=1e-6)
    V = np.asarray(e.V)[:3, :3]
    np.testing.assert_allclose(d.values("sp"), np.sqrt(np.einsum("ij,jk,ik->i", X, V, X)),
                               rtol=1e-6)
    assert run(seizure, "predict zz, pr")[0] == 198


def test_layout_and_irr(seizure):
    out = ok(seizure, "xtnbreg y trt lbase v4")
    assert "Fitting negative binomial (constant dispersion) model:" in out
    assert "Fitting full model:" in out
    assert "Random-effects negative binomial regression     Number of obs     =        236" in out
    assert "Random effects u_i ~ Beta" in out
    for row in ("       /ln_r |", "       /ln_s |", "           r |", "           s |"):
        assert row in out
    assert "LR test vs. pooled: chibar2(01) =" in out
    b = np.ravel(seizure.e.b)
    out = ok(seizure, "xtnbreg, irr")
    assert "         IRR" in out
    trt = next(ln for ln in out.splitlines() if ln.strip().startswith("trt |"))
    assert float(trt.split("|")[1].split()[0]) == pytest.approx(math.exp(b[0]), rel=1e-6)


def test_pa_is_xtgee_nbinomial(seizure):
    ok(seizure, "xtgee y trt lbase v4, family(nbinomial) link(log) corr(exchangeable)")
    b_gee = np.ravel(seizure.e.b).copy()
    ok(seizure, "xtnbreg y trt lbase v4, pa")
    np.testing.assert_allclose(np.ravel(seizure.e.b), b_gee, rtol=1e-10)
    assert seizure.e.cmd == "xtnbreg" and seizure.e.macros["model"] == "pa"


def test_errors_leave_session(seizure):
    ok(seizure, "xtnbreg y trt lbase, nolog")
    before = np.ravel(seizure.e.b).copy()
    ok(seizure, "generate neg = y - 3")
    cases = {"xtnbreg neg trt": 459, "xtnbreg y trt, fe noconstant": 198,
             "xtnbreg y trt, vce(robust)": 198, "xtnbreg y trt, re fe": 198,
             "xtnbreg y nosuch": 111, "xtnbreg y trt, corr(ar 1)": 198,
             "xtnbreg y trt if trt > 5": 2000}
    for line, rc in cases.items():
        got, out = run(seizure, line)
        assert got == rc, (line, out)
        assert "Traceback" not in out
    np.testing.assert_array_equal(np.ravel(seizure.e.b), before)
    ok(seizure, "drop neg")
    s = csv_session("tests/data/gee/seizure.csv")
    assert run(s, "xtnbreg")[0] == 301


# --------------------------------------------------------------------------- xtpqml
def test_xtpqml_robust_se_against_numpy_sandwich(seizure):
    out = ok(seizure, "xtpqml y v4 t, fe i(id)")
    assert "Calculating Robust Standard Errors..." in out
    assert "Conditional fixed-effects Poisson regression" in out
    e = seizure.e
    d = seizure.data
    y = d.values("y")
    g = d.values("id").astype(int)
    keep = np.isin(g, [i for i in np.unique(g) if y[g == i].sum() > 0])
    X = np.column_stack([d.values("v4"), d.values("t")])[keep]
    y, g = y[keep], g[keep]
    b = np.ravel(e.b)
    # the multinomial (conditional Poisson) scores and information, panel by panel
    S, H = [], np.zeros((2, 2))
    for i in np.unique(g):
        Xi, yi = X[g == i], y[g == i]
        w = np.exp(Xi @ b)
        p = w / w.sum()
        xbar = p @ Xi
        S.append((yi - yi.sum() * p) @ Xi)
        Xc = Xi - xbar
        H += yi.sum() * (Xc.T * p) @ Xc
    S = np.array(S)
    G = len(S)
    Vi = np.linalg.inv(H)
    V = G / (G - 1) * Vi @ (S.T @ S) @ Vi
    np.testing.assert_allclose(np.asarray(e.V), V, rtol=1e-5)
    assert np.abs(S.sum(axis=0)).max() < 1e-6
    assert e.cmd == "xtpqml" and e.macros["vcetype"] == "Robust"
    assert e.scalars["N_clust"] == G


def test_xtpqml_is_a_builtin_package():
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    s = Session(out=Capture())
    rc, out = run(s, "ssc install xtpqml")
    assert rc == 0 and "built into hlmshell" in out


@pytest.mark.parametrize("model", ["re", "fe"])
def test_lrmodel_against_constant_only_brute_force(seizure, model):
    ok(seizure, f"xtnbreg y trt lbase, {model} lrmodel nolog")
    sc = seizure.e.scalars
    y, X, g = _data(seizure, [])
    if model == "re":
        _, ll0 = _maximize(lambda t: _re_ll(t, y, X, g), np.array([0.0, 1.0, 1.0]))
    else:
        keep = np.isin(g, [i for i in np.unique(g) if y[g == i].sum() > 0])
        _, ll0 = _maximize(lambda t: _fe_ll(t, y[keep], X[keep], g[keep]), np.array([1.0]))
    assert sc["ll_0"] == pytest.approx(ll0, rel=1e-9)
    assert sc["chi2"] == pytest.approx(2 * (sc["ll"] - ll0), rel=1e-5, abs=1e-6)
    assert seizure.e.macros["chi2type"] == "LR"
