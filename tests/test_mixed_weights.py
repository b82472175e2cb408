"""`mixed` with [fweight=] and [pweight=] (hlmshell/commands/mixed_weights.py).

References are independent of the weighted code path:
- fweights: the same model fitted on the expanded data (`expand`), where every row is there
  w times and no weight is involved (ML, REML, vce(robust), BLUPs, e(N) and group sizes);
- pweights (level one): the pseudo-likelihood of Stata's Methods and formulas written out
  densely per group in numpy (log N(y_j; X_j b, sigma^2 (W_j^-1 + Z_j Psi Z_j')) up to the
  weights' own terms), maximised by scipy, and its cluster sandwich by numerical scores;
  rescaling the weights changes nothing but the point where n enters (checked);
- estimates do not move with the location or units of a covariate.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from session_run import ok, run

from hlmshell.output.writer import Capture
from hlmshell.session import Session


def _data(seed=3, G=12, m=5):
    rng = np.random.default_rng(seed)
    n = G * m
    ids = np.repeat(np.arange(1, G + 1), m)
    x = rng.normal(size=n)
    z = rng.normal(size=n)
    u0 = rng.normal(size=G)[ids - 1]
    u1 = 0.5 * rng.normal(size=G)[ids - 1]
    y = 1.0 + 0.5 * x - 0.3 * z + u0 + u1 * x + rng.normal(size=n)
    f = 1 + (np.arange(n) * 7 + seed) % 4
    pw = np.round(0.5 + 2.5 * rng.random(n), 3)
    return {"id": ids, "x": x, "z": z, "y": y, "f": f, "pw": pw}


def _session(tmp_path, data) -> Session:
    import csv
    path = tmp_path / "d.csv"
    names = list(data)
    with open(path, "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(names)
        for i in range(len(data[names[0]])):
            wr.writerow([repr(float(data[k][i])) for k in names])
    s = Session(Capture())
    ok(s, f'import delimited "{path}", clear asdouble')
    return s


def _fit(s, line):
    ok(s, "quietly " + line)
    e = s.e
    return np.asarray(e.b, dtype=float), np.asarray(e.V, dtype=float), dict(e.scalars)


@pytest.fixture
def sess(tmp_path):
    return _session(tmp_path, _data())


@pytest.mark.parametrize("model", ["y x z || id:", "y x z || id: x, cov(unstructured)",
                                   "y x z || id: || sub:", "yk x z || _all: R.k || id:"])
@pytest.mark.parametrize("opts", ["mle", "vce(robust)"])
def test_fweights_equal_the_expanded_data(sess, model, opts):
    if "_all" in model and opts == "vce(robust)":
        return                      # robust needs a top level other than _all (r(498))
    ok(sess, "generate sub = 10 * id + (mod(_n, 5) < 2)")      # nested in id
    ok(sess, "generate k = mod(_n, 4)")                          # crossed with id
    ok(sess, "generate double yk = y + 0.7 * k * (k - 2)")      # with a variance across k
    head, _, tail = model.partition(" ||")
    b_w, V_w, sc_w = _fit(sess, f"mixed {head} [fw=f] ||{tail}, {opts}" if "," not in tail
                          else f"mixed {head} [fw=f] ||{tail} {opts}")
    g_w = {k: np.asarray(sess.e.matrices[k]).ravel() for k in ("N_g", "g_min", "g_avg", "g_max")}
    ok(sess, "expand f")
    b_e, V_e, sc_e = _fit(sess, f"mixed {model}, {opts}" if "," not in model
                          else f"mixed {model} {opts}")
    assert sc_w["N"] == sc_e["N"] == pytest.approx(float(np.sum(_data()["f"])))
    np.testing.assert_allclose(b_w, b_e, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(V_w, V_e, rtol=1e-4, atol=1e-9)
    assert sc_w["ll"] == pytest.approx(sc_e["ll"], rel=1e-9)
    if "chi2_c" in sc_e:
        assert sc_w["chi2_c"] == pytest.approx(sc_e["chi2_c"], rel=1e-6, abs=1e-8)
    for k, v in g_w.items():
        np.testing.assert_allclose(v, np.asarray(sess.e.matrices[k]).ravel())


def test_fweights_header_and_blups_as_expanded(sess):
    out_w = ok(sess, "mixed y x [fw=f] || id:")
    assert "Number of obs     =        " in out_w
    assert sess.e.macros["wtype"] == "fweight" and sess.e.macros["wexp"] == "= f"
    ok(sess, "predict u_w, reffects")
    ok(sess, "predict xb_w, fitted")
    ok(sess, "expand f")
    out_e = ok(sess, "mixed y x || id:")
    tail = lambda t: t[t.index("Mixed-effects"):]
    assert tail(out_w) == tail(out_e)
    ok(sess, "predict u_e, reffects")
    ok(sess, "predict xb_e, fitted")
    ds = sess.data
    np.testing.assert_allclose(ds.var("u_w").values, ds.var("u_e").values, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ds.var("xb_w").values, ds.var("xb_e").values, rtol=1e-6, atol=1e-9)


def test_fweights_linear_model_without_random_effects(sess):
    b_w, V_w, sc_w = _fit(sess, "mixed y x [fw=f], mle")
    ok(sess, "expand f")
    b_e, V_e, sc_e = _fit(sess, "mixed y x, mle")
    np.testing.assert_allclose(b_w, b_e, rtol=1e-9)
    np.testing.assert_allclose(V_w, V_e, rtol=1e-8)
    assert sc_w["ll"] == pytest.approx(sc_e["ll"], rel=1e-10)


def test_fweights_location_and_scale_of_a_covariate(sess):
    b0, V0, _ = _fit(sess, "mixed y x z [fw=f] || id:")
    ok(sess, "generate double x2 = 1000 + 50*x")
    b1, V1, _ = _fit(sess, "mixed y x2 z [fw=f] || id:")
    assert b1[0] * 50 == pytest.approx(b0[0], rel=1e-6)
    assert math.sqrt(V1[0, 0]) * 50 == pytest.approx(math.sqrt(V0[0, 0]), rel=1e-5)
    np.testing.assert_allclose(b1[3:], b0[3:], rtol=1e-6, atol=1e-8)


# --- pweights: the pseudo-likelihood written out per group -------------------------------------
def _pseudo_reference(d, w):
    """ML pseudo-likelihood estimates (b0, b1, ln sd_u, ln sd_e) of y = b0 + b1 x + u_j + e with
    level-one weights w: per group, the weighted Gaussian terms integrated over u_j, i.e.
    sum_i w_i log phi(y_i; ., s_e^2) integrated against N(0, s_u^2); and the cluster sandwich
    of the group contributions' scores (numerical), with the G/(G-1) factor."""
    from scipy.optimize import minimize
    y, x, ids = d["y"], d["x"], d["id"]
    groups = [np.flatnonzero(ids == g) for g in np.unique(ids)]

    def group_ll(par, rows):
        b0, b1, lsu, lse = par
        su2, se2 = math.exp(2 * lsu), math.exp(2 * lse)
        r, ww = y[rows] - b0 - b1 * x[rows], w[rows]
        a = ww.sum() / se2 + 1.0 / su2              # posterior precision of u_j
        c = (ww * r).sum() / se2
        return (-0.5 * ww.sum() * math.log(2 * math.pi * se2) - 0.5 * (ww * r * r).sum() / se2
                - 0.5 * math.log(su2 * a) + 0.5 * c * c / a)

    def negll(par):
        return -sum(group_ll(par, rows) for rows in groups)

    res = minimize(negll, np.array([1.0, 0.5, 0.0, 0.0]), method="BFGS",
                   options={"gtol": 1e-10, "maxiter": 2000})
    par = res.x
    h = 1e-5
    k = len(par)
    S = np.zeros((len(groups), k))
    H = np.zeros((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        S[:, j] = [(group_ll(par + e, r) - group_ll(par - e, r)) / (2 * h) for r in groups]
    for i in range(k):
        for j in range(k):
            ei, ej = np.zeros(k), np.zeros(k)
            ei[i], ej[j] = 1e-4, 1e-4
            H[i, j] = (negll(par + ei + ej) - negll(par + ei - ej) - negll(par - ei + ej)
                       + negll(par - ei - ej)) / (4e-8)
    # the bread as mixed's model VCE (tests/test_vce_robust.py): block diagonal, the fixed
    # effects' inverse Hessian beside the inverse Hessian of the profiled pseudo-likelihood (the
    # variance block of the full inverse, by the Schur complement)
    bread = np.zeros((k, k))
    bread[:2, :2] = np.linalg.inv(H[:2, :2])
    bread[2:, 2:] = np.linalg.inv(H)[2:, 2:]
    G = len(groups)
    V = bread @ (S.T @ S) @ bread * G / (G - 1)
    return par, V, -res.fun


def test_level_one_pweights_against_dense_pseudolikelihood(sess):
    d = _data()
    b, V, sc = _fit(sess, "mixed y x [pw=pw] || id:")
    par, Vref, llref = _pseudo_reference(d, d["pw"])
    order = [1, 0, 2, 3]                     # e(b): x, _cons, lns1_1_1, lnsig_e
    par, Vref = par[order], Vref[np.ix_(order, order)]
    np.testing.assert_allclose(b, par, rtol=1e-5, atol=1e-6)
    assert sc["ll"] == pytest.approx(llref, rel=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(V)), np.sqrt(np.diag(Vref)), rtol=2e-3)
    e = sess.e
    assert e.macros["vce"] == "cluster" and e.macros["vcetype"] == "Robust"
    assert e.macros["wtype"] == "pweight" and sc["N"] == 60 and sc["N_clust"] == 12
    assert "chi2_c" not in sc


def test_pweights_output_is_a_pseudolikelihood(sess):
    out = ok(sess, "mixed y x [pw=pw] || id:")
    assert "Log pseudolikelihood" in out
    assert "(Std. err. adjusted for 12 clusters in id)" in out
    assert "LR test" not in out


def test_pweights_location_and_scale(sess):
    b0, V0, _ = _fit(sess, "mixed y x [pw=pw] || id:")
    ok(sess, "generate double y2 = 10 + 3*y")
    b1, V1, _ = _fit(sess, "mixed y2 x [pw=pw] || id:")
    assert b1[0] == pytest.approx(3 * b0[0], rel=1e-6)
    assert math.sqrt(V1[0, 0]) == pytest.approx(3 * math.sqrt(V0[0, 0]), rel=1e-5)
    np.testing.assert_allclose(b1[2:] - b0[2:], math.log(3), rtol=1e-6)


@pytest.mark.parametrize("line,rc", [
    ("mixed y x [fw=pw] || id:", 401),              # noninteger frequency weights
    ("mixed y x [aw=pw] || id:", 101),
    ("mixed y x [iw=pw] || id:", 101),
    ("mixed y x [pw=pw] || id:, reml", 101),         # Stata: REML not supported with weights
    ("mixed y x [fw=f] || id:, reml", 101),
    ("xtmixed y x [fw=f] || id:, reml", 101),
    ("mixed y x [pw=pw] || id:, vce(oim)", 198),
    ("mixed y x [fw=f] || id:, residuals(ar 1, t(t))", 101),
    ("mixed y x [fw=f] || id:, dfmethod(residual)", 198),
    ("mixed y x || id:, pweight(pw)", 459),          # varies within id
    ("mixed y x [pw=pw] || id:, pwscale(foo)", 198),
    ("mixed y x [pw=pw] || id:, pwscale(si)", 198),      # size takes no abbreviation
    ("mixed y x [fw=f] || id:, pwscale(size)", 198),     # pwscale needs pweights
    ("mixed y x [pw=pw] || id: || t:, pwscale(size)", 198),   # two-level models only
])
def test_bad_weights_leave_the_session(sess, line, rc):
    ok(sess, "generate t = mod(_n, 5) + 1")
    ok(sess, "quietly mixed y x || id:")
    before = (np.asarray(sess.e.b).copy(), sess.e.cmdline if hasattr(sess.e, "cmdline") else None)
    got, out = run(sess, line)
    assert got == rc, out
    assert "Traceback" not in out
    np.testing.assert_array_equal(np.asarray(sess.e.b), before[0])


def test_negative_weights(sess):
    ok(sess, "generate fneg = f - 3")
    rc, out = run(sess, "mixed y x [fw=fneg] || id:")
    assert rc == 402 and "negative weights encountered" in out


@pytest.mark.parametrize("method", ["size", "effective", "eff"])
def test_pwscale_equals_weights_scaled_by_hand(sess, method):
    """[ME] mixed's pwscale(): within each group, weights scaled to sum to n_j (size) or to
    (sum w)^2 / sum w^2 (effective); computed here with egen and compared."""
    b0, V0, sc0 = _fit(sess, f"mixed y x [pw=pw] || id:, pwscale({method})")
    ok(sess, "egen double sw = total(pw), by(id)")
    assert sess.e.macros["pwscale"] == method
    if method == "size":
        ok(sess, "egen double nj = count(pw), by(id)")
        ok(sess, "generate double ws = pw * nj / sw")
    else:
        ok(sess, "generate double pw2 = pw^2")
        ok(sess, "egen double sw2 = total(pw2), by(id)")
        ok(sess, "generate double ws = pw * sw / sw2")
    b1, V1, sc1 = _fit(sess, "mixed y x [pw=ws] || id:")
    np.testing.assert_allclose(b0, b1, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(V0, V1, rtol=1e-6, atol=1e-12)
    assert sc0["ll"] == pytest.approx(sc1["ll"], rel=1e-10)


@pytest.mark.parametrize("method", ["size", "effective"])
def test_pwscale_ignores_the_scale_of_each_groups_weights(sess, method):
    b0, V0, _ = _fit(sess, f"mixed y x [pw=pw] || id:, pwscale({method})")
    ok(sess, "generate double pwk = pw * (1 + 10 * mod(id, 3))")
    b1, V1, _ = _fit(sess, f"mixed y x [pw=pwk] || id:, pwscale({method})")
    np.testing.assert_allclose(b0, b1, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(V0, V1, rtol=1e-6, atol=1e-12)
    b2, _, _ = _fit(sess, "mixed y x [pw=pwk] || id:")
    assert not np.allclose(b2, b0, rtol=1e-4)      # unscaled, the groups' scales do matter


# --- weights at the second level: || id:, fweight() / pweight() -------------------------------
def test_group_fweights_equal_replicated_groups(sess):
    """fweight(g) in the equation: group j counts g_j times; the reference replicates whole
    groups under new identifiers (the level-one fweights stay as they are). Estimates, ll, the
    LR test, the robust VCE over the replicated clusters and the group counts agree."""
    ok(sess, "generate g = 1 + mod(id, 3)")
    fits, groups = {}, {}
    for opts in ("mle", "vce(robust)"):
        fits[opts] = _fit(sess, f"mixed y x z [fw=f] || id:, fweight(g) {opts}")
        groups[opts] = {k: float(np.asarray(sess.e.matrices[k]).ravel()[0])
                        for k in ("N_g", "g_min", "g_avg", "g_max")}
    d = _data()
    assert fits["mle"][2]["N"] == pytest.approx(float(np.sum(d["f"] * (1 + d["id"] % 3))))
    ok(sess, "generate orig = _n")
    ok(sess, "expand g")
    ok(sess, "bysort orig: generate copy = _n")
    ok(sess, "generate id2 = 100 * id + copy")
    for opts in ("mle", "vce(robust)"):
        b_w, V_w, sc_w = fits[opts]
        b_e, V_e, sc_e = _fit(sess, f"mixed y x z [fw=f] || id2:, {opts}")
        np.testing.assert_allclose(b_w, b_e, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(V_w, V_e, rtol=1e-4, atol=1e-9)
        assert sc_w["ll"] == pytest.approx(sc_e["ll"], rel=1e-9)
        if opts == "mle":
            assert sc_w["chi2_c"] == pytest.approx(sc_e["chi2_c"], rel=1e-6)
        else:
            assert sc_w["N_clust"] == sc_e["N_clust"]
        for k, v in groups[opts].items():      # the expanded data's groups (Stata's count)
            assert v == pytest.approx(float(np.asarray(sess.e.matrices[k]).ravel()[0])), k
    b_g, _, sc_g = _fit(sess, "mixed y x z || id2:")         # group weights alone
    n_g = _n_groups(sess)
    ok(sess, "keep if copy == 1")
    b_w, _, sc_w = _fit(sess, "mixed y x z || id:, fweight(g)")
    np.testing.assert_allclose(b_w, b_g, rtol=1e-6, atol=1e-8)
    assert sc_w["N"] == sc_g["N"] and sess.e.macros["fweight1"] == "g"
    assert _n_groups(sess) == n_g == float(np.sum(1 + np.unique(_data()["id"]) % 3))


def _n_groups(s):
    return float(np.asarray(s.e.matrices["N_g"]).ravel()[0])


def _two_level_reference(d, a, wg):
    """As _pseudo_reference, each group's log likelihood multiplied by its weight wg_j."""
    y, x, ids = d["y"], d["x"], d["id"]
    groups = [np.flatnonzero(ids == g) for g in np.unique(ids)]
    gw = np.array([wg[rows[0]] for rows in groups])
    from scipy.optimize import minimize

    def group_ll(par, rows):
        b0, b1, lsu, lse = par
        su2, se2 = math.exp(2 * lsu), math.exp(2 * lse)
        r, ww = y[rows] - b0 - b1 * x[rows], a[rows]
        A = ww.sum() / se2 + 1.0 / su2
        c = (ww * r).sum() / se2
        return (-0.5 * ww.sum() * math.log(2 * math.pi * se2) - 0.5 * (ww * r * r).sum() / se2
                - 0.5 * math.log(su2 * A) + 0.5 * c * c / A)

    def negll(par):
        return -sum(w * group_ll(par, rows) for w, rows in zip(gw, groups))

    par = minimize(negll, np.array([1.0, 0.5, 0.0, 0.0]), method="BFGS",
                   options={"gtol": 1e-10, "maxiter": 2000}).x
    k, G = 4, len(groups)
    S = np.zeros((G, k))
    H = np.zeros((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = 1e-5
        S[:, j] = [w * (group_ll(par + e, r) - group_ll(par - e, r)) / 2e-5
                   for w, r in zip(gw, groups)]
    for i in range(k):
        for j in range(k):
            ei, ej = np.zeros(k), np.zeros(k)
            ei[i], ej[j] = 1e-4, 1e-4
            H[i, j] = (negll(par + ei + ej) - negll(par + ei - ej) - negll(par - ei + ej)
                       + negll(par - ei - ej)) / 4e-8
    bread = np.zeros((k, k))
    bread[:2, :2] = np.linalg.inv(H[:2, :2])
    bread[2:, 2:] = np.linalg.inv(H)[2:, 2:]
    V = bread @ (S.T @ S) @ bread * G / (G - 1)
    order = [1, 0, 2, 3]
    return par[order], V[np.ix_(order, order)], -negll(par)


@pytest.mark.parametrize("level1", [False, True])
def test_group_pweights_against_dense_pseudolikelihood(sess, level1):
    d = _data()
    gw = 0.5 + (d["id"] % 4) * 0.75
    ok(sess, "generate double g = 0.5 + mod(id, 4) * 0.75")
    a = d["pw"] if level1 else np.ones(len(d["y"]))
    b, V, sc = _fit(sess, "mixed y x [pw=pw] || id:, pweight(g)" if level1
                    else "mixed y x || id:, pweight(g)")
    par, Vref, llref = _two_level_reference(d, a, gw)
    np.testing.assert_allclose(b, par, rtol=1e-5, atol=1e-6)
    assert sc["ll"] == pytest.approx(llref, rel=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(V)), np.sqrt(np.diag(Vref)), rtol=2e-3)
    assert sess.e.macros["vcetype"] == "Robust" and sc["N"] == 60 and "chi2_c" not in sc


def test_pwscale_gk_moves_the_weights_to_level_two(sess):
    """Graubard and Korn: w_j* = mean over the group of w_i|j w_j, level-one weights 1."""
    ok(sess, "generate double g = 0.5 + mod(id, 4) * 0.75")
    b0, V0, _ = _fit(sess, "mixed y x [pw=pw] || id:, pweight(g) pwscale(gk)")
    ok(sess, "generate double prod = pw * g")
    ok(sess, "egen double gk = mean(prod), by(id)")
    b1, V1, _ = _fit(sess, "mixed y x || id:, pweight(gk)")
    np.testing.assert_allclose(b0, b1, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(V0, V1, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("line,rc", [
    ("mixed y x || id:, pweight(pw)", 459),                 # not constant within id
    ("mixed y x [pw=pw] || id:, fweight(f2)", 198),          # fweights and pweights mixed
    ("mixed y x || id:, fweight(gh)", 401),                  # noninteger
    ("mixed y x || id:, pweight(gneg)", 402),
    ("mixed y x || id: || sub:, pweight(f2)", 198),          # two-level models only
    ("mixed y x || id:, pweight()", 198),
    ("mixed y x, pweight(f2) || id:", 198),                  # an equation's option only
])
def test_bad_group_weights_leave_the_session(sess, line, rc):
    ok(sess, "generate f2 = 1 + mod(id, 2)")
    ok(sess, "generate gh = 0.5 + mod(id, 2)")
    ok(sess, "generate gneg = mod(id, 2) - 1")
    ok(sess, "generate sub = 10 * id + (mod(_n, 5) < 2)")
    ok(sess, "quietly mixed y x || id:")
    b = np.asarray(sess.e.b).copy()
    got, out = run(sess, line)
    assert got == rc, out
    assert "Traceback" not in out
    np.testing.assert_array_equal(np.asarray(sess.e.b), b)
