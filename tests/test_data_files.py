"""use/save/import/export/log and the .dta reader/writer."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hlmshell.data.dataset import Dataset, Variable, to_storage
from hlmshell.data.dta import read_dta, write_dta
from hlmshell.data.locate import find_data
from hlmshell.data.missing import ext_missing, missing_str
from hlmshell.errors import StataError
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.parser import parse_command

HSB = Path(__file__).resolve().parents[1] / "hlmshell" / "sample_data" / "hsb.dta"


from datacmd import run


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Session(out=Capture())


def test_read_hsb_keeps_types_labels_and_values():
    ds = read_dta(HSB)
    assert ds.n == 7185 and len(ds.names) == 11
    assert ds.var("id").vtype == "long" and ds.var("ses").vtype == "double"
    assert ds.var("mathach").label == "mathematics achievement score"
    assert ds.var("id").format == "%12.0g"
    assert ds.label.startswith("High School and Beyond")
    ref = pd.read_stata(HSB)
    assert np.allclose(ds.values("mathach"), ref["mathach"].to_numpy())
    assert ds.changed is False


def _small():
    ds = Dataset()
    ds.add(Variable("b", np.array([1.0, np.nan, ext_missing(2), 100.0]), "byte", vallab="bl",
                    label="a byte"))
    ds.add(Variable("i", np.array([-32767.0, 5.0, np.nan, 32740.0]), "int"))
    ds.add(Variable("l", np.array([1e9, -5.0, 3.0, ext_missing(26)]), "long"))
    ds.add(Variable("f", to_storage(np.array([0.1, np.nan, ext_missing(1), -2.5]), "float"), "float",
                    format="%6.2f"))
    ds.add(Variable("d", np.array([0.1, 1e300, np.nan, -1.0 / 3]), "double"))
    ds.add(Variable("s", np.array(["ab", "", "héllo", "x"], dtype=object), "str6", format="%-6s"))
    ds.value_labels["bl"] = {1.0: "one", 100.0: "hundred"}
    ds.sortedby = ["i"]
    ds.label = "my data"
    return ds


def test_write_read_roundtrip_keeps_everything(tmp_path):
    ds = _small()
    p = tmp_path / "small.dta"
    write_dta(ds, p)
    back = read_dta(p)
    assert back.names == ds.names
    for nm in ds.names:
        a, b = ds.var(nm), back.var(nm)
        assert a.vtype == b.vtype, nm
        assert a.format == b.format and a.label == b.label and a.vallab == b.vallab
        if a.is_string:
            assert list(a.values) == list(b.values)
        else:
            assert np.array_equal(a.values, b.values, equal_nan=True)
            assert [missing_str(x) for x in a.values if np.isnan(x)] == \
                   [missing_str(x) for x in b.values if np.isnan(x)]
    assert back.value_labels == ds.value_labels
    assert back.sortedby == ["i"] and back.label == "my data"


def test_written_file_is_readable_by_pandas(tmp_path):
    p = tmp_path / "small.dta"
    write_dta(_small(), p)
    ref = pd.read_stata(p, convert_categoricals=False, convert_missing=True)
    assert list(ref.columns) == ["b", "i", "l", "f", "d", "s"]
    assert ref["b"].iloc[0] == 1 and str(ref["b"].iloc[2]) == ".b"
    assert ref["s"].iloc[2] == "héllo"
    assert ref["d"].iloc[1] == 1e300


def test_locate_prefers_current_directory(s, tmp_path):
    assert find_data("hsb").name == "hsb.dta"
    run(s, "use hsb")
    assert s.data.n == 7185
    ds = Dataset()
    ds.add(Variable("z", np.array([1.0, 2.0]), "byte"))
    write_dta(ds, tmp_path / "hsb.dta")
    run(s, "use hsb, clear")
    assert s.data.names == ["z"]


def test_use_refuses_to_discard_changes_and_missing_file(s):
    run(s, "use hsb")
    run(s, "drop in 1")
    with pytest.raises(StataError) as e:
        run(s, "use hsb")
    assert e.value.rc == 4 and e.value.message == "no; dataset in memory has changed since last saved"
    assert s.data.n == 7184
    with pytest.raises(StataError) as e:
        run(s, "use nosuchfile, clear")
    assert (e.value.message, e.value.rc) == ("file nosuchfile.dta not found", 601)
    assert s.data.n == 7184
    run(s, "use hsb, clear")
    assert s.data.n == 7185 and not s.data.changed


def test_use_prints_nothing_and_subsets(s):
    assert run(s, "use hsb") == ""
    run(s, "use id ses using hsb, clear")
    assert s.data.names == ["id", "ses"] and s.data.n == 7185
    run(s, "use hsb in 1/10, clear")
    assert s.data.n == 10
    run(s, "use id ses if sector==1 using hsb, clear")
    assert s.data.names == ["id", "ses"] and s.data.n == 3543 and not s.data.changed
    run(s, 'save "with space"')
    run(s, 'use "with space.dta", clear')
    assert s.data.n == 3543


def test_save_messages_and_replace(s, tmp_path):
    run(s, "use hsb")
    assert run(s, "save mine") == "file mine.dta saved\n"
    assert (tmp_path / "mine.dta").exists()
    with pytest.raises(StataError) as e:
        run(s, "save mine")
    assert (e.value.message, e.value.rc) == ("file mine.dta already exists", 602)
    assert run(s, "save mine, replace") == "file mine.dta saved\n"
    assert run(s, "save other, replace") == "(file other.dta not found)\nfile other.dta saved\n"
    run(s, "drop in 1/5")
    assert s.data.changed
    run(s, "save, replace")
    assert not s.data.changed
    run(s, "use other, clear")
    assert s.data.n == 7180
    run(s, "use mine, clear")
    assert s.data.n == 7185


def test_export_import_delimited_roundtrip(s, tmp_path):
    run(s, "use hsb")
    out = run(s, "export delimited id ses mathach using hsb.csv in 1/4")
    assert out == "file hsb.csv saved\n"
    lines = (tmp_path / "hsb.csv").read_text().splitlines()
    assert lines[0] == "id,ses,mathach"
    assert lines[1] == "1224,-1.528,5.876"
    with pytest.raises(StataError) as e:
        run(s, "export delimited using hsb.csv")
    assert e.value.rc == 602
    assert run(s, "import delimited hsb.csv, clear") == "(3 vars, 4 obs)\n"
    assert s.data.names == ["id", "ses", "mathach"]
    assert s.data.var("id").vtype == "int"
    assert s.data.var("ses").vtype == "float"
    assert np.allclose(s.data.values("ses"), [-1.528, -0.588, -0.528, -0.668], atol=1e-6)
    run(s, "export delimited using again.csv")
    assert (tmp_path / "again.csv").read_text().splitlines()[1] == "1224,-1.528,5.876"


def test_import_infers_types_and_missing(s, tmp_path):
    (tmp_path / "t.csv").write_text("a,b,c,Name X\n1,2.5,x,\n,300,y,7\n3,,z,8\n")
    run(s, "import delimited using t.csv")
    ds = s.data
    assert ds.names == ["a", "b", "c", "name_x"]
    assert ds.var("a").vtype == "byte" and np.isnan(ds.values("a")[1])
    assert ds.var("b").vtype == "float"
    assert ds.var("c").vtype == "str1" and list(ds.values("c")) == ["x", "y", "z"]
    assert ds.var("name_x").label == "Name X"


def test_export_writes_value_labels_unless_nolabel(s, tmp_path):
    run(s, "use hsb")
    run(s, 'label define sect 0 "public" 1 "Catholic"')
    run(s, "label values sector sect")
    run(s, "export delimited sector using a.csv in 1/1")
    run(s, "export delimited sector using b.csv in 1/1, nolabel")
    assert (tmp_path / "a.csv").read_text().splitlines()[1] == "public"
    assert (tmp_path / "b.csv").read_text().splitlines()[1] == "0"


def test_log_records_output_and_off_on(s, tmp_path):
    run(s, "use hsb")
    out = run(s, "log using mylog, text")
    assert "log type:  text" in out and "mylog.log" in out
    run(s, "count")
    run(s, "log off")
    run(s, "count if sector==1")
    run(s, "log on")
    run(s, "count if sector==0")
    run(s, "log close")
    text = (tmp_path / "mylog.log").read_text()
    assert "  7,185" in text and "  3,642" in text and "3,543" not in text
    assert "closed on:" in text
    assert s.out.logs == []
    with pytest.raises(StataError) as e:
        run(s, "log using mylog, text")
    assert e.value.rc == 602
    with pytest.raises(StataError) as e:
        run(s, "log close")
    assert e.value.rc == 606
