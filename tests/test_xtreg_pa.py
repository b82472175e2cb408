"""xtreg, pa: Stata's xtgee with family(gaussian) link(identity). Numbers against R's geepack
(tests/data/gee/xtgee_reference.json, made by tests/data/gee/xtgee_reference.R on plm's Wages;
geepack's sandwich SEs times G/(G-1) are Stata's robust SEs); layout, e(), replay, refusals."""
import json
import os

import numpy as np
import pytest
from session_run import csv_session, ok, run

with open(os.path.join(os.path.dirname(__file__), "data", "gee", "xtgee_reference.json")) as _fh:
    REF = json.load(_fh)


@pytest.fixture(scope="module")
def wages():
    s = csv_session("tests/data/wages_xt.csv")
    ok(s, "xtset id t")
    return s


@pytest.mark.parametrize("key,corr", [("wages_exc", ""), ("wages_ind", "corr(independent)")])
def test_against_geepack(wages, key, corr):
    out = ok(wages, f"xtreg lwage exp exp2 wks ed, pa {corr} vce(robust) nolog tolerance(1e-12)")
    ref = REF[key]
    c, se = np.array(ref["coef"]), np.array(ref["san_se"])
    rb, rse = np.r_[c[1:], c[:1]], np.r_[se[1:], se[:1]]
    G = ref["G"]
    np.testing.assert_allclose(np.ravel(wages.e.b), rb, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(wages.e.V)), rse * np.sqrt(G / (G - 1)), rtol=1e-5)
    assert wages.e.scalars["phi"] == pytest.approx(ref["phi"], rel=1e-6)
    assert wages.e.cmd == "xtreg" and wages.e.macros["model"] == "pa"
    assert wages.e.macros["cmd2"] == "xtgee" and wages.e.macros["family"] == "gaussian"
    assert "GEE population-averaged model" in out and "Family: Gaussian" in out
    assert "Link:   Identity" in out and "(Std. err. adjusted for clustering on id)" in out


def test_default_exchangeable_conventional_and_replay(wages):
    out = ok(wages, "xtreg lwage exp wks, pa")
    assert "Correlation: exchangeable" in out and "Iteration 1: tolerance" in out
    b = np.ravel(wages.e.b)
    again = ok(wages, "xtreg")
    assert "Scale parameter" in again and "Iteration" not in again
    assert np.array_equal(np.ravel(wages.e.b), b)
    # the same fit as OLS on the GLS-transformed data with the reported correlation: a direct
    # check of the exchangeable GLS normal equations per panel
    R = np.asarray(wages.e.matrices["R"])
    rho = R[1, 0]
    d = wages.data
    y, X = d.var("lwage").values, np.column_stack([d.var("exp").values, d.var("wks").values,
                                                   np.ones(d.n)])
    ids = d.var("id").values
    A, c = np.zeros((3, 3)), np.zeros(3)
    for g in np.unique(ids):
        m = ids == g
        n = int(m.sum())
        Wi = np.linalg.inv((1 - rho) * np.eye(n) + rho * np.ones((n, n)))
        A += X[m].T @ Wi @ X[m]
        c += X[m].T @ Wi @ y[m]
    np.testing.assert_allclose(b, np.linalg.solve(A, c), rtol=1e-5)


def test_refusals(wages):
    before = wages.e
    assert run(wages, "xtreg lwage exp, pa fe")[0] == 198
    assert run(wages, "xtreg lwage exp, re corr(ar 1)")[0] == 198
    assert run(wages, "xtreg lwage exp, fe nmp")[0] == 198
    assert run(wages, "xtreg lwage exp, pa theta")[0] == 198
    assert run(wages, "xtreg lwage exp [aw=wks], pa")[0] == 101
    assert run(wages, "xtreg lwage exp, pa corr(nosuch)")[0] == 198
    assert wages.e is before
