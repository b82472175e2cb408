"""`xtreg, fe [fweight=]` (hlmshell/commands/xtreg_weights.py): weights constant within panel.

References: the within estimator with frequency weights written out in numpy (panel means,
weighted least squares on the demeaned data, s^2 = sum w e^2 / (sum w - G - k)), and xtreg, fe
on the data after `expand` for every e() scalar; refusals as Stata's (re and be take no weights,
a weight that varies within a panel) and plain ones for what is not available here.
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


def test_fe_fweights_against_the_weighted_within_formula(sess):
    d = _data()
    ok(sess, "xtreg y x [fw=f], fe")
    e = sess.e
    ids, x, y, w = d["id"], d["x"], d["y"], d["f"].astype(float)
    xm = np.array([x[ids == g].mean() for g in ids])
    ym = np.array([y[ids == g].mean() for g in ids])
    xt, yt = x - xm, y - ym
    b = (w @ (xt * yt)) / (w @ (xt * xt))
    e_ = yt - b * xt
    G = len(np.unique(ids))
    s2 = (w @ e_ ** 2) / (w.sum() - G - 1)
    se = np.sqrt(s2 / (w @ (xt * xt)))
    assert e.b[0] == pytest.approx(b, rel=1e-10)
    assert np.sqrt(e.V[0, 0]) == pytest.approx(se, rel=1e-9)
    cons = (w @ y - b * (w @ x)) / w.sum()
    assert e.b[1] == pytest.approx(cons, rel=1e-9)
    assert e.scalars["N"] == w.sum() and e.scalars["sigma_e"] == pytest.approx(np.sqrt(s2))
    assert e.macros["wtype"] == "fweight" and e.macros["wexp"] == "= f"
    assert int(e.sample.sum()) == len(y)


@pytest.mark.parametrize("vce", ["", "vce(robust)", "vce(cluster v)"])
def test_fe_fweights_equal_the_expanded_data(sess, vce):
    if vce == "vce(cluster v)":
        ok(sess, "replace v = ceil(id / 3)")
    out_w = ok(sess, f"xtreg y x [fw=f], fe {vce}")
    bw, Vw, scw = np.asarray(sess.e.b), np.asarray(sess.e.V), dict(sess.e.scalars)
    ok(sess, "expand f")
    out_e = ok(sess, f"xtreg y x, fe {vce}")
    np.testing.assert_allclose(bw, np.asarray(sess.e.b), rtol=1e-12)
    np.testing.assert_allclose(Vw, np.asarray(sess.e.V), rtol=1e-10)
    for k, v in sess.e.scalars.items():
        assert scw[k] == pytest.approx(v, rel=1e-10, nan_ok=True), k
    assert out_w == out_e


@pytest.mark.parametrize("line,rc", [
    ("xtreg y x [fw=f], re", 101),
    ("xtreg y x [fw=f], be", 101),
    ("xtreg y x [aw=f], fe", 101),
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
