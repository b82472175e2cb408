"""engine/small_sample: Satterthwaite and Kenward-Roger DF (Stata's `mixed, dfmethod()`), and
the counting rules (residual, repeated, anova).

The marginal models are rebuilt here from the data and a small dense REML fit written in this
file (so these tests do not depend on engine/lmm): V_g = Z_g G Z_g' + s2 I, parametrised by the
variances, covariances and s2, so V is linear in the parameters.

Reference numbers: lme4 1.1-31 / lmerTest 3.1-3 / pbkrtest 0.5.2, from
tests/data/small_sample/reference.R (REML, bobyqa with rhoend 1e-13: lme4's default
tolerances stop ~1e-5 short of the optimum, which would show in the 5th digit of the DFs).
lmerTest's Satterthwaite uses the observed information (numerical Hessian in lme4's
theta/sigma metric), so it is compared with info="oim" to 1e-4; pbkrtest uses the expected
information, compared with info="eim" to 1e-5. The expected-information Satterthwaite DFs
are checked against a brute-force dense computation instead.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from hlmshell.engine import small_sample as ss

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "small_sample"
HSB = ROOT / "hlmshell" / "sample_data" / "hsb.dta"


# --------------------------------------------------------------------------- data and fits

def sleep(unbalanced=False):
    """sleepstudy; the unbalanced subset keeps, for subject number i (1..18 in sorted order),
    Days <= 9 - 2*(i % 4) and drops rows with (Days + i) % 7 == 0 (as reference.R)."""
    d = pd.read_csv(DATA / "sleepstudy.csv")
    i = pd.factorize(d["Subject"], sort=True)[0] + 1
    if unbalanced:
        keep = (d["Days"] <= 9 - 2 * (i % 4)) & ((d["Days"] + i) % 7 != 0)
        d = d[keep.to_numpy()].reset_index(drop=True)
    return d


def sleep_design(d, factor=False, slope=True):
    cols = [np.ones(len(d)), d["Days"].to_numpy(float)]
    if factor:          # Days cut at 2 and 5: levels 0-2 (base), 3-5, 6-9
        cols += [((d["Days"] >= 3) & (d["Days"] <= 5)).to_numpy(float),
                 (d["Days"] >= 6).to_numpy(float)]
    X = np.column_stack(cols)
    Z = X[:, :2] if slope else X[:, :1]
    return d["Reaction"].to_numpy(float), X, Z, d["Subject"].to_numpy()


def hsb_design(slope):
    d = pd.read_stata(HSB)
    X = np.column_stack([np.ones(len(d)), d["ses"], d["sector"]]).astype(float)
    Z = X[:, :2] if slope else X[:, :1]
    return d["mathach"].to_numpy(float), X, Z, d["id"].to_numpy()


def split(y, X, Z, groups):
    codes = pd.factorize(groups, sort=True)[0]
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return [(y[ix], X[ix], Z[ix]) for ix in np.split(order, bounds)]


def _chol(theta, q):
    Lam = np.zeros((q, q))
    Lam[np.tril_indices(q)] = theta
    return Lam


def crossproducts(y, X, Z, groups):
    """Per-group X'X, X'Z, Z'Z, X'y, Z'y, y'y: all the REML deviance needs (Woodbury)."""
    parts = split(y, X, Z, groups)
    cp = [np.stack(a) for a in zip(*[(Xg.T @ Xg, Xg.T @ Zg, Zg.T @ Zg, Xg.T @ yg, Zg.T @ yg,
                                      yg @ yg) for yg, Xg, Zg in parts])]
    return cp


def reml_deviance(theta, cp, n):
    """Profiled REML deviance of V_g = s2 (I + Z Lam Lam' Z'), the fit's objective; by
    Woodbury, H^-1 = I - Z Lam C^-1 Lam'Z', C = I + Lam'Z'Z Lam, |H| = |C|."""
    XX, XZ, ZZ, Xy, Zy, yy = cp
    q, p = ZZ.shape[1], XX.shape[1]
    Lam = _chol(theta, q)
    C = np.eye(q) + Lam.T @ ZZ @ Lam
    XZL, ZLy = XZ @ Lam, np.einsum("qr,gq->gr", Lam, Zy)
    Ci_LZX = np.linalg.solve(C, np.swapaxes(XZL, 1, 2))
    Ci_LZy = np.linalg.solve(C, ZLy[..., None])[..., 0]
    M = (XX - XZL @ Ci_LZX).sum(0)
    c = (Xy - np.einsum("gpr,gr->gp", XZL, Ci_LZy)).sum(0)
    yHy = float((yy - np.einsum("gr,gr->g", ZLy, Ci_LZy)).sum())
    beta = np.linalg.solve(M, c)
    s2 = (yHy - c @ beta) / (n - p)
    logdet = np.linalg.slogdet(C)[1].sum()
    dev = (n - p) * (1 + np.log(2 * np.pi * s2)) + logdet + np.linalg.slogdet(M)[1]
    return dev, beta, s2


def fit_reml(y, X, Z, groups):
    """(G, s2, beta) at the REML optimum: L-BFGS-B, then Nelder-Mead polish."""
    data = crossproducts(y, X, Z, groups)
    q, n = Z.shape[1], len(y)
    start = _chol(np.ones(q * (q + 1) // 2), q)[np.tril_indices(q)]
    def f(t):
        return reml_deviance(t, data, n)[0]

    r = minimize(f, start, method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-10})
    r = minimize(f, r.x, method="Nelder-Mead",
                 options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 5000})
    _, beta, s2 = reml_deviance(r.x, data, n)
    Lam = _chol(r.x, q)
    return s2 * Lam @ Lam.T, s2, beta


def marginal(y, X, Z, groups, G, s2, beta, nonlinear=False):
    """MarginalModel with phi = (unique elements of G (var, cov), s2): V linear in phi.
    nonlinear=True: random intercept only, phi = (log var, log s2), with d2V."""
    q = Z.shape[1]
    pairs = [(i, j) for i in range(q) for j in range(i + 1)]
    Xs, Vs, dVs, d2Vs, rs = [], [], [], [], []
    for yg, Xg, Zg in split(y, X, Z, groups):
        n = len(yg)
        V = Zg @ G @ Zg.T + s2 * np.eye(n)
        if nonlinear:
            A, B = G[0, 0] * np.outer(Zg[:, 0], Zg[:, 0]), s2 * np.eye(n)
            dV = np.stack([A, B])
            d2 = np.zeros((2, 2, n, n))
            d2[0, 0], d2[1, 1] = A, B
            d2Vs.append(d2)
        else:
            dV = [np.outer(Zg[:, i], Zg[:, j]) + (np.outer(Zg[:, j], Zg[:, i]) if i != j else 0)
                  for i, j in pairs] + [np.eye(n)]
        Xs.append(Xg)
        Vs.append(V)
        dVs.append(np.stack(dV))
        rs.append(yg - Xg @ beta)
    return ss.MarginalModel(X=Xs, V=Vs, dV=dVs, d2V=d2Vs if nonlinear else None, resid=rs)


_CACHE = {}


def case(name):
    """(y, X, Z, groups, G, s2, beta, MarginalModel) for a named reference case, cached."""
    if name not in _CACHE:
        if name.startswith("hsb"):
            y, X, Z, g = hsb_design(slope=name == "hsb_rs")
        else:
            y, X, Z, g = sleep_design(sleep("unbal" in name), factor="factor" in name)
        G, s2, beta = fit_reml(y, X, Z, g)
        _CACHE[name] = (y, X, Z, g, G, s2, beta, marginal(y, X, Z, g, G, s2, beta))
    return _CACHE[name]


# --------------------------------------------------------------------------- references

# lme4 REML estimates: var(_cons) [, var(slope), cov], s2 -- as.data.frame(VarCorr(m))$vcov
REF_VC = {
    "sleep": [612.0897482746686, 35.07166234421351, 9.604335474754858, 654.9410406819693],
    "sleep_unbal": [819.1656228507342, 42.91470685643688, -36.37254529485568, 512.8304684505905],
    "sleep_factor": [609.1706314830868, 34.96921098287682, 10.06533587759655, 663.3929862106527],
    "sleep_factor_unbal": [817.1532915178642, 41.34771458171673, -37.40159633460433,
                           522.3519580903801],
    "hsb_ri": [3.685039365088841, 37.0369126199122],
    "hsb_rs": [3.964500165503312, 0.4343045522098721, 0.7211637138744688, 36.80077568665782],
}
# lmerTest summary(m, ddf="Satterthwaite") df (observed information)
REF_SATT = {
    "sleep": [17.00000519470992, 16.99999902630628],
    "sleep_unbal": [16.64357125466461, 16.13727676492118],
    "sleep_factor": [19.75307988383912, 84.85921456462813, 142.0000059365773, 142.0000063484795],
    "sleep_factor_unbal": [18.60725635721938, 65.70883840305552, 79.25925202893643,
                           79.70576119703652],
    "hsb_ri": [153.5841815966372, 6738.85824204625, 147.35740699675],
    "hsb_rs": [153.7948372793012, 157.8522652724611, 151.3054754037133],
}
# pbkrtest vcovAdj / lmerTest ddf="Kenward-Roger": df and adjusted SEs (expected information)
REF_KR = {
    "sleep": ([16.99999999999958, 16.99999999999988], [6.824555776275814, 1.545788932429851]),
    "sleep_unbal": ([16.79915843202719, 14.36640043365603],
                    [7.825892144592925, 2.039898557112791]),
    "sleep_factor": ([19.75309417762428, 84.85921251489668, 141.9999999999952, 141.9999999999937],
                     [7.0868107491147, 2.45718383050442, 7.837427926366367, 13.9468052107449]),
    "sleep_factor_unbal": ([18.85951946368836, 62.97142076506631, 77.67164011567745,
                            77.98118526580308],
                           [8.060913988266524, 3.207768487231529, 9.406245441780214,
                            17.77876059685074]),
    "hsb_ri": ([164.9922394012595, 6768.364708117989, 158.313365155556],
               [0.2280697065886491, 0.1055663762602111, 0.3411386915261818]),
    "hsb_rs": ([166.4883632318733, 149.424718406695, 158.238470258564],
               [0.2323411457882361, 0.1181473768073738, 0.3472656554993023]),
}
L_DCAT = np.array([[0, 0, 1, 0], [0, 0, 0, 1.0]])
L_ALL = np.array([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])
L_HSB = np.array([[0, 1, 0], [0, 0, 1.0]])
# (case, L, lmerTest contestMD (F, NumDF, DenDF), pbkrtest KRmodcomp (F scaled, ndf, ddf, scale))
REF_F = [
    ("sleep_factor", L_DCAT, (0.08267962959739672, 2, 142.0000060659958),
     (0.0826796295973968, 2, 141.9999999999973, 1.0)),
    ("sleep_factor", L_ALL, (15.33945559826747, 3, 39.18682594387681),
     (15.07139247044057, 3, 63.12405704989104, 0.9825245996437355)),
    ("sleep_factor_unbal", L_DCAT, (0.5138821905480125, 2, 82.44419286558878),
     (0.4971979175787505, 2, 81.56086953413013, 0.9998565589623568)),
    ("sleep_factor_unbal", L_ALL, (7.670960966927464, 3, 33.19541800545413),
     (7.286380267242939, 3, 44.41311316446306, 0.9795077127937061)),
    ("hsb_ri", L_HSB, (287.3935207647521, 2, 287.3381996811974),
     (286.6117387634691, 2, 390.8765421804044, 0.9985445269517911)),
    ("hsb_rs", L_HSB, (245.3607751085757, 2, 153.6726876000652),
     (242.9788489642932, 2, 198.5501518908091, 0.9968768511597668)),
]
CASES = list(REF_VC)


def rel(a, b):
    """Largest relative difference; equal infinities and nans count as equal."""
    a, b = np.atleast_1d(np.asarray(a, float)), np.atleast_1d(np.asarray(b, float))
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore"):
        d = np.where(same, 0.0, np.abs(a - b) / np.maximum(np.abs(b), 1e-300))
    return float(np.max(np.nan_to_num(d, nan=np.inf)))


# --------------------------------------------------------------------------- vs R

@pytest.mark.parametrize("name", CASES)
def test_reml_fit_matches_lme4(name):
    """Our test-local REML fit lands on lme4's estimates, so the references apply."""
    _, _, Z, _, G, s2, _, _ = case(name)
    q = Z.shape[1]
    ours = [G[0, 0]] + ([G[1, 1], G[1, 0]] if q == 2 else []) + [s2]
    assert rel(ours, REF_VC[name]) < 1e-5


@pytest.mark.parametrize("name", CASES)
def test_satterthwaite_oim_matches_lmertest(name):
    m = case(name)[-1]
    got = ss.coefficient_df(m, "satterthwaite", info="oim").df
    assert rel(got, REF_SATT[name]) < 1e-4


@pytest.mark.parametrize("name", CASES)
def test_kenward_roger_matches_pbkrtest(name):
    m = case(name)[-1]
    cd = ss.coefficient_df(m, "kroger")
    df, se = REF_KR[name]
    assert rel(cd.df, df) < 1e-5
    assert rel(cd.se, se) < 1e-5
    assert np.allclose(cd.vcov, ss.adjusted_vcov(m), rtol=1e-12)


@pytest.mark.parametrize("name,L,satt,kr", REF_F, ids=[f"{c}-{len(L)}" for c, L, *_ in REF_F])
def test_f_tests_match_lmertest_and_pbkrtest(name, L, satt, kr):
    beta, m = case(name)[6], case(name)[-1]
    s = ss.satterthwaite(m, L, info="oim")
    assert s.num_df == satt[1] and s.scale == 1.0
    assert rel(s.f_stat(beta), satt[0]) < 1e-6
    assert rel(s.den_df, satt[2]) < 1e-4
    k = ss.kenward_roger(m, L)
    assert k.num_df == kr[1]
    assert rel(k.den_df, kr[2]) < 1e-5
    assert abs(k.scale - kr[3]) < 1e-5
    assert rel(k.f_stat(beta), kr[0]) < 1e-5


@pytest.mark.parametrize("name", ["sleep_unbal", "hsb_rs"])
def test_one_df_kenward_roger_is_expected_information_satterthwaite(name):
    """With q = 1, A1 = A2 = a and KR's m reduces to 2/a: the eim Satterthwaite DF."""
    pc = ss.precompute(case(name)[-1])
    assert rel(ss.coefficient_df(pc, "kroger").df,
               ss.coefficient_df(pc, "satterthwaite").df) < 1e-9


def test_single_row_results_agree_with_coefficient_df():
    m = case("sleep_factor_unbal")[-1]
    pc = ss.precompute(m)
    cd_s, cd_k = ss.coefficient_df(pc, "satterthwaite"), ss.coefficient_df(pc, "kroger")
    for j in range(4):
        e = np.eye(4)[[j]]
        s, k = ss.satterthwaite(pc, e), ss.kenward_roger(pc, e)
        assert np.isclose(s.den_df, cd_s.df[j], rtol=1e-10)
        assert np.isclose(s.row_df[0], cd_s.df[j], rtol=1e-10)
        assert np.isclose(k.den_df, cd_k.df[j], rtol=1e-8)
        assert np.isclose(k.row_se[0], cd_k.se[j], rtol=1e-12)
    # a dependent third row changes nothing in the F test
    L3 = np.vstack([L_DCAT, L_DCAT.sum(axis=0)])
    a, b = ss.kenward_roger(pc, L_DCAT), ss.kenward_roger(pc, L3)
    assert b.num_df == 2 and np.isclose(a.den_df, b.den_df) and np.isclose(a.scale, b.scale)
    beta = case("sleep_factor_unbal")[6]
    assert np.isclose(a.f_stat(beta), b.f_stat(beta))


# --------------------------------------------------------------------------- brute force

def dense(m):
    """Block-diagonal V, dV, X, resid of a (small) MarginalModel."""
    from scipy.linalg import block_diag
    V = block_diag(*m.V)
    K = m.dV[0].shape[0]
    dV = np.stack([block_diag(*[d[k] for d in m.dV]) for k in range(K)])
    return np.vstack(m.X), V, dV, np.concatenate(m.resid)


def test_expected_information_and_gradient_brute_force():
    """eim Satterthwaite DF from the dense n x n P and finite differences of Phi(phi)."""
    m = case("sleep_unbal")[-1]
    Xd, V, dV, _ = dense(m)
    Vi = np.linalg.inv(V)
    Phi = np.linalg.inv(Xd.T @ Vi @ Xd)
    P = Vi - Vi @ Xd @ Phi @ Xd.T @ Vi
    K = len(dV)
    info = np.array([[0.5 * np.trace(P @ dV[k] @ P @ dV[j]) for j in range(K)] for k in range(K)])
    pc = ss.precompute(m)
    assert np.allclose(pc.info, info, rtol=1e-9)
    h = 1e-5
    grad = []
    for k in range(K):
        Vp, Vm = V + h * dV[k], V - h * dV[k]
        ph = [np.linalg.inv(Xd.T @ np.linalg.solve(W, Xd)) for W in (Vp, Vm)]
        grad.append((ph[0] - ph[1]) / (2 * h))
    grad = np.array(grad)
    A = np.linalg.inv(info)
    df = [2 * Phi[j, j] ** 2 / (grad[:, j, j] @ A @ grad[:, j, j]) for j in range(2)]
    assert rel(ss.coefficient_df(pc, "satterthwaite").df, df) < 1e-7


def test_observed_information_brute_force():
    """oim equals minus the numerical Hessian of the REML log likelihood in phi."""
    y, X, Z, g, G, s2, _, m = case("sleep_unbal")
    Xd, V, dV, _ = dense(m)
    yd = np.concatenate([p[0] for p in split(y, X, Z, g)])

    def ll(d):
        W = V + np.tensordot(d, dV, axes=1)
        Wi = np.linalg.inv(W)
        M = Xd.T @ Wi @ Xd
        b = np.linalg.solve(M, Xd.T @ Wi @ yd)
        r = yd - Xd @ b
        return -0.5 * (np.linalg.slogdet(W)[1] + np.linalg.slogdet(M)[1] + r @ Wi @ r)

    K = len(dV)
    h = 1e-3 * np.array([G[0, 0], G[1, 1], abs(G[0, 1]), s2])   # relative steps
    H = np.zeros((K, K))
    E = np.diag(h)
    for i in range(K):
        for j in range(K):
            H[i, j] = (ll(E[i] + E[j]) - ll(E[i] - E[j]) - ll(-E[i] + E[j]) + ll(-E[i] - E[j])) \
                / (4 * h[i] * h[j])
    assert np.allclose(ss.precompute(m, "oim").info, -H, rtol=1e-4, atol=1e-10)


def test_nonlinear_parametrisation_with_second_derivatives():
    """phi = (log var, log s2) with d2V: eim Satterthwaite is parametrisation-free, and so is
    oim at the optimum (its score is 0) once d2V enters the observed information."""
    y, X, Z, g = sleep_design(sleep(True), slope=False)
    G, s2, beta = fit_reml(y, X, Z, g)
    lin = marginal(y, X, Z, g, G, s2, beta)
    nl = marginal(y, X, Z, g, G, s2, beta, nonlinear=True)
    for info in ("eim", "oim"):
        a = ss.coefficient_df(lin, "satterthwaite", info=info).df
        b = ss.coefficient_df(nl, "satterthwaite", info=info).df
        assert rel(b, a) < 1e-5
    # Stata's Phi_A has no R term: d2V then changes nothing; with r_term=True it enters
    nl0 = ss.MarginalModel(X=nl.X, V=nl.V, dV=nl.dV, resid=nl.resid)
    assert np.allclose(ss.adjusted_vcov(nl0), ss.adjusted_vcov(nl), rtol=1e-12)
    assert not np.allclose(ss.adjusted_vcov(nl, r_term=True), ss.adjusted_vcov(nl), rtol=1e-8)
    assert np.allclose(ss.adjusted_vcov(lin, r_term=True), ss.adjusted_vcov(lin), rtol=1e-12)


# --------------------------------------------------------------------------- properties

def random_model(seed, ngroups=7):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 7, size=ngroups)
    Xs, Vs, dVs, rs = [], [], [], []
    G = np.array([[1.3, 0.4], [0.4, 0.7]])
    for n in sizes:
        t = rng.normal(size=n)
        X = np.column_stack([np.ones(n), t, rng.normal(size=n)])
        Z = X[:, :2]
        Vs.append(Z @ G @ Z.T + 0.8 * np.eye(n))
        dVs.append(np.stack([np.outer(Z[:, 0], Z[:, 0]), np.outer(Z[:, 1], Z[:, 1]),
                             np.outer(Z[:, 0], Z[:, 1]) + np.outer(Z[:, 1], Z[:, 0]),
                             np.eye(n)]))
        Xs.append(X)
        rs.append(np.linalg.cholesky(Vs[-1]) @ rng.normal(size=n))
    return ss.MarginalModel(X=Xs, V=Vs, dV=dVs, resid=rs)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), c=st.floats(0.01, 100.0),
       T=st.lists(st.floats(-2, 2), min_size=9, max_size=9))
def test_invariance_to_scale_and_reparametrised_x(seed, c, T):
    m = random_model(seed)
    T = np.array(T).reshape(3, 3) + 3 * np.eye(3)
    assume(np.linalg.cond(T) < 20)                     # invertible, and not near singular
    scaled = ss.MarginalModel(X=m.X, V=[c * c * v for v in m.V], dV=m.dV,
                              resid=[c * r for r in m.resid])
    moved = ss.MarginalModel(X=[x @ T for x in m.X], V=m.V, dV=m.dV, resid=m.resid)
    L = np.array([[0, 1.0, 0], [1, 0, -1], [0.3, 0.2, 0.5]])
    for info in ("eim", "oim"):
        for f in (ss.satterthwaite, ss.kenward_roger):
            base = f(m, L, info=info)
            for other in (f(scaled, L, info=info), f(moved, L @ T, info=info)):
                assert rel(other.row_df, base.row_df) < 1e-6
                assert rel(other.den_df, base.den_df) < 1e-6
                assert abs(other.scale - base.scale) < 1e-6
        kb = ss.kenward_roger(m, L, info=info)
        km = ss.kenward_roger(moved, L @ T, info=info)
        assert rel(km.row_se, kb.row_se) < 1e-7


def test_padding_and_stacked_input_agree():
    """Equal-size stacked input, and groups padded into a shared batch, give the same
    pieces as computing every group on its own."""
    y, X, Z, g = sleep_design(sleep())
    G, s2, beta = np.array([[612.1, 9.6], [9.6, 35.07]]), 654.94, np.array([251.4, 10.47])
    m = marginal(y, X, Z, g, G, s2, beta)
    stacked = ss.MarginalModel(X=np.stack(m.X), V=np.stack(m.V), dV=np.stack(m.dV),
                               resid=np.stack(m.resid))
    a, b = ss.precompute(m, "oim"), ss.precompute(stacked, "oim")
    assert np.allclose(a.info, b.info, rtol=1e-12) and np.allclose(a.Q, b.Q, rtol=1e-12)
    rm = random_model(3, ngroups=12)
    one_by_one = [ss.precompute(ss.MarginalModel(X=[x], V=[v], dV=[d], resid=[r]), "oim")
                  for x, v, d, r in zip(rm.X, rm.V, rm.dV, rm.resid)]
    pc = ss.precompute(rm, "oim")
    assert np.allclose(pc.P, sum(o.P for o in one_by_one), rtol=1e-12)
    assert np.allclose(pc.Q, sum(o.Q for o in one_by_one), rtol=1e-12)


def test_hsb_speed():
    """7,185 rows / 160 schools, random slope: precompute + every coefficient's DF for both
    methods (and both informations) well under a second."""
    m = case("hsb_rs")[-1]
    t0 = time.perf_counter()
    for info in ("eim", "oim"):
        pc = ss.precompute(m, info)
        ss.coefficient_df(pc, "satterthwaite", info=info)
        ss.coefficient_df(pc, "kroger", info=info)
        ss.kenward_roger(pc, L_HSB, info=info)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0, elapsed


def test_many_small_groups_batched():
    """20,000 groups of 10 (one stacked batch) in a few seconds at most."""
    rng = np.random.default_rng(0)
    G, n = 20_000, 10
    t = np.tile(np.arange(n, dtype=float), (G, 1))
    X = np.stack([np.ones((G, n)), t, rng.normal(size=(G, n))], axis=-1)
    Z = X[..., :2]
    Gm = np.array([[2.0, 0.3], [0.3, 0.5]])
    V = Z @ Gm @ np.swapaxes(Z, 1, 2) + np.eye(n)
    z0, z1 = Z[..., 0], Z[..., 1]
    dV = np.stack([z0[:, :, None] * z0[:, None], z1[:, :, None] * z1[:, None],
                   z0[:, :, None] * z1[:, None] + z1[:, :, None] * z0[:, None],
                   np.broadcast_to(np.eye(n), (G, n, n))], axis=1)
    resid = np.einsum("gij,gj->gi", np.linalg.cholesky(V), rng.normal(size=(G, n)))
    m = ss.MarginalModel(X=X, V=V, dV=dV, resid=resid)
    t0 = time.perf_counter()
    pc = ss.precompute(m, "oim")
    cd = ss.coefficient_df(pc, "kroger", info="oim")
    assert np.all(np.isfinite(cd.df)) and time.perf_counter() - t0 < 10


def test_info_validation():
    m = random_model(1)
    with pytest.raises(ValueError):
        ss.precompute(m, "xim")
    with pytest.raises(ValueError):
        ss.precompute(ss.MarginalModel(X=m.X, V=m.V, dV=m.dV), "oim")
    with pytest.raises(ValueError):
        ss.satterthwaite(ss.precompute(m, "eim"), np.eye(3), info="oim")


def test_fai_cornelius_rules():
    assert ss.fai_cornelius_ddf([7.0]) == 7.0
    assert ss.fai_cornelius_ddf([9.0, 9.0, 9.0]) == 9.0
    nu = np.array([5.0, 20.0])
    E = sum(nu / (nu - 2))
    assert np.isclose(ss.fai_cornelius_ddf(nu), 2 * E / (E - 2))
    assert np.isclose(ss.fai_cornelius_ddf([1.5, 2.5]), 2 * 5 / 3)   # only nu > 2 count
    assert np.isnan(ss.fai_cornelius_ddf([1.5, 1.8]))
    assert np.isclose(ss.fai_cornelius_ddf([np.inf, 4.0]), 2 * 3 / 1)


# --------------------------------------------------------------------------- counting rules

def test_residual_df():
    assert ss.residual_df(180, 2) == 178.0


def test_repeated_df_t43_layout():
    """Stata's example `mixed score i.drug || person:, reml dfmethod(repeated)` (5 persons x
    4 drugs): drug 12, _cons 4 (min 4, avg 10, max 12)."""
    person = np.repeat(np.arange(5), 4)
    drug = np.tile(np.arange(4), 5)
    X = np.column_stack([(drug == k).astype(float) for k in (1, 2, 3)] + [np.ones(20)])
    assert list(ss.repeated_df(X, person)) == [12, 12, 12, 4]
    # a between-person covariate takes between DF: s - rank(X_b) = 5 - 2
    age = np.repeat(np.array([30.0, 41, 52, 28, 60]), 4)
    assert list(ss.repeated_df(np.column_stack([X, age]), person)) == [12, 12, 12, 3, 3]


def test_anova_df_classical_designs():
    """Randomized blocks (16 ids x 3 treatments, `y i.trt || id:`): trt 30, _cons 15, as
    anova's F tests; a random slope on a covariate: s - 1 for it."""
    ids = np.repeat(np.arange(16), 3)
    trt = np.tile(np.arange(3), 16)
    X = np.column_stack([(trt == 1), (trt == 2), np.ones(48)]).astype(float)
    df = ss.anova_df(X, [ss.RandomTerm(codes=ids, z=np.ones(48), contains=(2,))])
    assert list(df) == [30, 30, 15]
    x = np.random.default_rng(1).normal(size=48)
    X2 = np.column_stack([x, np.ones(48)])
    terms = [ss.RandomTerm(ids, x, (0,)), ss.RandomTerm(ids, np.ones(48), (1,))]
    assert list(ss.anova_df(X2, terms)) == [15, 15]


def test_exact_contrast_df():
    rows, ddf = ss.exact_contrast_df([12, 12, 12, 4], np.eye(4)[:3])
    assert list(rows) == [12, 12, 12] and ddf == 12
    rows, ddf = ss.exact_contrast_df([12, 12, 12, 4], [[1, 0, 0, 1.0], [0, 1, 0, 0]])
    assert np.isnan(rows[0]) and rows[1] == 12 and np.isnan(ddf)


# --------------------------------------------------------------------------- optional: live R

@pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs R (lme4/lmerTest/pbkrtest)")
def test_reference_script_reproduces_literals(tmp_path):
    """Rerun reference.R (sleepstudy cases only) and compare with the literals above."""
    probe = ("quit(status=!all(sapply(c('lme4','lmerTest','pbkrtest'), requireNamespace, "
             "quietly=TRUE)))")
    code = subprocess.run(["Rscript", "-e", probe], capture_output=True, check=False)
    if code.returncode != 0:
        pytest.skip("R packages missing")
    shutil.copy(DATA / "sleepstudy.csv", tmp_path)
    out = subprocess.run(["Rscript", str(DATA / "reference.R"), str(tmp_path / "none.csv")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr
    blocks = {}
    tag = None
    for line in out.stdout.splitlines():
        if line.startswith("## "):
            tag = line[3:].strip()
            blocks[tag] = {}
        elif ":" in line and tag:
            k, v = line.split(":", 1)
            blocks[tag][k.strip()] = np.array(v.split(), dtype=float)
    for name in ("sleep", "sleep_unbal", "sleep_factor", "sleep_factor_unbal"):
        assert rel(blocks[name]["satt_df"], REF_SATT[name]) < 1e-6
        assert rel(blocks[name]["kr_df"], REF_KR[name][0]) < 1e-6
