"""tobit and xttobit: numbers against independent computations.

tobit: AER's tobit (survival::survreg) on AER's Affairs data, run once by
tests/data/censored/make_tobit_reference.R (tobit_reference.json), with sandwich's robust
VCE; predict's pr/e/ystar against the normal formulas written out here with scipy.stats.
xttobit: the random-intercept likelihood integrated panel by panel with a dense Gauss-Legendre
rule (no Hermite rule, no adaptation: nothing shared with hlmshell) on a simulated censored panel: hlmshell's maximum is the
brute-force maximum (same ll, zero brute-force gradient) and its SEs the brute-force
information's. Then the layout, e() and errors.
"""
import json
import math
import os

import numpy as np
import pytest
from session_run import csv_session, ok, run

HERE = os.path.dirname(__file__)
REF = json.load(open(os.path.join(HERE, "data", "censored", "tobit_reference.json")))
COVS = "age yearsmarried religiousness occupation rating"


@pytest.fixture(scope="module")
def affairs():
    return csv_session("tests/data/censored/affairs.csv")


def _cons_first(v):
    return np.r_[v[-2:-1], v[:-2]]


@pytest.mark.parametrize("opts,key", [("ll(0)", "ll0"), ("ll(0) ul(4)", "ll0_ul4")])
def test_tobit_against_survreg(affairs, opts, key):
    ok(affairs, f"tobit affairs {COVS}, {opts} nolog")
    ref = REF[key]
    e = affairs.e
    b, se = np.ravel(e.b), np.sqrt(np.diag(e.V))
    np.testing.assert_allclose(_cons_first(b), ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(_cons_first(se), ref["se"], rtol=1e-4)
    assert e.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-9)
    assert e.scalars["sigma"] == pytest.approx(ref["sigma"], rel=1e-6)
    assert b[-1] == pytest.approx(ref["sigma"] ** 2, rel=1e-6)
    assert e.names[-1] == ("/", "var(e.affairs)")
    y = affairs.data.values("affairs")
    assert e.scalars["N_lc"] == np.sum(y <= 0)
    assert e.scalars["N_rc"] == (np.sum(y >= 4) if key == "ll0_ul4" else 0)
    assert e.scalars["N_unc"] == 601 - e.scalars["N_lc"] - e.scalars["N_rc"]
    assert e.scalars["df_r"] == 601 - 6


def test_tobit_robust_against_sandwich(affairs):
    ok(affairs, f"tobit affairs {COVS}, ll(0) vce(robust) nolog")
    se = np.sqrt(np.diag(affairs.e.V))
    np.testing.assert_allclose(_cons_first(se), REF["ll0"]["robust_se"], rtol=1e-4)
    assert affairs.e.macros["vcetype"] == "Robust"


def test_tobit_lr_test_against_constant_only(affairs):
    """LR chi2 against the constant-only tobit, fitted here with scipy."""
    from scipy import optimize, stats
    ok(affairs, f"tobit affairs {COVS}, ll(0) nolog")
    y = affairs.data.values("affairs")

    def nll(t):
        m, s = t[0], math.exp(t[1])
        return -np.sum(np.where(y <= 0, stats.norm.logcdf((0 - m) / s), stats.norm.logpdf(y, m, s)))
    r = optimize.minimize(nll, [0.0, 1.0], method="Nelder-Mead",
                          options={"xatol": 1e-10, "fatol": 1e-12})
    sc = affairs.e.scalars
    assert sc["ll_0"] == pytest.approx(-r.fun, rel=1e-8)
    assert sc["chi2"] == pytest.approx(2 * (sc["ll"] + r.fun), rel=1e-6)
    assert sc["r2_p"] == pytest.approx(1 - sc["ll"] / -r.fun, rel=1e-8)


def test_tobit_bare_ll_is_the_minimum(affairs):
    ok(affairs, f"tobit affairs {COVS}, ll(0) nolog")
    b0 = np.ravel(affairs.e.b).copy()
    out = ok(affairs, f"tobit affairs {COVS}, ll nolog")
    np.testing.assert_allclose(np.ravel(affairs.e.b), b0, rtol=1e-10)
    assert "Limits: Lower = 0" in out and "Upper = +inf" in out


def test_tobit_layout(affairs):
    out = ok(affairs, f"tobit affairs {COVS}, ll(0) ul(4)")
    assert "Refining starting values:" in out and "Fitting full model:" in out
    assert "Iteration 0:" in out
    lines = out.splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith("Tobit regression"))
    assert lines[first].endswith("Number of obs =    601")
    assert lines[first + 1].endswith("Uncensored =     70")
    assert lines[first + 2].startswith("Limits: Lower = 0")
    assert lines[first + 2].endswith("Left-censored =    451")
    assert lines[first + 3].startswith("        Upper = 4")
    assert lines[first + 3].endswith("Right-censored =     80")
    assert "LR chi2(5)    =" in out and "Pseudo R2     =" in out
    assert "     affairs | Coefficient  Std. err.      t    P>|t|" in out
    assert any(ln.startswith("var(e.affa~) |") for ln in lines)


def test_tobit_predictions_against_formulas(affairs):
    from scipy import stats
    ok(affairs, f"tobit affairs {COVS}, ll(0) nolog")
    for line in ("predict xb1", "predict p1, pr(0,.)", "predict p2, pr(2,6)",
                 "predict e1, e(0,.)", "predict e2, e(.,5)", "predict ys, ystar(0,.)",
                 "predict ys2, ystar(0,4)", "predict sp, stdp"):
        ok(affairs, line)
    d = affairs.data
    xb = d.values("xb1")
    s = affairs.e.scalars["sigma"]
    F = stats.norm.cdf
    f = stats.norm.pdf
    np.testing.assert_allclose(d.values("p1"), 1 - F(-xb / s), rtol=2e-6)
    np.testing.assert_allclose(d.values("p2"), F((6 - xb) / s) - F((2 - xb) / s), rtol=2e-6,
                               atol=1e-9)
    np.testing.assert_allclose(d.values("e1"), xb + s * f(xb / s) / F(xb / s), rtol=2e-6)
    np.testing.assert_allclose(d.values("e2"), xb - s * f((5 - xb) / s) / F((5 - xb) / s),
                               rtol=2e-6)
    z = xb / s
    np.testing.assert_allclose(d.values("ys"), F(z) * xb + s * f(z), rtol=2e-6)
    a, b = -xb / s, (4 - xb) / s
    ys2 = (F(b) - F(a)) * xb + s * (f(a) - f(b)) + 4 * (1 - F(b))
    np.testing.assert_allclose(d.values("ys2"), ys2, rtol=2e-6, atol=1e-7)
    X = np.column_stack([d.values(v) for v in COVS.split()] + [np.ones(d.n)])
    V = np.asarray(affairs.e.V)[:6, :6]
    np.testing.assert_allclose(d.values("sp"), np.sqrt(np.einsum("ij,jk,ik->i", X, V, X)),
                               rtol=2e-6)


def test_tobit_errors_leave_session(affairs):
    ok(affairs, f"tobit affairs {COVS}, ll(0) nolog")
    before = np.ravel(affairs.e.b).copy()
    assert run(affairs, "tobit affairs age, ll(5) ul(2)")[0] == 198
    assert run(affairs, "tobit affairs nosuchvar, ll(0)")[0] == 111
    assert run(affairs, "tobit affairs age, ll(nosuch)")[0] == 111
    assert run(affairs, "tobit affairs age, ll(0) vce(nonsense)")[0] == 198
    rc, out = run(affairs, "tobit affairs age, ll(0) foo")
    assert rc == 198 and "Traceback" not in out
    np.testing.assert_array_equal(np.ravel(affairs.e.b), before)
    s = csv_session("tests/data/censored/affairs.csv")
    assert run(s, "tobit")[0] == 301


# --------------------------------------------------------------------------- xttobit
@pytest.fixture(scope="module")
def panel():
    s = csv_session("tests/data/censored/xttobit_sim.csv")
    ok(s, "xtset id t")
    return s


def _brute_ll(theta, y, X, g, lo, hi):
    """The random-intercept tobit log likelihood, each panel's integral over u by a dense
    200-point Gauss-Legendre rule on +-12 sigma_u (no Hermite rule, no adaptation)."""
    from scipy.special import log_ndtr
    p = X.shape[1]
    b, su, se = theta[:p], math.exp(theta[p]), math.exp(theta[p + 1])
    t, w = np.polynomial.legendre.leggauss(200)
    u = 12 * su * t
    lw = np.log(w * 12 * su) - 0.5 * (u / su) ** 2 - math.log(su * math.sqrt(2 * math.pi))
    mu = (X @ b)[:, None] + u[None, :]
    yy = y[:, None]
    ll = np.where(yy <= lo, log_ndtr((lo - mu) / se),
                  np.where(yy >= hi, log_ndtr((mu - hi) / se),
                           -0.5 * ((yy - mu) / se) ** 2 - math.log(se * math.sqrt(2 * math.pi))))
    codes = np.unique(g, return_inverse=True)[1]
    S = (codes[None, :] == np.arange(codes.max() + 1)[:, None]).astype(float) @ ll
    a = S + lw[None, :]
    m = a.max(axis=1, keepdims=True)
    return float(np.sum(np.log(np.exp(a - m).sum(axis=1)) + m[:, 0]))


def test_xttobit_against_brute_force_integral(panel):
    ok(panel, "xttobit y x1 x2, ll(0) ul(4) nolog")
    e = panel.e
    d = panel.data
    y, g = d.values("y"), d.values("id")
    X = np.column_stack([d.values("x1"), d.values("x2"), np.ones(d.n)])
    b = np.ravel(e.b)
    theta = np.r_[b[:3], math.log(b[3]), math.log(b[4])]
    ll = _brute_ll(theta, y, X, g, 0.0, 4.0)
    assert e.scalars["ll"] == pytest.approx(ll, rel=1e-8)
    # the maximum: the brute-force gradient vanishes there, and its curvature gives the SEs
    h = 1e-4
    k = len(theta)
    grad = np.zeros(k)
    H = np.zeros((k, k))
    f0 = ll
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h
        fp, fm = _brute_ll(theta + ei, y, X, g, 0, 4), _brute_ll(theta - ei, y, X, g, 0, 4)
        grad[i] = (fp - fm) / (2 * h)
        H[i, i] = (fp - 2 * f0 + fm) / h ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h
            H[i, j] = H[j, i] = (_brute_ll(theta + ei + ej, y, X, g, 0, 4)
                                 - _brute_ll(theta + ei - ej, y, X, g, 0, 4)
                                 - _brute_ll(theta - ei + ej, y, X, g, 0, 4)
                                 + _brute_ll(theta - ei - ej, y, X, g, 0, 4)) / (4 * h * h)
    assert np.max(np.abs(grad)) < 2e-3
    Vb = np.linalg.inv(-H)
    J = np.diag([1, 1, 1, b[3], b[4]])                  # ln sigma -> sigma
    np.testing.assert_allclose(np.sqrt(np.diag(e.V)), np.sqrt(np.diag(J @ Vb @ J)), rtol=5e-3)
    assert e.scalars["rho"] == pytest.approx(b[3] ** 2 / (b[3] ** 2 + b[4] ** 2), rel=1e-12)


def test_xttobit_ghermite_many_points_agrees(panel):
    ok(panel, "xttobit y x1 x2, ll(0) ul(4) nolog")
    b1, ll1 = np.ravel(panel.e.b).copy(), panel.e.scalars["ll"]
    ok(panel, "xttobit y x1 x2, ll(0) ul(4) intmethod(ghermite) intpoints(40) nolog")
    np.testing.assert_allclose(np.ravel(panel.e.b), b1, rtol=1e-5)
    assert panel.e.scalars["ll"] == pytest.approx(ll1, rel=1e-8)
    assert panel.e.macros["intmethod"] == "ghermite"


def test_xttobit_lr_test_and_layout(panel):
    out = ok(panel, "xttobit y x1 x2, ll(0) ul(4) tobit")
    sc = panel.e.scalars
    assert "Obtaining starting values for full model:" in out
    assert "Random effects u_i ~ Gaussian" in out
    assert "Integration method: mvaghermite" in out
    assert "Integration pts.  =         12" in out
    assert "/sigma_u |" in out and "/sigma_e |" in out and "rho |" in out
    assert "LR test of sigma_u=0: chibar2(01) =" in out
    ok(panel, "tobit y x1 x2, ll(0) ul(4) nolog")
    assert sc["ll_c"] == pytest.approx(panel.e.scalars["ll"], rel=1e-9)
    assert sc["chi2_c"] == pytest.approx(2 * (sc["ll"] - sc["ll_c"]), rel=1e-9)
    ok(panel, "xttobit y x1 x2, ll(0) ul(4) nolog")
    assert "chi2_c" not in panel.e.scalars


def test_xttobit_predict_and_errors(panel):
    ok(panel, "xttobit y x1 x2, ll(0) ul(4) nolog")
    ok(panel, "predict xbt")
    ok(panel, "predict sdt, stdp")
    b = np.ravel(panel.e.b)
    d = panel.data
    np.testing.assert_allclose(d.values("xbt"), b[0] * d.values("x1") + b[1] * d.values("x2")
                               + b[2], rtol=1e-6)
    # Stata 16/17's pr(a,b) is marginal with respect to u_i: y* ~ N(xb, sigma_u^2 + sigma_e^2)
    ok(panel, "predict zz, pr(0,.)")
    sd = np.hypot(panel.e.scalars["sigma_u"], panel.e.scalars["sigma_e"])
    from scipy.stats import norm
    np.testing.assert_allclose(d.values("zz"), norm.sf(-np.asarray(d.values("xbt"), float) / sd),
                               rtol=1e-5)
    assert run(panel, "predict zz2, pr(0,.) e(0,.)")[0] == 198
    before = b.copy()
    assert run(panel, "xttobit y x1, ll(0) vce(robust)")[0] == 198
    assert run(panel, "xttobit y x1, ll(0) intmethod(laplace)")[0] == 198
    assert run(panel, "xttobit y x1, ll(0) intpoints(0)")[0] == 198
    assert run(panel, "xttobit y x1 if x1 > 100, ll(0)")[0] == 2000
    np.testing.assert_array_equal(np.ravel(panel.e.b), before)


def test_fresh_process_predict_after_each_command(tmp_path):
    """Command modules load on first use: predict in a fresh process must still find the
    handlers of tobit, xttobit, xtnbreg and xtpqml (nu0, ystar() are theirs alone)."""
    import subprocess
    import sys
    root = os.path.dirname(HERE)
    lines = [f"import delimited {root}/tests/data/censored/xttobit_sim.csv, clear",
             "xtset id t",
             "tobit y x1 x2, ll(0) nolog", "predict p1, ystar(0,4)",
             "xttobit y x1 x2, ll(0) ul(4) intpoints(4) nolog", "predict p2, stdp",
             "generate c = round(y)",
             "xtnbreg c x1 x2, fe nolog", "predict p3, nu0",
             "xtpqml c x1 x2, nolog", "predict p4",
             "summarize p1-p4"]
    do = tmp_path / "all.do"
    do.write_text("\n".join(lines) + "\n")
    p = subprocess.run([sys.executable, "-m", "hlmshell", str(do)], capture_output=True,
                       text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr
    assert "Traceback" not in p.stdout + p.stderr


def test_xttobit_lrmodel_and_bare_limit(panel):
    ok(panel, "xttobit y, ll(0) ul(4) nolog")
    ll0 = panel.e.scalars["ll"]
    ok(panel, "xttobit y x1 x2, ll(0) ul(4) lrmodel nolog")
    sc = panel.e.scalars
    assert sc["ll_0"] == pytest.approx(ll0, rel=1e-8)
    assert sc["chi2"] == pytest.approx(2 * (sc["ll"] - ll0), rel=1e-6)
    assert panel.e.macros["chi2type"] == "LR"
    assert run(panel, "xttobit y x1, ll")[0] == 198        # xttobit's ll() takes an argument


@pytest.fixture(scope="module")
def weighted():
    s = csv_session("tests/data/censored/affairs.csv")
    ok(s, "generate fw = 1 + mod(_n, 3)")
    ok(s, "generate double iw = 0.5 + mod(_n, 7)/3")
    return s


W3 = "age yearsmarried rating"


def test_tobit_iweights_and_robust_fweights_against_survreg(weighted):
    ok(weighted, f"tobit affairs {W3} [iw=iw], ll(0) nolog")
    ref = REF["iweight"]
    b, se = np.ravel(weighted.e.b), np.sqrt(np.diag(weighted.e.V))
    np.testing.assert_allclose(_cons_first(b), ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(_cons_first(se), ref["se"], rtol=1e-4)
    assert weighted.e.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-9)
    ok(weighted, f"tobit affairs {W3} [fw=fw], ll(0) vce(robust) nolog")
    se = np.sqrt(np.diag(weighted.e.V))
    np.testing.assert_allclose(_cons_first(se), REF["fweight_robust"]["se"], rtol=1e-4)
    assert weighted.e.scalars["N"] == float(np.sum(weighted.data.values("fw")))


def test_tobit_pweights_against_numpy_sandwich(weighted):
    """pweights: V = H^-1 (sum (w s)(w s)') H^-1 n/(n-1), the scores and the weighted
    information written out here with scipy.stats."""
    from scipy import stats
    ok(weighted, f"tobit affairs {W3} [pw=fw], ll(0) nolog")
    e = weighted.e
    d = weighted.data
    y, w = d.values("affairs"), d.values("fw")
    X = np.column_stack([d.values(v) for v in W3.split()] + [np.ones(d.n)])
    b = np.ravel(e.b)
    theta = np.r_[b[:4], 0.5 * math.log(b[4])]

    def per_obs(t):
        m, s = X @ t[:4], math.exp(t[4])
        return np.where(y <= 0, stats.norm.logcdf(-m / s), stats.norm.logpdf(y, m, s))
    h = 1e-5
    k = len(theta)
    S = np.zeros((len(y), k))
    H = np.zeros((k, k))
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h
        S[:, i] = (per_obs(theta + ei) - per_obs(theta - ei)) / (2 * h)
        for j in range(k):
            ej = np.zeros(k)
            ej[j] = h
            H[i, j] = np.sum(w * (per_obs(theta + ei + ej) - per_obs(theta + ei - ej)
                                  - per_obs(theta - ei + ej) + per_obs(theta - ei - ej))) / (4 * h * h)
    Hi = np.linalg.inv(-H)
    Sw = S * w[:, None]
    n = len(y)
    V = Hi @ (Sw.T @ Sw) @ Hi * n / (n - 1)
    np.testing.assert_allclose(np.sqrt(np.diag(e.V))[:4], np.sqrt(np.diag(V))[:4], rtol=2e-4)
    assert e.macros["vcetype"] == "Robust" and e.macros["wtype"] == "pweight"
    assert e.scalars["N"] == n


def test_tobit_fweights_are_copies(weighted):
    ok(weighted, f"tobit affairs {W3} [fw=fw], ll(0) nolog")
    b1, V1, ll1 = np.ravel(weighted.e.b).copy(), np.asarray(weighted.e.V).copy(), weighted.e.scalars["ll"]
    n_lc = weighted.e.scalars["N_lc"]
    ok(weighted, "preserve")
    ok(weighted, "expand fw")
    ok(weighted, f"tobit affairs {W3}, ll(0) nolog")
    np.testing.assert_allclose(np.ravel(weighted.e.b), b1, rtol=1e-8)
    np.testing.assert_allclose(np.asarray(weighted.e.V), V1, rtol=1e-6)
    assert weighted.e.scalars["ll"] == pytest.approx(ll1, rel=1e-10)
    assert weighted.e.scalars["N_lc"] == n_lc
    ok(weighted, "restore")
    assert run(weighted, f"tobit affairs {W3} [fw=iw], ll(0)")[0] == 401


def test_xttobit_predictions_at_zero_effect(panel):
    from scipy import stats
    ok(panel, "xttobit y x1 x2, ll(0) ul(4) nolog")
    for line in ("predict xz", "predict pz, pr0(0,4)", "predict ez, e0(0,.)",
                 "predict yz, ystar0(0,4)"):
        ok(panel, line)
    d = panel.data
    xb = d.values("xz")
    s = panel.e.scalars["sigma_e"]
    F, f = stats.norm.cdf, stats.norm.pdf
    a, b = -xb / s, (4 - xb) / s
    np.testing.assert_allclose(d.values("pz"), F(b) - F(a), rtol=2e-6)
    np.testing.assert_allclose(d.values("ez"), xb + s * f(a) / (1 - F(a)), rtol=2e-6)
    np.testing.assert_allclose(d.values("yz"), (F(b) - F(a)) * xb + s * (f(a) - f(b))
                               + 4 * (1 - F(b)), rtol=2e-6, atol=1e-7)


def test_tobit_vce_bootstrap_is_the_prefix(affairs):
    ok(affairs, "tobit affairs age rating, ll(0) vce(bootstrap, reps(8) seed(12))")
    V1 = np.asarray(affairs.e.V).copy()
    assert affairs.e.macros["prefix"] == "bootstrap"
    ok(affairs, "bootstrap _b, reps(8) seed(12): tobit affairs age rating, ll(0)")
    np.testing.assert_allclose(np.asarray(affairs.e.V), V1, rtol=1e-12)
    out = ok(affairs, "tobit")
    assert "Bootstrap" in out
