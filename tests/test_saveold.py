"""`saveold`: files Stata 11-13 can read (formats 115 and 117).

pandas' StataReader is an independent reader of both formats: what it reads back must be what
was saved (values, extended missing values, types, labels, value labels, sort order).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hlmshell.data.dta import read_dta
from tests.session_run import interp_session, irun, iok

SETUP = [
    "clear",
    "set obs 7",
    "gen byte b = _n",
    "gen int i = _n * 1000",
    "gen long l = _n * 100000",
    "gen float f = _n / 3",
    "gen double d = _n / 7",
    "replace d = .a in 2",
    "replace b = . in 3",
    'gen str5 s = "ab" + string(_n)',
    'replace s = "café" in 4',
    'label define yn 1 "one" 2 "two" .a "not asked"',
    "label values b yn",
    'label variable d "a double"',
    'label data "old file"',
    "sort l",
]


def _fresh(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return interp_session()


def _session(tmp_path, monkeypatch):
    s = _fresh(tmp_path, monkeypatch)
    for line in SETUP:
        iok(s, line)
    return s


@pytest.mark.parametrize("version,fmt", [(11, 115), (12, 115), (13, 117)])
def test_pandas_reads_what_saveold_wrote(tmp_path, version, fmt, monkeypatch):
    s = _session(tmp_path, monkeypatch)
    out = iok(s, f"saveold old{version}, version({version})")
    assert "saved" in out
    path = tmp_path / f"old{version}.dta"
    assert path.read_bytes()[:1] == bytes([115]) if fmt == 115 else path.read_bytes().startswith(
        b"<stata_dta><header><release>117</release>")
    with pd.io.stata.StataReader(path) as r:
        df = r.read(convert_categoricals=False, convert_missing=True)
        assert r.data_label == "old file"
        assert r.variable_labels()["d"] == "a double"
        assert r.value_labels()["yn"][1] == "one"
    assert list(df.columns) == ["b", "i", "l", "f", "d", "s"]
    assert list(df["i"]) == [1000 * k for k in range(1, 8)]
    assert list(df["l"]) == [100000 * k for k in range(1, 8)]
    assert np.allclose(df["f"].astype(float), np.float32(np.arange(1, 8) / 3))
    assert getattr(df["d"][1], "string", None) == ".a"
    assert math.isclose(float(df["d"][0]), 1 / 7)
    assert getattr(df["b"][2], "string", None) == "."
    assert df["s"][3] == "café"          # é is in Latin-1
    assert df["s"][0] == "ab1"


def test_round_trip_through_use(tmp_path, monkeypatch):
    s = _session(tmp_path, monkeypatch)
    iok(s, "saveold v13")
    iok(s, "use v13, clear")
    ds = read_dta(tmp_path / "v13.dta")
    assert ds.vars["b"].vtype == "byte" and ds.vars["i"].vtype == "int"
    assert ds.sortedby == ["l"]
    assert ds.vars["b"].vallab == "yn"
    assert ds.value_labels["yn"][2.0] == "two"


def test_strl_and_long_strings(tmp_path, monkeypatch):
    s = _fresh(tmp_path, monkeypatch)
    iok(s, "clear")
    iok(s, "set obs 3")
    iok(s, 'gen strL t = "x" * (3000 * _n)')
    iok(s, "saveold v13")
    with pd.io.stata.StataReader(tmp_path / "v13.dta") as r:
        df = r.read()
    assert [len(x) for x in df["t"]] == [3000, 6000, 9000]
    out = iok(s, "saveold v12, version(12)")
    assert "str244" in out
    with pd.io.stata.StataReader(tmp_path / "v12.dta") as r:
        df = r.read()
    assert [len(x) for x in df["t"]] == [244, 244, 244]


def test_non_latin1_text_is_noted(tmp_path, monkeypatch):
    s = _fresh(tmp_path, monkeypatch)
    iok(s, "clear")
    iok(s, "set obs 1")
    iok(s, 'gen s = "日本"')
    out = iok(s, "saveold v13")
    assert "saved as ?" in out
    with pd.io.stata.StataReader(tmp_path / "v13.dta") as r:
        assert r.read()["s"][0] == "??"


def test_bad_input(tmp_path, monkeypatch):
    s = _session(tmp_path, monkeypatch)
    rc, out = irun(s, "saveold x, version(14)")
    assert rc == 198
    iok(s, "saveold x")
    rc, out = irun(s, "saveold x")
    assert rc == 602
    assert not (tmp_path / "y.dta").exists()
    rc, _ = irun(s, "saveold y, bogus")
    assert rc == 198 and not (tmp_path / "y.dta").exists()
