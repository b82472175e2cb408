"""clogit: the exact conditional likelihood against R's survival::clogit(method="exact") (numbers
in tests/data/clogit/ref.json, made by ref.R) and against a brute-force enumeration in numpy;
the robust (group-clustered) variance against R's on data with one positive per group and
against numerical per-group scores; 1:1 matched data equal to xtlogit, fe; notes, predict,
errors."""
import itertools
import json
import math
import os
import shutil
import subprocess

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "clogit")
REF = json.load(open(os.path.join(DATA, "ref.json")))


def _e(s, name):
    return s.e.scalars[name]


def _b(s):
    return {nm: float(b) for (_, nm), b in zip(s.e.names, np.ravel(s.e.b))}


def _se(s):
    return {nm: math.sqrt(max(v, 0)) for (_, nm), v in zip(s.e.names, np.diag(np.asarray(s.e.V)))}


def _read(name):
    import csv
    with open(os.path.join(DATA, name)) as f:
        rows = list(csv.DictReader(f))
    g = np.array([int(r["grp"]) for r in rows])
    y = np.array([float(r["y"]) for r in rows])
    X = np.array([[float(r["x1"]), float(r["x2"])] for r in rows])
    return g, y, X


def _brute_ll(beta, g, y, X):
    """sum over groups of log P(the observed positives | their number), by enumerating every
    subset of the group's size with that many positives."""
    total = 0.0
    for gg in np.unique(g):
        idx = np.flatnonzero(g == gg)
        k = int(y[idx].sum())
        if k == 0 or k == len(idx):
            continue
        eta = X[idx] @ beta
        num = float(eta[y[idx] == 1].sum())
        terms = [eta[list(c)].sum() for c in itertools.combinations(range(len(idx)), k)]
        m = max(terms)
        total += num - (m + math.log(sum(math.exp(t - m) for t in terms)))
    return total


def test_exact_likelihood_matches_r_and_enumeration():
    s = csv_session("tests/data/clogit/cl.csv")
    out = ok(s, "clogit y x1 x2 z, group(grp)")
    assert "note: multiple positive outcomes within groups encountered." in out
    assert "note: 18 groups (58 obs) dropped because of all positive or" in out
    assert "note: z omitted because of no within-group variance." in out
    assert "Conditional (fixed-effects) logistic regression" in out
    b, se = _b(s), _se(s)
    ref = REF["exact"]
    assert b["x1"] == pytest.approx(ref["b"][0], abs=1e-6)
    assert b["x2"] == pytest.approx(ref["b"][1], abs=1e-6)
    assert se["x1"] == pytest.approx(ref["se"][0], rel=1e-5)
    assert se["x2"] == pytest.approx(ref["se"][1], rel=1e-5)
    assert _e(s, "ll") == pytest.approx(ref["ll"][1], abs=1e-7)
    assert _e(s, "ll_0") == pytest.approx(ref["ll"][0], abs=1e-7)
    assert _e(s, "chi2") == pytest.approx(2 * (ref["ll"][1] - ref["ll"][0]), abs=1e-6)
    assert _e(s, "r2_p") == pytest.approx(1 - ref["ll"][1] / ref["ll"][0], abs=1e-9)
    assert (_e(s, "N"), _e(s, "N_drop"), _e(s, "N_group_drop")) == (158, 58, 18)
    assert s.e.macros["multiple"] == "multiple" and s.e.macros["group"] == "grp"
    assert [nm for _, nm in s.e.names] == ["x1", "x2", "o.z"]
    # brute force: the maximum of the enumerated likelihood
    g, y, X = _read("cl.csv")
    beta = np.array([b["x1"], b["x2"]])
    assert _brute_ll(beta, g, y, X) == pytest.approx(_e(s, "ll"), abs=1e-9)
    for j in range(2):
        for h in (1e-3, -1e-3):
            step = beta.copy()
            step[j] += h
            assert _brute_ll(step, g, y, X) < _e(s, "ll")


def _num_scores(beta, g, y, X, h=1e-6):
    groups = [gg for gg in np.unique(g)
              if 0 < y[g == gg].sum() < (g == gg).sum()]
    S = np.zeros((len(groups), len(beta)))
    for i, gg in enumerate(groups):
        m = g == gg
        for j in range(len(beta)):
            e = np.zeros(len(beta))
            e[j] = h
            S[i, j] = (_brute_ll(beta + e, g[m], y[m], X[m]) - _brute_ll(beta - e, g[m], y[m], X[m])) / (2 * h)
    return S


def test_robust_variance_is_the_group_sandwich():
    s = csv_session("tests/data/clogit/cl.csv")
    ok(s, "quietly clogit y x1 x2, group(grp)")
    V0 = np.asarray(s.e.V)
    ok(s, "quietly clogit y x1 x2, group(grp) vce(robust)")
    g, y, X = _read("cl.csv")
    S = _num_scores(np.ravel(s.e.b), g, y, X)
    C = S.shape[0]
    Vr = V0 @ (S.T @ S) @ V0 * C / (C - 1)
    np.testing.assert_allclose(np.asarray(s.e.V), Vr, rtol=1e-5)
    assert _e(s, "N_clust") == 42 and s.e.macros["vcetype"] == "Robust"
    assert s.e.macros["clustvar"] == "grp" and s.e.macros["chi2type"] == "Wald"
    b = np.ravel(s.e.b)
    assert _e(s, "chi2") == pytest.approx(float(b @ np.linalg.solve(Vr, b)), rel=1e-5)


def test_robust_single_positive_matches_r():
    s = csv_session("tests/data/clogit/single.csv")
    out = ok(s, "clogit y x1 x2, group(grp) vce(cluster grp)")
    assert "multiple positive" not in out
    assert "(Std. err. adjusted for 42 clusters in grp)" in out
    ref = REF["single"]
    C = ref["G"]
    np.testing.assert_allclose(np.ravel(s.e.b), ref["b"], atol=1e-6)
    # survival's robust variance carries no C/(C-1) factor; Stata's does
    np.testing.assert_allclose(list(_se(s).values()),
                               np.array(ref["robust_se"]) * math.sqrt(C / (C - 1)), rtol=1e-5)


def test_matched_pairs_equal_xtlogit_fe():
    rng = np.random.default_rng(7)
    from hlmshell.data.dataset import Dataset, Variable
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    n = 80
    pair = np.repeat(np.arange(1, n + 1), 2).astype(float)
    case = np.tile([1.0, 0.0], n)
    x = rng.normal(size=2 * n) + 0.6 * case
    w = rng.integers(0, 2, size=2 * n).astype(float)
    s = Session(out=Capture())
    ds = Dataset()
    for nm, v in (("pair", pair), ("case", case), ("x", x), ("w", w)):
        ds.add(Variable(nm, v, "double"))
    s.data = ds
    ok(s, "clogit case x w, group(pair) nolog")
    bc, sc_ = np.ravel(s.e.b).copy(), _se(s)
    llc = _e(s, "ll")
    ok(s, "xtset pair")
    ok(s, "xtlogit case x w, fe nolog")
    np.testing.assert_allclose(np.ravel(s.e.b), bc, rtol=1e-8)
    assert _e(s, "ll") == pytest.approx(llc, abs=1e-9)
    assert list(_se(s).values()) == pytest.approx(list(sc_.values()), rel=1e-8)
    # 1:1 pairs: the conditional likelihood is a logit on within-pair differences, no constant
    d = x[0::2] - x[1::2]
    dw = w[0::2] - w[1::2]
    from scipy.optimize import minimize
    f = minimize(lambda b: np.sum(np.log1p(np.exp(-(b[0] * d + b[1] * dw)))), np.zeros(2),
                 method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(bc, f.x, atol=1e-5)


def test_predict_pc1_pu0_xb():
    s = csv_session("tests/data/clogit/cl.csv")
    ok(s, "quietly clogit y x1 x2, group(grp)")
    out = ok(s, "predict p1")
    assert "(option pc1 assumed; probability of success given one success within group)" in out
    ok(s, "predict p1b, pc1")
    np.testing.assert_allclose(s.data.var("p1b").values, s.data.var("p1").values)
    ok(s, "predict p0, pu0")
    ok(s, "predict eta, xb")
    ds = s.data
    b = np.ravel(s.e.b)
    x1, x2 = ds.var("x1").values, ds.var("x2").values
    g = ds.var("grp").values
    eta = b[0] * x1 + b[1] * x2
    np.testing.assert_allclose(ds.var("eta").values, eta, rtol=1e-6)
    np.testing.assert_allclose(ds.var("p0").values, 1 / (1 + np.exp(-eta)), rtol=1e-6)
    p1 = ds.var("p1").values
    for gg in np.unique(g):
        m = g == gg
        np.testing.assert_allclose(p1[m], np.exp(eta[m]) / np.exp(eta[m]).sum(), rtol=1e-6)


def test_or_table_offset_and_replay():
    s = csv_session("tests/data/clogit/cl.csv")
    ok(s, "generate off = 0.3 * x2")
    out = ok(s, "clogit y x1, group(grp) offset(off) or nolog")
    assert "Odds ratio" in out and "(offset)" in out
    g, y, X = _read("cl.csv")
    from scipy.optimize import minimize_scalar
    f = minimize_scalar(lambda t: -_brute_ll(np.array([t, 0.3]), g, y, X), bounds=(-3, 3),
                        method="bounded", options={"xatol": 1e-10})
    assert float(np.ravel(s.e.b)[0]) == pytest.approx(f.x, abs=1e-5)
    assert s.e.macros["offset"] == "off"
    again = ok(s, "clogit")
    assert "Coefficient" in again and "(offset)" in again


@pytest.mark.parametrize("line, rc", [
    ("clogit y x1 x2", 198),                       # group() required
    ("clogit y x1, group(nosuch)", 111),
    ("clogit y x1, group(grp) vce(bootstrap)", 198),
    ("clogit y x1, group(grp) bogus", 198),
    ("clogit y x1 if y == 1, group(grp)", 2000),
    ("clogit y x1 if grp > 1000, group(grp)", 2000),
    ("clogit y z, group(grp)", 102),               # nothing varies within groups
])
def test_errors_leave_session(line, rc):
    s = csv_session("tests/data/clogit/cl.csv")
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out and s.e is None


def test_no_estimates_replay():
    s = csv_session("tests/data/clogit/cl.csv")
    assert run(s, "clogit")[0] == 301


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R not installed")
def test_reference_script_reproduces_json():
    r = subprocess.run(["Rscript", "-e", 'cat(requireNamespace("survival", quietly=TRUE) && '
                        'requireNamespace("jsonlite", quietly=TRUE))'],
                       capture_output=True, text=True)
    if r.stdout.strip() != "TRUE":
        pytest.skip("survival/jsonlite not installed")
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(os.path.join(DATA, "cl.csv"), d)
        shutil.copy(os.path.join(DATA, "ref.R"), d)
        out = subprocess.run(["Rscript", "ref.R"], cwd=d, capture_output=True, text=True)
        fresh = json.loads(out.stdout)
    assert fresh["exact"]["b"] == pytest.approx(REF["exact"]["b"], abs=1e-9)


def test_factor_variables_get_base_levels():
    """i.k gets its base level (the groups' intercepts absorb the constant): the same fit as
    the indicator columns 1.k and 2.k typed by hand."""
    s = csv_session("tests/data/clogit/cl.csv")
    ok(s, "generate k = mod(_n, 3)")
    ok(s, "generate k1 = k == 1")
    ok(s, "generate k2 = k == 2")
    ok(s, "quietly clogit y x1 i.k, group(grp)")
    names = [nm for _, nm in s.e.names]
    assert names == ["x1", "0b.k", "1.k", "2.k"]
    b = np.ravel(s.e.b).copy()
    ok(s, "quietly clogit y x1 k1 k2, group(grp)")
    np.testing.assert_allclose(b[[0, 2, 3]], np.ravel(s.e.b), rtol=1e-10)
    assert b[1] == 0


def test_lowbirth2_matches_stata_log():
    """Stata's `clogit low smoke, group(pairid) or` on lowbirth2 (Hosmer & Lemeshow), whose 56
    pairs cmatch tabulates as (case, control) smoking 0/0: 18, 1/0: 22, 0/1: 8, 1/1: 8; the
    numbers Stata printed (a public help file's log)."""
    from hlmshell.data.dataset import Dataset, Variable
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    pairs = [(0, 0)] * 18 + [(1, 0)] * 22 + [(0, 1)] * 8 + [(1, 1)] * 8
    pid, low, smoke = [], [], []
    for i, (case_s, ctrl_s) in enumerate(pairs, start=1):
        pid += [i, i]
        low += [1, 0]
        smoke += [case_s, ctrl_s]
    s = Session(out=Capture())
    ds = Dataset()
    for nm, v in (("pairid", pid), ("low", low), ("smoke", smoke)):
        ds.add(Variable(nm, np.array(v, dtype=float), "double"))
    s.data = ds
    out = ok(s, "clogit low smoke, group(pairid) or")
    assert _e(s, "N") == 112 and _e(s, "df_m") == 1
    assert _e(s, "ll") == pytest.approx(-35.419282, abs=5e-7)
    assert f"{_e(s, 'chi2'):.2f}" == "6.79" and f"{_e(s, 'p'):.4f}" == "0.0091"
    assert f"{_e(s, 'r2_p'):.4f}" == "0.0875"
    assert "       smoke |       2.75   1.135369     2.45   0.014     1.224347    6.176763" in out
    assert "Log likelihood = -35.419282" in out
