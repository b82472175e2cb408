"""xtrc (hlmshell/commands/xtrc.py): Swamy's random coefficients on Grunfeld, checked against
R's plm::pvcm(model = "random") (coefficients, standard errors, Delta = e(Sigma); pvcm.R);
the test of parameter constancy and the panel-specific predictors computed here from each
firm's OLS: the predictor in its dense form b + Sigma X_i'(X_i Sigma X_i' + s_i^2 I)^-1 (y_i - X_i b),
algebraically the engine's precision-weighted form."""
import json
import os

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "xt_extra")
with open(os.path.join(HERE, "pvcm.json")) as f:
    PVCM = json.load(f)["pvcm_random"]


@pytest.fixture(scope="module")
def grun():
    s = csv_session("tests/data/grunfeld_xt.csv")
    ok(s, "xtset firm year")
    return s


def _firms(s):
    y = np.asarray(s.data.var("inv").values, float)
    X = np.column_stack([np.asarray(s.data.var(c).values, float) for c in ("value", "capital")]
                        + [np.ones(s.data.n)])
    firm = np.asarray(s.data.var("firm").values, float)
    return [(y[firm == f], X[firm == f]) for f in np.unique(firm)]


def test_matches_plm_pvcm(grun):
    out = ok(grun, "xtrc inv value capital")
    assert "Random-coefficients regression" in out and "Test of parameter constancy:    chi2(27) =" in out
    np.testing.assert_allclose(grun.e.b, PVCM["b"], rtol=1e-7)
    np.testing.assert_allclose(grun.e.se, PVCM["se"], rtol=1e-7)
    np.testing.assert_allclose(grun.e.matrices["Sigma"].values, np.array(PVCM["Delta"]), rtol=1e-7)


def test_parameter_constancy_and_betas(grun):
    ok(grun, "xtrc inv value capital, betas")
    firms = _firms(grun)
    bs, Vs, s2s = [], [], []
    for y, X in firms:
        b = np.linalg.lstsq(X, y, rcond=None)[0]
        e = y - X @ b
        s2 = e @ e / (len(y) - 3)
        bs.append(b)
        Vs.append(s2 * np.linalg.inv(X.T @ X))
        s2s.append(s2)
    W = [np.linalg.inv(V) for V in Vs]
    bstar = np.linalg.solve(sum(W), sum(w @ b for w, b in zip(W, bs)))
    chi2 = sum((b - bstar) @ w @ (b - bstar) for w, b in zip(W, bs))
    assert grun.e.scalars["chi2_c"] == pytest.approx(chi2, rel=1e-9)
    assert grun.e.scalars["df_chi2c"] == 27
    bbar, Sigma = np.asarray(grun.e.b), np.asarray(PVCM["Delta"])
    B = grun.e.matrices["beta_ps"].values
    for i, (y, X) in enumerate(firms):
        K = X @ Sigma @ X.T + s2s[i] * np.eye(len(y))
        blup = bbar + Sigma @ X.T @ np.linalg.solve(K, y - X @ bbar)
        np.testing.assert_allclose(B[i], blup, rtol=1e-6)


def test_betas_table_and_refusals(grun):
    out = ok(grun, "xtrc inv value capital if firm <= 3, betas")
    assert "Group-specific coefficients" in out and "Group 3      |" in out
    before = grun.e
    for line, rc in (("xtrc inv value capital if year < 1938", 2001), ("xtrc inv nosuch", 111),
                     ("xtrc inv value if inv > 1e9", 2000), ("xtrc inv value, bogus", 198),
                     ("xtrc inv value if firm == 1", 2001)):
        got, text = run(grun, line)
        assert got == rc, (line, text)
        assert grun.e is before
