"""ivregress 2sls|liml|gmm and estat firststage/endogenous/overid on Stock and Watson's
cigarette data (AER's CigarettesSW, real prices and income): references from AER::ivreg and
sandwich (tests/data/ivregress/make_reference.R), a published Stata log of
`ivregress 2sls lpackpc (lravgprs = rtaxso) if year==1995, vce(robust)` (R-squared .4011,
Root MSE .18635, Wald chi2(1) 12.05), and numpy formulas for LIML and two-step GMM."""
import json
from pathlib import Path

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

DATA = Path(__file__).parent / "data" / "ivregress"
REF = json.loads((DATA / "reference.json").read_text())


@pytest.fixture
def s():
    return csv_session(DATA / "cigarettes.csv")


def _b(s):
    return np.ravel(s.e.b), np.sqrt(np.diag(s.e.V))


def _r_order(v):                     # R: (Intercept) first; Stata: _cons last
    return np.r_[v[1:], v[0]]


def test_2sls_matches_aer(s):
    ok(s, "ivregress 2sls lpackpc lperinc (lravgprs = rtaxso rtax) if yr==1995")
    b, se = _b(s)
    r = REF["tsls"]
    assert np.allclose(b, _r_order(r["b"]), rtol=1e-7)
    assert np.allclose(se, _r_order(r["se"]), rtol=1e-6)
    assert s.e.scalars["r2"] == pytest.approx(r["r2"], rel=1e-8)
    ok(s, "ivregress 2sls lpackpc lperinc (lravgprs = rtaxso rtax) if yr==1995, small")
    assert np.allclose(_b(s)[1], _r_order(r["se_small"]), rtol=1e-6)
    assert s.e.scalars["df_r"] == 45


def test_published_robust_log(s):
    rc, out = run(s, "ivregress 2sls lpackpc (lravgprs = rtaxso) if yr==1995, vce(robust)")
    assert rc == 0
    assert "Instrumental variables 2SLS regression" in out
    assert "Wald chi2(1)    =      12.05" in out
    assert "R-squared       =     0.4011" in out
    assert "Root MSE        =     .18635" in out
    assert "Instrumented: lravgprs" in out and "Instruments: rtaxso" in out
    assert np.allclose(_b(s)[1], _r_order(REF["robust1"]["se"]), rtol=1e-6)


def test_cluster_matches_sandwich(s):
    ok(s, "ivregress 2sls lpackpc lperinc (lravgprs = rtaxso rtax), vce(cluster state)")
    b, se = _b(s)
    assert np.allclose(b, _r_order(REF["cluster"]["b"]), rtol=1e-7)
    assert np.allclose(se, _r_order(REF["cluster"]["se"]), rtol=1e-6)
    assert s.e.scalars["N_clust"] == 48 and s.e.macros["clustvar"] == "state"


def _arrays(s):
    d = s.data
    m = np.asarray(d.values("yr")) == 1995
    col = lambda n: np.asarray(d.values(n), float)[m]
    one = np.ones(int(m.sum()))
    X = np.column_stack([col("lravgprs"), col("lperinc"), one])
    Z = np.column_stack([col("lperinc"), one, col("rtaxso"), col("rtax")])
    return col("lpackpc"), X, Z


def test_liml_kclass_eigenvalue(s):
    ok(s, "ivregress liml lpackpc lperinc (lravgprs = rtaxso rtax) if yr==1995")
    y, X, Z = _arrays(s)
    W = np.column_stack([y, X[:, 0]])
    X1 = X[:, 1:]
    M = lambda A, B: B - A @ np.linalg.pinv(A) @ B  
    k = min(np.real(np.linalg.eigvals(np.linalg.solve(M(Z, W).T @ M(Z, W), M(X1, W).T @ M(X1, W)))))
    A = X.T @ X - k * M(Z, X).T @ M(Z, X)
    b = np.linalg.solve(A, X.T @ y - k * M(Z, X).T @ y)
    e = y - X @ b
    V = np.linalg.inv(A) * (e @ e) / len(y)
    assert s.e.scalars["kappa"] == pytest.approx(k, rel=1e-9)
    assert np.allclose(_b(s)[0], b, rtol=1e-8)
    assert np.allclose(_b(s)[1], np.sqrt(np.diag(V)), rtol=1e-7)


def test_gmm_two_step(s):
    ok(s, "ivregress gmm lpackpc lperinc (lravgprs = rtaxso rtax) if yr==1995")
    y, X, Z = _arrays(s)
    n = len(y)
    Pz = Z @ np.linalg.pinv(Z)
    b1 = np.linalg.solve(X.T @ Pz @ X, X.T @ Pz @ y)
    e1 = y - X @ b1
    W = np.linalg.inv((Z * e1[:, None] ** 2).T @ Z / n)
    b2 = np.linalg.solve(X.T @ Z @ W @ Z.T @ X, X.T @ Z @ W @ Z.T @ y)
    g = Z.T @ (y - X @ b2) / n
    assert np.allclose(_b(s)[0], b2, rtol=1e-8)
    assert s.e.scalars["J"] == pytest.approx(n * g @ W @ g, rel=1e-8)
    rc, out = run(s, "estat overid")
    assert rc == 0 and "Hansen's J chi2(1)" in out


def test_estat_matches_aer(s):
    ok(s, "ivregress 2sls lpackpc lperinc (lravgprs = rtaxso rtax) if yr==1995")
    r = REF["tsls"]
    ok(s, "estat firststage")
    assert s.r.matrices["singleresults"][0, 3] == pytest.approx(r["weak_F"], rel=1e-8)
    assert s.r.scalars["mineig"] == pytest.approx(r["weak_F"], rel=1e-8)   # one endogenous
    ok(s, "estat endogenous")
    assert s.r.scalars["wu"] == pytest.approx(r["wu"], rel=1e-7)
    ok(s, "estat overid")
    assert s.r.scalars["sargan"] == pytest.approx(r["sargan"], rel=1e-6)


def test_predict(s):
    ok(s, "ivregress 2sls lpackpc lperinc (lravgprs = rtaxso rtax) if yr==1995")
    ok(s, "predict double e, residuals")
    ok(s, "predict double xb, xb")
    y, X, _ = _arrays(s)
    m = np.asarray(s.data.values("yr")) == 1995
    assert np.allclose(np.asarray(s.data.values("xb"))[m], X @ _b(s)[0])
    assert np.allclose(np.asarray(s.data.values("e"))[m], y - X @ _b(s)[0])


@pytest.mark.parametrize("line,code", [
    ("ivregress 2sls lpackpc (lravgprs rtax = rtaxso)", 481),
    ("ivregress 2sls lpackpc lravgprs rtaxso", 198),
    ("ivregress ols lpackpc (lravgprs = rtaxso)", 198),
    ("ivregress 2sls lpackpc (nosuch = rtaxso)", 111),
    ("ivregress 2sls lpackpc (lravgprs = rtaxso), vce(bogus)", 198),
    ("ivregress", 301),
])
def test_refusals(s, line, code):
    before = s.e
    rc, out = run(s, line)
    assert rc == code, out
    assert "Traceback" not in out and s.e is before


def test_firststage_after_robust_needs_forcenonrobust(s):
    ok(s, "ivregress 2sls lpackpc lperinc (lravgprs = rtaxso rtax) if yr==1995, vce(robust)")
    assert run(s, "estat firststage")[0] == 321
    ok(s, "estat firststage, forcenonrobust")
    assert s.r.scalars["mineig"] == pytest.approx(REF["tsls"]["weak_F"], rel=1e-8)


def test_gmm_wmatrix_and_igmm(s):
    ok(s, "ivregress gmm lpackpc lperinc (lravgprs = rtaxso rtax) if yr==1995, wmatrix(unadjusted)")
    b, _ = _b(s)
    assert np.allclose(b, _r_order(REF["tsls"]["b"]), rtol=1e-7)   # unadjusted W: GMM = 2SLS
    ok(s, "ivregress gmm lpackpc lperinc (lravgprs = rtaxso rtax) if yr==1995, igmm")
    assert s.e.scalars["iterations"] > 2
    assert run(s, "ivregress 2sls lpackpc (lravgprs = rtaxso), wmatrix(robust)")[0] == 198


def test_weights_match_aer(s):
    ok(s, "generate pop = 1 + mod(_n, 5)")
    r = REF["weights"]
    line = "ivregress 2sls lpackpc lperinc (lravgprs = rtaxso rtax)"
    rc, out = run(s, f"{line} [aw=pop], small")
    assert rc == 0 and "(sum of wgt is 287)" in out
    b, se = _b(s)
    assert np.allclose(b, _r_order(r["b"]), rtol=1e-7)
    assert np.allclose(se, _r_order(r["se_aw_small"]), rtol=1e-6)
    assert s.e.scalars["r2"] == pytest.approx(r["r2"], rel=1e-8)
    assert s.e.macros["wtype"] == "aweight"
    ok(s, f"{line} [pw=pop]")
    assert s.e.macros["vce"] == "robust"
    assert np.allclose(_b(s)[1], _r_order(r["se_pw"]), rtol=1e-6)
    ok(s, f"{line} [fw=pop]")
    assert s.e.scalars["N"] == r["N_fw"]
    assert np.allclose(_b(s)[1], _r_order(r["se_fw"]), rtol=1e-6)
    assert run(s, f"{line} [iw=pop]")[0] == 101


def test_robust_overid_score(s):
    """Wooldridge's score test; the reference residualizes the other excluded instrument
    (the statistic does not depend on which q are used) and regresses 1 on the scores."""
    ok(s, "ivregress 2sls lpackpc lperinc (lravgprs = rtaxso rtax) if yr==1995, vce(robust)")
    ok(s, "estat overid")
    y, X, Z = _arrays(s)
    e = y - X @ _b(s)[0]
    Xh = Z @ np.linalg.lstsq(Z, X, rcond=None)[0]
    q = Z[:, 2]                                          # rtaxso (the command uses rtax)
    r = q - Xh @ np.linalg.lstsq(Xh, q, rcond=None)[0]
    u = (e * r)[:, None]
    one = np.ones(len(y))
    ssr = np.sum((one - u @ np.linalg.lstsq(u, one, rcond=None)[0]) ** 2)
    assert s.r.scalars["score"] == pytest.approx(len(y) - ssr, rel=1e-8)
    assert s.r.scalars["df"] == 1
    ok(s, "generate pop = 1 + mod(_n, 5)")
    ok(s, "ivregress 2sls lpackpc lperinc (lravgprs = rtaxso rtax) [aw=pop]")
    assert run(s, "estat overid")[0] == 498
