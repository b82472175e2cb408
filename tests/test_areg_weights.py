"""`areg ... [fweight|aweight|pweight = exp], absorb()` (hlmshell/engine/weighted_within.py).

References, independent of the weighted within route:
- a dense weighted least-squares fit in numpy on y ~ x + z + one indicator per group (the
  dummy-variable regression areg stands for), with Stata's conventions written out here:
  aweights/pweights rescaled to sum to N (rows), fweights counting copies; the conventional
  VCE s^2 (X'WX)^-1, the robust meat with N/(N-k-G), the cluster meat with
  C/(C-1) (N-1)/(N-k-G); areg's _cons is the weighted ybar - xbar'b;
- fweights: areg without weights on the expanded data (`expand`);
- rescaling aweights or pweights changes nothing.
"""
from __future__ import annotations

import numpy as np
import pytest
from session_run import ok, run

from hlmshell.output.writer import Capture
from hlmshell.session import Session


def _data(seed=11, G=9, m=7):
    rng = np.random.default_rng(seed)
    n = G * m - 3                      # unequal groups
    ids = np.sort(rng.integers(1, G + 1, size=n))
    ids[:G] = np.arange(1, G + 1)
    ids = np.sort(ids)
    x = rng.normal(size=n) + ids / 4
    z = rng.normal(size=n)
    y = 2 + 0.7 * x - 0.4 * z + ids / 3 + rng.normal(size=n)
    f = 1 + (np.arange(n) * 5 + 1) % 3
    a = np.round(0.3 + 2 * rng.random(n), 4)
    c = (ids + 1) // 2
    return {"id": ids, "x": x, "z": z, "y": y, "f": f, "a": a, "c": c}


@pytest.fixture
def sess(tmp_path):
    import csv
    d = _data()
    path = tmp_path / "d.csv"
    with open(path, "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(list(d))
        for i in range(len(d["y"])):
            wr.writerow([repr(float(d[k][i])) for k in d])
    s = Session(Capture())
    ok(s, f'import delimited "{path}", clear asdouble')
    return s


def _reference(d, kind, vce="ols"):
    y, ids = d["y"], d["id"]
    w = (d["f"] if kind == "fweight" else d["a"]).astype(float)
    n = len(y)
    if kind != "fweight":
        w = w * n / w.sum()
    N = w.sum()
    groups = np.unique(ids)
    D = (ids[:, None] == groups[None, :]).astype(float)
    X = np.column_stack([d["x"], d["z"], D])
    XtWX = X.T @ (w[:, None] * X)
    A = np.linalg.inv(XtWX)
    b = A @ (X.T @ (w * y))
    e = y - X @ b
    k, G = 2, len(groups)
    df_r = N - k - G
    rss = float(w @ e ** 2)
    if vce == "ols":
        V = rss / df_r * A
    elif vce == "robust":
        s = X * (e * (w if kind != "fweight" else 1.0))[:, None]
        mw = w if kind == "fweight" else np.ones(n)
        V = N / df_r * A @ ((s * mw[:, None]).T @ s) @ A
    else:
        cl = d["c"]
        S = np.array([(X[cl == g] * (w * e)[cl == g][:, None]).sum(0) for g in np.unique(cl)])
        C = len(S)
        V = C / (C - 1) * (N - 1) / df_r * A @ (S.T @ S) @ A
    ybar = w @ y / N
    xbar = np.array([w @ d["x"], w @ d["z"]]) / N
    cons = ybar - xbar @ b[:2]
    tss = float(w @ (y - ybar) ** 2)
    return b[:2], np.sqrt(np.diag(V)[:2]), cons, rss, tss, N, df_r


@pytest.mark.parametrize("kind,wexp", [("fweight", "f"), ("aweight", "a"), ("pweight", "a")])
@pytest.mark.parametrize("vce", ["", "vce(robust)", "vce(cluster c)"])
def test_areg_weights_against_dense_dummy_regression(sess, kind, wexp, vce):
    d = _data()
    ok(sess, f"areg y x z [{kind}={wexp}], absorb(id) {vce}")
    e = sess.e
    ref_vce = {"": "robust" if kind == "pweight" else "ols", "vce(robust)": "robust",
               "vce(cluster c)": "cluster"}[vce]
    b, se, cons, rss, tss, N, df_r = _reference(d, kind, ref_vce)
    bb = np.asarray(e.b, dtype=float)
    sse = np.sqrt(np.diag(np.asarray(e.V, dtype=float)))
    np.testing.assert_allclose(bb[:2], b, rtol=1e-9)
    np.testing.assert_allclose(sse[:2], se, rtol=1e-7)
    assert bb[2] == pytest.approx(cons, rel=1e-9)
    sc = e.scalars
    assert sc["N"] == pytest.approx(N)
    assert sc["rss"] == pytest.approx(rss, rel=1e-9)
    assert sc["r2"] == pytest.approx(1 - rss / tss, rel=1e-9)
    assert sc["rmse"] == pytest.approx(np.sqrt(rss / df_r), rel=1e-9)
    assert e.macros["wtype"] == kind and e.macros["wexp"] == f"= {wexp}"
    if ref_vce == "ols":
        assert sc["df_r"] == pytest.approx(df_r)
    else:
        assert e.macros["vcetype"] == "Robust"


def test_areg_fweights_equal_the_expanded_data(sess):
    out_w = ok(sess, "areg y x z [fw=f], absorb(id)")
    bw, Vw, scw = np.asarray(sess.e.b), np.asarray(sess.e.V), dict(sess.e.scalars)
    ok(sess, "expand f")
    out_e = ok(sess, "areg y x z, absorb(id)")
    np.testing.assert_allclose(bw, np.asarray(sess.e.b), rtol=1e-9)
    np.testing.assert_allclose(Vw, np.asarray(sess.e.V), rtol=1e-7)
    for k in ("N", "df_r", "r2", "r2_a", "rmse", "F", "F_absorb", "rss"):
        assert scw[k] == pytest.approx(sess.e.scalars[k], rel=1e-8), k
    assert out_w == out_e


@pytest.mark.parametrize("kind", ["aweight", "pweight"])
def test_rescaled_weights_change_nothing(sess, kind):
    ok(sess, f"quietly areg y x z [{kind}=a], absorb(id)")
    b0, V0 = np.asarray(sess.e.b).copy(), np.asarray(sess.e.V).copy()
    ok(sess, "generate double a2 = 37 * a")
    ok(sess, f"quietly areg y x z [{kind}=a2], absorb(id)")
    np.testing.assert_allclose(np.asarray(sess.e.b), b0, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(sess.e.V), V0, rtol=1e-8)


def test_aweights_note_and_layout(sess):
    out = ok(sess, "areg y x z [aw=a], absorb(id)")
    assert out.lstrip("\n").startswith("(sum of wgt is ")
    assert "F test of absorbed indicators" in out
    out = ok(sess, "areg y x z [pw=a], absorb(id)")
    assert "Robust" in out and "F test of absorbed" not in out


@pytest.mark.parametrize("line,rc", [
    ("areg y x [iw=a], absorb(id)", 101),
    ("areg y x [fw=a], absorb(id)", 401),
    ("areg y x [aw=x], absorb(id)", 402),
    ("areg y x [fw=nosuch], absorb(id)", 111),
])
def test_bad_weights_leave_the_session(sess, line, rc):
    ok(sess, "quietly areg y x, absorb(id)")
    b = np.asarray(sess.e.b).copy()
    got, out = run(sess, line)
    assert got == rc, out
    assert "Traceback" not in out
    np.testing.assert_array_equal(np.asarray(sess.e.b), b)
