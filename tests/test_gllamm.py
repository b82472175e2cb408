"""gllamm and gllapred (SSC, built in) on High School and Beyond.

References: lme4 (tests/data/gllamm/gllamm_ref.R -> gllamm_ref.json: glmer with nAGQ = 8 for
`adapt nip(8)`, lmer ML for the Gaussian random slope), a numpy/scipy maximisation of the
ordinary 8-point Gauss-Hermite likelihood (gllamm's default quadrature), a dense grid for the
posterior means gllapred's mu gives, and hlmshell's own melogit with the same quadrature.
"""
import json
import math
import os

import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "gllamm", "gllamm_ref.json")))


def _session():
    s = Session()
    ok(s, "use hsb")
    ok(s, "gen hi = mathach > 13")
    ok(s, "gen cons = 1")
    return s


def _b(s):
    return dict(zip([f"{eq}:{nm}" for eq, nm in s.e.names], s.e.b))


@pytest.fixture(scope="module")
def logit_adapt():
    s = _session()
    out = ok(s, "gllamm hi ses, i(id) family(binomial) link(logit) adapt nolog")
    return s, out


@pytest.fixture(scope="module")
def gauss_slope():
    s = _session()
    ok(s, "eq int: cons")
    ok(s, "eq slope: ses")
    out = ok(s, "gllamm mathach ses, i(id) nrf(2) eqs(int slope) adapt nolog")
    return s, out


def test_logit_adaptive_matches_glmer(logit_adapt):
    s, out = logit_adapt
    r = REF["logit"]
    b = _b(s)
    assert list(b) == ["hi:ses", "hi:_cons", "id1:_cons"]
    assert b["hi:_cons"] == pytest.approx(r["b"][0], abs=2e-4)
    assert b["hi:ses"] == pytest.approx(r["b"][1], abs=2e-4)
    assert b["id1:_cons"] ** 2 == pytest.approx(r["var"], rel=1e-3)     # the SD is estimated
    assert s.e.scalars["ll"] == pytest.approx(r["ll"], abs=1e-3)
    assert "number of level 1 units = 7185" in out and "number of level 2 units = 160" in out
    assert "gllamm model" in out and "***level 2 (id)" in out
    line = next(ln for ln in out.splitlines() if "var(1):" in ln)
    assert float(line.split()[1]) == pytest.approx(r["var"], rel=1e-3)
    # the SE of the variance is the delta method's from the SD's: 2 sd se(sd)
    j = 2
    se_sd = math.sqrt(s.e.V[j, j])
    se_var = float(line.split("(")[-1].rstrip(")"))
    assert se_var == pytest.approx(2 * abs(s.e.b[j]) * se_sd, rel=1e-5)


def test_condition_number(logit_adapt):
    s, out = logit_adapt
    w = np.linalg.eigvalsh(np.linalg.inv(s.e.V))
    assert s.e.scalars["cn"] == pytest.approx(math.sqrt(w.max() / w.min()), rel=1e-6)
    assert f"Condition Number = " in out


def _ghq_loglik(params, y, x, g, nodes, weights):
    b0, b1, sd = params
    eta = b0 + b1 * x
    ll = 0.0
    z = math.sqrt(2) * sd * nodes
    e = eta[:, None] + z[None, :]
    lp = y[:, None] * e - np.logaddexp(0, e)
    G = g.max() + 1
    sums = np.zeros((G, len(nodes)))
    np.add.at(sums, g, lp)
    a = sums + np.log(weights / math.sqrt(math.pi))[None, :]
    mx = a.max(axis=1, keepdims=True)
    ll = float(np.sum(mx[:, 0] + np.log(np.exp(a - mx).sum(axis=1))))
    return ll


def test_default_quadrature_is_ordinary_ghq8():
    """gllamm's default: ordinary (non-adaptive) Gauss-Hermite, 8 points; its maximum found
    independently by scipy on a numpy likelihood."""
    from scipy.optimize import minimize
    s = _session()
    ok(s, "gllamm hi ses, i(id) family(binomial) nolog")
    y = np.asarray(s.data.values("hi"), float)
    x = np.asarray(s.data.values("ses"), float)
    _, g = np.unique(np.asarray(s.data.values("id")), return_inverse=True)
    nodes, weights = np.polynomial.hermite.hermgauss(8)
    f = lambda p: -_ghq_loglik(p, y, x, g, nodes, weights)
    opt = minimize(f, np.array([0.0, 0.5, 0.5]), method="Nelder-Mead",
                   options={"xatol": 1e-8, "fatol": 1e-9, "maxiter": 4000})
    b = _b(s)
    assert s.e.scalars["ll"] == pytest.approx(-opt.fun, abs=1e-4)
    assert b["hi:_cons"] == pytest.approx(opt.x[0], abs=1e-3)
    assert b["hi:ses"] == pytest.approx(opt.x[1], abs=1e-3)
    assert abs(b["id1:_cons"]) == pytest.approx(abs(opt.x[2]), abs=1e-3)
    # the same fit as melogit with intmethod(ghermite) intpoints(8)
    ll = s.e.scalars["ll"]
    ok(s, "melogit hi ses || id:, intmethod(ghermite) intpoints(8) nolog")
    assert s.e.scalars["ll"] == pytest.approx(ll, abs=1e-6)


def test_gaussian_random_slope_matches_lmer(gauss_slope):
    s, out = gauss_slope
    r = REF["gauss"]
    b = _b(s)
    assert list(b) == ["mathach:ses", "mathach:_cons", "lns1:_cons", "id1_1:cons", "id1_2:ses",
                       "id1_2_1:_cons"]
    assert b["mathach:_cons"] == pytest.approx(r["b"][0], abs=1e-4)
    assert b["mathach:ses"] == pytest.approx(r["b"][1], abs=1e-4)
    assert math.exp(2 * b["lns1:_cons"]) == pytest.approx(r["resid"], rel=1e-4)
    L = np.array([[b["id1_1:cons"], 0], [b["id1_2_1:_cons"], b["id1_2:ses"]]])
    P = L @ L.T
    assert P[0, 0] == pytest.approx(r["var1"], rel=1e-3)
    assert P[1, 1] == pytest.approx(r["var2"], rel=1e-2)
    assert P[1, 0] == pytest.approx(r["cov"], abs=2e-3)
    assert s.e.scalars["ll"] == pytest.approx(r["ll"], abs=1e-3)
    assert "Variance at level 1" in out
    cov = next(ln for ln in out.splitlines() if "cov(2,1):" in ln)
    assert "cor(2,1):" in cov
    assert float(cov.split()[1]) == pytest.approx(r["cov"], abs=2e-3)


def test_gllapred_u_are_the_blups(gauss_slope):
    s, _ = gauss_slope
    r = REF["gauss"]
    out = ok(s, "gllapred eb, u")
    assert "ebm1" in out and "ebs2" in out
    ids = np.asarray(s.data.values("id"))
    first = {}
    for i, v in enumerate(ids):
        first.setdefault(str(int(v)), i)
    rows = [first[k] for k in r["school"]]
    for var, ref, tol in (("ebm1", "eb1", 2e-3), ("ebm2", "eb2", 2e-3),
                          ("ebs1", "sd1", 2e-3), ("ebs2", "sd2", 5e-3)):
        got = np.asarray(s.data.values(var))[rows]
        assert np.allclose(got, r[ref], atol=tol), var
    rc, out = run(s, "gllapred eb, u")
    assert rc == 110


def test_gllapred_mu_is_the_posterior_mean(logit_adapt):
    s, _ = logit_adapt
    ok(s, "capture drop pm")
    ok(s, "gllapred pm, mu")
    ok(s, "capture drop xbv")
    ok(s, "gllapred xbv, xb")
    b = _b(s)
    sd = abs(b["id1:_cons"])
    y = np.asarray(s.data.values("hi"), float)
    xb = b["hi:_cons"] + b["hi:ses"] * np.asarray(s.data.values("ses"), float)
    assert np.allclose(np.asarray(s.data.values("xbv")), xb, atol=1e-10)
    ids = np.asarray(s.data.values("id"))
    pm = np.asarray(s.data.values("pm"))
    u = np.linspace(-8 * sd, 8 * sd, 4001)
    prior = -0.5 * (u / sd) ** 2
    for gid in np.unique(ids)[:25]:
        rows = ids == gid
        e = xb[rows][:, None] + u[None, :]
        lp = np.sum(y[rows][:, None] * e - np.logaddexp(0, e), axis=0) + prior
        w = np.exp(lp - lp.max())
        w /= w.sum()
        ref = (1 / (1 + np.exp(-e))) @ w
        assert np.allclose(pm[rows], ref, atol=2e-6)


def test_gllapred_mu_marginal_and_ll(logit_adapt):
    s, _ = logit_adapt
    ok(s, "capture drop mm")
    ok(s, "gllapred mm, mu marginal")
    ok(s, "capture drop llg")
    ok(s, "gllapred llg, ll")
    ids = np.asarray(s.data.values("id"))
    llg = np.asarray(s.data.values("llg"))
    first = np.unique(ids, return_index=True)[1]
    assert np.sum(llg[first]) == pytest.approx(s.e.scalars["ll"], abs=1e-4)
    b = _b(s)
    sd = abs(b["id1:_cons"])
    xb = b["hi:_cons"] + b["hi:ses"] * np.asarray(s.data.values("ses"), float)
    nodes, weights = np.polynomial.hermite.hermgauss(60)
    ref = (1 / (1 + np.exp(-(xb[:, None] + math.sqrt(2) * sd * nodes)))) @ weights / math.sqrt(math.pi)
    assert np.allclose(np.asarray(s.data.values("mm")), ref, atol=1e-6)


def test_estimates_store_table_lrtest_and_replay():
    s = _session()
    ok(s, "gllamm mathach ses, i(id) adapt nolog")
    ok(s, "estimates store m1")
    ok(s, "eq int: cons")
    ok(s, "eq slope: ses")
    ok(s, "gllamm mathach ses, i(id) nrf(2) eqs(int slope) adapt nolog")
    ok(s, "estimates store m2")
    out = ok(s, "lrtest m1 m2")
    ll1, ll2 = s.e.scalars["ll"], None
    out = ok(s, "estimates table m1 m2")
    assert "lns1" in out
    rc, out = run(s, "estimates restore m1")
    assert rc == 0
    out = ok(s, "gllamm, eform")
    assert "exp(b)" in out and "***level 2 (id)" in out
    out = ok(s, "gllamm, allc")
    assert "id1" in out


@pytest.mark.parametrize("line,rc", [
    ("gllamm hi ses", 198),                                   # i() required
    ("gllamm hi ses, i(nosuch)", 111),
    ("gllamm hi ses, i(id) nrf(2)", 198),                      # eqs() required
    ("gllamm hi ses, i(id) family(gamma)", 198),
    ("gllamm hi ses, i(id) link(mlogit)", 198),
    ("gllamm hi ses, i(id) eqs(nosuch)", 111),
    ("gllamm hi ses, i(id) weight(nowt)", 111),
    ("gllamm hi ses, i(id) bogus", 198),
    ("gllamm", 301),
    ("gllapred x, u", 301),
])
def test_bad_input(line, rc):
    s = _session()
    before = list(s.data.names)
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert list(s.data.names) == before


def test_gllapred_refusals(logit_adapt):
    s, _ = logit_adapt
    assert run(s, "gllapred q1")[0] == 198                    # no statistic
    assert run(s, "gllapred q1, xb mu")[0] == 198
    assert run(s, "gllapred q1, xb marginal")[0] == 198
    assert run(s, "gllapred q1, s")[0] == 198                 # no level-1 variance
    assert run(s, "gllapred hi, xb")[0] == 110


def test_if_in_restrict_the_sample_as_melogit():
    s = _session()
    ok(s, "gllamm hi ses if sector == 1 in 1/5000, i(id) family(binomial) nip(4) nolog")
    ll, n = s.e.scalars["ll"], s.e.scalars["N"]
    ok(s, "melogit hi ses if sector == 1 in 1/5000 || id:, intmethod(ghermite) intpoints(4) nolog")
    assert s.e.scalars["N"] == n
    assert s.e.scalars["ll"] == pytest.approx(ll, abs=1e-6)


def test_poisson_adaptive_matches_glmer_and_a_dense_likelihood():
    """glmer's estimates; its nAGQ > 1 log likelihood leaves constants out, so the log
    likelihood is checked by a dense grid over each school's random intercept."""
    from scipy.special import gammaln
    s = _session()
    ok(s, "gen cnt = floor(mathach/4)")
    ok(s, "replace cnt = 0 if cnt < 0")
    ok(s, "gllamm cnt ses, i(id) family(poisson) adapt nolog")
    r = REF["poisson"]
    b = _b(s)
    assert b["cnt:_cons"] == pytest.approx(r["b"][0], abs=1e-4)
    assert b["cnt:ses"] == pytest.approx(r["b"][1], abs=1e-4)
    assert b["id1:_cons"] ** 2 == pytest.approx(r["var"], rel=2e-3)
    y = np.asarray(s.data.values("cnt"), float)
    x = np.asarray(s.data.values("ses"), float)
    ids = np.asarray(s.data.values("id"))
    sd = abs(b["id1:_cons"])
    u = np.linspace(-8 * sd, 8 * sd, 4001)
    tot = 0.0
    for gid in np.unique(ids):
        rows = ids == gid
        e = b["cnt:_cons"] + b["cnt:ses"] * x[rows][:, None] + u[None, :]
        lp = (np.sum(y[rows][:, None] * e - np.exp(e) - gammaln(y[rows] + 1)[:, None], axis=0)
              - 0.5 * (u / sd) ** 2 - 0.5 * math.log(2 * math.pi * sd * sd))
        m = lp.max()
        tot += m + math.log(np.exp(lp - m).sum() * (u[1] - u[0]))
    assert s.e.scalars["ll"] == pytest.approx(tot, abs=1e-5)


def test_ologit_matches_clmm():
    s = _session()
    ok(s, "gen ord = 1 + (mathach > 8) + (mathach > 16)")
    out = ok(s, "gllamm ord ses if id < 3000, i(id) link(ologit) adapt nolog")
    r = REF["ologit"]
    assert s.e.scalars["N"] == r["n"]
    b = _b(s)
    assert list(b) == ["ord:ses", "_cut11:_cons", "_cut12:_cons", "id1:_cons"]
    assert b["ord:ses"] == pytest.approx(r["b"], abs=1e-4)
    assert b["_cut11:_cons"] == pytest.approx(r["cut"][0], abs=1e-4)
    assert b["_cut12:_cons"] == pytest.approx(r["cut"][1], abs=1e-4)
    assert b["id1:_cons"] ** 2 == pytest.approx(r["var"], rel=2e-3)
    assert s.e.scalars["ll"] == pytest.approx(r["ll"], abs=1e-3)
    assert "_cut12" in out
    # P(y > 2) marginal over the random intercept: a dense Gauss-Hermite rule
    ok(s, "gllapred pm, mu above(2) marginal")
    sd = abs(b["id1:_cons"])
    xb = b["ord:ses"] * np.asarray(s.data.values("ses"), float)
    nodes, weights = np.polynomial.hermite.hermgauss(60)
    e = xb[:, None] + math.sqrt(2) * sd * nodes
    ref = (1 / (1 + np.exp(-(e - b["_cut12:_cons"])))) @ weights / math.sqrt(math.pi)
    inside = np.asarray(s.data.values("id")) < 3000
    assert np.allclose(np.asarray(s.data.values("pm"))[inside], ref[inside], atol=1e-6)
    assert np.all(np.isnan(np.asarray(s.data.values("pm"))[~inside]))      # e(sample) only
    assert run(s, "gllapred pq, mu")[0] == 198             # above() needed


def test_three_levels_lowest_first_as_melogit():
    """i(class school): level 2 is the first variable; e(b) and gllapred u number level 2's
    effects first, melogit's reffects list the outermost level first."""
    s = _session()
    for line in ("set seed 12", "gen byte cl = mod(_n, 3)", "egen sc = group(id cl)",
                 "bysort sc: gen double ce = rnormal(0, 1) if _n == 1",
                 "bysort sc: replace ce = ce[1]", "gen h3 = mathach + 3*ce > 13"):
        ok(s, line)
    out = ok(s, "gllamm h3 ses if id < 3000, i(sc id) family(binom) nip(3) adapt nolog")
    assert [f"{e}:{n}" for e, n in s.e.names] == ["h3:ses", "h3:_cons", "sc1:_cons", "id2:_cons"]
    assert "number of level 3 units = 39" in out and "***level 3 (id)" in out
    ll = s.e.scalars["ll"]
    b = s.e.b.copy()
    ok(s, "gllapred q, u")
    ok(s, "melogit h3 ses if id < 3000 || id: || sc:, intpoints(3) nolog")
    assert s.e.scalars["ll"] == pytest.approx(ll, abs=1e-6)
    assert b[2] ** 2 == pytest.approx(s.e.b[3], rel=1e-6)       # var(_cons[id>sc])
    assert b[3] ** 2 == pytest.approx(s.e.b[2], rel=1e-6)       # var(_cons[id])
    ok(s, "predict a c, reffects reses(sa sc_se)")
    v = lambda n: np.asarray(s.data.values(n))
    inside = v("id") < 3000
    assert np.allclose(v("qm1")[inside], v("c")[inside], atol=1e-8)
    assert np.allclose(v("qm2")[inside], v("a")[inside], atol=1e-8)
    assert np.allclose(v("qs1")[inside], v("sc_se")[inside], atol=1e-8)


def test_same_fits_as_mepoisson_and_mixed():
    """Poisson with gllamm's default quadrature is mepoisson's ghermite with 8 points; the
    Gaussian model is mixed's ML fit (lns1 = lnsig_e, the SD of the intercept its exp)."""
    s = _session()
    ok(s, "gen cnt = floor(mathach/4) if id < 3000")
    ok(s, "replace cnt = 0 if cnt < 0")
    ok(s, "gllamm cnt ses, i(id) family(poisson) nolog")
    g = s.e.b.copy()
    ll = s.e.scalars["ll"]
    ok(s, "mepoisson cnt ses || id:, intmethod(ghermite) intpoints(8) nolog")
    assert s.e.scalars["ll"] == pytest.approx(ll, abs=1e-6)
    assert g[2] ** 2 == pytest.approx(s.e.b[2], rel=1e-6)
    ok(s, "gllamm mathach ses if id < 3000, i(id) adapt nolog")
    g, V = s.e.b.copy(), s.e.V.copy()
    ll = s.e.scalars["ll"]
    ok(s, "mixed mathach ses if id < 3000 || id:, mle nolog")
    b = _b(s)
    assert s.e.scalars["ll"] == pytest.approx(ll, abs=1e-8)
    assert g[2] == pytest.approx(b["lnsig_e:_cons"], abs=1e-8)
    assert g[3] == pytest.approx(math.exp(b["lns1_1_1:_cons"]), rel=1e-8)
    # e(V) by the delta method: var(sd) = sd^2 var(ln sd)
    j = [f"{e}:{n}" for e, n in s.e.names].index("lns1_1_1:_cons")
    assert V[3, 3] == pytest.approx(g[3] ** 2 * s.e.V[j, j], rel=1e-4)
