"""putexcel: set/save/clear/describe, cell = string/expression/matrix/formula, formats, the
modes (new, replace, modify, sheet replace, open), read back with openpyxl."""
import os

import numpy as np
import pytest

openpyxl = pytest.importorskip("openpyxl")

from hlmshell.commands.program import NamedMatrix  # noqa: E402
from hlmshell.session import Session  # noqa: E402
from tests.session_run import ok, run  # noqa: E402


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sess = Session()
    ok(sess, "set obs 3")
    ok(sess, "generate x = _n")
    ok(sess, "generate y = 2*x + (x == 2)")
    return sess


def _rows(path, sheet=None):
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet] if sheet else wb.active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_cells_from_strings_expressions_and_results(s):
    ok(s, "putexcel set out.xlsx")
    out = ok(s, 'putexcel A1 = "Country"')
    assert out.strip() == "file out.xlsx saved"
    ok(s, "local c = 2")
    ok(s, "putexcel A`c' = 7")
    ok(s, "quietly regress y x")
    ok(s, "putexcel B`c' = _b[x]")
    ok(s, 'putexcel C2 = (1/4) D2 = ("a" + "b") E2 = .')
    rows = _rows("out.xlsx")
    assert rows[0][0] == "Country"
    slope = np.polyfit([1, 2, 3], [2, 5, 6], 1)[0]
    assert rows[1] == [7, pytest.approx(slope, rel=1e-12), 0.25, "ab"]   # E2 (missing) empty


def test_matrix_with_names_and_formula_and_format(s):
    s.matrices["M"] = NamedMatrix([[1, 2], [3, 4]], ["a", "b"], ["u", "v"])
    ok(s, "putexcel set m.xlsx, replace sheet(res)")
    ok(s, "putexcel B2 = matrix(M), names nformat(0.00) bold")
    ok(s, 'putexcel A1 = formula("SUM(C3:D4)")')
    rows = _rows("m.xlsx", "res")
    assert rows[1][1:4] == [None, "u", "v"]
    assert rows[2][1:4] == ["a", 1, 2] and rows[3][1:4] == ["b", 3, 4]
    assert rows[0][0] == "=SUM(C3:D4)"
    ws = openpyxl.load_workbook("m.xlsx")["res"]
    assert ws["C3"].font.b and ws["C3"].number_format == "0.00"
    ok(s, "putexcel A10 = matrix(M), rownames")
    assert _rows("m.xlsx", "res")[9][:3] == ["a", 1, 2]


def test_modes_new_replace_modify_sheet_replace_and_open(s):
    ok(s, "putexcel set f.xlsx")
    ok(s, "putexcel A1 = 1")
    ok(s, "putexcel A2 = 2")                     # later writes add to the new file
    assert [r[0] for r in _rows("f.xlsx")] == [1, 2]
    ok(s, "putexcel set f.xlsx")
    rc, out = run(s, "putexcel A3 = 3")          # an existing file needs replace or modify
    assert rc == 602 and [r[0] for r in _rows("f.xlsx")] == [1, 2]
    ok(s, "putexcel set f.xlsx, modify sheet(two)")
    ok(s, "putexcel B1 = 5")
    assert openpyxl.load_workbook("f.xlsx").sheetnames == ["Sheet1", "two"]
    ok(s, "putexcel set f.xlsx, modify sheet(two, replace)")
    ok(s, "putexcel A1 = 9")
    assert _rows("f.xlsx", "two") == [[9]]
    ok(s, "putexcel set f.xlsx, replace")
    ok(s, "putexcel C1 = 4")
    assert openpyxl.load_workbook("f.xlsx").sheetnames == ["Sheet1"]
    ok(s, "putexcel set g.xlsx, open")
    assert ok(s, "putexcel A1 = 1").strip() == "" and not os.path.exists("g.xlsx")
    assert ok(s, "putexcel save").strip() == "file g.xlsx saved"
    assert _rows("g.xlsx") == [[1]]
    out = ok(s, "putexcel describe")
    assert "g.xlsx" in out and "Open:       yes" in out


@pytest.mark.parametrize("line, rc", [
    ("putexcel A1 = 1", 198),                           # no putexcel set
    ("putexcel set", 198),
    ("putexcel set f.csv", 198),
    ("putexcel set f.xlsx, replace modify", 198),
    ("putexcel set f.xlsx, sheet(a/b)", 198),
    ("putexcel set f.xlsx, bogus", 198),
    ("putexcel save extra", 198),
])
def test_bad_set_lines(s, line, rc):
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out and getattr(s, "putexcel", None) is None


@pytest.mark.parametrize("line, rc", [
    ("putexcel A1", 198),
    ("putexcel A1 =", 198),
    ("putexcel 1A = 2", 198),
    ("putexcel A1 = nosuchvar", 111),
    ("putexcel A1 = (1 +", 198),
    ("putexcel A1 = matrix(nosuch)", 111),
    ("putexcel A1 = matrix(M), names rownames", 198),
    ("putexcel A1 = 1, names", 198),
    ("putexcel A1 = 1, bogus", 198),
    ("putexcel A1 = image(x.png)", 198),
    ("putexcel A1 = _b[x]", 301),
])
def test_bad_writes_leave_the_file_alone(s, line, rc):
    ok(s, r"matrix M = (1, 2)")
    ok(s, "putexcel set w.xlsx")
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out and not os.path.exists("w.xlsx")
