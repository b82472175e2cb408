"""me* commands with several random-effects levels (engine.glmm_multi, commands.me_multilevel).

References: lme4::glmer Laplace fits of nested and crossed models
(tests/data/glmm/multilevel_reference.json, made by make_multilevel_reference.R beside it) on
mlmRev's guImmun (children in mothers in communities) and lme4's VerbAgg (items crossed with
subjects); nested adaptive quadrature against a dense, non-adaptive Gauss-Hermite product
rule written out here (many points, one top-level group at a time, no adaptation)."""
import json
import math
import os

import numpy as np
import pytest

from hlmshell.engine import glmm_families as gf
from hlmshell.engine import glmm_multi as gm
from hlmshell.engine.types import RandomBlock
from hlmshell.engine.vcparams import Structure
from session_run import csv_session, ok, run

HERE = os.path.dirname(__file__)
REF = json.load(open(os.path.join(HERE, "data", "glmm", "multilevel_reference.json")))


@pytest.fixture(scope="module")
def gu():
    return csv_session("tests/data/glmm/guimmun.csv")


def _b(s):
    return dict(zip([f"{e}:{n}" for e, n in s.e.names], s.e.b))


def _se(s):
    return dict(zip([f"{e}:{n}" for e, n in s.e.names], np.sqrt(np.diag(s.e.V))))


def _check_fixed(s, depvar, ref, tol=1e-4, se_tol=2e-3):
    b, se = _b(s), _se(s)
    for nm, val, sd in zip(ref["names"], ref["fixef"], ref["se"]):
        key = f"{depvar}:{'_cons' if nm == '(Intercept)' else nm.lower()}"
        assert b[key] == pytest.approx(val, rel=tol, abs=tol * 0.1), key
        assert se[key] == pytest.approx(sd, rel=se_tol), key


# --------------------------------------------------------------------------- Laplace vs glmer
def test_nested_laplace_matches_glmer(gu):
    out = ok(gu, "melogit immun kid2p mom25p rural pcind81 || cluster: || mom:, intmethod(laplace)")
    ref = REF["gu_nested_laplace"]
    assert abs(gu.e.scalars["ll"] - ref["logLik"]) < 1e-6 * abs(ref["logLik"])
    _check_fixed(gu, "immun", ref)
    b = _b(gu)
    assert b["/:var(_cons[cluster])"] == pytest.approx(ref["variances"][1], rel=1e-4)
    assert b["/:var(_cons[cluster>mom])"] == pytest.approx(ref["variances"][0], rel=1e-4)
    # Stata's layout: the group table, each level under its path, the conservative LR note
    assert " Group variable |     groups    Minimum    Average    Maximum" in out
    assert "        cluster |        161          1       13.4         55" in out
    assert "            mom |      1,595          1        1.4          3" in out
    assert "Integration method: laplace" in out
    assert "cluster>mom  |\n   var(_cons)|" in out
    assert "LR test vs. logistic model: chi2(2) = " in out
    assert out.rstrip().endswith("Note: LR test is conservative and provided only for reference.")
    assert gu.e.macros["ivars"] == "cluster mom"
    assert gu.e.matrices["N_g"].tolist() == [[161.0, 1595.0]]
    assert gu.e.matrices["g_max"].tolist() == [[55.0, 3.0]]
    assert gu.e.scalars["df_c"] == 2 and gu.e.scalars["k_r"] == 2
    assert gu.e.scalars["k_rs"] == 2 and gu.e.scalars["k_rc"] == 0


def test_nested_random_slope_laplace_matches_glmer(gu):
    ok(gu, "melogit immun kid2p rural || cluster: kid2p, cov(unstructured) || mom:, "
           "intmethod(laplace) nolog")
    ref = REF["gu_slope_laplace"]
    assert abs(gu.e.scalars["ll"] - ref["logLik"]) < 1e-6 * abs(ref["logLik"])
    _check_fixed(gu, "immun", ref, se_tol=5e-3)
    b = _b(gu)
    want = dict(zip(ref["vcov_names"], ref["variances"]))
    assert b["/:var(_cons[cluster>mom])"] == pytest.approx(want["cluster:mom (Intercept) NA"], rel=1e-3)
    assert b["/:var(_cons[cluster])"] == pytest.approx(want["cluster (Intercept) NA"], rel=1e-3)
    assert b["/:var(kid2p[cluster])"] == pytest.approx(want["cluster kid2p NA"], rel=1e-3)
    assert b["/:cov(kid2p[cluster],_cons[cluster])"] == pytest.approx(
        want["cluster (Intercept) kid2p"], rel=1e-3)
    assert gu.e.scalars["k_rs"] == 3 and gu.e.scalars["k_rc"] == 1


def test_poisson_nested_with_a_zero_variance(gu):
    ok(gu, "mepoisson immun kid2p rural || cluster: || mom:, intmethod(laplace) nolog")
    ref = REF["gu_poisson_laplace"]
    assert abs(gu.e.scalars["ll"] - ref["logLik"]) < 1e-6 * abs(ref["logLik"])
    b = _b(gu)
    assert b["/:var(_cons[cluster])"] == pytest.approx(ref["variances"][1], rel=1e-3)
    assert b["/:var(_cons[cluster>mom])"] < 1e-6
    assert b["immun:kid2p"] == pytest.approx(ref["fixef"][1], rel=1e-4)


def test_crossed_laplace_matches_glmer():
    s = csv_session("tests/data/glmm/verbagg.csv")
    out = ok(s, "melogit r2 anger male do other || _all: R.item || id:")
    ref = REF["verbagg_crossed_laplace"]
    assert s.e.macros["intmethod"] == "laplace"            # Stata's default with crossed effects
    assert abs(s.e.scalars["ll"] - ref["logLik"]) < 1e-6 * abs(ref["logLik"])
    _check_fixed(s, "r2", ref)
    b = _b(s)
    assert b["/:var(_cons[_all>item])"] == pytest.approx(ref["variances"][1], rel=1e-4)
    assert b["/:var(_cons[id])"] == pytest.approx(ref["variances"][0], rel=1e-4)
    assert "           _all |          1      7,584     7584.0      7,584" in out
    assert "_all>item    |" in out
    # predict: one effect per level (the row's item, the row's subject), modes for crossed
    ok(s, "predict r1 r2hat, reffects")
    ok(s, "predict p")
    r1 = s.data.values("r1")
    assert len(np.unique(np.round(r1, 6))) == 24
    eta = np.asarray(s.data.values("p"))
    assert np.all((eta > 0) & (eta < 1))
    rc, out = run(s, "melogit r2 anger || _all: R.item || id:, intmethod(mvaghermite)")
    assert rc == 198 and "intmethod(laplace)" in out


# --------------------------------------------------------------------------- nested quadrature
def _small_nested(seed=3, top=6, mid=3, per=4):
    rng = np.random.default_rng(seed)
    g1 = np.repeat(np.arange(top), mid * per)
    g2 = np.repeat(np.arange(top * mid), per)
    n = len(g1)
    x = rng.normal(size=n)
    eta = -0.3 + 0.8 * x + rng.normal(size=top)[g1] * 1.2 + rng.normal(size=top * mid)[g2] * 0.9
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    X = np.column_stack([x, np.ones(n)])
    blocks = [RandomBlock(g1, np.ones((n, 1)), ["_cons"], "identity", "a", 1),
              RandomBlock(g2, np.ones((n, 1)), ["_cons"], "identity", "b", 2)]
    return y, X, g1, g2, gm.MultiData(y, X, np.zeros(n), np.ones(n), blocks)


def _brute(y, X, g1, g2, beta, s1, s2, points=60):
    """log L by a plain Gauss-Hermite product rule: for every top group and every node of its
    effect, each inner group's integral over its own nodes (no adaptation)."""
    t, w = np.polynomial.hermite_e.hermegauss(points)
    w = w / math.sqrt(2 * math.pi)                     # weights of N(0, 1)
    xb = X @ beta
    total = 0.0
    posterior = {}
    tops = []
    for a in np.unique(g1):
        rows_a = g1 == a
        like_a = np.ones(points)
        inner = {}
        for b in np.unique(g2[rows_a]):
            r = g2 == b
            eta = xb[r][:, None, None] + s1 * t[None, :, None] + s2 * t[None, None, :]
            p = 1 / (1 + np.exp(-eta))
            lik = np.prod(np.where(y[r][:, None, None] == 1, p, 1 - p), axis=0)   # (t1, t2)
            Ib = lik @ w                                                           # (t1,)
            like_a *= Ib
            inner[b] = (lik, Ib)
        La = like_a @ w
        total += math.log(La)
        tops.append(math.log(La))
        post1 = w * like_a / La                                 # posterior weights of t1
        posterior[("a", a)] = s1 * float(post1 @ t)
        for b, (lik, Ib) in inner.items():
            joint = post1[:, None] * (lik * w[None, :]) / Ib[:, None]
            posterior[("b", b)] = s2 * float(joint.sum(axis=0) @ t)
    posterior["tops"] = np.array(tops)
    return total, posterior


def test_nested_quadrature_equals_dense_gauss_hermite():
    y, X, g1, g2, data = _small_nested()
    fam = gf.family("binomial", "logit")
    sts = [Structure("identity", 1), Structure("identity", 1)]
    x = np.array([0.7, -0.2, 1.1, 0.8])                  # b, then lambda (sd) per level
    exact, post = _brute(y, X, g1, g2, x[:2], 1.1, 0.8, points=80)
    lap = gm.LaplaceMulti(data, fam, sts)
    lap.value(x)
    q = gm.NestedQuad(data, fam, sts, 30, "mv")
    q.init_adapt(lap, q.split(x)[1])
    assert q.loglik(x) == pytest.approx(exact, abs=1e-9)
    q7 = gm.NestedQuad(data, fam, sts, 7, "mv")
    q7.init_adapt(lap, q7.split(x)[1])
    assert q7.loglik(x) == pytest.approx(exact, abs=2e-3)   # 7 adapted points: close, not exact
    plain = gm.NestedQuad(data, fam, sts, 80, "none")
    assert plain.loglik(x) == pytest.approx(exact, abs=1e-9)
    # posterior means of both levels (what predict reffects gives)
    mus, _ = q.posterior(x)
    lay = q.lay
    for k, tag in enumerate(("a", "b")):
        lam = x[2 + k]
        for run_i, code in enumerate(lay.orig[k]):
            assert lam * mus[k][run_i, 0] == pytest.approx(post[(tag, code)], abs=1e-7)
    # the fixed-node gradient is the derivative of the quadrature value (nodes held)
    q.freeze = True
    _, g = q.value_grad(x)
    for j in range(4):
        e = np.zeros(4)
        e[j] = 1e-6
        num = (q.loglik(x + e) - q.loglik(x - e)) / 2e-6
        assert g[j] == pytest.approx(num, rel=1e-5, abs=1e-6)
    q.freeze = False


def test_nested_quadrature_fit_is_the_dense_maximum():
    """melogit's default (mvaghermite) with many points reaches the maximum of the dense
    non-adaptive likelihood: its gradient there vanishes."""
    y, X, g1, g2, data = _small_nested(seed=11, top=8)
    fam = gf.family("binomial", "logit")
    sts = [Structure("identity", 1), Structure("identity", 1)]
    prob = gm.make_problem(data, fam, sts, "agq", 20)
    fit = gm.fit_problem(prob, np.array([0.0, 0.0, 1.0, 1.0]))
    x = fit.x
    for j in range(4):
        e = np.zeros(4)
        e[j] = 1e-4
        up = _brute(y, X, g1, g2, (x + e)[:2], abs((x + e)[2]), abs((x + e)[3]))[0]
        dn = _brute(y, X, g1, g2, (x - e)[:2], abs((x - e)[2]), abs((x - e)[3]))[0]
        assert abs((up - dn) / 2e-4) < 2e-4
    assert fit.ll == pytest.approx(_brute(y, X, g1, g2, x[:2], abs(x[2]), abs(x[3]))[0], abs=1e-7)


def test_robust_scores_are_the_dense_groups_derivatives():
    """vce(robust)'s scores: each top-level group's log likelihood differentiated in Stata's
    metric (b, ln sd of each level), here against the dense product rule's groups."""
    y, X, g1, g2, data = _small_nested(seed=5, top=7)
    fam = gf.family("binomial", "logit")
    sts = [Structure("identity", 1), Structure("identity", 1)]
    prob = gm.make_problem(data, fam, sts, "agq", 40)
    fit = gm.fit_problem(prob, np.array([0.0, 0.0, 1.0, 1.0]))
    S = gm.group_scores(fit, sts)
    s0 = gm.stata_point(fit, sts)                  # b, ln sd1, ln sd2

    def tops(s):
        return _brute(y, X, g1, g2, s[:2], math.exp(s[2]), math.exp(s[3]))[1]["tops"]

    for j in range(4):
        e = np.zeros(4)
        e[j] = 1e-5
        dense = (tops(s0 + e) - tops(s0 - e)) / 2e-5
        assert np.allclose(S[:, j], dense, atol=1e-6), j
    assert np.abs(S.sum(axis=0)).max() < 1e-4          # the score vanishes at the estimates


def test_vce_robust_and_cluster(gu):
    out = ok(gu, "melogit immun kid2p rural || cluster: || mom:, intmethod(laplace) vce(robust) nolog")
    assert "Log pseudolikelihood = " in out
    assert "(Std. err. adjusted for 161 clusters in cluster)" in out
    assert "LR test" not in out
    assert gu.e.macros["vce"] == "robust" and gu.e.scalars["N_clust"] == 161
    V1 = gu.e.V.copy()
    ok(gu, "melogit immun kid2p rural || cluster: || mom:, intmethod(laplace) vce(cluster cluster) nolog")
    assert np.allclose(gu.e.V, V1, rtol=1e-8, atol=1e-12)
    rc, out = run(gu, "melogit immun kid2p rural || cluster: || mom:, vce(cluster mom)")
    assert rc == 459


def test_default_method_is_nested_mvaghermite(gu):
    out = ok(gu, "melogit immun kid2p mom25p rural pcind81 || cluster: || mom:, nolog")
    assert gu.e.macros["intmethod"] == "mvaghermite" and gu.e.scalars["n_quad"] == 7
    assert "Integration method: mvaghermite                 Integration pts.  =          7" in out
    # the quadrature's log likelihood is far above Laplace's here (large mother variance)
    assert gu.e.scalars["ll"] > REF["gu_nested_laplace"]["logLik"] + 20
    b = _b(gu)
    assert b["/:var(_cons[cluster>mom])"] > 3 * b["/:var(_cons[cluster])"]
    # estat icc: level-specific latent ICCs from the two variances
    v1, v2 = b["/:var(_cons[cluster])"], b["/:var(_cons[cluster>mom])"]
    out = ok(gu, "estat icc")
    den = v1 + v2 + math.pi ** 2 / 3
    assert gu.r.scalars["icc3"] == pytest.approx(v1 / den, rel=1e-12)
    assert gu.r.scalars["icc2"] == pytest.approx((v1 + v2) / den, rel=1e-12)
    assert "cluster|mom" in out
    out = ok(gu, "estat group")
    assert "            mom |      1,595" in out
    # predict: two posterior means, mu between 0 and 1
    ok(gu, "predict u*, reffects reses(s*)")
    assert all(v in gu.data for v in ("u1", "u2", "s1", "s2"))
    ok(gu, "predict mu")
    ok(gu, "predict mode1 mode2, reffects ebmodes")
    u2 = np.asarray(gu.data.values("u2"))
    m2 = np.asarray(gu.data.values("mode2"))
    assert np.corrcoef(u2, m2)[0, 1] > 0.95 and not np.allclose(u2, m2)
    for v in ("u1", "u2", "s1", "s2", "mu", "mode1", "mode2"):
        ok(gu, f"drop {v}")


def test_refusals_leave_the_session_unchanged(gu):
    ok(gu, "melogit immun kid2p || cluster: || mom:, intmethod(laplace) nolog")
    before = (list(gu.e.names), gu.e.b.copy(), gu.data.n, list(gu.data.names) if hasattr(gu.data, "names") else None)
    for line, rc in [
        ("melogit immun kid2p || cluster: || mom:, intmethod(mcaghermite)", 198),
        ("melogit immun kid2p || cluster: || nosuch:", 111),
        ("melogit immun kid2p || cluster: || mom:, intpoints(0)", 198),
        ("mepoisson immun kid2p || cluster: || mom:, irr or", 198),
        ("melogit immun kid2p || cluster: || mom: , covariance(nosuch)", 198),
        ("melogit immun kid2p if immun > 5 || cluster: || mom:", 2000),
    ]:
        got, out = run(gu, line)
        assert got == rc, (line, out)
        assert "Traceback" not in out
        after = (list(gu.e.names), gu.e.b, gu.data.n,
                 list(gu.data.names) if hasattr(gu.data, "names") else None)
        assert after[0] == before[0] and np.array_equal(after[1], before[1])
        assert after[2:] == before[2:]
    rc, out = run(gu, "predict d, pearson marginal")
    assert rc == 198


def test_factor_within_groups_is_a_multilevel_fit():
    """`|| id: R.item` (an effect per item within each subject) goes to the multi-level
    engine with the path label id>item."""
    s = csv_session("tests/data/glmm/verbagg.csv")
    ok(s, "keep if id <= 30")
    out = ok(s, "melogit r2 anger || id: R.item, nolog")
    assert "id>item      |" in out
    assert s.e.macros["intmethod"] == "laplace"
    assert any(nm == "var(_cons[id>item])" for _, nm in s.e.names)


@pytest.mark.parametrize("kind", ["crossed", "nested_slope"])
def test_exact_laplace_gradient_equals_differences(kind):
    """The Laplace gradient (leverage from the blocked adjoint, solves through the blocked
    factorisation) against central differences of the Laplace value itself."""
    import csv
    from hlmshell.engine import design as dz
    from hlmshell.engine.types import IndicatorMatrix
    path = os.path.join(HERE, "data", "glmm", "verbagg.csv")
    rows = [r for r in csv.DictReader(open(path)) if int(r["id"]) <= 60]
    col = lambda k: np.array([float(r[k]) for r in rows])     # noqa: E731
    n = len(rows)
    y = col("r2")
    X = np.column_stack([col("anger"), col("do"), np.ones(n)])
    idc = dz.group_codes([col("id")], n)
    if kind == "crossed":
        item = col("item").astype(int) - 1
        blocks = [RandomBlock(np.zeros(n, dtype=np.int64), IndicatorMatrix([(item, 24, None)], None, n),
                              ["R.item"] * 24, "identity", "_all", 1),
                  RandomBlock(idc, np.column_stack([col("do"), np.ones(n)]), ["do", "_cons"],
                              "unstructured", "id", 2)]
        sts = [Structure("identity", 24), Structure("unstructured", 2)]
    else:
        grp = dz.group_codes([col("male")], n)
        sub = dz.group_codes([col("male"), col("id")], n)
        blocks = [RandomBlock(grp, np.column_stack([col("do"), np.ones(n)]), ["do", "_cons"],
                              "independent", "male", 1),
                  RandomBlock(sub, np.ones((n, 1)), ["_cons"], "identity", "id", 2)]
        sts = [Structure("independent", 2), Structure("identity", 1)]
    prob = gm.LaplaceMulti(gm.MultiData(y, X, np.zeros(n), np.ones(n), blocks),
                           gf.family("binomial", "logit"), sts)
    x = np.concatenate([[0.02, -0.3, -0.2]] + [st.start(0.8) + 0.05 * np.arange(st.m) for st in sts])
    _, g = prob.value_grad(x)
    modes = [b.copy() for b in prob.b]
    for j in range(len(x)):
        e = np.zeros(len(x))
        e[j] = 1e-5
        prob.b = [b.copy() for b in modes]
        up = prob.value(x + e)
        prob.b = [b.copy() for b in modes]
        dn = prob.value(x - e)
        assert g[j] == pytest.approx((up - dn) / 2e-5, rel=1e-6, abs=1e-6), j
