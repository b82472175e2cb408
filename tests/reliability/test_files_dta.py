""".dta round trips lose nothing, and damaged or oversized files are refused with Stata's
errors. pandas and pyreadstat (ReadStat, a C implementation) are independent readers of what
hlmshell writes; files written by pandas (formats 117, 118, 119) are read by hlmshell.
"""
from __future__ import annotations

import math
import os
import struct
import sys

import numpy as np
import pandas as pd
import pytest

from files_helpers import Shell, assert_stata_error, hlmshell_env, stray_temps
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.data.dta import cut_utf8, read_dta, write_dta
from hlmshell.data.missing import ext_missing, missing_str

pyreadstat = pytest.importorskip("pyreadstat")

LONG_A = "é" * 1500 + "x"                 # 3,001 bytes: beyond str2045
LONG_B = "€" * 700 + "\U0001d11e" * 3     # 2,112 bytes, 3- and 4-byte characters
CLEF80 = "\U0001d11e" * 80                # an 80-character label of 4-byte characters: 320 bytes


def _rich_dataset() -> Dataset:
    ds = Dataset()
    ds.add(Variable("b", np.array([1.0, -127, 100, np.nan, ext_missing(1)]), "byte"))
    ds.add(Variable("i", np.array([1.0, -32767, 32740, ext_missing(26), 5]), "int"))
    ds.add(Variable("l", np.array([1.0, -2147483647, 2147483620, np.nan, 7]), "long"))
    ds.add(Variable("f", np.array([0.5, 1e30, -2.25, np.nan, ext_missing(2)]), "float"))
    ds.add(Variable("d", np.array([math.pi, -1e300, 1e-300, ext_missing(3), np.nan]), "double"))
    ds.add(Variable("s", np.array(["a", "", "héllo wörld", "日本語", "x" * 2045], dtype=object),
                    "str2045"))
    ds.add(Variable("big", np.array([LONG_A, "", LONG_B, "short", LONG_A], dtype=object), "strL"))
    ds.vars["b"].label = CLEF80
    ds.vars["b"].vallab = "yn"
    ds.vars["d"].label = "ü" * 80
    ds.value_labels = {"yn": {1.0: "yes", -127.0: "ñ" * 100, 2147483620.0: "top",
                              -2147483647.0: "bottom", ext_missing(1): "refused"}}
    ds.label = "€" * 80
    ds.sortedby = ["i", "b"]
    return ds


def test_round_trip_hlmshell_pandas_pyreadstat(tmp_path):
    ds = _rich_dataset()
    path = tmp_path / "rich.dta"
    write_dta(ds, path)
    assert stray_temps(tmp_path) == []
    back = read_dta(path)
    assert back.names == ds.names
    for nm in ds.names:
        a, b = ds.vars[nm], back.vars[nm]
        assert (b.label, b.vallab) == (a.label, a.vallab), nm
        if a.is_string:
            assert list(b.values) == list(a.values), nm
        else:
            assert b.vtype == a.vtype
            assert [missing_str(x) if np.isnan(x) else x for x in b.values] == \
                   [missing_str(x) if np.isnan(x) else x for x in to_grid(a)], nm
    assert back.vars["big"].vtype == "strL"
    assert back.vars["s"].vtype == "str2045"
    assert back.label == ds.label and back.sortedby == ["i", "b"]
    assert {k: v for k, v in back.value_labels["yn"].items() if not np.isnan(k)} == \
           {k: v for k, v in ds.value_labels["yn"].items() if not np.isnan(k)}

    with pd.io.stata.StataReader(path) as rd:          # pandas
        df = rd.read(convert_categoricals=False)
        assert rd.data_label == ds.label
        assert rd.variable_labels()["b"] == CLEF80
        assert rd.value_labels()["yn"][2147483620] == "top"
    assert df["big"].tolist() == list(ds.vars["big"].values)
    assert df["s"].tolist() == list(ds.vars["s"].values)
    assert df["l"].iloc[:3].tolist() == [1, -2147483647, 2147483620]
    assert np.isnan(df["f"].iloc[3]) and df["f"].iloc[1] == np.float32(1e30)

    data, meta = pyreadstat.read_dta(str(path))         # ReadStat
    assert data["big"].tolist() == list(ds.vars["big"].values)
    assert data["s"].tolist() == list(ds.vars["s"].values)
    assert meta.file_label == ds.label
    assert meta.column_names_to_labels["b"] == CLEF80
    assert meta.value_labels["yn"][-127] == "ñ" * 100
    assert data["d"].iloc[0] == math.pi and data["i"].iloc[1] == -32767
    assert meta.readstat_variable_types["b"] == "int8"


def to_grid(var: Variable) -> np.ndarray:
    return var.values.astype(np.float32).astype(np.float64) if var.vtype == "float" else var.values


def test_strl_through_commands_and_import(tmp_path):
    """A 200 KB cell (over the csv module's 128 KB limit) is read whole into a strL, saved,
    and read back whole by hlmshell, pandas and ReadStat."""
    cell = "ß" * 100_000 + "end"
    (tmp_path / "wide.csv").write_text(f"id,text\n1,{cell}\n2,short\n", encoding="utf-8")
    sh = Shell()
    sh.ok(f'import delimited using "{tmp_path}/wide.csv", clear')
    assert "strL" in sh.ok("describe text")
    sh.ok('generate s2 = "é"*1500 + "x"')
    sh.ok(f"save {tmp_path}/wide")
    sh.ok(f"use {tmp_path}/wide, clear")
    assert sh.ok("display ustrlen(text[1])").strip().endswith("100003")
    assert sh.ok("display ustrlen(s2[2])").strip().endswith("1501")
    assert pd.read_stata(tmp_path / "wide.dta")["text"][0] == cell
    data, _ = pyreadstat.read_dta(str(tmp_path / "wide.dta"))
    assert data["text"][0] == cell and data["s2"][1] == LONG_A


def test_cut_utf8_never_splits_a_character():
    text = "a€𝄞é"                                     # 1 + 3 + 4 + 2 bytes
    raw = text.encode("utf-8")
    for limit in range(len(raw) + 2):
        cut = cut_utf8(raw, limit)
        assert len(cut) <= limit
        assert text.startswith(cut.decode("utf-8"))     # decodes: no broken character
    assert cut_utf8(raw, 3) == b"a" and cut_utf8(raw, 4) == "a€".encode()


def test_value_label_text_cut_at_character_boundary(tmp_path):
    """32,000 bytes is a value label's limit; 3-byte characters do not divide it, so a byte
    slice would cut one in half (pandas then falls back to latin-1: mojibake)."""
    sh = Shell()
    sh.ok("clear")
    sh.ok("set obs 1")
    sh.ok("generate x = 1")
    sh.ok(f'label define lab 1 "{"€" * 20000}"')
    sh.ok(f"save {tmp_path}/lab")
    with pd.io.stata.StataReader(tmp_path / "lab.dta") as rd:
        text = rd.value_labels()["lab"][1]
    assert text == "€" * 10666
    sh.ok(f"use {tmp_path}/lab, clear")
    assert sh.session.data.value_labels["lab"][1.0] == "€" * 10666


@pytest.mark.parametrize("version", [117, 118, 119])
def test_pandas_written_files_read_by_hlmshell(tmp_path, version):
    """Format 117 is Latin-1 in pandas' writer; 118 and 119 are UTF-8. (pandas writes 117
    strLs in UTF-8 but reads them as Latin-1, so the 117 strL here is ASCII.)"""
    uni = version >= 118
    df = pd.DataFrame({
        "i8": np.array([1, -5, 100], dtype=np.int8),
        "i16": np.array([300, -3000, 32000], dtype=np.int16),
        "i32": np.array([70000, -7, 2_000_000_000], dtype=np.int32),
        "f32": np.array([0.5, np.nan, -1.25], dtype=np.float32),
        "f64": np.array([math.pi, 1e-300, np.nan]),
        "s": ["ü", "", "日本" if uni else "ça"],
        "txt": [LONG_A if uni else "a" * 3000, "b", LONG_B if uni else "n" * 3000],
    })
    path = tmp_path / f"p{version}.dta"
    kwargs = {"convert_strl": ["txt"]}
    flabel = "π ≈ 3.14" if uni else "pi = 3.14 ±"
    df.to_stata(path, write_index=False, version=version, data_label="données",
                variable_labels={"f64": flabel}, **kwargs)
    sh = Shell()
    sh.ok(f"use {path}")
    ds = sh.session.data
    assert ds.names == list(df.columns)
    assert [ds.vars[c].vtype for c in ("i8", "i16", "i32", "f32", "f64")] == \
           ["byte", "int", "long", "float", "double"]
    assert ds.vars["txt"].vtype == "strL"
    for c in ("i8", "i16", "i32", "f32", "f64"):
        np.testing.assert_array_equal(ds.vars[c].values, df[c].to_numpy(np.float64))
    assert list(ds.vars["s"].values) == list(df["s"])
    assert list(ds.vars["txt"].values) == list(df["txt"])
    assert ds.label == "données" and ds.vars["f64"].label == flabel
    # and saved again by hlmshell, pandas reads the same frame back
    sh.ok(f"save {tmp_path}/again")
    again = pd.read_stata(tmp_path / "again.dta")
    pd.testing.assert_frame_equal(again, pd.read_stata(path), check_dtype=False)


def test_format_119_layout(tmp_path):
    """Format 119's wider fields (K in 4 bytes, 4-byte sort list, strL keys with a 3-byte
    variable number) on a small dataset, read by hlmshell, pandas and ReadStat."""
    ds = _rich_dataset()
    path = tmp_path / "f119.dta"
    write_dta(ds, path, release=119)
    with open(path, "rb") as fh:
        assert b"<release>119</release>" in fh.read(60)
    back = read_dta(path)
    assert back.sortedby == ["i", "b"] and back.label == ds.label
    assert list(back.vars["big"].values) == list(ds.vars["big"].values)
    assert pd.read_stata(path)["big"].tolist() == list(ds.vars["big"].values)
    data, _ = pyreadstat.read_dta(str(path))
    assert data["big"].tolist() == list(ds.vars["big"].values)


def test_format_119_beyond_32767_variables(tmp_path):
    """Stata's format 119 is chosen by itself past 32,767 variables. (Reading all 32,770
    columns takes pandas/ReadStat many seconds, so ReadStat reads a few and pandas the
    header.)"""
    k = 32_770
    ds = Dataset()
    for j in range(k):
        ds.vars[f"v{j}"] = Variable(f"v{j}", np.array([float(j), -1.0]), "long")
    ds.vars["v3"] = Variable("v3", np.array([LONG_A, "z"], dtype=object), "strL")
    ds._n = 2
    path = tmp_path / "wide.dta"
    write_dta(ds, path)
    with open(path, "rb") as fh:
        assert b"<release>119</release>" in fh.read(60)
    with pd.io.stata.StataReader(path) as rd:
        rd.data_label                                          # reads the header
        assert rd._nvar == k and rd._varlist[-1] == "v32769"
    data, meta = pyreadstat.read_dta(str(path), usecols=["v3", "v100", "v32769"])
    assert data["v32769"].tolist() == [32769, -1] and data["v100"].tolist() == [100, -1]
    assert data["v3"][0] == LONG_A


# ------------------------------------------------------------------------------ damaged files
def _patched(tmp_path, name, offset_tag: bytes, value: bytes):
    src = tmp_path / "good.dta"
    raw = bytearray(src.read_bytes())
    at = raw.index(offset_tag) + len(offset_tag)
    raw[at:at + len(value)] = value
    out = tmp_path / name
    out.write_bytes(bytes(raw))
    return out


@pytest.fixture
def loaded(tmp_path):
    sh = Shell()
    sh.ok("clear")
    sh.ok("set obs 10")
    sh.ok("generate x = _n")
    sh.ok('generate s = "abc"')
    sh.ok(f"save {tmp_path}/good")
    sh.ok("replace x = x * 3")                  # unsaved changes in memory
    return sh


@pytest.mark.parametrize("name,tag,value", [
    ("huge_n.dta", b"<N>", struct.pack("<Q", 2 ** 40)),
    ("n_plus_one.dta", b"<N>", struct.pack("<Q", 11 + 10 ** 6)),
    ("huge_k.dta", b"<K>", struct.pack("<H", 60000)),
    ("bad_release.dta", b"<release>", b"999"),
])
def test_damaged_header_is_not_stata_format(tmp_path, loaded, name, tag, value):
    path = _patched(tmp_path, name, tag, value)
    before = loaded.state()
    for cmd in (f"use {path}, clear", f"append using {path}", f"merge 1:1 x using {path}"):
        rc, printed = loaded.run(cmd)
        assert_stata_error(rc, printed, 610, f"file {name} not Stata format")
        assert loaded.state() == before


def test_truncated_and_garbage_files(tmp_path, loaded):
    good = (tmp_path / "good.dta").read_bytes()
    (tmp_path / "cut.dta").write_bytes(good[: len(good) // 2])
    (tmp_path / "junk.dta").write_bytes(b"\x00\xff" * 500)
    (tmp_path / "empty.dta").write_bytes(b"")
    before = loaded.state()
    for name in ("cut.dta", "junk.dta", "empty.dta"):
        rc, printed = loaded.run(f"use {tmp_path}/{name}, clear")
        assert_stata_error(rc, printed, 610, "not Stata format")
        assert loaded.state() == before


def test_sparse_file_too_big_for_memory_is_909(tmp_path, loaded):
    """A header whose 10^10 rows do fit the (sparse, 70 GB) file but not memory: r(909)
    before anything is allocated."""
    path = _patched(tmp_path, "sparse.dta", b"<N>", struct.pack("<Q", 10 ** 10))
    try:
        os.truncate(path, 10 ** 10 * 7 + 10_000)
    except OSError:
        pytest.skip("no sparse files here")
    before = loaded.state()
    rc, printed = loaded.run(f"use {path}, clear")
    assert_stata_error(rc, printed, 909, "op. sys. refuses to provide memory")
    assert loaded.state() == before


_OOM = r'''
import resource, sys
from hlmshell.cli import main
from hlmshell.interpreter import Interpreter   # everything loaded before the cap
import pandas, numpy, scipy.stats              # noqa: F401
from hlmshell.registry import REGISTRY
REGISTRY.load()
with open("/proc/self/status") as fh:
    vm = next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmSize:"))
cap = vm + 120 * 2 ** 20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
sys.exit(main(["oom.do"]))
'''


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and RLIMIT_AS")
def test_out_of_memory_in_use_is_909(tmp_path):
    """With the address space capped (RLIMIT_AS) a 96 MB file cannot be loaded: r(909) and
    the data in memory stay."""
    import subprocess

    n = 1_500_000
    rng = np.random.default_rng(1)
    pd.DataFrame({f"c{j}": rng.random(n) for j in range(8)}).to_stata(
        tmp_path / "big.dta", write_index=False, version=118)
    (tmp_path / "oom.do").write_text(
        "clear\nset obs 5\ngenerate keep = _n\n"
        "capture noisily use big, clear\ndisplay \"rc=\" _rc\n"
        "describe, short\nsummarize keep\n")
    (tmp_path / "oom.py").write_text(_OOM)
    res = subprocess.run([sys.executable, "oom.py"], cwd=tmp_path, env=hlmshell_env(),
                         capture_output=True, text=True, timeout=120)
    out = res.stdout
    assert res.returncode == 0, out + res.stderr
    assert "op. sys. refuses to provide memory" in out
    assert "rc=909" in out and "9999" not in out
    tail = out.split("describe, short")[-1]
    assert "Observations:             5" in tail and "Variables:             1" in tail
    assert res.stderr == ""


def test_observations_without_variables_round_trip(tmp_path):
    """`save, emptyok` of N observations and no variables reads back (pandas' reader stops
    with StopIteration on such a file)."""
    sh = Shell()
    sh.ok("clear")
    sh.ok("set obs 5")
    sh.ok(f"save {tmp_path}/none, emptyok")
    sh.ok(f"use {tmp_path}/none, clear")
    assert sh.session.data.n == 5 and sh.session.data.names == []
