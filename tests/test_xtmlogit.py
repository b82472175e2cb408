"""xtmlogit (commands/xtmlogit.py, engine/xtmlogit_re.py, engine/xtmlogit_fe.py) against
numbers computed without hlmshell: tests/data/xtmlogit/reference.json (make_reference.py:
plain 40 x 40 Gauss-Hermite marginal likelihood maximised by scipy for the random-effects
models, the conditional likelihood summed over every permutation of the outcome sequence for
fe) and reference_r.json (make_reference.R: lme4::glmer nAGQ = 25 and survival::clogit for two
outcomes). predict and margins are checked against the probabilities recomputed here from
e(b) and e(V)."""
from __future__ import annotations

import itertools
import json
import os

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss
from session_run import csv_session, ok, run

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "xtmlogit")
with open(os.path.join(HERE, "reference.json")) as fh:
    REF = json.load(fh)
with open(os.path.join(HERE, "reference_r.json")) as fh:
    REF_R = json.load(fh)
SETUP = ["label define yl 1 democ 2 military 3 autocrat", "label values y yl", "xtset id t"]


def _session():
    s = csv_session("tests/data/xtmlogit/panel3.csv")
    for line in SETUP:
        ok(s, line)
    return s


@pytest.fixture(scope="module")
def s():
    return _session()


def _b(s):
    return np.asarray(s.e.b, dtype=float).ravel()


def _se(s):
    return np.sqrt(np.diag(np.asarray(s.e.V, dtype=float)))


def _idx(s, eq, name):
    return next(i for i, (e, n) in enumerate(s.e.names) if e == eq and n == name)


ORDER = [("military", "x"), ("military", "z"), ("military", "_cons"),
         ("autocrat", "x"), ("autocrat", "z"), ("autocrat", "_cons")]
VARS = {"independent": ["var(u2)", "var(u3)"], "identity": ["var(u)"],
        "exchangeable": ["var(u)", "cov(u)"],
        "unstructured": ["var(u2)", "var(u3)", "cov(u2,u3)"]}


@pytest.mark.parametrize("cov", ["independent", "identity", "exchangeable", "unstructured"])
def test_random_effects_against_plain_quadrature(s, cov):
    ok(s, f"xtmlogit y x z, baseoutcome(1) covariance({cov}) nolog")
    ref = REF[cov]
    assert abs(s.e.scalars["ll"] - ref["ll"]) < 5e-5
    idx = [_idx(s, e, n) for e, n in ORDER] + [_idx(s, "/", v) for v in VARS[cov]]
    est = _b(s)[idx]
    assert np.allclose(est, ref["b"] + ref["vc"], atol=3e-4)
    assert np.allclose(_se(s)[idx], ref["se"], rtol=3e-3)
    assert abs(s.e.scalars["ll_c"] - REF["mlogit_ll"]) < 1e-6
    assert abs(s.e.scalars["chi2_c"] - 2 * (ref["ll"] - REF["mlogit_ll"])) < 1e-4
    assert s.e.macros["covariance"] == cov and s.e.scalars["n_quad"] == 7


def test_cluster_robust_against_sandwich(s):
    ok(s, "xtmlogit y x z, baseoutcome(1) vce(cluster id) nolog")
    ref = REF["independent"]
    idx = [_idx(s, e, n) for e, n in ORDER] + [_idx(s, "/", v) for v in VARS["independent"]]
    assert np.allclose(_se(s)[idx], ref["se_cluster"], rtol=3e-3)
    assert s.e.macros["vcetype"] == "Robust" and s.e.scalars["N_clust"] == 150
    assert "chi2_c" not in s.e.scalars


def test_fixed_effects_against_permutation_sums(s):
    out = ok(s, "xtmlogit y x z, fe baseoutcome(1)")
    ref = REF["fe"]
    assert abs(s.e.scalars["ll"] - ref["ll"]) < 1e-6
    idx = [_idx(s, e, n) for e, n in [("military", "x"), ("military", "z"),
                                       ("autocrat", "x"), ("autocrat", "z")]]
    assert np.allclose(_b(s)[idx], ref["b"], atol=1e-5)
    assert np.allclose(_se(s)[idx], ref["se"], rtol=1e-3)
    assert s.e.scalars["N_g"] == 150 - ref["groups_dropped"]
    assert f"note: {ref['groups_dropped']} groups" in out
    assert not any(n == "_cons" for _, n in s.e.names)


def test_two_outcomes_against_r():
    s = _session()
    ok(s, "drop if y == 3")
    ok(s, "generate yb = y == 2")
    ok(s, "xtmlogit yb x z, baseoutcome(0) intpoints(25) nolog")
    re = REF_R["re"]
    assert abs(s.e.scalars["ll"] - re["ll"]) < 1e-5
    idx = [_idx(s, "1", n) for n in ("_cons", "x", "z")]
    assert np.allclose(_b(s)[idx], re["b"], atol=2e-5)
    assert np.allclose(_se(s)[idx], re["se"], rtol=2e-3)
    assert abs(_b(s)[_idx(s, "/", "var(u1)")] - re["var"]) < 1e-4
    ok(s, "xtmlogit yb x z, fe baseoutcome(0)")
    fe = REF_R["fe"]
    assert abs(s.e.scalars["ll"] - fe["ll"]) < 1e-6
    idx = [_idx(s, "1", n) for n in ("x", "z")]
    assert np.allclose(_b(s)[idx], fe["b"], atol=1e-5)
    assert np.allclose(_se(s)[idx], fe["se"], rtol=1e-3)


def test_layout_names_and_tests(s):
    out = ok(s, "xtmlogit y x i.z, nolog")
    assert "Random-effects multinomial logistic regression  Number of obs     =        900" in out
    assert "Integration method: mvaghermite                 Integration pts.  =          7" in out
    assert "autocrat     |  (base outcome)" in out          # the most frequent outcome
    assert "     var(u1) |" in out and "     var(u2) |" in out
    assert "LR test vs. mlogit model: chi2(2) =" in out
    assert s.e.macros["eqnames"] == "democ military autocrat"
    assert ("autocrat", "o.x") in s.e.names
    rc, t = run(s, "test [military]x = [military]1.z")
    assert rc == 0 and "chi2(  1)" in t
    i, j = _idx(s, "military", "x"), _idx(s, "military", "1.z")
    V = np.asarray(s.e.V)
    chi2 = (_b(s)[i] - _b(s)[j]) ** 2 / (V[i, i] + V[j, j] - 2 * V[i, j])
    assert abs(s.r.scalars["chi2"] - chi2) < 1e-6 * chi2
    rr = ok(s, "xtmlogit, rrr")
    assert "RRR" in rr and "Note: _cons estimates baseline relative risk" in rr


def _marginal(eta, S, points=40):
    """Pr(y = j) integrated over u ~ N(0, S) by a plain product rule (eta: n x 3, base col 0)."""
    t, w = hermegauss(points)
    w = w / w.sum()
    nodes = np.array(list(itertools.product(t, t))) @ np.linalg.cholesky(S).T      # (M, 2)
    wts = np.array([a * c for a, c in itertools.product(w, w)])
    e = eta[:, None, :] + np.concatenate([np.zeros((len(wts), 1)), nodes], 1)[None]
    p = np.exp(e - e.max(2, keepdims=True))
    return np.einsum("nmj,m->nj", p / p.sum(2, keepdims=True), wts)


def _eta(s, x, z, b=None):
    b = _b(s) if b is None else b
    eta = np.zeros((len(x), 3))
    for j, eq in ((1, "military"), (2, "autocrat")):
        eta[:, j] = b[_idx(s, eq, "x")] * x + b[_idx(s, eq, "z")] * z + b[_idx(s, eq, "_cons")]
    return eta


def _sigma(s, b=None):
    b = _b(s) if b is None else b
    return np.diag([b[_idx(s, "/", "var(u2)")], b[_idx(s, "/", "var(u3)")]])


def test_predict_probabilities(s):
    ok(s, "xtmlogit y x z, baseoutcome(1) nolog")
    ok(s, "capture drop p*")
    out = ok(s, "predict p1 p2 p3")
    assert "(option pr assumed; predicted probabilities)" in out
    ok(s, "predict q*, pu0")
    ok(s, "predict xb3, xb outcome(autocrat)")
    d = s.data
    x, z = (np.asarray(d.values(v), dtype=float) for v in ("x", "z"))
    eta = _eta(s, x, z)
    P = _marginal(eta, _sigma(s))
    got = np.column_stack([d.values(f"p{j}") for j in (1, 2, 3)])
    assert np.allclose(got, P, atol=2e-6)                # float storage
    ex = np.exp(eta)
    Q = ex / ex.sum(1, keepdims=True)
    assert np.allclose(np.column_stack([d.values(f"q{j}") for j in (1, 2, 3)]), Q, atol=1e-6)
    assert np.allclose(d.values("xb3"), eta[:, 2], atol=1e-5)
    for v in ("p1", "p2", "p3", "q1", "q2", "q3", "xb3"):
        ok(s, f"drop {v}")
    rc, out = run(s, "predict bad, pc1")
    assert rc == 198


def test_margins_outcome_probabilities(s):
    ok(s, "xtmlogit y x z, baseoutcome(1) nolog")
    out = ok(s, "margins if t == 1, at(x=(0 1))")
    assert "1._predict: Pr(y==democ), predict(pr outcome(1))" in out
    d = s.data
    zz = np.asarray(d.values("z"), dtype=float)[np.asarray(d.values("t")) == 1]
    b0, V = _b(s).copy(), np.asarray(s.e.V, dtype=float)
    free = [i for i in range(len(b0)) if V[i, i] > 0]

    def margins(b):
        vals = [_marginal(_eta(s, np.full_like(zz, xv), zz, b), _sigma(s, b), 24).mean(0)
                for xv in (0.0, 1.0)]
        return np.array([[v[j] for v in vals] for j in range(3)]).ravel()   # _predict#_at

    m0 = margins(b0)
    rb = np.asarray(s.r.matrices["b"].values if hasattr(s.r.matrices["b"], "values")
                    else s.r.matrices["b"], dtype=float).ravel()
    assert np.allclose(rb, m0, atol=1e-6)
    Jac = np.zeros((len(m0), len(b0)))
    for i in free:
        h = 1e-5
        bp, bm = b0.copy(), b0.copy()
        bp[i] += h
        bm[i] -= h
        Jac[:, i] = (margins(bp) - margins(bm)) / (2 * h)
    se = np.sqrt(np.diag(Jac @ V @ Jac.T))
    rV = s.r.matrices["V"]
    rV = np.asarray(getattr(rV, "values", rV), dtype=float)
    assert np.allclose(np.sqrt(np.diag(rV)), se, rtol=2e-3)


def test_margins_dydx_after_fe(s):
    ok(s, "xtmlogit y x z, fe baseoutcome(1)")
    out = ok(s, "margins, dydx(x)")
    assert "predict(pu0 outcome(1))" in out
    rows = np.flatnonzero(np.asarray(s.e.sample, dtype=bool))
    d = s.data
    x, z = (np.asarray(d.values(v), dtype=float)[rows] for v in ("x", "z"))
    b = _b(s)

    def avg(xv):
        eta = np.zeros((len(xv), 3))
        for j, eq in ((1, "military"), (2, "autocrat")):
            eta[:, j] = b[_idx(s, eq, "x")] * xv + b[_idx(s, eq, "z")] * z
        ex = np.exp(eta)
        return (ex / ex.sum(1, keepdims=True)).mean(0)

    h = 1e-6
    want = (avg(x + h) - avg(x - h)) / (2 * h)
    rb = s.r.matrices["b"]
    rb = np.asarray(getattr(rb, "values", rb), dtype=float).ravel()
    assert np.allclose(rb, want, atol=1e-6)


@pytest.mark.parametrize("line,rc", [
    ("xtmlogit y x z, fe covariance(unstructured)", 198),
    ("xtmlogit y x z, covariance(banded)", 198),
    ("xtmlogit y x z, baseoutcome(7)", 111),
    ("xtmlogit y x z, re fe", 198),
    ("xtmlogit y x z, intmethod(laplace)", 198),
    ("xtmlogit y x z [fw=t]", 101),
    ("xtmlogit y x z if y == 1", 2000),
    ("xtmlogit y x z, vce(cluster t)", 498),
    ("xtmlogit y x z, vce(bootstrap)", 198),
])
def test_refusals_leave_results(line, rc):
    s = _session()
    r, out = run(s, line)
    assert r == rc, out
    assert "Traceback" not in out
    assert s.e is None


def test_needs_panels_and_results():
    s = csv_session("tests/data/xtmlogit/panel3.csv")
    assert run(s, "xtmlogit y x z")[0] == 459
    assert run(s, "xtmlogit")[0] == 301
    ok(s, "xtmlogit y x z, i(id) intpoints(3) nolog")
    assert s.e.scalars["n_quad"] == 3 and s.e.macros["ivar"] == "id"


def test_fe_omits_time_invariant_and_margins_order():
    s = _session()
    ok(s, "bysort id: egen xm = mean(x)")
    ok(s, "generate w = xm > 0")
    out = ok(s, "xtmlogit y x i.w z, fe baseoutcome(1)")
    assert "note: 1.w omitted because of no within-group variance." in out
    ref = REF["fe"]
    assert abs(s.e.scalars["ll"] - ref["ll"]) < 1e-6       # the omitted column changes nothing
    assert s.e.omitted[_idx(s, "military", "1o.w")]
    ok(s, "margins, dydx(x z)")
    cols = s.r.matrices["b"].colnames
    assert cols[:4] == ["x:1._predict", "x:2._predict", "x:3._predict", "z:1._predict"]


@pytest.mark.parametrize("line,rc", [
    ("predict p, pr", 198),
    ("margins, predict(foo)", 198),
    ("margins, expression(predict(pu0)*2)", 198),
])
def test_postestimation_refusals_after_fe(line, rc):
    s = _session()
    ok(s, "xtmlogit y x z, fe")
    r, out = run(s, line)
    assert r == rc, out
    assert "p" not in s.data.vars


def test_variance_at_its_boundary():
    """No panel effect in the data: one variance goes to 0 and the fit still ends, with the
    log likelihood at the comparison mlogit's (make_iid.py)."""
    s = csv_session("tests/data/xtmlogit/iid.csv")
    ok(s, "xtset id t")
    out = ok(s, "xtmlogit y x, nolog")
    b = _b(s)
    assert min(b[_idx(s, "/", "var(u1)")], b[_idx(s, "/", "var(u3)")]) < 1e-4
    assert 0 <= s.e.scalars["chi2_c"] < 0.1
    assert "Traceback" not in out


def test_unstructured_fit_from_another_base():
    """Strongly correlated random effects (make_corr.py) seen from outcome 2 (the most
    frequent, the default base) have a combination of small variance, where a fit could stall
    on a rank-1 saddle; the maximum does not depend on the base, and the reference's is taken
    with outcome 1 as the base (make_reference.py, plain quadrature)."""
    s = csv_session("tests/data/xtmlogit/corr.csv")
    ok(s, "xtset id t")
    ok(s, "xtmlogit y x, covariance(unstructured) nolog")
    assert s.e.scalars["baseout"] == 2
    assert abs(s.e.scalars["ll"] - REF["corr_unstructured"]["ll"]) < 5e-4   # 7 vs 40x40 points
    b = _b(s)
    assert b[_idx(s, "/", "var(u1)")] > 0.5 and 0.05 < b[_idx(s, "/", "var(u3)")] < 0.5
