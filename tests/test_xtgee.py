"""xtgee: numbers against R's geepack (tests/data/gee/xtgee_reference.R, run once; the numbers
are in xtgee_reference.json) where geepack's estimators are Stata's (independence,
exchangeable, unstructured on a balanced panel; Gaussian, binomial, Poisson; robust SEs, which
are geepack's san.se times G/(G-1)), and, where they differ (AR(k): geepack fits alpha^|t-s| to
all pairs, Stata takes the lag-1 moment; stationary, nonstationary; the nmp divisor; the
conventional VCE), against a direct per-panel loop of Stata's formulas written here. Then the
layout, e(), estat wcorrelation, replay and errors.

Data: plm's Wages (tests/data/wages_xt.csv), geepack's ohio and seizure (tests/data/gee/).
"""
import json
import os

import numpy as np
import pandas as pd
import pytest

from session_run import csv_session, ok, run

HERE = os.path.join(os.path.dirname(__file__), "data", "gee")
REF = json.load(open(os.path.join(HERE, "xtgee_reference.json")))


@pytest.fixture(scope="module")
def wages():
    s = csv_session("tests/data/wages_xt.csv")
    ok(s, "xtset id t")
    return s


@pytest.fixture(scope="module")
def ohio():
    s = csv_session("tests/data/gee/ohio.csv")
    ok(s, "xtset id t")
    return s


@pytest.fixture(scope="module")
def seizure():
    s = csv_session("tests/data/gee/seizure.csv")
    ok(s, "xtset id t")
    return s


def _eb(s):
    return np.ravel(s.e.b), np.sqrt(np.diag(s.e.V))


def _reorder(ref):
    """geepack's (Intercept) first -> Stata's _cons last."""
    c, se = np.array(ref["coef"]), np.array(ref["san_se"])
    return np.r_[c[1:], c[:1]], np.r_[se[1:], se[:1]]


def _check(s, line, ref, *, phi=None):
    ok(s, line + " vce(robust) nolog tolerance(1e-12)")
    b, se = _eb(s)
    rb, rse = _reorder(ref)
    G = ref["G"]
    np.testing.assert_allclose(b, rb, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(se, rse * np.sqrt(G / (G - 1)), rtol=1e-5)
    R = np.asarray(s.e.matrices["R"])
    alpha = np.atleast_1d(ref["alpha"])
    if alpha.size == 1:
        assert R[1, 0] == pytest.approx(alpha[0], rel=1e-6)
    elif alpha.size > 1:
        T = R.shape[0]
        upper = [R[i, j] for j in range(T) for i in range(j)]    # geepack: column-wise
        np.testing.assert_allclose(sorted(upper), sorted(alpha), rtol=1e-6)
        iu = np.triu_indices(T, 1)
        np.testing.assert_allclose(R[iu], np.array(alpha), rtol=1e-6)
    if phi is not None:
        assert s.e.scalars["phi"] == pytest.approx(ref["phi"], rel=1e-6)


WAGES = "xtgee lwage exp exp2 wks ed,"


def test_gaussian_against_geepack(wages):
    _check(wages, WAGES + " corr(independent)", REF["wages_ind"], phi=True)
    _check(wages, WAGES + " corr(exchangeable)", REF["wages_exc"], phi=True)
    # geepack's unstructured estimate on Wages has a correlation of 1.097: Stata refuses it
    assert max(REF["wages_uns"]["alpha"]) > 1
    before = wages.e
    rc, out = run(wages, WAGES + " corr(unstructured) nolog")
    assert rc == 430 and "estimates diverging (absolute correlation > 1)" in out
    assert wages.e is before


def test_binomial_against_geepack():
    s = csv_session("tests/data/gee/ohio.csv")
    ok(s, "xtset id t")
    ok(s, "generate agesmoke = age*smoke")
    for key, corr in (("ohio_ind", "independent"), ("ohio_exc", "exchangeable"),
                      ("ohio_uns", "unstructured")):
        _check(s, f"xtgee resp age smoke agesmoke, family(binomial) link(logit) corr({corr})",
               REF[key])
    assert s.e.scalars["phi"] == 1.0


def test_unbalanced_exchangeable_against_geepack():
    s = csv_session("tests/data/gee/ohio.csv")
    ok(s, "drop if mod(id, 7) == 0 & t == 2")
    ok(s, "generate agesmoke = age*smoke")
    ok(s, "xtset id t")
    _check(s, "xtgee resp age smoke agesmoke, fam(bin) corr(exc)", REF["ohio_unb_exc"])
    assert s.e.scalars["g_min"] == 3 and s.e.scalars["g_max"] == 4


def test_poisson_against_geepack(seizure):
    _check(seizure, "xtgee y trt lbase lage, family(poisson) corr(ind)", REF["seiz_ind"])
    _check(seizure, "xtgee y trt lbase lage, family(poisson) link(log) corr(exch)", REF["seiz_exc"])


# --------------------------------------------------------------------------- Stata's formulas
def _stata_R(r, kind, k, T, phi):
    """Stata's moment estimators written out per panel and per pair (r: list of per-panel
    arrays of Pearson residuals indexed by time position, NaN where missing)."""
    if kind == "exchangeable":
        num = den = 0.0
        for ri in r:
            v = ri[~np.isnan(ri)]
            for j in range(len(v)):
                for l in range(len(v)):
                    if j != l:
                        num += v[j] * v[l]
                        den += 1
        R = np.full((T, T), num / den / phi)
        np.fill_diagonal(R, 1.0)
        return R
    pair = np.zeros((T, T))
    cnt = np.zeros((T, T))
    for ri in r:
        for t in range(T):
            for u in range(T):
                if not (np.isnan(ri[t]) or np.isnan(ri[u])):
                    pair[t, u] += ri[t] * ri[u]
                    cnt[t, u] += 1
    if kind in ("nonstationary", "unstructured"):
        R = pair / cnt / phi
        np.fill_diagonal(R, 1.0)
        if kind == "nonstationary":
            R[np.abs(np.subtract.outer(range(T), range(T))) > k] = 0.0
        return R
    rho = [1.0]
    for lag in range(1, k + 1):
        num = sum(pair[t, t + lag] for t in range(T - lag))
        den = sum(cnt[t, t + lag] for t in range(T - lag))
        rho.append(num / den / phi)
    acf = np.zeros(T)
    acf[:k + 1] = rho
    if kind == "ar":                                  # Yule-Walker
        P = np.array([[rho[abs(i - j)] for j in range(k)] for i in range(k)])
        a = np.linalg.solve(P, rho[1:])
        for lag in range(k + 1, T):
            acf[lag] = sum(a[j] * acf[lag - 1 - j] for j in range(k))
    return np.array([[acf[abs(i - j)] for j in range(T)] for i in range(T)])


def _stata_gee(y, X, ids, tpos, fam, kind, k=1, nmp=False, iters=200):
    """A plain GEE: Fisher scoring with the moment estimates refreshed each step, one panel at
    a time; returns beta, R, phi, the conventional (unit-scale) and robust VCE."""
    T = int(tpos.max()) + 1
    beta = np.linalg.lstsq(X, y if fam == "gaussian" else np.log(y + .5) if fam == "poisson"
                           else (y - .5), rcond=None)[0] * (1 if fam != "binomial" else 0)
    panels = [np.flatnonzero(ids == g) for g in np.unique(ids)]

    def mean(eta):
        if fam == "gaussian":
            return eta, np.ones_like(eta), np.ones_like(eta)
        if fam == "poisson":
            m = np.exp(eta)
            return m, m, m
        m = 1 / (1 + np.exp(-eta))
        return m, m * (1 - m), m * (1 - m)

    for _ in range(iters):
        mu, d, v = mean(X @ beta)
        e = (y - mu) / np.sqrt(v)
        phi = np.sum(e * e) / (len(y) - (X.shape[1] if nmp else 0))
        grid = []
        for idx in panels:
            ri = np.full(T, np.nan)
            ri[tpos[idx]] = e[idx]
            grid.append(ri)
        R = _stata_R(grid, kind, k, T, phi)
        H = np.zeros((X.shape[1],) * 2)
        U = np.zeros(X.shape[1])
        scores = []
        for idx in panels:
            A = np.diag(np.sqrt(v[idx]))
            Vi = A @ R[np.ix_(tpos[idx], tpos[idx])] @ A
            D = d[idx, None] * X[idx]
            W = np.linalg.inv(Vi)
            H += D.T @ W @ D
            u = D.T @ W @ (y[idx] - mu[idx])
            U += u
            scores.append(u)
        step = np.linalg.solve(H, U)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-13:
            break
    Hi = np.linalg.inv(H)
    S = np.array(scores)
    G = len(panels)
    return beta, R, phi, Hi, Hi @ S.T @ S @ Hi * G / (G - 1)


def _frame(s, names):
    return {n: np.asarray(s.data.var(n).values, dtype=float) for n in names}


@pytest.mark.parametrize("corr,kind,k", [("ar 1", "ar", 1), ("ar2", "ar", 2),
                                          ("stationary 2", "stationary", 2),
                                          ("nonstationary 1", "nonstationary", 1),
                                          ("unstructured", "unstructured", 0),
                                          ("exchangeable", "exchangeable", 0)])
def test_binomial_structures_against_stata_formulas(ohio, corr, kind, k):
    d = _frame(ohio, ["resp", "age", "smoke", "id", "t"])
    X = np.column_stack([d["age"], d["smoke"], np.ones(len(d["age"]))])
    beta, R, phi, Hi, Vr = _stata_gee(d["resp"], X, d["id"], (d["t"] - 1).astype(int),
                                      "binomial", kind, k)
    ok(ohio, f"xtgee resp age smoke, family(binomial) corr({corr}) nolog tolerance(1e-12)")
    b, se = _eb(ohio)
    np.testing.assert_allclose(b, beta, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(np.asarray(ohio.e.matrices["R"]), R, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(se, np.sqrt(np.diag(Hi)), rtol=1e-6)       # scale 1
    ok(ohio, f"xtgee resp age smoke, family(binomial) corr({corr}) nolog tolerance(1e-12) robust")
    np.testing.assert_allclose(_eb(ohio)[1], np.sqrt(np.diag(Vr)), rtol=1e-6)


@pytest.mark.parametrize("nmp", [False, True])
def test_gaussian_ar1_conventional_and_nmp(nmp):
    wages = csv_session("tests/data/wages_xt.csv")
    ok(wages, "keep if id <= 120")
    ok(wages, "xtset id t")
    d = _frame(wages, ["lwage", "exp", "wks", "ed", "id", "t"])
    X = np.column_stack([d["exp"], d["wks"], d["ed"], np.ones(len(d["exp"]))])
    beta, R, phi, Hi, _ = _stata_gee(d["lwage"], X, d["id"], (d["t"] - 1).astype(int),
                                     "gaussian", "ar", 1, nmp=nmp)
    ok(wages, "xtgee lwage exp wks ed, corr(ar 1) nolog tol(1e-12)" + (" nmp" if nmp else ""))
    b, se = _eb(wages)
    np.testing.assert_allclose(b, beta, rtol=1e-7)
    assert wages.e.scalars["phi"] == pytest.approx(phi, rel=1e-7)
    np.testing.assert_allclose(se, np.sqrt(phi * np.diag(Hi)), rtol=1e-6)


def test_poisson_stationary_unbalanced_times():
    """Gaps in time: a panel missing its 2nd period keeps the later periods at their positions."""
    s = csv_session("tests/data/gee/seizure.csv")
    ok(s, "drop if mod(id, 5) == 0 & t == 2")
    ok(s, "xtset id t")
    d = _frame(s, ["y", "trt", "lbase", "lage", "id", "t"])
    X = np.column_stack([d["trt"], d["lbase"], d["lage"], np.ones(len(d["y"]))])
    beta, R, *_ = _stata_gee(d["y"], X, d["id"], (d["t"] - 1).astype(int), "poisson",
                             "stationary", 1)
    ok(s, "xtgee y trt lbase lage, family(poisson) corr(sta 1) nolog tol(1e-12)")
    np.testing.assert_allclose(_eb(s)[0], beta, rtol=1e-7)
    np.testing.assert_allclose(np.asarray(s.e.matrices["R"]), R, rtol=1e-7, atol=1e-12)
    assert s.e.scalars["phi"] == 1.0 and s.e.macros["corr"] == "stationary(1)"


# --------------------------------------------------------------------------- layout and e()
def test_header_log_and_table(ohio):
    out = ok(ohio, "xtgee resp age smoke, family(binomial) link(logit) corr(exchangeable)")
    lines = out.splitlines()
    assert lines[1].startswith("Iteration 1: tolerance = ")
    head = out[out.index("GEE population"):].splitlines()
    assert head[0] == "GEE population-averaged model                   Number of obs     =      2,148"
    assert head[1] == "Group variable: id                              Number of groups  =        537"
    assert head[2] == "Family: Binomial                                Obs per group:"
    assert head[3] == "Link:   Logit                                                 min =          4"
    assert head[4] == "Correlation: exchangeable                                     avg =        4.0"
    assert head[6].startswith(" " * 48 + "Wald chi2(2)      =")
    assert head[7].startswith("Scale parameter = 1" + " " * 29 + "Prob > chi2       =")
    assert "        resp | Coefficient  Std. err.      z    P>|z|" in out
    e = ohio.e
    assert e.macros["cmd"] == "xtgee" and e.macros["family"] == "binomial"
    assert e.macros["link"] == "logit" and e.macros["corr"] == "exchangeable"
    assert e.scalars["N_g"] == 537 and e.scalars["df_m"] == 2
    b, se = _eb(ohio)
    chi2 = b[:2] @ np.linalg.solve(np.asarray(e.V)[:2, :2], b[:2])
    assert e.scalars["chi2"] == pytest.approx(chi2, rel=1e-10)


def test_robust_eform_and_time_header(ohio):
    out = ok(ohio, "xtgee resp age smoke, fam(binomial) corr(ar 1) vce(robust) eform nolog")
    assert "Iteration" not in out
    assert "Group and time vars: id t" in out and "Correlation: AR(1)" in out
    assert "(Std. err. adjusted for clustering on id)" in out
    assert "Odds ratio" in out and "Robust" in out
    assert ohio.e.macros["vcetype"] == "Robust" and ohio.e.scalars["N_clust"] == 537


def test_estat_wcorrelation(ohio):
    ok(ohio, "xtgee resp age smoke, fam(binomial) corr(ar 1) nolog")
    out = ok(ohio, "estat wcorrelation")
    R = np.asarray(ohio.e.matrices["R"])
    assert "Estimated within-id correlation matrix R:" in out
    assert f"r2{R[1, 0]:13.4f}{1:10.4f}" in out
    assert f"r3{R[2, 0]:13.4f}" in out and R[2, 0] == pytest.approx(R[1, 0] ** 2)
    np.testing.assert_allclose(ohio.r.matrices["R"].values, R)


def test_scale_options(wages):
    ok(wages, "xtgee lwage exp wks ed, nolog")
    phi = wages.e.scalars["phi"]
    se1 = _eb(wages)[1]
    ok(wages, "xtgee lwage exp wks ed, nolog scale(2)")
    np.testing.assert_allclose(_eb(wages)[1], se1 * np.sqrt(2 / phi), rtol=1e-10)
    assert "Scale parameter = 2" in run(wages, "xtgee")[1]


def test_replay_and_i_option():
    s = csv_session("tests/data/gee/ohio.csv")
    out = ok(s, "xtgee resp age, fam(bin) i(id) nolog")
    assert "Group variable: id" in out
    rc, again = run(s, "xtgee")
    assert rc == 0 and again.strip() == out.strip()
    assert "Odds ratio" in ok(s, "xtgee, eform")


@pytest.mark.parametrize("line,rc", [
    ("xtgee resp age", 459),                                   # no panel variable
    ("xtgee resp age, i(id) corr(ar 1)", 459),                 # no time variable
    ("xtgee resp age, i(id) corr(banana)", 198),
    ("xtgee resp age, i(id) corr(exc 2)", 198),
    ("xtgee resp age, i(id) corr(ar 0)", 198),
    ("xtgee resp age, i(id) corr(fixed nosuch)", 111),
    ("xtgee resp age, i(id) family(nosuch)", 198),
    ("xtgee resp age, i(id) vce(bootstrap)", 198),
    ("xtgee resp age, i(id) scale(abc)", 198),
    ("xtgee resp nosuch, i(id)", 111),
    ("xtgee resp age if age > 5, i(id)", 2000),
    ("xtgee", 301),
    ("xtgee resp age in 1/3, i(id)", 2000),                  # all 0
    ("xtgee resp age if id == 237, i(id)", 430),             # one panel: alpha = 1
    ("xtgee resp age, i(id) corr(fixed)", 198),
])
def test_errors_leave_session_unchanged(line, rc):
    s = csv_session("tests/data/gee/ohio.csv")
    before = s.e
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out and s.e is before


def test_outcome_range():
    s = csv_session("tests/data/gee/ohio.csv")
    ok(s, "replace resp = 2 in 1")
    assert run(s, "xtgee resp age, i(id) fam(binomial)")[0] == 459
    ok(s, "replace resp = -1 in 1")
    assert run(s, "xtgee resp age, i(id) fam(poisson)")[0] == 459


def test_fixed_correlation(ohio):
    ok(ohio, "matrix W = (1, .5, .25, .125 \\ .5, 1, .5, .25 \\ .25, .5, 1, .5 \\ .125, .25, .5, 1)")
    ok(ohio, "xtgee resp age smoke, fam(bin) corr(fixed W) nolog tol(1e-12)")
    d = _frame(ohio, ["resp", "age", "smoke", "id", "t"])
    X = np.column_stack([d["age"], d["smoke"], np.ones(len(d["age"]))])
    W = 0.5 ** np.abs(np.subtract.outer(range(4), range(4)))
    beta = np.zeros(3)
    for _ in range(50):                          # GEE with R = W fixed, all panels of 4
        mu = 1 / (1 + np.exp(-X @ beta))
        v = mu * (1 - mu)
        H = np.zeros((3, 3))
        U = np.zeros(3)
        for g in np.unique(d["id"]):
            i = np.flatnonzero(d["id"] == g)
            A = np.diag(np.sqrt(v[i]))
            Wi = np.linalg.inv(A @ W @ A)
            D = v[i, None] * X[i]
            H += D.T @ Wi @ D
            U += D.T @ Wi @ (d["resp"][i] - mu[i])
        beta += np.linalg.solve(H, U)
    np.testing.assert_allclose(_eb(ohio)[0], beta, rtol=1e-7)
    assert "Correlation: fixed (specified)" in run(ohio, "xtgee")[1]


def test_predict_mu_xb_stdp(seizure):
    ok(seizure, "xtgee y trt lbase lage, family(poisson) corr(exch) nolog")
    out = ok(seizure, "predict double m_gee")
    assert "(option mu assumed; predicted mean y)" in out
    ok(seizure, "predict double xb_gee, xb")
    ok(seizure, "predict double s_gee, stdp")
    d = _frame(seizure, ["trt", "lbase", "lage", "m_gee", "xb_gee", "s_gee"])
    X = np.column_stack([d["trt"], d["lbase"], d["lage"], np.ones(len(d["trt"]))])
    b = np.ravel(seizure.e.b)
    np.testing.assert_allclose(d["xb_gee"], X @ b, rtol=1e-12)
    np.testing.assert_allclose(d["m_gee"], np.exp(X @ b), rtol=1e-12)
    np.testing.assert_allclose(d["s_gee"], np.sqrt(np.einsum("ij,jk,ik->i", X, seizure.e.V, X)),
                               rtol=1e-10)
    assert run(seizure, "predict bad_gee, reffects")[0] == 198


def test_iteration_line_format():
    from hlmshell.output.xtgee_output import iteration_line
    # the manual's xtlogit, pa log: 9 significant characters
    assert iteration_line(5, 6.62812e-07) == "Iteration 5: tolerance = 6.628e-07"
    assert iteration_line(2, .009493421) == "Iteration 2: tolerance = .00949342"
    assert iteration_line(1, .1487877) == "Iteration 1: tolerance = .1487877"


@pytest.mark.parametrize("corr", ["exchangeable", "ar 1", "unstructured"])
def test_fweights_are_replicated_panels(corr):
    """A panel with frequency weight w fits as w copies of it (new panel ids): the expanded data
    fitted without weights is the reference."""
    s = csv_session("tests/data/gee/ohio.csv")
    ok(s, "keep if mod(id, 4) == 0")
    ok(s, "generate w = 1 + mod(id, 3)")
    ok(s, "xtset id t")
    ok(s, f"xtgee resp age smoke [fw=w], fam(bin) corr({corr}) vce(robust) nolog tol(1e-12)")
    b, se = _eb(s)
    R = np.asarray(s.e.matrices["R"]).copy()
    N, Ng = s.e.scalars["N"], s.e.scalars["N_g"]
    ok(s, "expand w")
    ok(s, "bysort id t: generate copy = _n")
    ok(s, "generate id2 = id * 10 + copy")
    ok(s, "xtset id2 t")
    ok(s, f"xtgee resp age smoke, fam(bin) corr({corr}) vce(robust) nolog tol(1e-12)")
    b2, se2 = _eb(s)
    np.testing.assert_allclose(b, b2, rtol=1e-8)
    np.testing.assert_allclose(se, se2, rtol=1e-8)
    np.testing.assert_allclose(R, np.asarray(s.e.matrices["R"]), rtol=1e-8, atol=1e-12)
    assert (N, Ng) == (s.e.scalars["N"], s.e.scalars["N_g"])


def test_pweights_imply_robust_and_constant_within_panel():
    s = csv_session("tests/data/gee/ohio.csv")
    ok(s, "generate w = 1 + mod(id, 3)")
    ok(s, "xtset id t")
    out = ok(s, "xtgee resp age smoke [pw=w], fam(bin) nolog")
    assert s.e.macros["vcetype"] == "Robust" and s.e.macros["wtype"] == "pweight"
    assert "(Std. err. adjusted for clustering on id)" in out
    ok(s, "replace w = 5 in 1")
    before = s.e
    rc, out = run(s, "xtgee resp age smoke [pw=w], fam(bin) nolog")
    assert rc == 199 and "weight must be constant within id" in out and s.e is before
    assert run(s, "xtgee resp age smoke [aw=w], fam(bin) nolog")[0] == 101


def test_rgf_x2_dev_and_exposure(seizure):
    ok(seizure, "xtgee y trt lbase, fam(poisson) corr(exch) nolog robust tol(1e-12)")
    V = np.asarray(seizure.e.V).copy()
    ok(seizure, "xtgee y trt lbase, fam(poisson) corr(exch) nolog robust rgf tol(1e-12)")
    np.testing.assert_allclose(np.asarray(seizure.e.V), V * (236 - 1) / (236 - 3), rtol=1e-10)
    ok(seizure, "xtgee y trt lbase, fam(poisson) corr(exch) nolog tol(1e-12)")
    V1 = np.asarray(seizure.e.V).copy()
    pearson = seizure.e.scalars["chi2_dis"]          # Pearson chi2 at scale 1
    dev = seizure.e.scalars["deviance"]
    ok(seizure, "xtgee y trt lbase, fam(poisson) corr(exch) nolog scale(x2) tol(1e-12)")
    np.testing.assert_allclose(np.asarray(seizure.e.V), V1 * pearson / (236 - 3), rtol=1e-10)
    ok(seizure, "xtgee y trt lbase, fam(poisson) corr(exch) nolog scale(dev) tol(1e-12)")
    np.testing.assert_allclose(np.asarray(seizure.e.V), V1 * dev / (236 - 3), rtol=1e-10)
    ok(seizure, "capture drop expo lexpo")
    ok(seizure, "generate double expo = 1 + t")
    ok(seizure, "generate double lexpo = ln(expo)")
    ok(seizure, "xtgee y trt lbase, fam(poisson) exposure(expo) nolog tol(1e-12)")
    b = np.ravel(seizure.e.b).copy()
    assert seizure.e.macros["offset"] == "ln(expo)"
    out = ok(seizure, "xtgee y trt lbase, fam(poisson) offset(lexpo) nolog tol(1e-12)")
    np.testing.assert_allclose(np.ravel(seizure.e.b), b, rtol=1e-10)
    assert "       lexpo |          1  (offset)" in out
