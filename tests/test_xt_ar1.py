"""xtpcse and xtgls with AR(1) disturbances (corr(ar1|psar1)) and xtgls, panels(correlated),
on Grunfeld's investment panel.

The references are built here from the formulas, densely and without the engine's code:
each panel's rho by the lag regression of the OLS residuals (rhotype(regress)), the common
rho weighted by T_i - 1; the Prais-Winsten transform as a T x T matrix per panel; the GLS
coefficients from the AR(1) covariance rho^|t-s| itself (the transform is its inverse square
root); the log likelihood as the multivariate normal density of each panel's residuals under
that covariance. panels(correlated) is checked against R's plm::pggls (pggls.R)."""
import json
import os

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "xt_extra")
with open(os.path.join(HERE, "pggls.json")) as f:
    PGGLS = json.load(f)["pggls_pooling_1935_1939"]


@pytest.fixture(scope="module")
def grun():
    s = csv_session("tests/data/grunfeld_xt.csv")
    ok(s, "xtset firm year")
    return s


def _data(s):
    y = np.asarray(s.data.var("inv").values, float)
    X = np.column_stack([np.asarray(s.data.var(c).values, float) for c in ("value", "capital")]
                        + [np.ones(s.data.n)])
    firm = np.asarray(s.data.var("firm").values, float)
    return y, X, [np.flatnonzero(firm == f) for f in np.unique(firm)]   # rows sorted by year


def _rhos(y, X, panels, bound=1.0):
    e = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    out = []
    for idx in panels:
        ei = e[idx]
        out.append(min(bound, max(-bound, (ei[1:] @ ei[:-1]) / (ei[:-1] @ ei[:-1]))))
    return np.array(out)


def _pw_matrix(rho, T):
    P = np.eye(T)
    P[0, 0] = np.sqrt(1 - rho ** 2)
    for t in range(1, T):
        P[t, t - 1] = -rho
    return P


def _transform(y, X, panels, rhos):
    ys, Xs = np.empty_like(y), np.empty_like(X)
    for idx, r in zip(panels, rhos):
        P = _pw_matrix(r, len(idx))
        ys[idx], Xs[idx] = P @ y[idx], P @ X[idx]
    return ys, Xs


def _pcse(Xs, es, panels):
    E = np.column_stack([es[idx] for idx in panels])          # T x N
    Sigma = E.T @ E / E.shape[0]
    T = E.shape[0]
    Omega = np.kron(Sigma, np.eye(T))                           # rows panel-major
    order = np.concatenate(panels)
    Xo = Xs[order]
    XXi = np.linalg.inv(Xo.T @ Xo)
    return XXi @ Xo.T @ Omega @ Xo @ XXi


@pytest.mark.parametrize("corr", ["ar1", "psar1"])
def test_xtpcse_prais_winsten(grun, corr):
    out = ok(grun, f"xtpcse inv value capital, corr({corr})")
    assert "Prais-Winsten regression, correlated panels corrected standard errors (PCSEs)" in out
    y, X, panels = _data(grun)
    rhos = _rhos(y, X, panels)
    if corr == "ar1":
        rhos = np.full(len(panels), np.mean(rhos))              # balanced: T_i - 1 weights equal
    ys, Xs = _transform(y, X, panels, rhos)
    b = np.linalg.lstsq(Xs, ys, rcond=None)[0]
    V = _pcse(Xs, ys - Xs @ b, panels)
    np.testing.assert_allclose(grun.e.b, b, rtol=1e-9)
    np.testing.assert_allclose(grun.e.se, np.sqrt(np.diag(V)), rtol=1e-8)
    got_rho = np.asarray(grun.e.matrices["rho"]).ravel()
    np.testing.assert_allclose(got_rho, rhos[:1] if corr == "ar1" else rhos, rtol=1e-10)
    assert grun.e.scalars["n_cr"] == (1 if corr == "ar1" else 10)
    assert ("rhos |" if corr == "psar1" else "rho |") in out
    assert ("bounded to be in the range [-1,1]" in out) == bool(np.any(np.abs(_rhos(y, X, panels, 9)) > 1))
    ok(grun, f"xtpcse inv value capital, corr({corr}) nmk")
    np.testing.assert_allclose(grun.e.se, np.sqrt(np.diag(V) * 200 / 197), rtol=1e-8)


@pytest.mark.parametrize("np1", [False, True])
def test_xtpcse_ar1_weights_unbalanced_panels_by_pairs(grun, np1):
    ok(grun, "xtpcse inv value capital if !(firm == 3 & year > 1945), corr(ar1) hetonly"
        + (" np1" if np1 else ""))
    y, X, panels = _data(grun)
    keep = [idx[:11] if k == 2 else idx for k, idx in enumerate(panels)]
    rows = np.concatenate(keep)
    yk, Xk = y[rows], X[rows]
    starts = np.cumsum([0] + [len(i) for i in keep])
    pk = [np.arange(starts[j], starts[j + 1]) for j in range(len(keep))]
    r = _rhos(yk, Xk, pk)
    w = np.array([len(i) - (0 if np1 else 1) for i in pk], float)
    common = float(w @ r / w.sum())
    assert float(np.asarray(grun.e.matrices["rho"]).ravel()[0]) == pytest.approx(common, rel=1e-10)
    ys, Xs = _transform(yk, Xk, pk, np.full(len(pk), common))
    np.testing.assert_allclose(grun.e.b, np.linalg.lstsq(Xs, ys, rcond=None)[0], rtol=1e-9)


def _ar1_cov(rho, T):
    t = np.arange(T)
    return rho ** np.abs(t[:, None] - t[None, :]) / (1 - rho ** 2)


def test_xtgls_ar1_is_gls_under_the_ar1_covariance(grun):
    from scipy.stats import multivariate_normal

    out = ok(grun, "xtgls inv value capital, corr(ar1)")
    y, X, panels = _data(grun)
    rho = float(np.mean(_rhos(y, X, panels)))
    assert f"common AR(1) coefficient for all panels  ({rho:.4f})" in out
    R = _ar1_cov(rho, 20)
    Ri = np.linalg.inv(R)
    A = sum(X[i].T @ Ri @ X[i] for i in panels)
    c = sum(X[i].T @ Ri @ y[i] for i in panels)
    b = np.linalg.solve(A, c)
    np.testing.assert_allclose(grun.e.b, b, rtol=1e-9)
    ys, Xs = _transform(y, X, panels, np.full(10, rho))
    s2 = float(np.sum((ys - Xs @ b) ** 2)) / len(y)
    np.testing.assert_allclose(grun.e.se, np.sqrt(np.diag(np.linalg.inv(A) * s2)), rtol=1e-8)
    ll = sum(multivariate_normal(np.zeros(20), s2 * R).logpdf(y[i] - X[i] @ b) for i in panels)
    assert grun.e.scalars["ll"] == pytest.approx(ll, rel=1e-9)


def test_xtgls_igls_log_and_fixed_point(grun):
    out = ok(grun, "xtgls inv value capital, panels(hetero) corr(ar1) igls")
    assert "Iteration 1: tolerance = " in out
    y, X, panels = _data(grun)
    b = np.asarray(grun.e.b)                       # the fixed point: one more round gives b back
    e = y - X @ b
    r = []
    for idx in panels:
        ei = e[idx]
        r.append(min(1.0, max(-1.0, (ei[1:] @ ei[:-1]) / (ei[:-1] @ ei[:-1]))))
    ys, Xs = _transform(y, X, panels, np.full(10, np.mean(r)))
    es = ys - Xs @ b
    w = np.empty_like(y)
    for idx in panels:
        w[idx] = 1.0 / np.mean(es[idx] ** 2)
    b2 = np.linalg.solve((Xs * w[:, None]).T @ Xs, (Xs * w[:, None]).T @ ys)
    np.testing.assert_allclose(b2, b, rtol=1e-6)
    assert "Iteration" not in ok(grun, "xtgls inv value capital, panels(hetero) corr(ar1) igls nolog")


def test_xtgls_hetero_psar1_weights(grun):
    ok(grun, "xtgls inv value capital, panels(hetero) corr(psar1)")
    y, X, panels = _data(grun)
    rhos = _rhos(y, X, panels)
    ys, Xs = _transform(y, X, panels, rhos)
    e1 = ys - Xs @ np.linalg.lstsq(Xs, ys, rcond=None)[0]
    w = np.empty_like(y)
    for idx in panels:
        w[idx] = 1.0 / np.mean(e1[idx] ** 2)
    A = (Xs * w[:, None]).T @ Xs
    b = np.linalg.solve(A, (Xs * w[:, None]).T @ ys)
    np.testing.assert_allclose(grun.e.b, b, rtol=1e-9)
    np.testing.assert_allclose(grun.e.se, np.sqrt(np.diag(np.linalg.inv(A))), rtol=1e-8)
    assert grun.e.scalars["n_cr"] == 10 and grun.e.scalars["n_cv"] == 10


def test_xtgls_correlated_panels_match_plm_pggls():
    s = csv_session("tests/data/grunfeld_xt.csv")
    ok(s, "keep if year <= 1939")
    ok(s, "xtset year firm")          # years as panels: Sigma between years = pggls's T x T
    out = ok(s, "xtgls inv value capital, panels(correlated)")
    assert "heteroskedastic with cross-sectional correlation" in out
    np.testing.assert_allclose(s.e.b, PGGLS["b"], rtol=1e-4)
    np.testing.assert_allclose(s.e.se, PGGLS["se"], rtol=1e-4)
    assert s.e.scalars["n_cv"] == 15


def test_refusals_leave_results(grun):
    ok(grun, "quietly xtgls inv value capital")
    before = grun.e
    for line, rc in (("xtgls inv value, corr(ar1) rhotype(bogus)", 198),
                     ("xtpcse inv value, corr(ar1) rhotype(bogus)", 198),
                     ("xtgls inv value if firm < 3 | year < 1950, panels(correlated)", 459)):
        got, text = run(grun, line)
        assert got == rc, (line, text)
        assert grun.e is before
