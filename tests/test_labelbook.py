"""labelbook: the per-label report (layout as in Stata's output for a public do-file's label),
its statistics on constructed labels, problems, returns and refusals."""
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture
def s():
    s = Session(out=Capture())
    ok(s, "use hsb")
    ok(s, 'label define yn 0 "no" 1 "yes"')
    ok(s, "label values female yn")
    ok(s, 'label define sec 0 "public" 2 " Catholic" .a "dk" 3 "7"')
    ok(s, 'label define unused 1 "a long label text here" 2 "a long label text there"')
    return s


def test_detail_layout(s):
    out = ok(s, "labelbook yn").splitlines()
    assert out[1] == "-" * 79 and out[2] == "value label yn" and out[3] == "-" * 79
    assert out[5:12] == [
        "      values                                    labels",
        "       range:  [0,1]                     string length:  [2,3]",
        "           N:  2                 unique at full length:  yes",
        "        gaps:  no                  unique at length 12:  yes",
        "  missing .*:  0                           null string:  no",
        "                               leading/trailing blanks:  no",
        "                                    numeric -> numeric:  no"]
    assert out[12:15] == ["  definition", "           0   no", "           1   yes"]
    assert out[16] == "   variables:  female"


def test_statistics_and_returns(s):
    out = ok(s, "labelbook sec unused, length(12)")
    assert "       range:  [0,3]                     string length:  [1,9]" in out
    assert "        gaps:  yes" in out and "  missing .*:  1" in out
    assert "          .a   dk" in out
    r = s.r.macros
    assert r["names"] == "sec unused" and r["gaps"] == "sec" and r["numeric"] == "sec"
    assert r["blanks"] == "sec" and r["nuniq_sh"] == "unused" and r["notused"] == "sec unused"
    assert "nuniq" not in r and "null" not in r
    ok(s, "labelbook unused, length(30)")
    assert "nuniq_sh" not in s.r.macros


def test_problems_and_list(s):
    out = ok(s, "labelbook, problems length(6)")
    lines = out.splitlines()
    assert "   Potential problems in dataset   hsb.dta" in lines
    assert "               potential problem   value labels" in lines
    assert "      duplicate lab. at length 6   unused" in lines
    assert "           not used by variables   sec unused" in lines
    assert "value label sec" not in out
    assert "no potential problems in dataset hsb.dta" in ok(s, "labelbook yn, problems")
    out = ok(s, "labelbook sec, list(2)")
    assert "2 random examples out of 4 labels" in out
    shown = [ln for ln in out.splitlines() if ln[:12].strip() in ("0", "2", "3", ".a") and ln[12:15] == "   "]
    assert len(shown) == 2
    assert "definition" not in ok(s, "labelbook sec, list(0)")


def test_refusals(s):
    assert run(s, "labelbook nosuch")[0] == 111
    assert run(s, "labelbook, length(0)")[0] == 198
    assert run(s, "labelbook, list(-1)")[0] == 198
    assert run(s, "labelbook using nosuch.dta")[0] == 601
