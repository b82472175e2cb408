"""reghdfe (hlmshell/commands/reghdfe.py, engine/hdfe.py) against the dense dummy-variable
regression computed here in numpy: the slopes, the unadjusted, robust (HC1 on the dummy
regression: N/(N - rank)) and cluster ((N-1)/(N - rank) * G/(G-1)) standard errors agree when
the two fixed effects are connected and not nested in the clusters; singletons are dropped
first, as reghdfe does."""
import numpy as np
import pytest

from hlmshell.data.dataset import Variable
from hlmshell.session import Session
from hlmshell.output.writer import Capture
from tests.session_run import ok, run


def _data(seed=3, n=400):
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 31, n)
    b = rng.integers(1, 9, n)
    c = rng.integers(1, 13, n)
    x1 = rng.normal(size=n) + 0.1 * a
    x2 = rng.normal(size=n) - 0.2 * b
    y = 1 + 0.5 * x1 - 0.3 * x2 + 0.05 * a + 0.2 * b + rng.normal(size=n) * (1 + 0.3 * (x1 > 0))
    return a, b, c, x1, x2, y


def _session(cols):
    s = Session(out=Capture())
    a, b, c, x1, x2, y = cols
    ok(s, f"set obs {len(y)}")
    for name, v in zip(("a", "b", "c", "x1", "x2", "y"), cols):
        s.data.add(Variable(name, np.asarray(v, dtype=float), "double"))
    return s


def _singleton_free(codes):
    keep = np.ones(len(codes[0]), bool)
    while True:
        drop = np.zeros_like(keep)
        for c in codes:
            _, inv, cnt = np.unique(c[keep], return_inverse=True, return_counts=True)
            drop[np.flatnonzero(keep)[cnt[inv] == 1]] = True
        if not drop.any():
            return keep
        keep &= ~drop


def _lsdv(cols, kind, cluster=None):
    a, b, c, x1, x2, y = cols
    keep = _singleton_free([a, b])
    a, b, c, x1, x2, y = (v[keep] for v in (a, b, c, x1, x2, y))
    D = [np.ones(len(y))]
    for g in (a, b):
        lv = np.unique(g)
        D += [(g == v).astype(float) for v in lv[1:]]
    Z = np.column_stack([x1, x2] + D)
    N, r = len(y), np.linalg.matrix_rank(Z)
    ZZi = np.linalg.pinv(Z.T @ Z)
    beta = ZZi @ Z.T @ y
    e = y - Z @ beta
    if kind == "unadjusted":
        V = ZZi * (e @ e) / (N - r)
    elif kind == "robust":
        S = Z * e[:, None]
        V = ZZi @ S.T @ S @ ZZi * N / (N - r)
    else:
        g = c[keep]
        lv = np.unique(g)
        S = np.stack([(Z * e[:, None])[g == v].sum(axis=0) for v in lv])
        G = len(lv)
        V = ZZi @ S.T @ S @ ZZi * (N - 1) / (N - r) * G / (G - 1)
    return beta[:2], np.sqrt(np.diag(V)[:2]), N, N - r


@pytest.mark.parametrize("vce,kind", [("", "unadjusted"), ("vce(robust)", "robust"),
                                      ("vce(cluster c)", "cluster")])
def test_two_way_matches_dummy_regression(vce, kind):
    cols = _data()
    s = _session(cols)
    ok(s, f"reghdfe y x1 x2, absorb(a b) {vce}")
    beta, se, N, dfr = _lsdv(cols, kind)
    e = s.e
    assert e.scalars["N"] == N
    np.testing.assert_allclose(e.b[:2], beta, rtol=1e-7)
    np.testing.assert_allclose(e.se[:2], se, rtol=1e-6)
    if kind == "cluster":
        assert e.scalars["df_r"] == len(np.unique(cols[2])) - 1
    else:
        assert e.scalars["df_r"] == dfr
    assert e.scalars["N_hdfe"] == 2
    # the constant adds the means back
    m = np.asarray(e.sample)
    y, x1, x2 = cols[5][m], cols[3][m], cols[4][m]
    assert e.b[2] == pytest.approx(y.mean() - x1.mean() * e.b[0] - x2.mean() * e.b[1], rel=1e-9)


def test_within_r2_and_predict():
    cols = _data(seed=5)
    s = _session(cols)
    out = ok(s, "reghdfe y x1 x2, absorb(a b) resid")
    assert "Absorbed degrees of freedom:" in out and "Within R-sq." in out
    ok(s, "predict double r, residuals")
    ok(s, "predict double d, d")
    ok(s, "predict double xb, xb")
    m = np.asarray(s.e.sample)
    r = s.data.var("r").values[m]
    d = s.data.var("d").values[m]
    xb = s.data.var("xb").values[m]
    np.testing.assert_allclose(xb + d + r, cols[5][m], atol=1e-8)
    assert s.e.scalars["r2_within"] == pytest.approx(1 - (r @ r) / s.e.scalars["tss_within"])
    # d is constant within a and b cells only through the sum: its a-means of y - xb - d are 0
    a = cols[0][m]
    for v in np.unique(a)[:5]:
        assert abs(r[a == v].mean()) < 1e-8


def test_singletons_and_one_way_equals_areg_slopes():
    cols = _data(seed=7, n=120)
    s = _session(cols)
    ok(s, "areg y x1 x2, absorb(a)")
    b_areg = np.array(s.e.b[:2])
    out = ok(s, "reghdfe y x1 x2, absorb(a)")
    np.testing.assert_allclose(s.e.b[:2], b_areg, rtol=1e-8)
    a = cols[0]
    _, inv, cnt = np.unique(a, return_inverse=True, return_counts=True)
    single = int((cnt[inv] == 1).sum())
    if single:
        assert f"(dropped {single} singleton observations)" in out
    assert s.e.scalars["N"] == len(a) - single


def test_save_fe_and_bad_input():
    cols = _data(seed=9)
    s = _session(cols)
    ok(s, "reghdfe y x1 x2, absorb(fa=a fb=b)")
    b = np.array(s.e.b[:2])
    ok(s, "reghdfe y x1 x2 fa fb")
    np.testing.assert_allclose(s.e.b[:2], b, rtol=1e-6)
    np.testing.assert_allclose(s.e.b[2:4], [1, 1], rtol=1e-6)
    for line, rc in (("reghdfe y x1, absorb(nosuch)", 111), ("reghdfe y x1, absorb(a) vce(foo)", 198),
                     ("reghdfe y x1, absorb(a) noabsorb", 198), ("reghdfe y x1 if x1 > 100, absorb(a)", 2000),
                     ("reghdfe y x1, absorb(fa=a)", 110), ("reghdfe y x1, absorb(a) vce(cluster a b)", 198)):
        before = s.e
        got, out = run(s, line)
        assert got == rc, (line, out)
        assert s.e is before
    got, _ = run(s, "predict q, d")
    assert got == 498


def test_slopes_absorbed():
    cols = _data(seed=11)
    s = _session(cols)
    ok(s, "reghdfe y x1, absorb(b##c.x2)")
    a, b, c, x1, x2, y = cols
    m = np.asarray(s.e.sample)
    lv = np.unique(b[m])
    Z = np.column_stack([x1[m]] + [(b[m] == v).astype(float) for v in lv]
                        + [(b[m] == v) * x2[m] for v in lv])
    beta = np.linalg.lstsq(Z, y[m], rcond=None)[0]
    assert s.e.b[0] == pytest.approx(beta[0], rel=1e-7)
    assert s.e.scalars["df_a"] == 2 * len(lv)


def _published():
    import json
    import os
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "reghdfe")
    with open(os.path.join(here, "published_reghdfe_6_12.json")) as f:
        return json.load(f)["models"]


@pytest.mark.parametrize("model", _published(), ids=lambda m: m["cmd"])
def test_published_reghdfe_output(model):
    """Numbers reghdfe 6.12.2 printed (4 decimals): singletons, robust N/df_r, and the
    cluster factors with the fixed effect nested in the cluster (xtreg's count) or not."""
    from tests.session_run import csv_session
    s = csv_session("tests/data/reghdfe/fakedata.csv")
    ok(s, model["cmd"])
    e = s.e
    assert e.scalars["N"] == model["N"]
    np.testing.assert_allclose(e.b[:2], model["b"], atol=5.1e-5)
    np.testing.assert_allclose(e.se[:2], model["se"], atol=5.1e-5)
    for k in ("r2", "r2_a"):
        if k in model:
            assert e.scalars[k] == pytest.approx(model[k], abs=5.1e-5)


def test_savefe_names_the_terms():
    cols = _data(seed=13)
    s = _session(cols)
    ok(s, "reghdfe y x1 x2, absorb(a b, savefe) resid")
    ok(s, "predict double dd, d")
    m = np.asarray(s.e.sample)
    fe = s.data.var("__hdfe1__").values[m] + s.data.var("__hdfe2__").values[m]
    np.testing.assert_allclose(fe, s.data.var("dd").values[m], atol=1e-7)
