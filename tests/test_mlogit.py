"""mlogit against R's nnet::multinom (tests/data/mlogit/mlogit_reference.R) on hsb's first 600
students with a three-category outcome; e(b)'s equations, the table's base-outcome line, rrr,
predict (probabilities checked against e(b) with numpy), test [eq]var, errors."""
import json
import os

import numpy as np
import pytest

from session_run import ok, run

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "mlogit", "mlogit_reference.json")))


@pytest.fixture(scope="module")
def s():
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    s = Session(out=Capture())
    ok(s, "use hsb")
    ok(s, "keep in 1/600")
    ok(s, "gen grp = 1 + (mathach > 10) + (mathach > 17)")
    return s


def _col(s, name):
    return np.asarray(s.data.var(name).values, dtype=float)


@pytest.mark.parametrize("base", ["1", "3"])
def test_against_multinom(s, base):
    ref = REF[base]
    ok(s, f"mlogit grp ses female, baseoutcome({base}) nolog")
    e = s.e
    assert np.isclose(e.scalars["ll"], ref["ll"], rtol=1e-9)
    assert np.isclose(e.scalars["ll_0"], ref["ll_0"], rtol=1e-9)
    for j, out in enumerate(ref["outcomes"]):
        idx = [e.coef_index(out, nm) for nm in ("_cons", "ses", "female")]
        assert min(idx) >= 0
        assert np.allclose(e.b[idx], ref["b"][j], rtol=1e-5, atol=1e-6)
        assert np.allclose(e.se[idx], ref["se"][j], rtol=1e-4)
    assert e.scalars["baseout"] == float(base)
    assert np.isclose(e.scalars["chi2"], 2 * (ref["ll"] - ref["ll_0"]), rtol=1e-8)


def test_layout_and_ebnames(s):
    out = ok(s, "mlogit grp ses female, baseoutcome(1)")
    assert "Iteration 0:" in out and "Multinomial logistic regression" in out
    lines = out.splitlines()
    assert "1            |  (base outcome)" in lines
    i = lines.index("2            |")
    assert lines[i + 1].startswith("         ses |")
    assert [n for n in s.e.names[:3]] == [("1", "o.ses"), ("1", "o.female"), ("1", "o._cons")]
    assert s.e.macros["eqnames"] == "1 2 3" and s.e.scalars["k_eq"] == 3
    out = ok(s, "mlogit, rrr")
    assert "RRR" in out and "Note: _cons estimates baseline relative risk for each outcome." in out
    b = s.e.b[s.e.coef_index("3", "ses")]
    assert f"{np.exp(b):.6f}"[:7] in out
    ok(s, "label define gl 1 low 2 mid 3 high")
    ok(s, "label values grp gl")
    out = ok(s, "mlogit grp ses, nolog")
    assert s.e.macros["eqnames"] == "low mid high"
    ok(s, "label values grp")


def test_predict_and_test(s):
    ok(s, "mlogit grp ses female, baseoutcome(2) nolog")
    ok(s, "capture drop q1 q2 q3 qh xh")
    ok(s, "predict q1 q2 q3")
    e = s.e
    X = np.column_stack([_col(s, "ses"), _col(s, "female"), np.ones(s.data.n)])
    B = np.array([[e.b[e.coef_index(o, n)] if o != "2" else 0.0 for n in ("ses", "female", "_cons")]
                  for o in "123"])
    assert e.coef_index("2", "o.ses") >= 0 and e.b[e.coef_index("2", "o.ses")] == 0
    eta = X @ B.T
    P = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    got = np.column_stack([_col(s, f"q{j}") for j in (1, 2, 3)])
    assert np.allclose(got, P, atol=1e-6)
    assert s.data.var("q3").label == "Pr(grp==3)"
    ok(s, "predict qh, outcome(3)")
    assert np.allclose(_col(s, "qh"), P[:, 2], atol=1e-6)
    ok(s, "predict xh, xb outcome(#3)")
    assert np.allclose(_col(s, "xh"), eta[:, 2], atol=1e-5)
    out = ok(s, "test [3]ses")
    j = e.coef_index("3", "ses")
    chi2 = (e.b[j] / e.se[j]) ** 2
    assert f"{chi2:8.2f}".strip() in out
    assert run(s, "predict bad, outcome(9)")[0] == 111
    ok(s, "capture drop pp*")
    ok(s, "predict double pp*")
    assert np.allclose(_col(s, "pp2"), P[:, 1], atol=1e-10)
    out = ok(s, "predict p_first")
    assert "predicted probability)" in out and np.allclose(_col(s, "p_first"), P[:, 0], atol=1e-6)


def test_errors(s):
    assert run(s, "mlogit grp ses, baseoutcome(7)")[0] == 111
    assert run(s, "mlogit grp nosuch")[0] == 111
    assert run(s, "mlogit ses grp")[0] == 134
    assert run(s, "mlogit grp ses if grp == 1")[0] == 2000
    assert run(s, "mlogit grp ses, vce(bogus)")[0] == 198
    ok(s, "mlogit grp ses, vce(robust) nolog")
    assert s.e.macros["vcetype"] == "Robust" and s.e.macros["chi2type"] == "Wald"


def test_base_equation_names_with_factors(s):
    from hlmshell.commands.mlogit import omitted_name
    assert [omitted_name(n) for n in ("ses", "_cons", "1.sector", "0b.sector", "1.sector#c.ses")] \
        == ["o.ses", "o._cons", "1o.sector", "0b.sector", "1o.sector#co.ses"]
    ok(s, "mlogit grp ses i.sector, baseoutcome(2) nolog")
    names = [n for eq, n in s.e.names if eq == "2"]
    assert names == ["o.ses", "0b.sector", "1o.sector", "o._cons"]
    assert s.e.coef_index("3", "1.sector") >= 0


def test_robust_and_cluster_vce_direct(s):
    """The sandwich from the model-based e(V) (checked against R above) and per-observation
    (or per-cluster) scores (y_ij - p_ij) x_i computed here: times n/(n-1), or G/(G-1)."""
    ok(s, "mlogit grp ses female, baseoutcome(1) nolog")
    e = s.e
    idx = [e.coef_index(o, nm) for o in ("2", "3") for nm in ("ses", "female", "_cons")]
    bread = e.V[np.ix_(idx, idx)]
    X = np.column_stack([_col(s, "ses"), _col(s, "female"), np.ones(s.data.n)])
    B = np.array([[e.b[e.coef_index(o, nm)] for nm in ("ses", "female", "_cons")] for o in ("2", "3")])
    eta = np.column_stack([np.zeros(len(X)), X @ B.T])
    P = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    Y = np.column_stack([_col(s, "grp") == k for k in (1, 2, 3)]).astype(float)
    S = np.column_stack([(Y - P)[:, j:j + 1] * X for j in (1, 2)])
    n = len(X)
    V = n / (n - 1) * bread @ (S.T @ S) @ bread
    ok(s, "mlogit grp ses female, baseoutcome(1) vce(robust) nolog")
    assert np.allclose(s.e.V[np.ix_(idx, idx)], V, rtol=1e-6)
    ok(s, "mlogit grp ses female, baseoutcome(1) vce(cluster id) nolog")
    ids = _col(s, "id")
    groups = np.unique(ids)
    Sg = np.array([S[ids == g].sum(axis=0) for g in groups])
    G = len(groups)
    V = G / (G - 1) * bread @ (Sg.T @ Sg) @ bread
    assert np.allclose(s.e.V[np.ix_(idx, idx)], V, rtol=1e-6)
    assert s.e.scalars["N_clust"] == G and s.e.macros["clustvar"] == "id"
