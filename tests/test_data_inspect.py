"""describe, summarize, list, count: layouts, numbers and r()."""
import numpy as np
import pandas as pd
import pytest
from pathlib import Path

from hlmshell.errors import StataError
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.parser import parse_command

HSB = Path(__file__).resolve().parents[1] / "hlmshell" / "sample_data" / "hsb.dta"


from datacmd import run, s  # noqa: F401 (fixture)




@pytest.fixture(scope="module")
def ref():
    return pd.read_stata(HSB)


def test_summarize_table_layout_and_numbers(s, ref):
    out = run(s, "summarize mathach ses")
    assert out == (
        "\n"
        "    Variable |        Obs        Mean    Std. dev.       Min        Max\n"
        "-------------+---------------------------------------------------------\n"
        "     mathach |      7,185    12.74785    6.878246     -2.832     24.993\n"
        "         ses |      7,185    .0001434    .7793552     -3.758      2.692\n")
    r = s.r.scalars
    x = ref["ses"].to_numpy()
    assert r["N"] == 7185
    assert r["mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert r["sd"] == pytest.approx(x.std(ddof=1), rel=1e-12)
    assert r["Var"] == pytest.approx(x.var(ddof=1), rel=1e-12)
    assert r["sum"] == pytest.approx(x.sum(), rel=1e-12)
    assert (r["min"], r["max"]) == (x.min(), x.max())


def test_summarize_separator_every_five_and_if(s, ref):
    out = run(s, "su")
    assert out.count("-------------+---") == 3      # after the header, after 5 and 10 vars
    out = run(s, "su ses if sector==1")
    x = ref.loc[ref.sector == 1, "ses"]
    assert s.r.scalars["N"] == len(x) == 3543
    assert s.r.scalars["mean"] == pytest.approx(x.mean())
    assert "      3,543" in out


def test_summarize_detail_percentiles_and_moments(s, ref):
    out = run(s, "summarize mathach, detail")
    x = np.sort(ref["mathach"].to_numpy())
    n = len(x)
    r = s.r.scalars
    for p in (1, 5, 10, 25, 50, 75, 90, 95, 99):
        pos = n * p / 100
        i = int(np.floor(pos))
        want = (x[i - 1] + x[i]) / 2 if pos == i else x[i]
        assert r[f"p{p}"] == want
    m = x.mean()
    m2 = ((x - m) ** 2).mean()
    assert r["skewness"] == pytest.approx(((x - m) ** 3).mean() / m2 ** 1.5)
    assert r["kurtosis"] == pytest.approx(((x - m) ** 4).mean() / m2 ** 2)
    lines = out.splitlines()
    assert lines[1].strip() == "mathematics achievement score"
    assert lines[2] == "-" * 61
    assert lines[3] == "      Percentiles      Smallest"
    assert lines[6].startswith("10%") and "Obs               7,185" in lines[6]
    assert lines[10] == "                        Largest       Std. dev.      6.878246"


def test_summarize_meanonly_and_fweight(s):
    assert run(s, "summarize ses, meanonly") == ""
    assert "sd" not in s.r.scalars and s.r.scalars["N"] == 7185
    run(s, "generate w = 2")
    run(s, "summarize ses [fweight=w]")
    assert s.r.scalars["N"] == 2 * 7185
    x = s.data.values("ses")
    xx = np.repeat(x, 2)
    assert s.r.scalars["sd"] == pytest.approx(xx.std(ddof=1))


def test_summarize_unknown_variable(s):
    with pytest.raises(StataError) as e:
        run(s, "summarize nosuch")
    assert e.value.rc == 111


def test_count(s):
    assert run(s, "count if sector==1") == "  3,543\n"
    assert s.r.scalars["N"] == 3543
    assert run(s, "count in 1/10") == "  10\n"


def test_describe_layout(s):
    out = run(s, "describe")
    lines = out.splitlines()
    assert lines[1] == "Contains data from hsb.dta"
    assert lines[2].startswith(" Observations:         7,185")
    assert lines[3] == "    Variables:            11"
    assert lines[5] == "Variable      Storage   Display    Value"
    assert lines[6] == "    name         type    format    label      Variable label"
    assert lines[8] == "id              long    %12.0g                school identifier"
    assert lines[11] == "ses             double  %10.0g                socio-economic status (standardized)"
    assert lines[-1] == "Sorted by:"
    out = run(s, "describe id ses")
    assert "Contains data" not in out and "school identifier" in out and "mathach" not in out
    assert s.r.scalars["N"] == 7185 and s.r.scalars["k"] == 11
    run(s, "drop in 1")
    assert run(s, "describe, short").rstrip().endswith("Note: Dataset has changed since last saved.")


def test_list_boxed_and_clean(s):
    out = run(s, "list id ses mathach in 1/6")
    assert out == (
        "\n"
        "       +-------------------------+\n"
        "       |   id      ses   mathach |\n"
        "       |-------------------------|\n"
        "    1. | 1224   -1.528     5.876 |\n"
        "    2. | 1224    -.588    19.708 |\n"
        "    3. | 1224    -.528    20.349 |\n"
        "    4. | 1224    -.668     8.781 |\n"
        "    5. | 1224    -.158    17.898 |\n"
        "       |-------------------------|\n"
        "    6. | 1224     .022     4.583 |\n"
        "       +-------------------------+\n")
    out = run(s, "list id ses in 1/2, clean noobs")
    assert out.splitlines()[1:] == ["     id      ses", "   1224   -1.528", "   1224    -.588"]


def test_list_value_labels_and_if(s):
    run(s, 'label define sect 0 "public" 1 "Catholic"')
    run(s, "label values sector sect")
    out = run(s, "list sector if id==1288 & _n<50, noobs")
    assert "| public |" in out
    out = run(s, "list sector in 1/1, nolabel")
    assert "|      0 |" in out


def test_by_prefix_through_interpreter(s):
    Interpreter(s).run_text("by sector, sort: summarize ses", echo=False)
    out = s.out.getvalue()
    assert "-> sector = 0" in out and "-> sector = 1" in out
    assert out.count("    Variable |") == 2


def test_levelsof_and_local(s):
    assert run(s, "levelsof sector, local(secs)") == "0 1\n"
    assert s.local["secs"] == "0 1" and s.r.scalars["r"] == 2
    assert run(s, "levelsof id if _n < 100") == "1224 1288 1296\n"


def test_isid(s):
    with pytest.raises(StataError) as e:
        run(s, "isid id")
    assert e.value.rc == 459
    run(s, "generate long obs = _n")
    run(s, "isid id obs")


def test_describe_using_does_not_load(s, tmp_path):
    run(s, "keep in 1/5")
    run(s, "save five")
    run(s, "use hsb, clear")
    out = run(s, "describe using five")
    assert " Observations:             5" in out
    assert s.data.n == 7185


def test_sysuse_loads_packaged_data(s):
    run(s, "sysuse hsb, clear")
    assert s.data.n == 7185
    with pytest.raises(StataError) as e:
        run(s, "sysuse auto, clear")
    assert e.value.rc == 601


def test_summarize_aweight_table(s, ref):
    out = run(s, "summarize ses [aweight=size]")
    x, w = ref["ses"].to_numpy(), ref["size"].to_numpy().astype(float)
    m = np.sum(w * x) / w.sum()
    var = np.sum(w * (x - m) ** 2) / w.sum() * len(x) / (len(x) - 1)
    assert s.r.scalars["mean"] == pytest.approx(m)
    assert s.r.scalars["Var"] == pytest.approx(var)
    assert s.r.scalars["sum_w"] == w.sum()
    lines = out.splitlines()
    assert lines[1] == "    Variable |     Obs      Weight        Mean   Std. dev.       Min        Max"
    assert lines[3].startswith("         ses |   7,185     7593552")


def test_list_too_wide_wraps_into_blocks(s):
    out = run(s, "list in 1/2")
    lines = out.splitlines()
    assert max(len(x) for x in lines) <= 80
    assert lines[2].startswith("    1. |   id | minority |")
    assert "| 1224 |        0 |      1 | -1.528 |" in lines[3]
    assert any("meanses" in x for x in lines) and any("-.428" in x for x in lines)
    assert sum(1 for x in lines if x.startswith("    2. |")) == 1
