"""Legacy .xls workbooks (data/cfb.py + data/xls_biff.py): reading Excel-written files against
R readxl's reading of them (stored in tests/data/xls), writing files that our reader, xlrd and
readxl (when installed) read back, and import excel / export excel / putexcel on .xls."""
import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hlmshell.data import xls_biff as xb
from hlmshell.data.cfb import read_stream, write_single_stream
from hlmshell.session import Session
from tests.session_run import ok, run

DATA = Path(__file__).parent / "data" / "xls"
REF = json.loads((DATA / "readxl_reference.json").read_text())


def _typed(v):
    if isinstance(v, dt.datetime):
        return ("date", v.strftime("%Y-%m-%d %H:%M:%S"))
    if isinstance(v, bool):
        return ("logical", v)
    if isinstance(v, float):
        return ("numeric", v)
    return ("text", v)


@pytest.mark.parametrize("fname, sheet", [(f, s) for f, sheets in REF.items() for s in sheets])
def test_excel_written_files_read_as_readxl_reads_them(fname, sheet):
    ws = xb.load_workbook(DATA / fname)[sheet]
    cells = {k: c.value for k, c in ws.cells.items() if c.value not in (None, "")}
    r0 = min(r for r, _ in cells)
    c0 = min(c for _, c in cells)
    ours = {(r - r0 + 1, c - c0 + 1): _typed(v) for (r, c), v in cells.items()}
    theirs = {(i, j): (t, v) for i, j, t, v in REF[fname][sheet]}
    assert ours == theirs


def test_sheet_names_in_workbook_order():
    assert xb.load_workbook(DATA / "datasets.xls").sheetnames == ["iris", "mtcars", "chickwts", "quakes"]


def _roundtrip(wb, tmp_path):
    p = tmp_path / "w.xls"
    with open(p, "wb") as fh:
        wb.save(fh)
    return xb.load_workbook(p), p


def test_written_workbook_reads_back_with_strings_across_sst_records(tmp_path):
    wb = xb.Workbook()
    ws = wb.active
    ws.title = "Data"
    expected = {}
    for i in range(1, 1500):
        text = f"row {i} é ü 中文 " * (1 + i % 4)
        expected[(i, 1)] = text
        expected[(i, 2)] = i * 1.25 - 700
        expected[(i, 3)] = dt.datetime(2020, 1, 1) + dt.timedelta(days=i, hours=i % 24)
        for c in (1, 2, 3):
            ws.cell(i, c, expected[(i, c)])
    ws.cell(1, 5, True)
    expected[(1, 5)] = True
    wb.create_sheet("Long").cell(2, 2, "x" * 20000)        # one string over three records
    back, path = _roundtrip(wb, tmp_path)
    assert back.sheetnames == ["Data", "Long"]
    got = {k: c.value for k, c in back["Data"].cells.items() if c.value is not None}
    assert got == expected
    assert back["Long"].cells[(2, 2)].value == "x" * 20000
    assert os.path.getsize(path) % 512 == 0


def test_formatting_survives_a_rewrite(tmp_path):
    wb = xb.Workbook()
    c = wb.active.cell(1, 1, "head")
    c.font = xb.Style(bold=True, italic=True, underline="single")
    c.alignment = xb.Style(horizontal="center", wrap_text=True)
    c2 = wb.active.cell(2, 1, 3.14159)
    c2.number_format = "0.000"
    back, _ = _roundtrip(wb, tmp_path)
    again, _ = _roundtrip(back, tmp_path)
    h, n = again.active.cells[(1, 1)], again.active.cells[(2, 1)]
    assert (h.font.bold, h.font.italic, h.font.underline) == (True, True, "single")
    assert (h.alignment.horizontal, h.alignment.wrap_text) == ("center", True)
    assert n.number_format == "0.000" and n.value == 3.14159


def test_big_files_use_a_difat_chain():
    payload = bytes(range(256)) * (4096 * 30)               # 31 MB: > 109 FAT sectors
    blob = write_single_stream("Workbook", payload)
    assert read_stream(blob, ("Workbook",))[:len(payload)] == payload


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
_value = st.one_of(_text.filter(lambda t: t != ""),
                   st.floats(allow_nan=False, allow_infinity=False, width=64), st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.tuples(st.integers(1, 300), st.integers(1, 40)), _value, min_size=1, max_size=120))
def test_any_cells_read_back_as_written(tmp_path, cells):
    wb = xb.Workbook()
    for (r, c), v in cells.items():
        wb.active.cell(r, c, v)
    back, _ = _roundtrip(wb, tmp_path)
    got = {k: c.value for k, c in back.active.cells.items() if c.value is not None}
    assert got == cells


def test_xlrd_reads_our_files(tmp_path):
    xlrd = pytest.importorskip("xlrd")
    wb = xb.Workbook()
    ws = wb.active
    ws.cell(1, 1, "name")
    b = ws.cell(1, 2, "value")
    b.font = xb.Style(bold=True)
    ws.cell(2, 1, "ü")
    ws.cell(2, 2, 2.5)
    ws.cell(3, 2, dt.date(2021, 3, 4))
    _, path = _roundtrip(wb, tmp_path)
    book = xlrd.open_workbook(str(path), formatting_info=True)
    sh = book.sheet_by_index(0)
    assert sh.row_values(0) == ["name", "value"] and sh.row_values(1) == ["ü", 2.5]
    assert xlrd.xldate_as_datetime(sh.cell_value(2, 1), book.datemode) == dt.datetime(2021, 3, 4)
    assert book.font_list[book.xf_list[sh.cell_xf_index(0, 1)].font_index].bold


@pytest.mark.skipif(not shutil.which("Rscript"), reason="R not installed")
def test_readxl_reads_our_files(tmp_path):
    if subprocess.run(["Rscript", "-e", "library(readxl)"], capture_output=True).returncode:
        pytest.skip("readxl not installed")
    wb = xb.Workbook()
    for i in range(1, 400):
        wb.active.cell(i, 1, f"s{i} ∑" * (i % 50))
        wb.active.cell(i, 2, i / 7)
    _, path = _roundtrip(wb, tmp_path)
    code = (f'library(readxl); d <- read_excel("{path}", col_names=FALSE); '
            'cat(nrow(d), sum(d[[2]]), nchar(d[[1]][399]), sep="\\n")')
    out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True).stdout.split()
    assert int(out[0]) == 399
    assert float(out[1]) == pytest.approx(sum(i / 7 for i in range(1, 400)))
    assert int(out[2]) == len("s399 ∑" * (399 % 50))


# --------------------------------------------------------------------------- the commands
@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(DATA / "datasets.xls", tmp_path / "datasets.xls")
    return Session()


def test_import_excel_reads_an_excel_written_xls(s):
    ok(s, 'import excel datasets.xls, sheet("mtcars") firstrow clear')
    assert s.data.n == 32 and s.data.names[:3] == ["mpg", "cyl", "disp"]
    mpg = np.asarray(s.data.values("mpg"))
    assert mpg.mean() == pytest.approx(20.090625)                 # R: mean(mtcars$mpg)
    assert s.data.var("cyl").vtype == "byte"
    ok(s, 'import excel datasets.xls, sheet("iris") firstrow clear')
    assert s.data.var("Species").is_string and s.data.n == 150


def test_import_excel_finds_an_xls_by_its_signature_whatever_its_name(s, tmp_path):
    shutil.copy(tmp_path / "datasets.xls", tmp_path / "renamed.xlsx")
    ok(s, 'import excel renamed.xlsx, sheet("chickwts") firstrow clear')
    assert s.data.n == 71


def test_export_then_import_xls(s):
    ok(s, "clear")
    ok(s, "set obs 5")
    ok(s, "generate id = _n")
    ok(s, "generate double x = id / 3")
    ok(s, 'generate str5 g = "g" + string(id)')
    ok(s, "generate d = mdy(1, id, 2020)")
    ok(s, "format d %td")
    out = ok(s, "export excel using out.xls, firstrow(variables)")
    assert "file out.xls saved" in out
    with open("out.xls", "rb") as fh:
        assert fh.read(8) == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"    # a compound file, not a zip
    ok(s, "import excel out.xls, firstrow clear")
    assert s.data.names == ["id", "x", "g", "d"]
    assert np.allclose(s.data.values("x"), np.arange(1, 6) / 3)
    assert list(s.data.values("g")) == [f"g{i}" for i in range(1, 6)]
    assert s.data.var("d").format == "%td"
    assert list(s.data.values("d")) == [21915 + i for i in range(5)]      # mdy(1,1,2020) = 21915


def test_export_xls_refuses_more_rows_than_a_sheet_holds_and_writes_nothing(s):
    ok(s, "clear")
    ok(s, "set obs 70000")
    ok(s, "generate x = _n")
    rc, out = run(s, "export excel using big.xls")
    assert rc == 198 and "65,536" in out
    assert not os.path.exists("big.xls")


def test_putexcel_on_xls(s):
    ok(s, "matrix m = (1.5, 2 \\ 3, 4)")
    ok(s, "putexcel set res.xls, replace")
    ok(s, 'putexcel A1 = "Results", bold')
    ok(s, "putexcel B2 = matrix(m), nformat(0.00)")
    ok(s, "putexcel A5 = 2*21")
    ws = xb.load_workbook("res.xls").active
    assert ws.cells[(1, 1)].value == "Results" and ws.cells[(1, 1)].font.bold
    assert [ws.cells[(r, c)].value for r in (2, 3) for c in (2, 3)] == [1.5, 2, 3, 4]
    assert ws.cells[(2, 2)].number_format == "0.00"
    assert ws.cells[(5, 1)].value == 42
    rc, out = run(s, 'putexcel A6 = formula("=A5+1")')
    assert rc == 198 and "Traceback" not in out
    assert (6, 1) not in xb.load_workbook("res.xls").active.cells


def test_a_damaged_xls_is_r603_and_leaves_the_data(s, tmp_path):
    ok(s, "clear")
    ok(s, "set obs 2")
    ok(s, "generate keep = 7")
    blob = (tmp_path / "datasets.xls").read_bytes()
    (tmp_path / "cut.xls").write_bytes(blob[:3000])
    (tmp_path / "junk.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(3000))
    for f in ("cut.xls", "junk.xls"):
        rc, out = run(s, f"import excel {f}, clear")
        assert rc == 603 and "Traceback" not in out
        assert s.data.names == ["keep"] and s.data.n == 2
