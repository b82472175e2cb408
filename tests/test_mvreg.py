"""mvreg: coefficients, the cross-equation e(V), R-squared, F and the Breusch-Pagan test against
R's lm(cbind(mathach, ses, size) ~ minority + female + sector) on hsb (tests/data/mvreg/ref.json,
made by ref.R) and against numpy's least squares; layout, e() macros, tests across equations,
bad input."""
import json
import os

import numpy as np
import pytest

from tests.session_run import ok, run

HERE = os.path.dirname(os.path.abspath(__file__))
REF = json.load(open(os.path.join(HERE, "data", "mvreg", "ref.json")))


@pytest.fixture(scope="module")
def hsb():
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    s = Session(out=Capture())
    ok(s, "use hsb, clear")
    return s


def _r_order(vec):
    """R's (Intercept) first per equation -> Stata's _cons last."""
    out = []
    for j in range(3):
        block = list(vec[4 * j:4 * j + 4])
        out += block[1:] + block[:1]
    return np.array(out)


def test_matches_r_mlm(hsb):
    out = ok(hsb, "mvreg mathach ses size = minority female sector, corr")
    e = hsb.e
    np.testing.assert_allclose(np.ravel(e.b), _r_order(REF["coef"]), rtol=1e-9)
    V = np.array(REF["V"])
    perm = []
    for j in range(3):
        idx = [4 * j + 1, 4 * j + 2, 4 * j + 3, 4 * j]
        perm += idx
    np.testing.assert_allclose(np.asarray(e.V), V[np.ix_(perm, perm)], rtol=1e-8, atol=1e-14)
    r2 = [float(x) for x in e.macros["r2"].split()]
    F = [float(x) for x in e.macros["F"].split()]
    np.testing.assert_allclose(r2, REF["r2"], atol=5e-5)        # stored as %6.4f, as mvreg.ado
    np.testing.assert_allclose(F, REF["F"], rtol=1e-6)
    assert e.scalars["chi2"] == pytest.approx(REF["bp"][0], rel=1e-9)
    assert e.scalars["df_chi2"] == 3 and e.scalars["k"] == 4 and e.scalars["k_eq"] == 3
    assert e.scalars["df_r"] == 7185 - 4 and e.macros["eqnames"] == "mathach ses size"
    lines = out.splitlines()
    assert 'Equation             Obs   Parms        RMSE    "R-sq"          F        P' in lines
    assert any(ln.startswith("mathach            7,185       4    6.") for ln in lines)
    assert e.macros["predict"] == "reg3_p"
    assert "Correlation matrix of residuals:" in lines
    assert any(ln.startswith("Breusch-Pagan test of independence: chi2(3) =") for ln in lines)
    assert "ses          |" in lines and "size         |" in lines


def test_numpy_least_squares_and_sigma(hsb):
    ok(hsb, "quietly mvreg mathach ses = minority i.sector if female == 1")
    ds = hsb.data
    m = ds.var("female").values == 1
    X = np.column_stack([ds.var("minority").values[m], (ds.var("sector").values[m] == 1),
                         np.ones(m.sum())]).astype(float)
    Y = np.column_stack([ds.var("mathach").values[m], ds.var("ses").values[m]])
    B, *_ = np.linalg.lstsq(X, Y, rcond=None)
    E = Y - X @ B
    Sigma = E.T @ E / (len(Y) - 3)
    names = [nm for _, nm in hsb.e.names]
    assert names[:4] == ["minority", "0b.sector", "1.sector", "_cons"]
    b = np.ravel(hsb.e.b).reshape(2, 4)[:, [0, 2, 3]]
    np.testing.assert_allclose(b, B.T, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(hsb.e.matrices["Sigma"]), Sigma, rtol=1e-9)
    V = np.kron(Sigma, np.linalg.inv(X.T @ X))
    keep = [0, 2, 3, 4, 6, 7]
    np.testing.assert_allclose(np.asarray(hsb.e.V)[np.ix_(keep, keep)], V, rtol=1e-8)


def test_test_across_equations(hsb):
    ok(hsb, "quietly mvreg mathach ses = minority female")
    out = ok(hsb, "test [mathach]female = [ses]female")
    b = np.ravel(hsb.e.b)
    V = np.asarray(hsb.e.V)
    c = np.zeros(len(b))
    c[1], c[4] = 1, -1
    F = (c @ b) ** 2 / (c @ V @ c)
    assert hsb.r.scalars["F"] == pytest.approx(F, rel=1e-8)
    assert hsb.r.scalars["df_r"] == 7185 - 3
    assert "[mathach]female - [ses]female = 0" in out


def test_replay_and_options(hsb):
    ok(hsb, "quietly mvreg mathach ses = minority female")
    out = ok(hsb, "mvreg, notable")
    assert "Equation" in out and "Coefficient" not in out
    out = ok(hsb, "mvreg, noheader level(90)")
    assert "Equation" not in out and "[90% conf. interval]" in out
    ok(hsb, "quietly mvreg mathach ses = minority female, noconstant")
    assert [nm for _, nm in hsb.e.names] == ["minority", "female", "minority", "female"]


@pytest.mark.parametrize("line, rc", [
    ("mvreg mathach ses minority", 198),
    ("mvreg mathach = nosuch", 111),
    ("mvreg = minority", 100),
    ("mvreg mathach ses = minority if id < 0", 2000),
    ("mvreg mathach ses = minority, bogus", 198),
    ("mvreg mathach ses = minority [pw=size]", 101),
    ("mvreg mathach mathach = minority", 498),
])
def test_bad_input(hsb, line, rc):
    ok(hsb, "quietly mvreg mathach ses = female")
    before = np.ravel(hsb.e.b).copy()
    got, out = run(hsb, line)
    assert got == rc, out
    assert "Traceback" not in out
    np.testing.assert_array_equal(np.ravel(hsb.e.b), before)


def test_no_estimates():
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    s = Session(out=Capture())
    ok(s, "use hsb, clear")
    assert run(s, "mvreg")[0] == 301


def test_predict_by_equation(hsb):
    ok(hsb, "quietly mvreg mathach ses = minority female")
    out = ok(hsb, "predict double pm")
    assert "(option xb assumed; fitted values)" in out
    ok(hsb, "predict double rs, residuals equation(ses)")
    ok(hsb, "predict double ss, stdp eq(#2)")
    ds = hsb.data
    b = np.ravel(hsb.e.b)
    x1, x2 = ds.var("minority").values, ds.var("female").values
    np.testing.assert_allclose(ds.var("pm").values, b[0] * x1 + b[1] * x2 + b[2], rtol=1e-12)
    np.testing.assert_allclose(ds.var("rs").values, ds.var("ses").values - (b[3] * x1 + b[4] * x2 + b[5]),
                               rtol=1e-10, atol=1e-12)
    X = np.column_stack([x1, x2, np.ones_like(x1)])
    V = np.asarray(hsb.e.V)[3:, 3:]
    np.testing.assert_allclose(ds.var("ss").values, np.sqrt(np.einsum("ij,jk,ik->i", X, V, X)), rtol=1e-10)
    assert run(hsb, "predict bad, eq(#3)")[0] == 303
    assert run(hsb, "predict bad, pr")[0] == 198
    for v in ("pm", "rs", "ss"):
        ok(hsb, f"drop {v}")


def test_weights_match_regress_and_numpy(hsb):
    """[aw=] and [fw=]: each equation as regress with the same weights; e(V) couples them
    through Sigma = E'WE / (N - k) with aweights rescaled to sum to N (N = sum of fweights)."""
    ok(hsb, "quietly mvreg mathach ses = minority female [aw=size]")
    b, V = np.ravel(hsb.e.b).copy(), np.asarray(hsb.e.V).copy()
    for j, dep in enumerate(("mathach", "ses")):
        ok(hsb, f"quietly regress {dep} minority female [aw=size]")
        np.testing.assert_allclose(b[3 * j:3 * j + 3], np.ravel(hsb.e.b), rtol=1e-10)
        np.testing.assert_allclose(np.diag(V)[3 * j:3 * j + 3], np.diag(np.asarray(hsb.e.V)), rtol=1e-8)
    ds = hsb.data
    w = ds.var("size").values.astype(float)
    w = w * len(w) / w.sum()
    X = np.column_stack([ds.var("minority").values, ds.var("female").values, np.ones(len(w))])
    Y = np.column_stack([ds.var("mathach").values, ds.var("ses").values])
    XtW = X.T * w
    B = np.linalg.solve(XtW @ X, XtW @ Y)
    E = Y - X @ B
    Sigma = (E.T * w) @ E / (len(w) - 3)
    np.testing.assert_allclose(V, np.kron(Sigma, np.linalg.inv(XtW @ X)), rtol=1e-7)
    ok(hsb, "quietly mvreg mathach ses = minority [fw=sector+1]")
    assert hsb.e.scalars["N"] == float(np.sum(ds.var("sector").values + 1))
    assert hsb.e.macros["wtype"] == "fweight"
