"""`xtreg, fe [fweight|aweight|pweight=]` (hlmshell/commands/xtreg_weights.py): weights
constant within panel.

References: the fit written out in numpy from the definitions of Stata's xtreg_fe (weighted
least squares on the panel-demeaned data, s^2 = sum w e^2 / (N - G - k) with aweights and
pweights rescaled to sum to the rows, the panels' cluster sandwich for pweights; sigma_u,
corr(u_i, Xb), R-sq overall and between over the unweighted rows and panels), and for fweights
xtreg, fe on the data after `expand` for the weighted parts; refusals as Stata's (re and be take
no weights, a weight that varies within a panel r(199)).
"""
from __future__ import annotations

import numpy as np
import pytest
from session_run import ok, run

from hlmshell.output.writer import Capture
from hlmshell.session import Session


def _data(seed=8, G=14, m=6):
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(1, G + 1), m)
    x = rng.normal(size=G * m) + ids / 7
    y = 1 + 0.6 * x + (ids % 4) + rng.normal(size=G * m)
    f = 1 + ids % 3
    return {"id": ids, "x": x, "y": y, "f": f, "v": 1 + np.arange(G * m) % 2}


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
    ok(s, "xtset id")
    return s


def _reference(d, kind, clustered=False):
    """xtreg, fe with weights written out (Stata's xtreg_fe: the weighted regression on the
    panel indicators; panel sizes, sigma_u, corr(u_i, Xb), R-sq overall and between
    unweighted): weights constant within panel, so the panel means are the plain ones."""
    ids, x, y = d["id"], d["x"], d["y"]
    w = (d["f"] if kind == "fweight" else d["f"] * 0.37).astype(float)
    n = len(y)
    if kind != "fweight":
        w = w * n / w.sum()
    N, G = w.sum(), len(np.unique(ids))
    mean = lambda v: np.array([v[ids == g].mean() for g in ids])
    xt, yt = x - mean(x), y - mean(y)
    b = (w @ (xt * yt)) / (w @ (xt * xt))
    e = yt - b * xt
    rss = w @ e ** 2
    s2 = rss / (N - G - 1)
    if clustered:
        S = np.array([(w * e * xt)[ids == g].sum() for g in np.unique(ids)])
        se = np.sqrt(G / (G - 1) * (N - 1) / (N - 2) * (S @ S)) / (w @ (xt * xt))
    else:
        se = np.sqrt(s2 / (w @ (xt * xt)))
    cons = (w @ y - b * (w @ x)) / w.sum()
    xb = cons + b * x
    u = np.array([(y - xb)[ids == g].mean() for g in np.unique(ids)])
    ui = np.array([(y - xb)[ids == g].mean() for g in ids])
    ym = np.array([y[ids == g].mean() for g in np.unique(ids)])
    xbm = np.array([xb[ids == g].mean() for g in np.unique(ids)])
    return {"b": b, "se": se, "cons": cons, "N": N, "sigma_e": np.sqrt(s2),
            "sigma_u": np.std(u, ddof=1), "corr": np.corrcoef(xb, ui)[0, 1],
            "r2_o": np.corrcoef(xb, y)[0, 1] ** 2, "r2_b": np.corrcoef(xbm, ym)[0, 1] ** 2,
            "r2_w": 1 - rss / (w @ yt ** 2), "g_avg": n / G}


@pytest.mark.parametrize("kind", ["fweight", "aweight", "pweight"])
def test_fe_weights_against_the_written_out_fit(sess, kind):
    d = _data()
    ok(sess, "generate double a = 0.37 * f")
    ok(sess, f"xtreg y x [{kind}={'f' if kind == 'fweight' else 'a'}], fe")
    e = sess.e
    ref = _reference(d, kind, clustered=kind == "pweight")
    assert e.b[0] == pytest.approx(ref["b"], rel=1e-10)
    assert np.sqrt(e.V[0, 0]) == pytest.approx(ref["se"], rel=1e-9)
    assert e.b[1] == pytest.approx(ref["cons"], rel=1e-9)
    for k in ("N", "sigma_e", "sigma_u", "corr", "r2_o", "r2_b", "r2_w", "g_avg"):
        assert e.scalars[k] == pytest.approx(ref[k], rel=1e-9), k
    assert e.macros["wtype"] == kind
    assert int(e.sample.sum()) == len(d["y"])
    if kind == "pweight":
        assert e.macros["vcetype"] == "Robust" and e.macros["clustvar"] == "id"


@pytest.mark.parametrize("vce", ["", "vce(robust)"])
def test_fe_fweights_weighted_parts_equal_the_expanded_data(sess, vce):
    """What xtreg_fe weights (the regression, its VCE and tests, N, sigma_e, R-sq within) is
    what the expanded data give; sigma_u and R-sq between (over the panels) too."""
    ok(sess, f"xtreg y x [fw=f], fe {vce}")
    bw, Vw, scw = np.asarray(sess.e.b), np.asarray(sess.e.V), dict(sess.e.scalars)
    ok(sess, "expand f")
    ok(sess, f"xtreg y x, fe {vce}")
    np.testing.assert_allclose(bw, np.asarray(sess.e.b), rtol=1e-10)
    np.testing.assert_allclose(Vw, np.asarray(sess.e.V), rtol=1e-8)
    for k in ("N", "df_r", "rss", "sigma_e", "sigma_u", "r2_w", "r2_b", "F", "F_f", "N_g"):
        if k in sess.e.scalars:
            assert scw[k] == pytest.approx(sess.e.scalars[k], rel=1e-9), k


@pytest.mark.parametrize("line,rc", [
    ("xtreg y x [fw=f], re", 101),
    ("xtreg y x [fw=f], be", 101),
    ("xtreg y x [iw=f], fe", 101),
    ("xtreg y x [fw=v], fe", 199),           # not constant within id
    ("xtreg y x [fw=x], fe", 401),
])
def test_bad_weights_leave_the_session(sess, line, rc):
    ok(sess, "quietly xtreg y x, fe")
    b = np.asarray(sess.e.b).copy()
    got, out = run(sess, line)
    assert got == rc, out
    assert "Traceback" not in out
    np.testing.assert_array_equal(np.asarray(sess.e.b), b)
