"""regress with fweights, aweights, pweights and iweights: coefficients, standard errors and
the ANOVA numbers against independent computations (fweights: the expanded data; the others:
weighted least squares and sandwiches written out in numpy) and against R (lm with weights,
sandwich's vcovHC/vcovCL HC1, numbers stored below)."""
import numpy as np
import pytest

from hlmshell.session import Session
from session_run import ok, run

# R 4.x: lm(mathach ~ ses, weights = w) with w = 1 + (row %% 3) on hsb; vcovHC / vcovCL(~id)
R_SE = {"aweight": (0.09698690249, 0.07559568146), "pweight": (0.10064913906, 0.08161941921),
        "cluster": (0.1380432953, 0.1703709958)}


@pytest.fixture(scope="module")
def s():
    s = Session()
    ok(s, "use hsb")
    ok(s, "gen w = 1 + mod(_n, 3)")
    return s


def _data(s):
    y = np.asarray(s.data.values("mathach"), float)
    X = np.column_stack([np.asarray(s.data.values("ses"), float), np.ones(len(y))])
    w = np.asarray(s.data.values("w"), float)
    return y, X, w


def _se(s):
    return np.sqrt(np.diag(s.e.V))


def test_fweights_equal_the_expanded_data(s):
    y, X, w = _data(s)
    reps = w.astype(int)
    ye, Xe = np.repeat(y, reps), np.repeat(X, reps, axis=0)
    b, *_ = np.linalg.lstsq(Xe, ye, rcond=None)
    e = ye - Xe @ b
    N, k = len(ye), 2
    V = (e @ e) / (N - k) * np.linalg.inv(Xe.T @ Xe)
    ok(s, "regress mathach ses [fw=w]")
    np.testing.assert_allclose(s.e.b, b, rtol=1e-10)
    np.testing.assert_allclose(_se(s), np.sqrt(np.diag(V)), rtol=1e-9)
    assert s.e.scalars["N"] == N and s.e.scalars["df_r"] == N - k
    assert s.e.scalars["r2"] == pytest.approx(1 - (e @ e) / np.sum((ye - ye.mean()) ** 2), rel=1e-10)
    assert s.e.macros["wtype"] == "fweight"
    # robust with frequency weights: the expanded data's HC1
    ok(s, "regress mathach ses [fw=w], vce(robust)")
    B = np.linalg.inv(Xe.T @ Xe)
    Vr = N / (N - k) * B @ ((Xe * (e * e)[:, None]).T @ Xe) @ B
    np.testing.assert_allclose(_se(s), np.sqrt(np.diag(Vr)), rtol=1e-9)


def test_aweights_and_pweights_and_clusters(s):
    y, X, w = _data(s)
    wn = w * len(w) / w.sum()
    XtWX = X.T @ (wn[:, None] * X)
    b = np.linalg.solve(XtWX, X.T @ (wn * y))
    e = y - X @ b
    n, k = len(y), 2
    out = ok(s, "regress mathach ses [aw=w]")
    assert f"(sum of wgt is {int(w.sum()):,})" in out
    np.testing.assert_allclose(s.e.b, b, rtol=1e-10)
    V = np.sum(wn * e * e) / (n - k) * np.linalg.inv(XtWX)
    np.testing.assert_allclose(_se(s), np.sqrt(np.diag(V)), rtol=1e-9)
    np.testing.assert_allclose(_se(s), R_SE["aweight"], rtol=1e-8)
    assert s.e.scalars["N"] == n
    ok(s, "regress mathach ses [pw=w]")
    B = np.linalg.inv(XtWX)
    S = X * (wn * e)[:, None]
    Vp = n / (n - k) * B @ (S.T @ S) @ B
    np.testing.assert_allclose(_se(s), np.sqrt(np.diag(Vp)), rtol=1e-9)
    np.testing.assert_allclose(_se(s), R_SE["pweight"], rtol=1e-8)
    assert s.e.macros["vcetype"] == "Robust"
    ok(s, "regress mathach ses [pw=w], vce(cluster id)")
    np.testing.assert_allclose(_se(s), R_SE["cluster"], rtol=1e-8)
    assert s.e.scalars["N_clust"] == 160 and s.e.scalars["df_r"] == 159


def test_zero_and_missing_weights_leave_the_sample(s):
    ok(s, "gen w0 = w")
    ok(s, "replace w0 = 0 in 1/10")
    ok(s, "replace w0 = . in 11/20")
    ok(s, "regress mathach ses [aw=w0]")
    assert s.e.scalars["N"] == 7185 - 20


@pytest.mark.parametrize("line,rc", [
    ("regress mathach ses [fw=ses]", 401),
    ("regress mathach ses [aw=ses]", 402),
    ("regress mathach ses [pw=w], vce(hc3)", 198),
    ("regress mathach ses [xw=w]", 198),
])
def test_weight_errors(s, line, rc):
    before = s.e
    got, out = run(s, line)
    assert got == rc, out
    assert s.e is before


def test_more_regressors_than_clusters_has_no_F():
    """With more tested coefficients than clusters - 1 the cluster VCE is singular: F is
    missing (Stata prints F(k, G-1) = .), not a huge number from a singular solve."""
    s = Session()
    for line in ("clear", "set obs 60", "gen c = mod(_n, 4)", "gen g = mod(_n, 10)",
                 "gen x = mod(_n * 7, 13)", "gen y = x + mod(_n * 5, 11)", "gen w = 1 + mod(_n, 3)"):
        ok(s, line)
    out = ok(s, "regress y x i.g [pw=w], vce(cluster c)")
    assert np.isnan(s.e.scalars["F"]) and "F(10, 3)" in out
