"""import/export excel, import delimited encodings and Unicode names, export delimited options,
destring/tostring options -- real files in tmp_path, read back independently (openpyxl, csv)."""
import csv
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run

openpyxl = pytest.importorskip("openpyxl")


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sess = Session(out=Capture())
    ok(sess, "use hsb")
    ok(sess, "keep in 1/6")
    ok(sess, "keep id female ses mathach")
    ok(sess, "label define yn 0 no 1 yes")
    ok(sess, "label values female yn")
    ok(sess, 'label variable ses "Socio-economic status"')
    return sess


# ---- export excel -------------------------------------------------------------------------------
def test_export_excel_cells(s, tmp_path):
    out = ok(s, "export excel using out.xlsx, firstrow(variables)")
    assert out.strip() == "file out.xlsx saved"
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("id", "female", "ses", "mathach")
    fem = s.data.var("female").values
    assert [r[1] for r in rows[1:]] == ["yes" if f == 1 else "no" for f in fem]
    np.testing.assert_allclose([r[2] for r in rows[1:]], s.data.var("ses").values)
    assert ws.title == "Sheet1"


def test_export_excel_options(s, tmp_path):
    ok(s, "export excel id ses using out.xlsx if female == 1, nolabel sheet(\"A\") cell(B2) firstrow(varlabels)")
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx")["A"]
    assert ws["B2"].value == "school identifier" and ws["C2"].value == "Socio-economic status"
    want = s.data.var("ses").values[s.data.var("female").values == 1]
    got = [ws.cell(row=3 + i, column=3).value for i in range(len(want))]
    np.testing.assert_allclose(got, want)
    rc, out = run(s, "export excel using out.xlsx")
    assert rc == 602 and "already exists" in out
    ok(s, 'export excel female using out.xlsx, sheet("B") sheetmodify')
    wb = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert wb.sheetnames == ["A", "B"] and wb["B"]["A1"].value in ("yes", "no")
    ok(s, 'export excel female using out.xlsx, sheet("A") sheetreplace nolabel')
    wb = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert wb["A"]["A1"].value in (0, 1) and wb["A"]["B2"].value is None
    ok(s, "export excel using out.xlsx, replace")
    assert openpyxl.load_workbook(tmp_path / "out.xlsx").sheetnames == ["Sheet1"]
    rc, _ = run(s, "export excel using out.xlsx, firstrow(names) replace")
    assert rc == 198


# ---- import excel -------------------------------------------------------------------------------
def _workbook(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append(["Name", "Score", "When", "Big Value"])
    ws.append(["ann", 3, dt.datetime(2020, 1, 2), 1.5])
    ws.append(["bob", 120, dt.datetime(1959, 12, 31), None])
    ws.append(["cy", 7, dt.datetime(2021, 3, 4), 2.25])
    other = wb.create_sheet("other")
    other.append([1, "x"])
    wb.save(path)


def test_import_excel_firstrow_types_dates(s, tmp_path):
    _workbook(tmp_path / "in.xlsx")
    out = ok(s, "import excel using in.xlsx, firstrow clear")
    assert out.strip() == "(4 vars, 3 obs)"
    d = s.data
    assert d.names == ["Name", "Score", "When", "BigValue"]
    assert d.var("Name").vtype == "str3" and list(d.var("Name").values) == ["ann", "bob", "cy"]
    assert d.var("Score").vtype == "int"
    days = [(x - dt.datetime(1960, 1, 1)).days for x in (dt.datetime(2020, 1, 2), dt.datetime(1959, 12, 31),
                                                          dt.datetime(2021, 3, 4))]
    np.testing.assert_array_equal(d.var("When").values, days)
    assert d.var("When").format == "%td"
    assert d.var("BigValue").label == "Big Value"
    assert np.isnan(d.var("BigValue").values[1])
    assert "02jan2020" in ok(s, "list When in 1")


def test_import_excel_sheet_range_case(s, tmp_path):
    _workbook(tmp_path / "in.xlsx")
    ok(s, 'import excel in.xlsx, sheet("data") cellrange(B2:B4) clear')
    assert s.data.names == ["B"]
    np.testing.assert_array_equal(s.data.var("B").values, [3, 120, 7])
    ok(s, "import excel in.xlsx, firstrow case(lower) clear")
    assert s.data.names == ["name", "score", "when", "bigvalue"]
    rc, out = run(s, 'import excel in.xlsx, sheet("nope") clear')
    assert rc == 601
    ok(s, "replace score = 1")
    rc, out = run(s, "import excel in.xlsx")
    assert rc == 4
    rc, _ = run(s, "import excel nosuch.xlsx, clear")
    assert rc == 601


# ---- import delimited: encodings and Unicode names ----------------------------------------------
def test_import_delimited_latin1_keeps_unicode_names(s, tmp_path):
    (tmp_path / "l1.csv").write_bytes("nom,âge,café\nélan,3,x\n".encode("latin-1"))
    ok(s, "import delimited l1.csv, encoding(latin1) clear")
    assert s.data.names == ["nom", "âge", "café"]
    assert s.data.var("nom").values[0] == "élan"


def test_import_delimited_utf16(s, tmp_path):
    (tmp_path / "u16.csv").write_bytes("größe,x\n1,2\n".encode("utf-16"))
    ok(s, 'import delimited u16.csv, encoding("utf-16") clear')
    assert s.data.names == ["größe", "x"]


def test_import_delimited_notes_replaced_bytes(s, tmp_path):
    (tmp_path / "bad.csv").write_bytes(b"a,b\n\xe9t\xe9,1\n")
    out = ok(s, "import delimited bad.csv, clear")
    assert "2 invalid byte sequences" in out and "encoding utf-8" in out
    assert s.data.var("a").values[0] == "\ufffdt\ufffd"


# ---- export delimited options -------------------------------------------------------------------
def test_export_delimited_options(s, tmp_path):
    ok(s, 'export delimited id female using a.txt, delimiter(";") novarnames nolabel quote')
    rows = list(csv.reader(open(tmp_path / "a.txt"), delimiter=";"))
    assert rows[0] == [str(int(s.data.var("id").values[0])), str(int(s.data.var("female").values[0]))]
    assert '"' in (tmp_path / "a.txt").read_text()
    ok(s, "format ses %4.1f")
    ok(s, "export delimited ses using b.csv, datafmt")
    got = pd.read_csv(tmp_path / "b.csv").ses.tolist()
    assert got == [float(f"{x:.1f}") for x in s.data.var("ses").values]
    rc, _ = run(s, "export delimited ses using b.csv")
    assert rc == 602


# ---- destring / tostring options ----------------------------------------------------------------
def test_destring_dpcomma_percent_and_tostring_format(s):
    ok(s, 'generate str8 p = "12,5%"')
    ok(s, "destring p, generate(pn) dpcomma percent")
    np.testing.assert_allclose(s.data.var("pn").values, 0.125)
    ok(s, "tostring ses, generate(sest) format(%9.2f) force")
    assert list(s.data.var("sest").values) == [f"{x:.2f}" for x in s.data.var("ses").values]
    ok(s, "format mathach %5.1f")
    ok(s, "tostring mathach, generate(mt) usedisplayformat force")
    assert list(s.data.var("mt").values) == [f"{x:.1f}" for x in s.data.var("mathach").values]
