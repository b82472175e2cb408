"""xtdata: the transformed data against pandas group means computed here, and regress on them
giving xtreg's be/fe/re point estimates (as [XT] xtdata says); refusals."""
import numpy as np
import pandas as pd
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture
def s():
    s = Session(out=Capture())
    ok(s, "use hsb")
    ok(s, "replace ses = . in 5/9")
    ok(s, "xtset id")
    return s


def _frame(s):
    d = s.data
    f = pd.DataFrame({k: d.var(k).values for k in ("id", "ses", "mathach", "sector")})
    return f.dropna(subset=["ses", "mathach"])


def test_be(s):
    f = _frame(s)
    ok(s, "xtreg mathach ses, be")
    b_xt = np.ravel(s.e.b).copy()
    ok(s, "xtdata mathach ses, be clear")
    g = f.groupby("id", sort=True)[["ses", "mathach"]].mean()
    assert s.data.n == len(g) and s.data.names == ["id", "ses", "mathach"]
    np.testing.assert_allclose(s.data.var("ses").values, g["ses"].values, rtol=1e-12)
    assert s.data.var("ses").vtype == "double"
    ok(s, "regress mathach ses")
    np.testing.assert_allclose(np.ravel(s.e.b), b_xt, rtol=1e-9)


def test_fe(s):
    f = _frame(s)
    ok(s, "xtreg mathach ses, fe")
    b_xt = np.ravel(s.e.b).copy()
    ok(s, "xtdata ses mathach if sector == 0 | 1, fe clear nodouble")
    want = f["ses"] - f.groupby("id")["ses"].transform("mean") + f["ses"].mean()
    np.testing.assert_allclose(s.data.var("ses").values, want.values, rtol=1e-6, atol=1e-6)
    assert s.data.var("ses").vtype == "double" or s.data.var("ses").vtype == "float"
    ok(s, "regress mathach ses")
    np.testing.assert_allclose(np.ravel(s.e.b), b_xt, rtol=1e-5)


def test_re(s):
    f = _frame(s)
    ok(s, "xtreg mathach ses, re")
    b_xt = np.ravel(s.e.b).copy()
    ratio = s.e.scalars["sigma_u"] / s.e.scalars["sigma_e"]
    ok(s, f"xtdata mathach ses, re ratio({ratio!r}) clear")
    T = f.groupby("id")["ses"].transform("size").values
    theta = 1 - 1 / np.sqrt(1 + T * ratio ** 2)
    want = f["mathach"].values - theta * f.groupby("id")["mathach"].transform("mean").values
    np.testing.assert_allclose(s.data.var("mathach").values, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s.data.var("constant").values, 1 - theta, rtol=1e-12)
    ok(s, "regress mathach ses constant, noconstant")
    np.testing.assert_allclose(np.ravel(s.e.b), b_xt, rtol=1e-6)


def test_refusals(s):
    assert run(s, "xtdata mathach ses, fe")[0] == 4           # changed since last saved
    assert run(s, "xtdata mathach ses, re clear")[0] == 198    # ratio() required
    assert run(s, "xtdata mathach ses, fe be clear")[0] == 198
    assert run(s, "xtdata mathach ses, fe ratio(1) clear")[0] == 198
    assert run(s, "xtdata nosuch, fe clear")[0] == 111
    assert run(s, "xtdata mathach if ses > 100 & ses < ., fe clear")[0] == 2000
    ok(s, "xtset, clear")
    assert run(s, "xtdata mathach, fe clear")[0] == 459
    assert s.data.n == 7185


def test_old_i_option():
    s = Session(out=Capture())
    ok(s, "use hsb")
    ok(s, "xtdata mathach, be i(id)")
    assert s.data.n == 160
    assert run(s, "xtdata mathach, be i(id mathach) clear")[0] == 198
