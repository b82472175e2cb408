"""`regress`: OLS numbers against an independent computation, Stata 17's ANOVA header and
t table, factor variables and collinearity, replay, errors."""
import math
import os

import numpy as np
import pytest
from scipy import stats

import hlmshell
from hlmshell.data.dataset import Variable
from hlmshell.data.dta import read_dta
from hlmshell.output.regress_output import anova_lines
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from session_run import run

HSB = os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")


@pytest.fixture()
def s():
    s = Session(out=Capture())
    s.data = read_dta(HSB)
    s.data.add(Variable("name", np.array(["a"] * s.data.n, dtype=object), "str1"))
    s.data.add(Variable("ses2", s.data.values("ses") * 2, "double"))
    return s


def test_anova_header_layout_stata_example():
    # numbers of Stata's `regress price mpg weight foreign` (auto data)
    mss, rss = 317252881.2, 317812514.7
    lines = anova_lines(mss=mss, rss=rss, df_m=3, df_r=70, n=74, F=(mss / 3) / (rss / 70),
                        pF=stats.f.sf((mss / 3) / (rss / 70), 3, 70), r2=mss / (mss + rss),
                        r2_a=1 - (rss / 70) / ((mss + rss) / 73), rmse=math.sqrt(rss / 70))
    assert lines == [
        "      Source |       SS           df       MS      Number of obs   =        74",
        "-------------+----------------------------------   F(3, 70)        =     23.29",
        "       Model |   317252881         3   105750960   Prob > F        =    0.0000",
        "    Residual |   317812515        70  4540178.78   R-squared       =    0.4996",
        "-------------+----------------------------------   Adj R-squared   =    0.4781",
        "       Total |   635065396        73  8699525.97   Root MSE        =    2130.8",
    ]


def test_regress_numbers_and_layout(s):
    rc, out = run(s, "regress mathach ses i.sector")
    assert rc == 0, out
    y = s.data.values("mathach")
    X = np.column_stack([s.data.values("ses"), (s.data.values("sector") == 1).astype(float), np.ones(len(y))])
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ b
    df_r = len(y) - 3
    s2 = resid @ resid / df_r
    se = np.sqrt(np.diag(s2 * np.linalg.inv(X.T @ X)))
    e = s.e
    assert e.cmd == "regress" and e.scalars["N"] == 7185 and e.scalars["df_r"] == df_r
    assert [n for _, n in e.names] == ["ses", "0b.sector", "1.sector", "_cons"]
    assert e.b[[0, 2, 3]] == pytest.approx(b, rel=1e-10)
    assert np.sqrt(np.diag(e.V))[[0, 2, 3]] == pytest.approx(se, rel=1e-10)
    assert e.scalars["rmse"] == pytest.approx(math.sqrt(s2))
    lines = out.splitlines()
    assert lines[1] == "      Source |       SS           df       MS      Number of obs   =     7,185"
    assert lines[2].startswith("-------------+----------------------------------   F(2, 7182)      =")
    assert "     mathach | Coefficient  Std. err.      t    P>|t|     [95% conf. interval]" in lines
    t = b[0] / se[0]
    crit = stats.t.isf(0.025, df_r)
    row = next(ln for ln in lines if ln.startswith("         ses |"))
    cells = row.split("|")[1].split()
    assert float(cells[0]) == pytest.approx(b[0], rel=1e-6)
    assert float(cells[2]) == pytest.approx(t, abs=0.005)
    assert float(cells[4]) == pytest.approx(b[0] - crit * se[0], rel=1e-6)
    assert any(ln.startswith("    1.sector |") for ln in lines)
    assert len(max(lines, key=len)) == 78


def test_regress_collinear_note_and_omitted_row(s):
    rc, out = run(s, "reg mathach ses ses2")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "note: ses2 omitted because of collinearity."
    assert "        ses2 |          0  (omitted)" in lines
    assert [n for _, n in s.e.names] == ["ses", "o.ses2", "_cons"]
    assert s.e.scalars["df_m"] == 1


def test_regress_noconstant_and_level(s):
    rc, out = run(s, "regress mathach ses, noconstant level(90)")
    assert rc == 0
    y = s.data.values("mathach")
    x = s.data.values("ses")
    b = (x @ y) / (x @ x)
    assert s.e.b[0] == pytest.approx(b)
    assert "[90% conf. interval]" in out and "_cons" not in out
    assert s.e.scalars["df_r"] == 7184
    rss = float(((y - b * x) ** 2).sum())
    assert s.e.scalars["r2"] == pytest.approx(1 - rss / float(y @ y))


def test_regress_replay_and_if(s):
    rc, _ = run(s, "regress mathach ses if sector == 1")
    assert rc == 0 and s.e.scalars["N"] == int((s.data.values("sector") == 1).sum())
    first = s.e
    rc, out = run(s, "regress")
    assert rc == 0 and s.e is first
    assert "Number of obs   =     3,642" in out or f"{int(first.scalars['N']):,}" in out
    rc, out = run(s, "mixed")
    assert rc == 301 and "last estimates not found" in out


@pytest.mark.parametrize("cmd,rc", [
    ("regress nosuch ses", 111), ("regress mathach nosuch", 111), ("regress name ses", 109),
    ("regress mathach ses if ses > 99", 2000), ("regress mathach ses, bogus", 198),
    ("regress", 301),
])
def test_regress_errors(s, cmd, rc):
    got, out = run(s, cmd)
    assert got == rc, out
    assert s.e is None and "Traceback" not in out


def test_value_labels_name_the_levels(s):
    size = s.data.values("size")
    s.data.add(Variable("sized", np.where(size <= 499, 1.0, np.where(size <= 1199, 2.0, 3.0)), "byte",
                        vallab="szl"))
    s.data.value_labels["szl"] = {1.0: "small", 2.0: "medium", 3.0: "large"}
    s.data.vars["sector"].vallab = "sec"
    s.data.value_labels["sec"] = {0.0: "Public", 1.0: "Catholic"}
    rc, out = run(s, "regress mathach i.sized i.sector")
    assert rc == 0, out
    lines = out.splitlines()
    i = lines.index("       sized |")
    assert lines[i + 1].startswith("     medium  |") and lines[i + 2].startswith("      large  |")
    j = lines.index("      sector |")
    assert lines[j + 1].startswith("   Catholic  |")
    assert [n for _, n in s.e.names][:3] == ["1b.sized", "2.sized", "3.sized"]
