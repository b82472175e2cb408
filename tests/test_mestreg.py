"""mestreg (multilevel parametric survival models) against independent computations.

References:
* tests/data/mestreg/kidney_ri_reference.json: the kidney-infection (catheter) data of R's
  survival package (tests/data/mestreg/kidney.csv: 38 patients, two recurrence times each; female
  = sex == 2), random intercept by patient; the marginal likelihood written out in R (an
  80-node Gauss-Hermite rule from Golub-Welsch, no lme4 or survival code) and maximised by
  optim + nlm (the script is tests/data/mestreg/kidney_ri_reference.R).
* a Weibull model with delayed entry, simulated here, whose marginal likelihood this file
  writes in numpy (60-node Gauss-Hermite) and maximises with scipy.
* the limits: the fixed-effects model is streg's (e(ll_c) = streg's e(ll)); the engine's
  likelihood at a zero random-effects variance is streg's; weibull's AFT fit is the PH fit
  re-expressed (b_aft = -b_ph/p, var_aft = var_ph/p^2, same log likelihood).
"""
import json
import math
import os

import numpy as np
import pytest

from session_run import csv_session, ok, run

HERE = os.path.dirname(os.path.abspath(__file__))
REF = json.load(open(os.path.join(HERE, "data", "mestreg", "kidney_ri_reference.json")))


@pytest.fixture(scope="module")
def kidney():
    s = csv_session("tests/data/mestreg/kidney.csv")
    ok(s, "stset time, failure(status)")
    return s


def _b(s):
    return np.asarray(s.e.b, dtype=float).ravel()


@pytest.mark.parametrize("key,line", [
    ("weibull_ph", "distribution(weibull)"),
    ("exponential_ph", "distribution(exponential)"),
    ("lognormal_aft", "distribution(lognormal)"),
    ("loglogistic_aft", "dist(llogistic)"),
    ("weibull_aft", "distribution(weibull) time"),
])
def test_kidney_random_intercept_matches_r(kidney, key, line):
    ok(kidney, f"mestreg age female || id:, {line} intpoints(30) nolog")
    ref = REF[key]
    e = kidney.e
    b = _b(kidney)
    assert e.scalars["ll"] == pytest.approx(ref["ll"], abs=1e-5)
    np.testing.assert_allclose(b[:3], ref["b"], rtol=2e-4, atol=2e-5)
    if isinstance(ref["anc"], float):
        assert b[3] == pytest.approx(ref["anc"], abs=2e-4)
    assert b[-1] == pytest.approx(ref["var"], rel=2e-3)
    se = np.sqrt(np.diag(np.asarray(e.V, dtype=float)))
    np.testing.assert_allclose(se[:3], ref["se_b"], rtol=1e-2)


def test_kidney_layout_and_stored_results(kidney):
    out = ok(kidney, "mestreg age female || id:, distribution(weibull)")
    assert "Failure _d: status" in out and "Fitting fixed-effects model:" in out
    assert "Mixed-effects Weibull PH regression             Number of obs     =         76" in out
    assert "Integration method: mvaghermite                 Integration pts.  =          7" in out
    assert "          _t |  Haz. ratio" in out or "          _t | Haz. ratio" in out
    assert "       /ln_p |" in out and "   var(_cons)|" in out
    assert "LR test vs. Weibull model: chibar2(01) =" in out
    assert "Note: _cons estimates baseline hazard (conditional on zero random effects)." in out
    e = kidney.e
    assert e.macros["cmd"] == "mestreg" and e.macros["distribution"] == "weibull"
    assert e.macros["frm2"] == "hazard" and e.macros["ivars"] == "id"
    assert [f"{q}:{n}" for q, n in e.names] == ["_t:age", "_t:female", "_t:_cons", "/:ln_p",
                                                "/:var(_cons[id])"]
    assert e.scalars["N"] == 76 and e.matrices["N_g"][0, 0] == 38
    # the 7-point fit is close to the exact integral's
    assert e.scalars["ll"] == pytest.approx(REF["weibull_ph"]["ll"], abs=1e-3)
    out = ok(kidney, "mestreg, nohr")
    assert "Coefficient" in out and "Haz. ratio" not in out
    out = ok(kidney, "mestreg age female || id:, distribution(lognormal) nolog noshow")
    assert "Mixed-effects lognormal AFT regression" in out and "       /logs |" in out
    assert "Failure _d" not in out and "Fitting" not in out


def test_fixed_effects_model_is_streg(kidney):
    ok(kidney, "streg age female, distribution(weibull) nolog")
    ll_streg = kidney.e.scalars["ll"]
    b_streg = _b(kidney)
    ok(kidney, "mestreg age female || id:, distribution(weibull) nolog")
    assert kidney.e.scalars["ll_c"] == pytest.approx(ll_streg, abs=1e-8)
    assert kidney.e.scalars["chi2_c"] == pytest.approx(2 * (kidney.e.scalars["ll"] - ll_streg))
    # the engine's likelihood at a vanishing random-effects variance is streg's at its estimates
    from hlmshell.engine import glmm
    m = kidney.e.model
    prob = glmm.Problem(m.data, m.family, m.structure, "agq", 7)
    x = np.r_[b_streg[:3], 1e-7, b_streg[3]]
    assert prob.loglik(x) == pytest.approx(ll_streg, abs=1e-6)


def test_weibull_aft_is_the_ph_fit_reexpressed(kidney):
    ok(kidney, "mestreg age female || id:, distribution(weibull) nolog intpoints(12)")
    ph, ll_ph = _b(kidney), kidney.e.scalars["ll"]
    ok(kidney, "mestreg age female || id:, distribution(weibull) time nolog intpoints(12)")
    aft, ll_aft = _b(kidney), kidney.e.scalars["ll"]
    p = math.exp(ph[3])
    assert ll_aft == pytest.approx(ll_ph, abs=1e-6)
    np.testing.assert_allclose(aft[:3], -ph[:3] / p, rtol=1e-4, atol=1e-6)
    assert aft[3] == pytest.approx(ph[3], abs=1e-5)
    assert aft[4] == pytest.approx(ph[4] / p ** 2, rel=1e-4)
    assert kidney.e.macros["frm2"] == "time"


def _gh(n):
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return x, w / math.sqrt(2 * math.pi)


def _simulated_delayed_entry(tmp_path):
    """40 clusters of 6 subjects, Weibull PH with a normal random intercept (sd 0.6), entry
    times uniform on (0, 0.5) (only those still at risk kept), censoring at 4."""
    rng = np.random.default_rng(20261130)
    rows = []
    for g in range(40):
        u = rng.normal(0, 0.6)
        for _ in range(6):
            while True:
                x = rng.normal()
                t0 = rng.uniform(0, 0.5) if rng.random() < 0.5 else 0.0
                lam = math.exp(-1.0 + 0.5 * x + u)
                t = (-math.log(rng.random()) / lam) ** (1 / 1.3)
                if t > t0:
                    break
            d = int(t < 4.0)
            rows.append((g + 1, t0, min(t, 4.0), d, x))
    path = tmp_path / "sim.csv"
    with open(path, "w") as f:
        f.write("g,t0,t,d,x\n")
        for r in rows:
            f.write(",".join(repr(v) for v in r) + "\n")
    return path, np.array(rows)


def _numpy_weibull_fit(data):
    """Independent ML of the random-intercept Weibull PH model by a 60-node GH rule."""
    from scipy.optimize import minimize
    g = data[:, 0].astype(int) - 1
    t0, t, d, x = data[:, 1], data[:, 2], data[:, 3], data[:, 4]
    z, w = _gh(60)

    def nll(par):
        b1, b0, lnp, lnsd = par
        p = math.exp(lnp)
        eta = (b0 + b1 * x)[:, None] + math.exp(lnsd) * z[None, :]
        l = (d[:, None] * (eta + math.log(p) + ((p - 1) * np.log(t))[:, None])
             - np.exp(eta) * (t ** p - t0 ** p)[:, None])
        S = np.zeros((g.max() + 1, len(z)))
        np.add.at(S, g, l)
        m = S.max(axis=1, keepdims=True)
        return -float(np.sum(m[:, 0] + np.log(np.exp(S - m) @ w)))

    res = minimize(nll, np.array([0.0, -1.0, 0.0, math.log(0.5)]), method="BFGS",
                   options={"gtol": 1e-9})
    res = minimize(nll, res.x, method="Nelder-Mead",
                   options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    return res.x, -res.fun


def test_delayed_entry_weibull_against_numpy(tmp_path):
    path, data = _simulated_delayed_entry(tmp_path)
    s = csv_session(str(path))
    ok(s, "stset t, failure(d) enter(time t0)")
    ok(s, "mestreg x || g:, distribution(weibull) intpoints(20) nolog")
    par, ll = _numpy_weibull_fit(data)
    b = _b(s)
    assert s.e.scalars["ll"] == pytest.approx(ll, abs=1e-5)
    np.testing.assert_allclose(b[:3], [par[0], par[1], par[2]], atol=2e-4)
    assert b[3] == pytest.approx(math.exp(2 * par[3]), rel=1e-3)


def test_predictions(kidney):
    ok(kidney, "mestreg age female || id:, distribution(weibull) nolog")
    for line in ("predict m", "predict md, median", "predict h, hazard", "predict sv, survival",
                 "predict f, density", "predict et, eta", "predict xb0, xb",
                 "predict r, reffects reses(rse)", "predict m0, mean conditional(fixedonly)"):
        ok(kidney, line)
    v = {nm: np.asarray(kidney.data.values(nm), dtype=float)
         for nm in ("m", "md", "h", "sv", "f", "et", "xb0", "r", "rse", "m0", "_t", "id")}
    b = _b(kidney)
    p = math.exp(b[3])
    np.testing.assert_allclose(v["et"], v["xb0"] + v["r"], rtol=1e-6)
    lam = np.exp(v["et"])
    np.testing.assert_allclose(v["h"], lam * p * v["_t"] ** (p - 1), rtol=1e-5)
    np.testing.assert_allclose(v["sv"], np.exp(-lam * v["_t"] ** p), rtol=1e-5)
    np.testing.assert_allclose(v["f"], v["h"] * v["sv"], rtol=1e-5)
    np.testing.assert_allclose(v["md"], (math.log(2) / lam) ** (1 / p), rtol=1e-5)
    np.testing.assert_allclose(v["m"], lam ** (-1 / p) * math.gamma(1 + 1 / p), rtol=1e-5)
    np.testing.assert_allclose(v["m0"], np.exp(v["xb0"]) ** (-1 / p) * math.gamma(1 + 1 / p),
                               rtol=1e-5)
    # the empirical Bayes means and SDs by independent quadrature at the estimates
    s2 = b[4]
    z, w = _gh(80)
    t = v["_t"]
    d = np.asarray(kidney.data.values("_d"), dtype=float)
    for pid in (1, 2, 21):
        rows = v["id"] == pid
        u = math.sqrt(s2) * z
        eta = v["xb0"][rows][:, None] + u[None, :]
        l = (d[rows][:, None] * (eta + math.log(p) + (p - 1) * np.log(t[rows])[:, None])
             - np.exp(eta) * (t[rows] ** p)[:, None]).sum(axis=0)
        post = w * np.exp(l - l.max())
        post /= post.sum()
        mean = float(post @ u)
        sd = math.sqrt(float(post @ (u - mean) ** 2))
        assert v["r"][rows][0] == pytest.approx(mean, abs=2e-4)
        assert v["rse"][rows][0] == pytest.approx(sd, abs=2e-4)


@pytest.mark.parametrize("line,rc", [
    ("mestreg age female || id:", 198),                                  # distribution() required
    ("mestreg age female || id:, distribution(gompertz)", 198),         # not in mestreg
    ("mestreg age female || id:, distribution(nosuch)", 198),
    ("mestreg age female || id:, distribution(weibull) tratio", 198),   # PH metric
    ("mestreg age nosuchvar || id:, distribution(weibull)", 111),
    ("mestreg age female || nosuch:, distribution(weibull)", 111),
    ("mestreg age female, distribution(weibull)", 198),                 # no random effects
    ("mestreg age female || id:, distribution(weibull) intpoints(0)", 198),
    ("mestreg age female || id:, distribution(weibull) intmethod(foo)", 198),
    ("mestreg age female || id:, distribution(weibull) nosuchopt", 198),
    ("mestreg age female if age > 1000 || id:, distribution(weibull)", 2000),
    ("mestreg age female || id:, distribution(weibull) vce(nosuch)", 198),
    ("mestreg age || female: || id:, distribution(weibull) vce(robust)", 198),
    ("mestreg age female [aw=female] || id:, distribution(weibull)", 101),
    ("mestreg age female || id:, distribution(weibull) offset(age)", 198),
    ("mestreg age female || id:, distribution(gamma)", 198),
])
def test_bad_input(kidney, line, rc):
    before = kidney.e
    n = kidney.data.n
    got, out = run(kidney, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert kidney.e is before and kidney.data.n == n


def test_by_prefix_fits_each_group(kidney):
    out = ok(kidney, "bysort female: mestreg age || id:, distribution(exponential) nolog")
    assert out.count("Mixed-effects exponential PH regression") == 2
    second = out.split("-> female = 1")[1].splitlines()
    assert sum(ln.startswith("          _t |") for ln in second) == 1      # the header only
    assert [n for _q, n in kidney.e.names] == ["age", "_cons", "var(_cons[id])"]


def test_not_st_data_and_no_estimates():
    s = csv_session("tests/data/mestreg/kidney.csv")
    rc, out = run(s, "mestreg age female || id:, distribution(weibull)")
    assert rc == 119 and "data not st" in out
    rc, out = run(s, "mestreg")
    assert rc == 301


def _simulated_nested(tmp_path):
    """8 hospitals x 4 wards x 8 patients, exponential PH with normal intercepts at both
    levels (sd 0.6 and 0.4), censoring at 3."""
    rng = np.random.default_rng(7)
    rows = []
    for h in range(8):
        u3 = rng.normal(0, 0.6)
        for w in range(4):
            u2 = rng.normal(0, 0.4)
            for _ in range(8):
                x = rng.normal()
                t = -math.log(rng.random()) / math.exp(-1.0 + 0.5 * x + u3 + u2)
                rows.append((h + 1, 4 * h + w + 1, min(t, 3.0), int(t < 3.0), x))
    path = tmp_path / "nested.csv"
    with open(path, "w") as f:
        f.write("hosp,ward,t,d,x\n")
        for r in rows:
            f.write(",".join(repr(v) for v in r) + "\n")
    return path, np.array(rows)


def _numpy_nested_exponential(data):
    """The three-level exponential model's log likelihood written independently: nested
    Gauss-Hermite (60 nodes at each level; not adaptive, so many: within 1e-6 of 80) of
    prod_hosp int N(u3) prod_ward int N(u2) prod_i f(t_i | u3 + u2), as a function of
    (b_x, b_cons, ln sd3, ln sd2)."""
    hosp, ward = data[:, 0].astype(int) - 1, data[:, 1].astype(int) - 1
    t, d, x = data[:, 2], data[:, 3], data[:, 4]
    z, w = _gh(60)
    ward_hosp = np.zeros(ward.max() + 1, dtype=int)
    ward_hosp[ward] = hosp

    def ll(par):
        b1, b0, ls3, ls2 = par
        s3, s2 = math.exp(ls3), math.exp(ls2)
        eta = ((b0 + b1 * x)[:, None, None] + s3 * z[None, :, None] + s2 * z[None, None, :])
        l = d[:, None, None] * eta - np.exp(eta) * t[:, None, None]       # (n, K3, K2)
        W = np.zeros((ward.max() + 1, len(z), len(z)))
        np.add.at(W, ward, l)
        m = W.max(axis=2, keepdims=True)
        lw = m[..., 0] + np.log(np.exp(W - m) @ w)                       # (wards, K3)
        H = np.zeros((hosp.max() + 1, len(z)))
        np.add.at(H, ward_hosp, lw)
        mh = H.max(axis=1, keepdims=True)
        return float(np.sum(mh[:, 0] + np.log(np.exp(H - mh) @ w)))

    return ll


def test_nested_levels_against_numpy(tmp_path):
    path, data = _simulated_nested(tmp_path)
    s = csv_session(str(path))
    ok(s, "stset t, failure(d)")
    out = ok(s, "mestreg x || hosp: || ward:, distribution(exponential) intpoints(15)")
    assert "hosp>ward    |" in out and "Group variable |" in out
    b = _b(s)
    assert [n for _q, n in s.e.names] == ["x", "_cons", "var(_cons[hosp])",
                                          "var(_cons[hosp>ward])"]
    # the estimates maximise the independent likelihood: the same value, a vanishing
    # gradient, and a Newton step on its numerical Hessian that moves them by < 1e-4
    ll = _numpy_nested_exponential(data)
    par = np.r_[b[:2], 0.5 * np.log(b[2:])]
    assert s.e.scalars["ll"] == pytest.approx(ll(par), abs=1e-5)
    h = 1e-4
    E = np.eye(4) * h
    g = np.array([(ll(par + E[i]) - ll(par - E[i])) / (2 * h) for i in range(4)])
    Hm = np.array([[(ll(par + E[i] + E[j]) - ll(par + E[i] - E[j]) - ll(par - E[i] + E[j])
                     + ll(par - E[i] - E[j])) / (4 * h * h) for j in range(4)] for i in range(4)])
    assert np.abs(g).max() < 1e-3
    assert np.abs(np.linalg.solve(Hm, g)).max() < 1e-4
    # and they are not the model without the ward level's effects
    assert ll(par) > ll(np.r_[par[:3], math.log(1e-3)]) + 1
    ok(s, "predict r3 r2, reffects")
    ok(s, "predict h, hazard")
    v = {nm: np.asarray(s.data.values(nm), dtype=float) for nm in ("r3", "r2", "h", "x")}
    np.testing.assert_allclose(v["h"], np.exp(b[1] + b[0] * v["x"] + v["r3"] + v["r2"]),
                               rtol=1e-5)
    rc, out = run(s, "mestreg, tratio")
    assert rc == 198


def test_robust_vce_against_numpy_sandwich(kidney):
    """vce(robust): the sandwich V (sum_g s_g s_g') V G/(G-1) with V the inverse observed
    information and s_g the patients' scores, all from the kidney Weibull likelihood written
    in numpy (80-node Gauss-Hermite) in the metric (b, ln sd, ln p)."""
    out = ok(kidney, "mestreg age female || id:, distribution(weibull) vce(robust) "
                     "intpoints(30) nolog")
    assert "Log pseudolikelihood" in out and "(Std. err. adjusted for 38 clusters in id)" in out
    assert "LR test" not in out
    e = kidney.e
    assert e.macros["vce"] == "robust" and e.macros["vcetype"] == "Robust"
    b = _b(kidney)
    se = np.sqrt(np.diag(np.asarray(e.V, dtype=float)))
    age = np.asarray(kidney.data.values("age"), dtype=float)
    fem = np.asarray(kidney.data.values("female"), dtype=float)
    t = np.asarray(kidney.data.values("_t"), dtype=float)
    d = np.asarray(kidney.data.values("_d"), dtype=float)
    gid = np.unique(np.asarray(kidney.data.values("id"), dtype=float), return_inverse=True)[1]
    z, w = _gh(80)

    def group_ll(par):
        b1, b2, b0, lnsd, lnp = par
        p = math.exp(lnp)
        eta = (b0 + b1 * age + b2 * fem)[:, None] + math.exp(lnsd) * z[None, :]
        l = (d[:, None] * (eta + math.log(p) + ((p - 1) * np.log(t))[:, None])
             - np.exp(eta) * (t ** p)[:, None])
        S = np.zeros((gid.max() + 1, len(z)))
        np.add.at(S, gid, l)
        m = S.max(axis=1, keepdims=True)
        return m[:, 0] + np.log(np.exp(S - m) @ w)

    par = np.r_[b[:3], 0.5 * math.log(b[4]), b[3]]
    h = 1e-4
    E = np.eye(5) * h
    scores = np.column_stack([(group_ll(par + E[i]) - group_ll(par - E[i])) / (2 * h)
                              for i in range(5)])
    tot = lambda x: float(group_ll(x).sum())
    H = np.array([[(tot(par + E[i] + E[j]) - tot(par + E[i] - E[j]) - tot(par - E[i] + E[j])
                    + tot(par - E[i] - E[j])) / (4 * h * h) for j in range(5)]
                  for i in range(5)])
    Vinv = np.linalg.inv(-H)
    G = scores.shape[0]
    Vr = Vinv @ (scores.T @ scores) @ Vinv * G / (G - 1)
    np.testing.assert_allclose(se[:3], np.sqrt(np.diag(Vr))[:3], rtol=2e-3)
    assert se[3] == pytest.approx(math.sqrt(Vr[4, 4]), rel=2e-3)          # /ln_p
    # var = exp(2 ln sd): delta method
    assert se[4] == pytest.approx(2 * b[4] * math.sqrt(Vr[3, 3]), rel=5e-3)
    rc, out = run(kidney, "mestreg age female || id:, distribution(weibull) vce(cluster status)")
    assert rc == 459 and "not nested within status" in out
    out = ok(kidney, "mestreg age female || id:, distribution(weibull) vce(cluster female) nolog")
    assert "(Std. err. adjusted for 2 clusters in female)" in out


def test_estat_after_mestreg(kidney):
    ok(kidney, "mestreg age female || id:, distribution(weibull) nolog")
    out = ok(kidney, "estat group")
    assert "             id |         38          2        2.0          2" in out
    out = ok(kidney, "estat sd")
    sd = math.sqrt(_b(kidney)[4])
    line = next(ln for ln in out.splitlines() if "sd(_cons)|" in ln)
    assert float(line.split("|")[1].split()[0]) == pytest.approx(sd, rel=1e-6)


def test_frequency_weights_are_copies():
    """[fw=2] on every record fits what the data with every record twice fits (the copies in
    the same patient), and the fixed-effects model is the doubled streg."""
    s = csv_session("tests/data/mestreg/kidney.csv")
    ok(s, "generate w = 1 + (mod(_n, 3) == 0)")
    ok(s, "stset time, failure(status)")
    ok(s, "mestreg age female [fw=w] || id:, distribution(weibull) intpoints(12) nolog")
    bw, llw, llcw, nw = _b(s), s.e.scalars["ll"], s.e.scalars["ll_c"], s.e.scalars["N"]
    sew = np.sqrt(np.diag(np.asarray(s.e.V, dtype=float)))
    assert s.e.macros["wtype"] == "fweight"
    ok(s, "expand w")
    ok(s, "stset time, failure(status)")
    ok(s, "mestreg age female || id:, distribution(weibull) intpoints(12) nolog")
    assert nw == s.e.scalars["N"] == 101
    assert llw == pytest.approx(s.e.scalars["ll"], abs=1e-6)
    assert llcw == pytest.approx(s.e.scalars["ll_c"], abs=1e-6)
    np.testing.assert_allclose(bw, _b(s), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(sew, np.sqrt(np.diag(np.asarray(s.e.V, dtype=float))), rtol=1e-3)
    rc, out = run(s, "mestreg age [pw=w] || female: || id:, distribution(weibull)")
    assert rc == 101
