"""predictnl: values, delta-method standard errors, Wald tests and intervals against numpy
computations made here (a logit fitted by Newton-Raphson, OLS), and its refusals."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run

SETUP = ["clear", "set obs 150", "set seed 4321", "gen x = rnormal()", "gen z = runiform()",
         "gen y = (0.3 + 0.8*x - z + rnormal()) > 0", "gen w = 1 + x - 2*z + rnormal()"]


def _session():
    s = Session(out=Capture())
    for line in SETUP:
        ok(s, line)
    return s


def _col(s, name):
    return np.asarray(s.data.values(name), dtype=float)


def _logit_fit(X, y):
    b = np.zeros(X.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-X @ b))
        H = X.T @ (X * (p * (1 - p))[:, None])
        step = np.linalg.solve(H, X.T @ (y - p))
        b += step
        if np.max(np.abs(step)) < 1e-12:
            break
    p = 1 / (1 + np.exp(-X @ b))
    return b, np.linalg.inv(X.T @ (X * (p * (1 - p))[:, None]))


def test_probability_after_logit():
    s = _session()
    ok(s, "quietly logit y x z")
    out = ok(s, "predictnl double p = predict(pr), se(sp) variance(vp) wald(wp) p(pp) ci(lo hi) g(d)")
    assert "note: confidence intervals calculated using Z critical values" in out
    x, z, y = _col(s, "x"), _col(s, "z"), _col(s, "y")
    X = np.column_stack([x, z, np.ones_like(x)])
    b, V = _logit_fit(X, y)
    p = 1 / (1 + np.exp(-X @ b))
    G = X * (p * (1 - p))[:, None]                 # analytic d p / d b
    var = np.einsum("ij,jk,ik->i", G, V, G)
    assert np.allclose(_col(s, "p"), p, rtol=1e-7)
    assert np.allclose(_col(s, "vp"), var, rtol=1e-4)
    assert np.allclose(_col(s, "sp"), np.sqrt(var), rtol=1e-4)
    assert np.allclose(_col(s, "wp"), p ** 2 / var, rtol=1e-4)
    assert np.allclose(_col(s, "pp"), stats.chi2.sf(p ** 2 / var, 1), rtol=1e-3, atol=1e-12)
    assert np.allclose(_col(s, "lo"), p - 1.959963985 * np.sqrt(var), rtol=1e-4)
    assert np.allclose(_col(s, "hi"), p + 1.959963985 * np.sqrt(var), rtol=1e-4)
    for j in range(3):
        assert np.allclose(_col(s, f"d{j + 1}"), G[:, j], rtol=1e-4, atol=1e-7)


def test_coefficients_and_data_with_if_and_df():
    s = _session()
    ok(s, "quietly regress w x z")
    out = ok(s, "predictnl me = x*_b[x] + exp(_b[z]) if z > .5, se(sme) ci(a b) df(30) level(90)")
    assert "Z critical" not in out
    x, z, w = _col(s, "x"), _col(s, "z"), _col(s, "w")
    X = np.column_stack([x, z, np.ones_like(x)])
    b = np.linalg.solve(X.T @ X, X.T @ w)
    e = w - X @ b
    V = e @ e / (len(w) - 3) * np.linalg.inv(X.T @ X)
    g = x * b[0] + np.exp(b[1])
    G = np.column_stack([x, np.full_like(x, np.exp(b[1])), np.zeros_like(x)])
    se = np.sqrt(np.einsum("ij,jk,ik->i", G, V, G))
    sel = z > .5
    me, sme = _col(s, "me"), _col(s, "sme")
    assert np.all(np.isnan(me[~sel])) and np.all(np.isnan(sme[~sel]))
    assert f"({int((~sel).sum())} missing values generated)" in out
    assert np.allclose(me[sel], g[sel], rtol=1e-6)
    assert np.allclose(sme[sel], se[sel], rtol=1e-4)
    crit = stats.t.ppf(0.95, 30)
    assert np.allclose(_col(s, "a")[sel], (g - crit * se)[sel], rtol=1e-4)


def test_xb_and_stdp_agree_with_predict():
    s = _session()
    ok(s, "quietly regress w x z")
    ok(s, "predictnl double q = xb(), se(sq)")
    ok(s, "predict double sxb, stdp")
    ok(s, "predict double fx, xb")
    assert np.allclose(_col(s, "q"), _col(s, "fx"), rtol=1e-10)
    assert np.allclose(_col(s, "sq"), _col(s, "sxb"), rtol=1e-5)


@pytest.mark.parametrize("line,rc", [
    ("predictnl p = predict(pr), se(p)", 110),
    ("predictnl x = predict(pr)", 110),
    ("predictnl p = predict(pr), ci(lo)", 198),
    ("predictnl p = predict(nosuchstat)", 198),
    ("predictnl p", 198),
    ("predictnl p = \"a\"", 109),
    ("predictnl p = predict(pr), level(5)", 198),
    ("predictnl p = nosuchvar*_b[x]", 111),
    ("predictnl 1p = predict(pr)", 198),
])
def test_refusals_leave_data_unchanged(line, rc):
    s = _session()
    ok(s, "quietly logit y x z")
    names = list(s.data.names)
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert list(s.data.names) == names


def test_needs_estimates():
    s = _session()
    got, out = run(s, "predictnl p = 2*x")
    assert got == 301 and "last estimates not found" in out
