"""pcorr: partial correlations as correlations of residuals (y and x_j each regressed on the
other predictors), semipartial as corr(y, residual of x_j), p-values from scipy's t; weights,
a collinear variable, the layout and r()."""
import numpy as np
import pytest
from scipy import stats

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture(scope="module")
def s():
    s = Session(out=Capture())
    ok(s, "use hsb")
    return s


def _resid(v, Z, w):
    sw = np.sqrt(w)
    b = np.linalg.lstsq(Z * sw[:, None], v * sw, rcond=None)[0]
    return v - Z @ b


def _wcorr(a, b, w):
    a, b = a - np.average(a, weights=w), b - np.average(b, weights=w)
    return np.sum(w * a * b) / np.sqrt(np.sum(w * a * a) * np.sum(w * b * b))


def _reference(s, y, xs, w=None):
    d = s.data
    Y = d.var(y).values.astype(float)
    X = [d.var(x).values.astype(float) for x in xs]
    w = np.ones_like(Y) if w is None else w
    out = []
    for j in range(len(X)):
        Z = np.column_stack([X[i] for i in range(len(X)) if i != j] + [np.ones_like(Y)])
        ry, rx = _resid(Y, Z, w), _resid(X[j], Z, w)
        out.append((_wcorr(ry, rx, w), _wcorr(Y, rx, w)))
    return np.array(out)


def test_against_residual_correlations(s):
    out = ok(s, "pcorr mathach ses minority female")
    ref = _reference(s, "mathach", ["ses", "minority", "female"])
    p = np.ravel(s.r.matrices["p_corr"].values)
    sp = np.ravel(s.r.matrices["sp_corr"].values)
    np.testing.assert_allclose(p, ref[:, 0], rtol=1e-8)
    np.testing.assert_allclose(sp, ref[:, 1], rtol=1e-8)
    df = 7185 - 4
    assert s.r.scalars["df"] == df and s.r.scalars["N"] == 7185
    t = ref[:, 0] * np.sqrt(df / (1 - ref[:, 0] ** 2))
    pv = 2 * stats.t.sf(np.abs(t), df)
    lines = out.splitlines()
    assert lines[0] == "(obs=7185)"
    assert lines[2] == "Partial and semipartial correlations of mathach with"
    assert lines[5] == "   Variable |    corr.         corr.      corr.^2       corr.^2          value"
    assert lines[6] == "-" * 12 + "+" + "-" * 65
    want = (f"        ses | {ref[0, 0]:8.4f}      {ref[0, 1]:8.4f}     {ref[0, 0] ** 2:8.4f}"
            f"      {ref[0, 1] ** 2:8.4f}       {pv[0]:8.4f}")
    assert lines[7] == want


def test_weights_small_sample_and_collinear(s):
    ok(s, "pcorr mathach ses female in 1/40")
    ref = _reference(s, "mathach", ["ses", "female"])          # on all rows: differs
    sub = Session(out=Capture())
    ok(sub, "use hsb")
    ok(sub, "keep in 1/40")
    np.testing.assert_allclose(np.ravel(s.r.matrices["p_corr"].values),
                               _reference(sub, "mathach", ["ses", "female"])[:, 0], rtol=1e-8)
    assert not np.allclose(np.ravel(s.r.matrices["p_corr"].values), ref[:, 0])
    w = s.data.var("size").values.astype(float)
    ok(s, "pcorr mathach ses female [aw=size]")
    np.testing.assert_allclose(np.ravel(s.r.matrices["p_corr"].values),
                               _reference(s, "mathach", ["ses", "female"], w)[:, 0], rtol=1e-7)
    ok(s, "generate double ses2 = 2*ses")
    out = ok(s, "pcorr mathach ses ses2 female")
    assert "       ses2 | (dropped)" in out
    ok(s, "drop ses2")


def test_refusals(s):
    assert run(s, "pcorr mathach ses")[0] == 102
    assert run(s, "pcorr mathach")[0] == 102
    assert run(s, "pcorr mathach ses nosuch")[0] == 111
    assert run(s, "pcorr mathach ses female if ses > 100 & ses < .")[0] == 2000
    assert run(s, "pcorr mathach ses female [pw=size]")[0] == 101
