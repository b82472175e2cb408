"""mi import wide (hlmshell/commands/mi_import.py): m = 0 in x, imputations in x1 x2 x3
(`.` = none for that m), the result mi set wide; mi estimate on it against Rubin's rules
computed here with numpy from the three completed datasets; refusals."""
import numpy as np
import pytest

from hlmshell.session import Session
from hlmshell.output.writer import Capture
from tests.session_run import iok, irun, interp_session

DATA = """clear
input id x y x1 x2 x3 y1 y3 z
1 1 . 1 1 1 5 6 0.5
2 . 2 7 8 9 2 2 1.2
3 . . 4 5 6 7 8 0.1
4 4 4 4 4 4 4 4 1.9
5 2 1 2 2 2 1 1 0.7
6 . 3 3 6 2 3 3 1.1
end"""


@pytest.fixture()
def s():
    return interp_session(DATA)


def _completed(m):
    x0 = np.array([1, np.nan, np.nan, 4, 2, np.nan])
    y0 = np.array([np.nan, 2, np.nan, 4, 1, 3])
    xs = {1: [1, 7, 4, 4, 2, 3], 2: [1, 8, 5, 4, 2, 6], 3: [1, 9, 6, 4, 2, 2]}
    ys = {1: [5, 2, 7, 4, 1, 3], 2: y0, 3: [6, 2, 8, 4, 1, 3]}
    return np.array(xs[m], float), np.array(ys[m], float), x0


def test_import_wide_and_rubin(s):
    iok(s, "mi import wide, imputed(x = x1 x2 x3 y = y1 . y3) drop clear")
    d = s.data
    assert d.dta_chars["_mi_style"] == "wide" and d.dta_chars["_mi_M"] == "3"
    assert d.dta_chars["_mi_ivars"].split() == ["x", "y"]
    for v in ("x1", "x2", "x3", "y1", "y3"):
        assert v not in d
    assert np.array_equal(d.var("_2_x").values, [1, 8, 5, 4, 2, 6])
    _, y2, _ = _completed(2)
    assert np.array_equal(np.isnan(d.var("_2_y").values), np.isnan(y2))   # `.`: m = 0's values
    out = iok(s, "mi describe")
    assert "Style:  wide" in out and "imputed:  2; x(3) y(2)" in out
    iok(s, "mi estimate: regress z x")
    z = np.array([0.5, 1.2, 0.1, 1.9, 0.7, 1.1])
    qs, ws = [], []
    for m in (1, 2, 3):
        x, _, _ = _completed(m)
        X = np.column_stack([x, np.ones(6)])
        b, *_ = np.linalg.lstsq(X, z, rcond=None)
        e = z - X @ b
        V = e @ e / (6 - 2) * np.linalg.inv(X.T @ X)
        qs.append(b)
        ws.append(V)
    qbar = np.mean(qs, axis=0)
    W = np.mean(ws, axis=0)
    B = np.cov(np.array(qs).T, ddof=1)
    T = W + (1 + 1 / 3) * B
    e = s.e
    assert np.allclose(np.asarray(e.b).reshape(-1), qbar)
    assert np.allclose(np.diag(np.asarray(e.V)), np.diag(T))


def test_keep_sources_without_drop(s):
    iok(s, "mi import wide, imputed(x = x1 x2 x3) passive(y = y1 y3 y)")
    d = s.data
    assert "x1" in d and "y3" in d
    assert d.dta_chars["_mi_pvars"].split() == ["y"]


@pytest.mark.parametrize("line,rc,msg", [
    ("mi import wide, imputed(x = x1 x2 y = y1 . y3)", 198, "same number of imputations"),
    ("mi import wide, imputed(x = x1 x1 x2)", 198, "specify dupsok"),
    ("mi import wide, imputed(x = x1 x2 x3 = y1)", 198, "same number of imputations"),
    ("mi import wide, imputed(= x1 x2)", 198, "invalid syntax"),
    ("mi import wide, imputed(x = nosuch x2 x3)", 111, ""),
    ("mi import wide, imputed(x x1 x2)", 198, "invalid syntax"),
    ("mi import wide, imputed(x = x1) m(id)", 198, "not allowed"),
    ("mi import flong, m(id) id(id) drop", 198, "option drop not allowed"),
    ("mi import long, imputed(x = x1)", 198, "not available"),
])
def test_refusals(s, line, rc, msg):
    got, out = irun(s, line)
    assert got == rc and msg in out and "Traceback" not in out
    assert "_mi_marker" not in s.data.dta_chars


def test_dupsok_and_already_set(s):
    iok(s, "mi import wide, imputed(x = x1 x1 x2) dupsok")
    got, out = irun(s, "mi import wide, imputed(x = x1 x2 x3)")
    assert got == 119
