"""teffects ra/ipw/ipwra/aipw/nnmatch/psmatch and tebalance summarize.

References, all independent of hlmshell's engine:
- the estimating equations written again here in plain numpy, solved by their own Newton
  steps, with the sandwich's Jacobian by central finite differences (real arithmetic);
- the Abadie-Imbens matching estimator and variance by brute-force loops;
- Stata 17's printed numbers on cattaneo2.dta (tests/data/teffects/stata_cattaneo2.json),
  checked when that public teaching file is at $HLMSHELL_CATTANEO2 (it is not shipped).
"""
import json
import os

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

SYNTH = "tests/data/teffects/synth.csv"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def data():
    import pandas as pd
    return pd.read_csv(os.path.join(ROOT, SYNTH))


@pytest.fixture
def s():
    return csv_session(SYNTH)


def _eb(s):
    res = s.e
    return res, np.ravel(res.b), np.asarray(res.V)


# ------------------------------------------------------------------ the independent reference
def _logit(Z, t):
    g = np.zeros(Z.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-Z @ g))
        H = (Z * (p * (1 - p))[:, None]).T @ Z
        step = np.linalg.solve(H, Z.T @ (t - p))
        g += step
        if np.abs(step).max() < 1e-14:
            break
    return g


def _design(df, cont, factor=None, cons=True):
    cols = [df[c].to_numpy(float) for c in cont]
    if factor:
        cols += [(df[factor].to_numpy() == v).astype(float) for v in sorted(df[factor].unique())[1:]]
    if cons:
        cols.append(np.ones(len(df)))
    return np.column_stack(cols)


def _mean(q, om):
    from scipy.stats import norm
    return {"linear": q, "logit": 1 / (1 + np.exp(-q)), "poisson": np.exp(np.clip(q, -50, 50)),
            "probit": norm.cdf(q)}[om]


def _oscore(X, y, q, om):
    from scipy.stats import norm
    if om == "probit":
        lam = norm.pdf(q) * (y / norm.cdf(q) - (1 - y) / norm.sf(q))
        return X * lam[:, None]
    return X * (y - _mean(q, om))[:, None]


def _reference(est, stat, y, t, X, Z, om="linear"):
    """theta = (effect, mu0 | mu0, mu1), b0, b1, gamma; V by the finite-difference sandwich."""
    kx = 0 if X is None else X.shape[1]
    kz = 0 if Z is None else Z.shape[1]

    def g(th):
        e, b0, b1, ga = th[:2], th[2:2 + kx], th[2 + kx:2 + 2 * kx], th[2 + 2 * kx:]
        p = 1 / (1 + np.exp(-Z @ ga)) if kz else None
        if est != "ra":
            w = t + (1 - t) * p / (1 - p) if stat == "atet" else t / p + (1 - t) / (1 - p)
        cols = []
        if est in ("ra", "ipwra"):
            a = t if stat == "atet" else np.ones_like(t)
            c0, h0, c1, h1 = a, _mean(X @ b0, om), a, _mean(X @ b1, om)
        elif est == "ipw":
            c0, h0, c1, h1 = (1 - t) * w, y, t * w, y
        else:
            m0, m1 = _mean(X @ b0, om), _mean(X @ b1, om)
            c0, h0 = 1.0, m0 + (1 - t) / (1 - p) * (y - m0)
            c1, h1 = 1.0, m1 + t / p * (y - m1)
        if stat == "pomeans":
            cols += [c0 * (h0 - e[0]) + 0 * y, c1 * (h1 - e[1]) + 0 * y]
        else:
            cols += [c1 * (h1 - e[1] - e[0]) + 0 * y, c0 * (h0 - e[1]) + 0 * y]
        if kx:
            ow = w if est == "ipwra" else 1.0
            cols += list((_oscore(X, y, X @ b0, om) * ((1 - t) * ow)[:, None]).T)
            cols += list((_oscore(X, y, X @ b1, om) * (t * ow)[:, None]).T)
        if kz:
            cols += list((Z * (t - p)[:, None]).T)
        return np.column_stack(cols)

    K = 2 + 2 * kx + kz
    th = np.zeros(K)
    if kz:
        th[2 + 2 * kx:] = _logit(Z, t)
    for _ in range(30):                       # Newton on the whole system, numerical Jacobian
        A = _fd_jacobian(g, th)
        gb = g(th).sum(axis=0)
        th = th - np.linalg.solve(A, gb)
        if np.abs(gb).max() < 1e-9:
            break
    A = _fd_jacobian(g, th)
    G = g(th)
    Ai = np.linalg.inv(A)
    return th, Ai @ (G.T @ G) @ Ai.T


def _fd_jacobian(g, th):
    K = th.size
    A = np.empty((K, K))
    for k in range(K):
        h = 1e-5 * max(1.0, abs(th[k]))
        e = np.zeros(K)
        e[k] = h
        A[:, k] = (g(th + e).sum(axis=0) - g(th - e).sum(axis=0)) / (2 * h)
    return A


CASES = [("ra", "ate"), ("ra", "atet"), ("ra", "pomeans"), ("ipw", "ate"), ("ipw", "atet"),
         ("ipw", "pomeans"), ("ipwra", "ate"), ("ipwra", "atet"), ("ipwra", "pomeans"),
         ("aipw", "ate"), ("aipw", "pomeans")]


@pytest.mark.parametrize("est,stat", CASES)
def test_estimating_equations_against_finite_difference_sandwich(s, data, est, stat):
    y = data.y.to_numpy(float)
    t = data.t.to_numpy(float)
    X = None if est == "ipw" else _design(data, ["x1", "x2"])
    Z = None if est == "ra" else _design(data, ["x1", "x2"], "g")
    omodel = "(y x1 x2)" if est != "ipw" else "(y)"
    tmodel = "(t)" if est == "ra" else "(t x1 x2 i.g)"
    ok(s, f"teffects {est} {omodel} {tmodel}, {stat} nolog")
    res, b, V = _eb(s)
    th, Vr = _reference(est, stat, y, t, X, Z)
    live = ~res.omitted
    assert np.allclose(b[live], th, rtol=1e-7, atol=1e-9)
    assert np.allclose(np.sqrt(np.diag(V)[live]), np.sqrt(np.diag(Vr)), rtol=1e-5)
    assert res.scalars["N"] == 400 and res.macros["subcmd"] == est


def test_factor_variables_in_both_models_and_aequations(s, data):
    out = ok(s, "teffects ipwra (y x1 i.g) (t x1 x2 i.g), atet aequations nolog")
    assert "OME0" in out and "TME1" in out and "       g |" in out
    res, b, _ = _eb(s)
    names = [f"{e}:{n}" for e, n in res.names]
    assert "ATET:r1vs0.t" in names and "OME1:3.g" in names and "TME1:1b.g" in names


# ------------------------------------------------------------------ matching by brute force
def _ai_reference(y, t, Xm, stat, m=1, J=2, Xb=None):
    n = y.size
    W = np.linalg.inv(np.cov(Xm, rowvar=False))

    def d(i, j):
        v = Xm[i] - Xm[j]
        return np.sqrt(v @ W @ v)

    def nearest(i, pool, k):
        ds = np.array([d(i, j) for j in pool])
        kth = np.sort(ds)[k - 1]
        return [j for j, dd in zip(pool, ds) if dd <= kth + 1e-10]

    need = range(n) if stat == "ate" else [i for i in range(n) if t[i] == 1]
    sets = {i: nearest(i, [j for j in range(n) if t[j] != t[i]], m) for i in need}
    K = np.zeros(n)
    K2 = np.zeros(n)
    for i, js in sets.items():
        for j in js:
            K[j] += 1 / len(js)
            K2[j] += 1 / len(js) ** 2
    fits = {}
    if Xb is not None:
        for gl in (0, 1):
            sel = (t == gl) & (K > 0)
            sw = np.sqrt(K[sel])
            fits[gl] = np.linalg.lstsq(Xb[sel] * sw[:, None], y[sel] * sw, rcond=None)[0]
    te = {}
    for i, js in sets.items():
        other = 1 - t[i]
        vals = [y[j] + ((Xb[i] - Xb[j]) @ fits[other] if Xb is not None else 0) for j in js]
        te[i] = (y[i] - np.mean(vals)) * (1 if t[i] == 1 else -1)
    tau = np.mean(list(te.values()))
    s2 = np.zeros(n)
    for i in range(n):
        js = nearest(i, [j for j in range(n) if t[j] == t[i] and j != i], J)
        s2[i] = np.var(np.r_[y[i], y[js]], ddof=1)
    if stat == "ate":
        v = sum((te[i] - tau) ** 2 for i in range(n)) + np.sum(s2 * (K * K + 2 * K - K2))
        v /= n ** 2
    else:
        n1 = t.sum()
        v = sum((te[i] - tau) ** 2 for i in sets) + np.sum(((K * K - K2) * s2)[t == 0])
        v /= n1 ** 2
    return tau, np.sqrt(v)


@pytest.mark.parametrize("stat,extra", [("ate", ""), ("atet", ""), ("ate", "biasadj(x1)"),
                                        ("atet", "biasadj(x1 x2)")])
def test_nnmatch_against_brute_force(s, data, stat, extra):
    sub = data.iloc[:150]
    y, t = sub.y.to_numpy(float), sub.t.to_numpy(float)
    Xm = sub[["x1", "x2"]].to_numpy(float)
    Xb = None
    if extra:
        cols = extra[8:-1].split()
        Xb = np.column_stack([sub[c].to_numpy(float) for c in cols] + [np.ones(len(sub))])
    tau, se = _ai_reference(y, t, Xm, stat, Xb=Xb)
    ok(s, f"teffects nnmatch (y x1 x2) (t) in 1/150, {stat} {extra}")
    res, b, V = _eb(s)
    assert b[0] == pytest.approx(tau, rel=1e-10)
    assert np.sqrt(V[0, 0]) == pytest.approx(se, rel=1e-10)
    assert res.macros["vcetype"] == "AI robust"


def test_tebalance_raw_columns(s, data):
    ok(s, "teffects ipw (y) (t x1 x2), nolog")
    out = ok(s, "tebalance summarize")
    assert "Covariate balance summary" in out and "Weighted" in out
    tab = s.r.matrices["table"]
    M = np.asarray(getattr(tab, "values", tab))
    for k, v in enumerate(["x1", "x2"]):
        a, c = data[v][data.t == 1], data[v][data.t == 0]
        sd = (a.mean() - c.mean()) / np.sqrt((a.var() + c.var()) / 2)
        assert M[k, 0] == pytest.approx(sd, rel=1e-10)
        assert M[k, 2] == pytest.approx(a.var() / c.var(), rel=1e-10)
        assert abs(M[k, 1]) < abs(M[k, 0])          # weighting improves the balance


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize("line,rc", [
    ("teffects", 301),
    ("teffects foo (y x1) (t)", 198),
    ("teffects ra (y x1) (t x2)", 198),
    ("teffects ra (y x1) (t), ate atet", 198),
    ("teffects aipw (y x1) (t x1), atet", 198),
    ("teffects ra (y x1) (nosuch)", 111),
    ("teffects nnmatch (y x1) (g)", 459),
    ("teffects ipw (y) (g x1, probit)", 198),
    ("teffects ra (y x1) (t), vce(cluster g)", 198),
    ("teffects ipw (y x1) (t x1)", 198),
    ("teffects nnmatch (y x1) (t), metric(foo)", 198),
    ("teffects nnmatch (y x1) (t), caliper(0.000001)", 459),
    ("teffects ra (y x1 (t)", 198),
    ("teffects ra (y x1) (t), bogus", 198),
    ("tebalance summarize", 301),
    ("teffects overlap", 301),
    ("teffects 3 (y x1) (t)", 198),
])
def test_refusals_leave_no_results(s, line, rc):
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out and s.e is None


def test_replay_and_tebalance_after_ra(s):
    ok(s, "teffects ra (y x1) (t), nolog")
    out = ok(s, "teffects")
    assert "regression adjustment" in out
    assert run(s, "tebalance summarize")[0] == 321


# ------------------------------------------------------------------ Stata's own numbers
CATTANEO = os.environ.get("HLMSHELL_CATTANEO2", "")


@pytest.mark.skipif(not os.path.exists(CATTANEO or "/nonexistent"),
                    reason="cattaneo2.dta (public teaching file) not available")
def test_stata_log_on_cattaneo2():
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    ref = json.load(open(os.path.join(ROOT, "tests/data/teffects/stata_cattaneo2.json")))
    s = Session(out=Capture())
    ok(s, f'use "{CATTANEO}", clear')
    om, tm = "(bweight mmarried mage prenatal1 fbaby)", "(mbsmoke mmarried mage fbaby medu, probit)"
    for key in [k for k in ref if k.count("_") == 1 and not k.startswith(("nn", "ps", "_"))]:
        est, stat = key.split("_")
        o = "(bweight)" if est == "ipw" else om
        t = "(mbsmoke)" if est == "ra" else tm
        ok(s, f"teffects {est} {o} {t}, {stat} nolog")
        b, V = np.ravel(s.e.b), np.asarray(s.e.V)
        for k, (bb, se) in enumerate(ref[key]):
            assert float(f"{b[k]:.7g}") == pytest.approx(bb, abs=0.51 * 10 ** (np.floor(np.log10(abs(bb))) - 6))
            assert np.sqrt(V[k, k]) == pytest.approx(se, rel=2e-6)
    mv = "(bweight mmarried mage fage medu prenatal1) (mbsmoke)"
    for key, opts in [("nnmatch_ate", ""),
                      ("nnmatch_ematch_biasadj_ate", "ematch(mmarried prenatal1) biasadj(mage fage medu)"),
                      ("nnmatch_ematch_biasadj_atet", "ematch(mmarried prenatal1) biasadj(mage fage medu) atet")]:
        ok(s, f"teffects nnmatch {mv}, {opts}")
        bb, se, mn, mx = ref[key]
        assert s.e.b[0] == pytest.approx(bb, abs=1e-4) and np.sqrt(s.e.V[0, 0]) == pytest.approx(se, abs=1e-5)
        assert (s.e.scalars["k_nnmin"], s.e.scalars["k_nnmax"]) == (mn, mx)
    for stat in ("ate", "atet"):
        ok(s, f"teffects psmatch (bweight) (mbsmoke mmarried mage fage medu prenatal1), {stat}")
        assert s.e.b[0] == pytest.approx(ref[f"psmatch_{stat}_estimate"], abs=1e-4)


# ------------------------------------------------------------------ R's Matching package
R_CASES = [("ate", "m1", ""), ("ate", "m2", "nneighbor(2)"), ("ate", "bias", "biasadj(z x2)"),
           ("atet", "m1", ""), ("atet", "m2", "nneighbor(2)"), ("atet", "bias", "biasadj(z x2)")]


@pytest.mark.parametrize("stat,case,extra", R_CASES)
def test_nnmatch_against_r_matching(s, stat, case, extra):
    """Match(..., Weight.matrix = solve(cor(X)), Var.calc = 1, distance.tolerance = 1e-12):
    tests/data/teffects/r_matching.R wrote these numbers."""
    with open(os.path.join(ROOT, "tests/data/teffects/r_matching.json")) as fh:
        ref = json.load(fh)
    key = ("ate" if stat == "ate" else "att") + "_" + case
    ok(s, f"teffects nnmatch (y z x1) (t), {stat} vce(robust, nn(1)) {extra}")
    b, se = float(s.e.b[0]), float(np.sqrt(s.e.V[0, 0]))
    assert b == pytest.approx(ref[key][0], rel=1e-9)
    assert se == pytest.approx(ref[key][1], rel=1e-9)


# ------------------------------------------------------------------ predict
def test_predict_te_po_ps(s, data):
    ok(s, "teffects ra (y x1 x2) (t), nolog")
    ate = float(s.e.b[0])
    ok(s, "predict te1")
    ok(s, "predict y0 y1, po")
    d = s.data
    te1, y0, y1 = (np.asarray(d.values(v), dtype=float) for v in ("te1", "y0", "y1"))
    assert te1.mean() == pytest.approx(ate, rel=1e-6)          # float storage
    assert np.allclose(te1, y1 - y0, atol=1e-5)
    ok(s, "teffects ipw (y) (t x1 x2 i.g), nolog")
    ok(s, "predict p0 p1, ps")
    assert run(s, "predict q, xb")[0] == 198
    ok(s, "quietly logit t x1 x2 i.g")
    ok(s, "predict pl, pr")
    p1, p0, pl = (np.asarray(s.data.values(v), dtype=float) for v in ("p1", "p0", "pl"))
    assert np.allclose(p1, pl, atol=1e-6) and np.allclose(p0 + p1, 1, atol=1e-6)


def test_predict_after_matching_gives_the_matched_effects(s):
    ok(s, "teffects nnmatch (y x1 x2) (t), atet")
    atet = float(s.e.b[0])
    out = ok(s, "predict tm")
    assert "257 missing values generated" in out
    tm = np.asarray(s.data.values("tm"), dtype=float)
    assert np.nanmean(tm) == pytest.approx(atet, rel=1e-6)


@pytest.mark.parametrize("est", ["ra", "ipw", "aipw"])
def test_frequency_weights_are_replicated_observations(s, est):
    om = "(y)" if est == "ipw" else "(y x1 x2)"
    tm = "(t)" if est == "ra" else "(t x1 x2)"
    ok(s, "generate k = g")
    ok(s, f"teffects {est} {om} {tm} [fw=k], nolog")
    b1, V1, n1 = np.ravel(s.e.b).copy(), np.asarray(s.e.V).copy(), s.e.scalars["N"]
    ok(s, f"teffects {est} {om} {tm} [pw=k], nolog")
    b3 = np.ravel(s.e.b).copy()
    ok(s, "expand k")
    ok(s, f"teffects {est} {om} {tm}, nolog")
    assert n1 == s.e.scalars["N"] == 842
    assert np.allclose(b1, np.ravel(s.e.b), rtol=1e-9)
    assert np.allclose(V1, np.asarray(s.e.V), rtol=1e-7, atol=1e-12)
    assert np.allclose(b3, b1, rtol=1e-9)              # pweights: the same point estimates


@pytest.mark.parametrize("est,stat,om", [("ra", "ate", "logit"), ("ipwra", "atet", "probit"),
                                         ("aipw", "pomeans", "logit"), ("ra", "atet", "poisson"),
                                         ("ipwra", "ate", "poisson")])
def test_nonlinear_outcome_models_against_finite_difference_sandwich(s, data, est, stat, om):
    t = data.t.to_numpy(float)
    if om == "poisson":
        ok(s, "generate yo = round(exp(y / 3))")
        y = np.round(np.exp(data.y.to_numpy(float) / 3))
    else:
        ok(s, "generate yo = y > 2")
        y = (data.y.to_numpy(float) > 2).astype(float)
    X = _design(data, ["x1", "x2"])
    Z = None if est == "ra" else _design(data, ["x1", "x2"])
    tmodel = "(t)" if est == "ra" else "(t x1 x2)"
    ok(s, f"teffects {est} (yo x1 x2, {om}) {tmodel}, {stat} nolog")
    res, b, V = _eb(s)
    th, Vr = _reference(est, stat, y, t, X, Z, om)
    assert res.macros["omodel"] == om
    assert np.allclose(b, th, rtol=1e-7, atol=1e-9)
    assert np.allclose(np.sqrt(np.diag(V)), np.sqrt(np.diag(Vr)), rtol=1e-5)


def test_overlap_graph_densities(s, data):
    ok(s, "teffects ipw (y) (t x1 x2), nolog")
    ok(s, "teffects overlap, nodraw")
    _, graph = s.graphs.get()
    series = [x for p in graph.panels for x in p.series]
    assert [x.label for x in series] == ["t=0", "t=1"]
    Z = _design(data, ["x1", "x2"])
    p = 1 / (1 + np.exp(-Z @ _logit(Z, data.t.to_numpy(float))))
    for lev, ser in zip((0, 1), series):
        x = p[data.t.to_numpy() == lev]
        assert ser.x.min() == pytest.approx(x.min()) and ser.x.max() == pytest.approx(x.max())
        h = 0.9 * min(x.std(ddof=1), (np.percentile(x, 75) - np.percentile(x, 25)) / 1.349) \
            * len(x) ** -0.2
        z = (ser.x[:, None] - x[None, :]) / h
        k = np.where(np.abs(z) < np.sqrt(5), 0.75 * (1 - z * z / 5) / np.sqrt(5), 0)
        assert np.allclose(ser.y, k.sum(axis=1) / (len(x) * h), rtol=1e-6)
    assert run(s, "teffects overlap, ptlevel(7)")[0] == 198
    ok(s, "teffects ra (y x1) (t), nolog")
    assert run(s, "teffects overlap")[0] == 321


# ------------------------------------------------------------------ three treatment levels
def _reference_multi(est, stat, y, t, X, Z, target=1):
    """Multivalued treatment (levels 0..L-1, 0 the control; multinomial logit): the same
    estimating equations, written out per level, finite-difference sandwich."""
    L = int(t.max()) + 1
    kx = 0 if X is None else X.shape[1]
    kz = 0 if Z is None else Z.shape[1]

    def probs(ga):
        eta = np.column_stack([np.zeros(len(y))] + [Z @ ga[j * kz:(j + 1) * kz]
                                                     for j in range(L - 1)])
        e = np.exp(eta - eta.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def g(th):
        e = th[:L]
        bs = [th[L + j * kx:L + (j + 1) * kx] for j in range(L)]
        ga = th[L + L * kx:]
        P = probs(ga) if kz else None
        D = np.column_stack([(t == j).astype(float) for j in range(L)])
        if P is not None:
            pt = (P * D).sum(axis=1)
            w = P[:, target] / pt if stat == "atet" else 1 / pt
        parts = []
        for j in range(L):
            if est == "ipw":
                parts.append((D[:, j] * w, y))
            elif est == "aipw":
                m = X @ bs[j]
                parts.append((np.ones_like(y), m + D[:, j] / P[:, j] * (y - m)))
            else:
                parts.append((D[:, target] if stat == "atet" else np.ones_like(y), X @ bs[j]))
        if stat == "pomeans":
            cols = [c * (h - e[j]) for j, (c, h) in enumerate(parts)]
        else:
            cols = [c * (h - e[L - 1] - e[j - 1]) for j, (c, h) in enumerate(parts) if j]
            cols.append(parts[0][0] * (parts[0][1] - e[L - 1]))
        for j in range(L if kx else 0):
            ow = w if est == "ipwra" else 1.0
            cols += list((X * (D[:, j] * ow * (y - X @ bs[j]))[:, None]).T)
        for j in range(1, L if kz else 1):
            cols += list((Z * (D[:, j] - P[:, j])[:, None]).T)
        return np.column_stack(cols)

    th = np.zeros(L + L * kx + (L - 1) * kz)
    for _ in range(60):
        A = _fd_jacobian(g, th)
        gb = g(th).sum(axis=0)
        th = th - np.linalg.solve(A, gb)
        if np.abs(gb).max() < 1e-9:
            break
    A = _fd_jacobian(g, th)
    G = g(th)
    Ai = np.linalg.inv(A)
    return th, Ai @ (G.T @ G) @ Ai.T


@pytest.mark.parametrize("est,stat", [("ra", "ate"), ("ra", "atet"), ("ipw", "pomeans"),
                                      ("ipwra", "ate"), ("aipw", "ate")])
def test_three_treatment_levels(s, data, est, stat):
    y = data.y.to_numpy(float)
    t = data.g.to_numpy() - 1
    X = None if est == "ipw" else _design(data, ["x1", "x2"])
    Z = None if est == "ra" else _design(data, ["x1", "x2"])
    om = "(y)" if est == "ipw" else "(y x1 x2)"
    tm = "(g)" if est == "ra" else "(g x1 x2)"
    out = ok(s, f"teffects {est} {om} {tm}, {stat} aequations nolog")
    th, Vr = _reference_multi(est, stat, y, t, X, Z)
    res, b, V = _eb(s)
    names = [f"{e}:{n}" for e, n in res.names]
    if stat == "pomeans":
        assert names[:3] == ["POmeans:1.g", "POmeans:2.g", "POmeans:3.g"]
    else:
        assert names[:3] == [f"{stat.upper()}:r2vs1.g", f"{stat.upper()}:r3vs1.g", "POmean:1.g"]
        assert "(3 vs 1)" in out
    if est != "ra":
        assert "TME3:x1" in names and "(multinomial) logit" in out
    assert np.allclose(b, th, rtol=1e-7, atol=1e-9)
    assert np.allclose(np.sqrt(np.diag(V)), np.sqrt(np.diag(Vr)), rtol=1e-5)


def test_nnmatch_generate_match_numbers(s, data):
    ok(s, "teffects nnmatch (y x1 x2) (t), atet generate(nn)")
    atet = float(s.e.b[0])
    k = int(s.e.scalars["k_nnmax"])
    M = np.column_stack([np.asarray(s.data.values(f"nn{j}"), dtype=float) for j in range(1, k + 1)])
    y, t = data.y.to_numpy(float), data.t.to_numpy()
    effects = []
    for i in np.flatnonzero(t == 1):
        js = M[i][~np.isnan(M[i])].astype(int) - 1
        assert len(js) >= 1 and np.all(t[js] == 0)
        effects.append(y[i] - y[js].mean())
    assert np.mean(effects) == pytest.approx(atet, rel=1e-12)
    assert np.all(np.isnan(M[t == 0]))
    assert run(s, "teffects nnmatch (y x1 x2) (t), generate(nn)")[0] == 110


def test_coeflegend_names_every_column(s):
    out = ok(s, "teffects ipwra (y x1 i.g) (t x1 x2), coeflegend nolog")
    assert "_b[ATE:r1vs0.t]" in out and "_b[OME1:3.g]" in out and "_b[TME1:_cons]" in out
    assert "Robust" not in out
