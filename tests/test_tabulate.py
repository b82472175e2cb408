"""tabulate one- and two-way, tab1, generate(): layout, counts, r()."""
import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from hlmshell.commands.tabulate import wrap
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.parser import parse_command


from datacmd import run


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ses = Session(out=Capture())
    run(ses, "use hsb")
    size = ses.data.values("size")
    sized = np.select([size <= 499, size <= 1199], [1.0, 2.0], 3.0)
    ses.data.add(Variable("sized", sized, "byte", label="RECODE of size"))
    return ses


NOTES_SIZED = """
  RECODE of |
       size |      Freq.     Percent        Cum.
------------+-----------------------------------
          1 |      1,524       21.21       21.21
          2 |      2,984       41.53       62.74
          3 |      2,677       37.26      100.00
------------+-----------------------------------
      Total |      7,185      100.00
"""

NOTES_SIZED_1 = """
    sized== |
     1.0000 |      Freq.     Percent        Cum.
------------+-----------------------------------
          0 |      5,661       78.79       78.79
          1 |      1,524       21.21      100.00
------------+-----------------------------------
      Total |      7,185      100.00
"""


def test_notes_tables_and_generate(s):
    assert run(s, "tabulate sized, generate(sized_)") == NOTES_SIZED
    assert s.r.scalars == {"N": 7185.0, "r": 3.0}
    for k in (1, 2, 3):
        v = s.data.var(f"sized_{k}")
        assert v.vtype == "byte" and v.label == f"sized=={k}.0000"
        assert np.array_equal(v.values, (s.data.values("sized") == k).astype(float))
    assert run(s, "tab sized_1") == NOTES_SIZED_1


def test_generate_refuses_existing_names_and_leaves_data(s):
    run(s, "generate sized_2 = 0")
    before = list(s.data.names)
    with pytest.raises(StataError) as e:
        run(s, "tabulate sized, generate(sized_)")
    assert (e.value.message, e.value.rc) == ("variable sized_2 already defined", 110)
    assert s.data.names == before


def test_generate_uses_value_labels(s):
    run(s, 'label define sect 0 "public" 1 "Catholic"')
    run(s, "label values sector sect")
    out = run(s, "tab sector, gen(sec)")
    assert "     public |      3,642" in out and "   Catholic |      3,543" in out
    assert s.data.var("sec2").label == "sector==Catholic"


def test_missing_option_and_if(s):
    x = s.data.values("sized").copy()
    x[:10] = np.nan
    s.data.vars["sized"].values = x
    out = run(s, "tab sized")
    assert s.r.scalars["N"] == 7175
    out = run(s, "tab sized, missing")
    assert s.r.scalars["N"] == 7185
    assert "          . |         10        0.14      100.00" in out
    run(s, "tab sized if sector==1")
    assert s.r.scalars["N"] == int(np.sum((s.data.values("sector") == 1) & ~np.isnan(x)))


def test_no_observations(s):
    with pytest.raises(StataError) as e:
        run(s, "tab sized if sized>5")
    assert e.value.rc == 2000


def test_twoway_counts_layout_and_chi2(s):
    out = run(s, "tabulate female sector, chi2")
    df = s.data.to_frame(["female", "sector"])
    ct = pd.crosstab(df.female, df.sector)
    lines = out.splitlines()
    assert lines[3] == "    female |         0          1 |     Total"
    assert lines[4] == "-----------+----------------------+----------"
    want = f"         0 | {ct.iloc[0, 0]:>9,} {ct.iloc[0, 1]:>10,} | {ct.iloc[0].sum():>9,} "
    assert lines[5] == want
    assert lines[8] == "     Total |     3,642      3,543 |     7,185 "
    chi2, p, dof, _ = chi2_contingency(ct.to_numpy(), correction=False)
    assert s.r.scalars["chi2"] == pytest.approx(chi2)
    assert s.r.scalars["p"] == pytest.approx(p)
    assert f"Pearson chi2(1) = {chi2:8.4f}   Pr = {p:5.3f}" in out
    assert (s.r.scalars["r"], s.r.scalars["c"], s.r.scalars["N"]) == (2, 2, 7185)


def test_twoway_row_percentages(s):
    out = run(s, "tab female sector, row")
    assert "|     frequency     |" in out and "|  row percentage   |" in out
    df = s.data.to_frame(["female", "sector"])
    rp = pd.crosstab(df.female, df.sector, normalize="index") * 100
    assert f"           |     {rp.iloc[0, 0]:5.2f}      {rp.iloc[0, 1]:5.2f} |    100.00 " in out


def test_oneway_options_rejected(s):
    with pytest.raises(StataError) as e:
        run(s, "tab sized, row")
    assert e.value.rc == 198
    with pytest.raises(StataError) as e:
        run(s, "tab sized female sector")
    assert e.value.rc == 103


def test_tab1_and_abbreviation(s):
    Interpreter(s).run_text("tab1 female sector\nta sized", echo=False)
    out = s.out.getvalue()
    assert "-> tabulation of female" in out and "-> tabulation of sector" in out
    assert "  RECODE of |" in out


def test_wrap():
    assert wrap("RECODE of size", 11) == ["RECODE of", "size"]
    assert wrap("sized==1.0000", 11) == ["sized==", "1.0000"]
    assert wrap("short", 11) == ["short"]
    assert wrap("abcdefghijklmnop", 11) == ["abcdefghijk", "lmnop"]


def test_tabulate_summarize(s):
    out = run(s, "tab sector, summarize(mathach)")
    df = s.data.to_frame(["sector", "mathach"])
    g = df.groupby("sector").mathach
    lines = out.splitlines()
    assert "Summary of mathematics achievement score" in lines[1]
    assert lines[6] == "          0 |   11.364073   7.0799196       3,642"
    assert float(lines[6].split()[2]) == pytest.approx(g.mean()[0], rel=1e-7)
    assert float(lines[7].split()[3]) == pytest.approx(g.std()[1], rel=1e-7)
    assert lines[-1] == "      Total |   12.747853   6.8782457       7,185"


def test_matcell_matrow(s):
    run(s, "tab sized, matcell(F) matrow(V)")
    assert s.matrices["F"].ravel().tolist() == [1524, 2984, 2677]
    assert s.matrices["V"].ravel().tolist() == [1, 2, 3]
    run(s, "tab female sector, matcell(T) matcol(C)")
    assert s.matrices["T"].shape == (2, 2) and s.matrices["T"].sum() == 7185
    assert s.matrices["C"].tolist() == [[0.0, 1.0]]
