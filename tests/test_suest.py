"""suest: the stacked-score sandwich against a numpy computation written here (each model's
estimating functions and information matrix by hand), equation names, e(), `test` across
models, cluster VCE, and refusals."""
from __future__ import annotations

import numpy as np
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run

SETUP = ["clear", "set obs 240", "set seed 99", "gen x = rnormal()", "gen c = mod(_n, 24)",
         "gen y = (0.3 + 0.8*x + rnormal()) > 0", "gen w = 1 + x + rnormal()",
         "gen k = rpoisson(exp(.2 + .3*x))", "gen z = runiform()",
         "quietly regress w x z", "estimates store ols",
         "quietly logit y x if z < .8", "estimates store lg",
         "quietly poisson k x", "estimates store ps"]


@pytest.fixture(scope="module")
def session():
    s = Session(out=Capture())
    for line in SETUP:
        ok(s, line)
    return s


def _col(s, name):
    return np.asarray(s.data.values(name), dtype=float)


def _reference(s, cluster=None):
    """Stacked estimating functions and bread, computed from scratch."""
    x, z, y, w, k = (_col(s, v) for v in ("x", "z", "y", "w", "k"))
    n = len(x)
    one = np.ones(n)
    # OLS as normal ML: mean and lnvar
    X1 = np.column_stack([x, z, one])
    b1 = np.linalg.lstsq(X1, w, rcond=None)[0]
    e = w - X1 @ b1
    s2 = e @ e / (n - 3)            # suest's lnvar is ln(e(rmse)^2)
    S1 = np.column_stack([X1 * (e / s2)[:, None], 0.5 * (e ** 2 / s2 - 1)])
    D1 = np.zeros((4, 4))
    D1[:3, :3] = s2 * np.linalg.inv(X1.T @ X1)
    D1[3, 3] = 2 / n
    # logit on z < .8 (Newton)
    sel = z < .8
    X2 = np.column_stack([x, one])
    b2 = np.zeros(2)
    for _ in range(40):
        p = 1 / (1 + np.exp(-X2[sel] @ b2))
        b2 += np.linalg.solve(X2[sel].T @ (X2[sel] * (p * (1 - p))[:, None]), X2[sel].T @ (y[sel] - p))
    p = 1 / (1 + np.exp(-X2 @ b2))
    S2 = np.where(sel[:, None], X2 * (y - p)[:, None], 0.0)
    D2 = np.linalg.inv(X2[sel].T @ (X2[sel] * (p[sel] * (1 - p[sel]))[:, None]))
    # poisson
    b3 = np.zeros(2)
    for _ in range(40):
        mu = np.exp(X2 @ b3)
        b3 += np.linalg.solve(X2.T @ (X2 * mu[:, None]), X2.T @ (k - mu))
    mu = np.exp(X2 @ b3)
    S3 = X2 * (k - mu)[:, None]
    D3 = np.linalg.inv(X2.T @ (X2 * mu[:, None]))
    S = np.column_stack([S1, S2, S3])
    D = np.zeros((8, 8))
    D[:4, :4], D[4:6, 4:6], D[6:, 6:] = D1, D2, D3
    if cluster is None:
        meat, c = S.T @ S, n / (n - 1)
    else:
        g = _col(s, cluster).astype(int)
        sums = np.zeros((g.max() + 1, 8))
        np.add.at(sums, g, S)
        m = len(np.unique(g))
        meat, c = sums.T @ sums, m / (m - 1)
    b = np.concatenate([b1, [np.log(s2)], b2, b3])
    return b, c * D @ meat @ D


def test_three_models_against_numpy(session):
    s = session
    out = ok(s, "suest ols lg ps")
    b, V = _reference(s)
    e = s.e
    assert [eq for eq, _ in e.names] == ["ols_mean"] * 3 + ["ols_lnvar", "lg", "lg", "ps", "ps"]
    assert np.allclose(np.asarray(e.b).ravel(), b, rtol=1e-6)
    assert np.allclose(np.asarray(e.V), V, rtol=1e-5, atol=1e-12)
    assert e.cmd == "suest" and e.scalars["N"] == 240 and e.macros["names"] == "ols lg ps"
    assert e.macros["vcetype"] == "Robust"
    assert "Simultaneous results for ols, lg, ps" in out and "Number of obs = 240" in out
    assert "ols_lnvar    |" in out and "Robust" in out
    # test across equations: Wald chi2 from the same V
    out = ok(s, "test [ols_mean]x = [lg]x")
    r = np.zeros(8)
    r[0], r[4] = 1, -1
    chi2 = (r @ b) ** 2 / (r @ V @ r)
    assert abs(s.r.scalars["chi2"] - chi2) < 1e-5 * chi2


def test_cluster(session):
    s = session
    out = ok(s, "suest ols lg ps, vce(cluster c)")
    _, V = _reference(s, "c")
    assert np.allclose(np.asarray(s.e.V), V, rtol=1e-5, atol=1e-12)
    assert s.e.scalars["N_clust"] == 24 and s.e.macros["clustvar"] == "c"
    assert "(Std. err. adjusted for 24 clusters in c)" in out


def test_single_logit_is_logit_robust(session):
    s = session
    ok(s, "quietly logit y x")
    ok(s, "estimates store one")
    ok(s, "suest one")
    V1 = np.asarray(s.e.V)
    ok(s, "quietly logit y x, vce(robust)")
    assert np.allclose(V1, np.asarray(s.e.V), rtol=1e-5)


@pytest.mark.parametrize("line,rc", [
    ("suest", 100),
    ("suest nosuch", 111),
    ("suest ols lg, vce(bootstrap)", 198),
    ("suest ols ols", 198),
])
def test_refusals(session, line, rc):
    s = session
    ok(s, "quietly regress w x")
    before = s.e
    got, out = run(s, line)
    assert got == rc, out
    assert s.e is before


def test_unsupported_command():
    s = Session(out=Capture())
    for line in SETUP[:8] + ["xtset c", "quietly xtreg w x, re", "estimates store re"]:
        ok(s, line)
    got, out = run(s, "suest re")
    assert got == 322 and "xtreg is not supported by suest" in out


def test_eform_and_coeflegend(session):
    s = session
    out = ok(s, "suest lg ps, eform(exp(b))")
    b, V = _reference(s)
    assert "exp(b)" in out
    eb, se = np.exp(b[4]), np.exp(b[4]) * np.sqrt(V[4, 4])
    row = next(ln for ln in out.splitlines() if ln.strip().startswith("x |"))
    assert abs(float(row.split()[2]) - eb) < 1e-5 * eb and abs(float(row.split()[3]) - se) < 1e-5 * se
    out = ok(s, "suest lg ps, coeflegend")
    assert "_b[lg:x]" in out and "_b[ps:_cons]" in out and "Legend" in out
    ok(s, "suest")                    # replay


@pytest.mark.parametrize("wt", ["pw", "fw"])
def test_weighted_logit_matches_logit_robust(wt):
    """One weighted logit through suest: the robust VCE logit itself reports with the same
    weights (pweights: sandwich of weighted scores; fweights: each observation f times)."""
    s = Session(out=Capture())
    for line in SETUP[:8] + ["gen f = 1 + mod(_n, 3)"]:
        ok(s, line)
    ok(s, f"quietly logit y x [{wt}=f]")
    ok(s, "estimates store one")
    out = ok(s, "suest one")
    V1 = np.asarray(s.e.V)
    n_expected = 240 if wt == "pw" else int(_col(s, "f").sum())
    assert s.e.scalars["N"] == n_expected and f"Number of obs = {n_expected:,}" in out
    ok(s, f"quietly logit y x [{wt}=f], vce(robust)")
    assert np.allclose(V1, np.asarray(s.e.V), rtol=1e-5)


def test_different_weights_refused(session):
    s = session
    ok(s, "quietly logit y x [pw=z]")
    ok(s, "estimates store wz")
    got, out = run(s, "suest wz lg")
    assert got == 322 and "same weights" in out


@pytest.mark.parametrize("cmd", ["ologit", "oprobit"])
def test_single_ordinal_is_robust(cmd):
    """ologit/oprobit through suest: the index equation and one equation per cutpoint, with
    the VCE the command itself reports under vce(robust)."""
    s = Session(out=Capture())
    for line in SETUP[:8] + ["gen o = 1 + (x + rnormal() > 0) + (x + rnormal() > 1)"]:
        ok(s, line)
    ok(s, f"quietly {cmd} o x")
    ok(s, "estimates store m")
    ok(s, "suest m")
    assert [e for e, _ in s.e.names] == ["m", "m_cut1", "m_cut2"]
    V1, b1 = np.asarray(s.e.V), np.asarray(s.e.b).ravel()
    ok(s, f"quietly {cmd} o x, vce(robust)")
    assert np.allclose(b1, np.asarray(s.e.b).ravel())
    # the command's own robust VCE comes from its own (numerical) Hessian: agreement to 1e-4
    assert np.allclose(V1, np.asarray(s.e.V), rtol=1e-4, atol=2e-5 * np.abs(V1).max())


def test_equations_equal(session):
    """`test [eq1 = eq2]` after suest: every shared coefficient but _cons equal (here x)."""
    s = session
    ok(s, "suest ols lg ps")
    b, V = _reference(s)
    out = ok(s, "test [lg = ps]")
    assert "[lg]x - [ps]x = 0" in out and "_cons" not in out
    r = np.zeros(8)
    r[4], r[6] = 1, -1
    assert abs(s.r.scalars["chi2"] - (r @ b) ** 2 / (r @ V @ r)) < 1e-5 * s.r.scalars["chi2"]
    out = ok(s, "test [lg = ps]: _cons")
    assert "[lg]_cons - [ps]_cons = 0" in out
    got, out = run(s, "test [lg = nosuch]")
    assert got == 303
