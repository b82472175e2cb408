"""xtregar: the Grunfeld example of [XT] xtregar (numbers in tests/data/xtregar), and fe/re
fits, rhotypes, gaps and unbalanced panels against a numpy computation written here (rho by
iterated Prais-Winsten on demeaned data, the Baltagi-Wu transform row by row, fe by
least-squares dummy variables, re by GLS with each panel's covariance matrix)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import csv_session, ok, run

DATA = Path(__file__).parent / "data" / "xtregar" / "manual_grunfeld.json"


@pytest.fixture(scope="module")
def grunfeld():
    s = csv_session("tests/data/grunfeld.csv")
    ok(s, "rename (firm inv value capital) (company invest mvalue kstock)")
    ok(s, "xtset company year")
    return s


def test_manual_example_fe(grunfeld):
    ref = json.loads(DATA.read_text())["fe"]
    out = ok(grunfeld, "xtregar invest mvalue kstock, fe")
    e = grunfeld.e
    assert e.scalars["N"] == ref["N"] and e.scalars["N_g"] == ref["N_g"] and e.scalars["df_r"] == ref["df_r"]
    for j, nm in enumerate(["mvalue", "kstock", "_cons"]):
        assert abs(e.b[j] - ref["b"][nm]) < 5e-7 * max(1, abs(ref["b"][nm]))
        assert abs(e.se[j] - ref["se"][nm]) < 5e-7 * max(1, ref["se"][nm])
    for key in ("rho_ar", "sigma_u", "sigma_e"):
        assert abs(e.scalars[key] - ref[key]) < 1e-7 * max(1, ref[key])
    assert abs(e.scalars["F"] - ref["F"]) < 0.005 and abs(e.scalars["F_f"] - ref["F_f"]) < 0.005
    assert "FE (within) regression with AR(1) disturbances  Number of obs     =        190" in out
    assert "F test that all u_i=0: F(9,178) = 11.53" in out
    assert "      rho_ar |  .672106" in out
    assert e.macros["model"] == "fe" and e.macros["rhotype"] == "dw" and e.cmd == "xtregar"
    assert int(e.sample.sum()) == 200        # e(sample) keeps each panel's first observation


def test_manual_example_re_chi2(grunfeld):
    ref = json.loads(DATA.read_text())["re"]
    out = ok(grunfeld, "xtregar invest mvalue kstock, re")
    assert abs(grunfeld.e.scalars["chi2"] - ref["chi2"]) < 0.005
    assert "Wald chi2(3)" in out and "theta |" in out


# ---------------------------------------------------------------- numpy reference
def _rho_ref(y, X, ids, t, rhotype, twostep):
    def dm(z):
        out = z.astype(float).copy()
        for g in np.unique(ids):
            out[ids == g] -= z[ids == g].mean(axis=0)
        return out
    yd, Xd = dm(y), dm(X)
    pairs = [(i, i - 1) for i in range(1, len(y)) if ids[i] == ids[i - 1] and t[i] - t[i - 1] == 1]

    def rho_of(e):
        num = sum(e[i] * e[j] for i, j in pairs)
        if rhotype == "regress":
            return num / sum(e[j] ** 2 for i, j in pairs)
        if rhotype == "tscorr":
            return num / float(e @ e)
        return 1 - sum((e[i] - e[j]) ** 2 for i, j in pairs) / float(e @ e) / 2
    b = np.linalg.lstsq(Xd, yd, rcond=None)[0]
    rho = rho_of(yd - Xd @ b)
    if twostep:
        return rho
    for _ in range(200):
        ys, Xs = yd.copy(), Xd.copy()
        for i in range(len(y)):
            if i and (i, i - 1) in pairs:
                ys[i], Xs[i] = yd[i] - rho * yd[i - 1], Xd[i] - rho * Xd[i - 1]
            else:
                ys[i], Xs[i] = math.sqrt(1 - rho ** 2) * yd[i], math.sqrt(1 - rho ** 2) * Xd[i]
        b = np.linalg.lstsq(Xs, ys, rcond=None)[0]
        new = rho_of(yd - Xd @ b)
        if abs(new - rho) < 1e-6:
            return new
        rho = new
    return rho


def _bw(Z, ids, t, rho):
    out = np.empty_like(Z, dtype=float)
    for i in range(len(Z)):
        if i == 0 or ids[i] != ids[i - 1]:
            out[i] = math.sqrt(1 - rho ** 2) * Z[i]
        else:
            d = t[i] - t[i - 1]
            out[i] = math.sqrt(1 - rho ** 2) * (Z[i] - rho ** d * Z[i - 1]) / math.sqrt(1 - rho ** (2 * d))
    return out


def _fe_ref(y, X, ids, t, rho):
    Z = _bw(np.column_stack([X, np.ones(len(y)), y]), ids, t, rho)
    first = np.r_[True, ids[1:] != ids[:-1]]
    Z, g = Z[~first], ids[~first]
    levels = np.unique(g)
    D = np.column_stack([(g == v).astype(float) for v in levels])
    k = X.shape[1]
    # LSDV: regressors and one dummy per panel (the transformed constant is within their span)
    W = np.column_stack([Z[:, :k], D])
    coef, *_ = np.linalg.lstsq(W, Z[:, -1], rcond=None)
    e = Z[:, -1] - W @ coef
    n, N = len(e), len(levels)
    df_r = n - N - k
    V = e @ e / df_r * np.linalg.inv(W.T @ W)[:k, :k]
    return coef[:k], np.sqrt(np.diag(V)), math.sqrt(e @ e / df_r)


def _re_ref(y, X, ids, t, rho):
    n, k = X.shape
    Zs = _bw(np.column_stack([X, np.ones(n)]), ids, t, rho)
    ys = _bw(y, ids, t, rho)
    b0 = np.linalg.lstsq(Zs, ys, rcond=None)[0]
    mu = ys - Zs @ b0
    g = np.array([math.sqrt(1 - rho ** 2) if i == 0 or ids[i] != ids[i - 1] else
                  math.sqrt(1 - rho ** 2) * (1 - rho ** (t[i] - t[i - 1])) / math.sqrt(1 - rho ** (2 * (t[i] - t[i - 1])))
                  for i in range(n)])
    panels = np.unique(ids)
    s2w = sum((mu[ids == v] @ g[ids == v]) ** 2 / (g[ids == v] @ g[ids == v]) for v in panels)
    s2e = (mu @ mu - s2w) / sum((ids == v).sum() - 1 for v in panels)
    s2u = max(0.0, (s2w - len(panels) * s2e) / (g @ g))
    A, c = np.zeros((k + 1, k + 1)), np.zeros(k + 1)
    parts = []
    for v in panels:
        m = ids == v
        Om = s2u / s2e * np.outer(g[m], g[m]) + np.eye(m.sum())
        Oi = np.linalg.inv(Om)
        A += Zs[m].T @ Oi @ Zs[m]
        c += Zs[m].T @ Oi @ ys[m]
        parts.append((m, Oi))
    b = np.linalg.solve(A, c)
    ssr = sum((ys[m] - Zs[m] @ b) @ Oi @ (ys[m] - Zs[m] @ b) for m, Oi in parts)
    V = ssr / (n - k - 1) * np.linalg.inv(A)
    return b, np.sqrt(np.diag(V)), math.sqrt(s2u), math.sqrt(s2e)


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(2024)
    rows = []
    for i in range(12):
        T = 6 + i % 5
        times = [tt for tt in range(1, T + 1) if not (i % 4 == 1 and tt == 3)]
        u = rng.normal(0, 1.0)
        eps = rng.normal()
        for tt in times:
            eps = 0.5 * eps + rng.normal()
            x1, x2 = rng.normal(), rng.uniform()
            rows.append((i + 1, tt, x1, x2, 1 + 0.7 * x1 - 0.4 * x2 + u + eps))
    arr = np.array(rows)
    import tempfile
    path = Path(tempfile.mkdtemp()) / "ar_panel.csv"
    np.savetxt(path, arr, delimiter=",", header="id,t,x1,x2,y", comments="", fmt="%.17g")
    s = Session(out=Capture())
    ok(s, f'import delimited "{path}", clear asdouble')
    ok(s, "xtset id t")
    return s, arr


@pytest.mark.parametrize("opts,rhotype,twostep", [("", "dw", False), ("rhotype(regress)", "regress", False),
                                                 ("rhotype(tscorr) twostep", "tscorr", True)])
def test_fe_against_numpy(panel, opts, rhotype, twostep):
    s, arr = panel
    ids, t, X, y = arr[:, 0], arr[:, 1], arr[:, 2:4], arr[:, 4]
    ok(s, f"xtregar y x1 x2, fe {opts}")
    rho = _rho_ref(y, X, ids, t, rhotype, twostep)
    assert abs(s.e.scalars["rho_ar"] - rho) < 1e-5
    b, se, sigma_e = _fe_ref(y, X, ids, t, s.e.scalars["rho_ar"])
    assert np.allclose(s.e.b[:2], b, rtol=1e-7)
    assert np.allclose(s.e.se[:2], se, rtol=1e-7)
    assert abs(s.e.scalars["sigma_e"] - sigma_e) < 1e-8 * sigma_e
    assert s.e.scalars["N"] == len(y) - 12 and s.e.scalars["N_g"] == 12


def test_re_against_numpy(panel):
    s, arr = panel
    ids, t, X, y = arr[:, 0], arr[:, 1], arr[:, 2:4], arr[:, 4]
    out = ok(s, "xtregar y x1 x2, re rhof(0.4)")
    b, se, su, sig = _re_ref(y, X, ids, t, 0.4)
    assert np.allclose(s.e.b, b, rtol=1e-7)
    assert np.allclose(s.e.se, se, rtol=1e-6)
    assert abs(s.e.scalars["sigma_u"] - su) < 1e-8 and abs(s.e.scalars["sigma_e"] - sig) < 1e-8
    assert "theta" in out and "median" in out            # unbalanced: theta percentiles


@pytest.mark.parametrize("line,rc", [
    ("xtregar y x1, re fe", 198),
    ("xtregar y x1, rhotype(dw) rhof(.3)", 198),
    ("xtregar y x1, rhof(1.2)", 198),
    ("xtregar y x1, rhotype(onestep) twostep", 198),
    ("xtregar y x1, rhotype(bogus)", 198),
    ("xtregar y nosuch", 111),
    ("xtregar y x1 if y > 1e9", 2000),
])
def test_refusals(panel, line, rc):
    s, _ = panel
    before = s.e
    got, out = run(s, line)
    assert got == rc, out
    assert s.e is before


def test_needs_time_variable():
    s = csv_session("tests/data/grunfeld.csv")
    ok(s, "xtset firm")
    got, out = run(s, "xtregar inv value, fe")
    assert got == 459 and "must specify timevar; use xtset" in out


def test_within_collinear_columns_omitted(grunfeld):
    """A variable constant within panels cannot be estimated by fe: omitted with a note (the
    other coefficients are those without it); re keeps it."""
    s = grunfeld
    ok(s, "capture drop firmsize")
    ok(s, "bysort company: egen firmsize = mean(kstock)")
    ok(s, "xtset company year")
    out = ok(s, "xtregar invest mvalue firmsize kstock, fe")
    assert "note: firmsize omitted because of collinearity." in out
    assert "firmsize |          0  (omitted)" in out
    assert s.e.names[1] == ("invest", "o.firmsize")
    b_with = np.asarray(s.e.b).ravel()[[0, 2, 3]]
    ok(s, "xtregar invest mvalue kstock, fe")
    assert np.allclose(b_with, np.asarray(s.e.b).ravel(), rtol=1e-9)
    ok(s, "xtregar invest mvalue firmsize kstock, re")
    assert s.e.b[1] != 0


def test_predict_after_xtregar(grunfeld):
    """predict xb / ue / u / e: u_i from the panel means of y - rho L.y and xb - rho L.xb (rows
    with a previous period), over 1 - rho, as [XT] xtregar postestimation defines it."""
    s = grunfeld
    for v in ("pxb", "pu", "pe", "pue"):
        ok(s, f"capture drop {v}")
    ok(s, "xtregar invest mvalue kstock, fe")
    ok(s, "predict double pxb")
    out = ok(s, "predict double pu, u")
    assert "(10 missing values generated)" in out
    ok(s, "predict double pe, e")
    ok(s, "predict double pue, ue")
    b, rho = np.asarray(s.e.b).ravel(), s.e.scalars["rho_ar"]
    col = {v: np.asarray(s.data.values(v), dtype=float) for v in
           ("company", "year", "invest", "mvalue", "kstock", "pxb", "pu", "pe", "pue")}
    xb = b[0] * col["mvalue"] + b[1] * col["kstock"] + b[2]
    assert np.allclose(col["pxb"], xb) and np.allclose(col["pue"], col["invest"] - xb)
    for firm in np.unique(col["company"]):
        m = np.flatnonzero(col["company"] == firm)
        m = m[np.argsort(col["year"][m])]
        ty = col["invest"][m][1:] - rho * col["invest"][m][:-1]
        tx = xb[m][1:] - rho * xb[m][:-1]
        u = (ty.mean() - tx.mean()) / (1 - rho)
        assert np.isnan(col["pu"][m[0]]) and np.allclose(col["pu"][m[1:]], u)
        assert np.allclose(col["pe"][m[1:]], col["invest"][m[1:]] - xb[m[1:]] - u)
    got, out = run(s, "predict double zz, stdp")
    assert got == 198 and "option stdp not allowed" in out
    got, out = run(s, "predict double zz, u e")
    assert got == 198 and "one statistic at a time" in out
