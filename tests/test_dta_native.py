"""The native reader of formats 117-119 (hlmshell/data/dta_read.py) gives exactly the Dataset
the pandas path gives (hlmshell.data.dta._read_parts + _build, still the fallback): the same
names, storage types, formats, labels, value labels (keys bit for bit), sort order, data
label, characteristics, and values bit for bit (NaN payloads of .a-.z included), on

- hlmshell's own files (`save`) of random datasets: every storage type, . and .a-.z in every
  numeric type, str1..str2045, strL (long, with control characters), value labels on
  extended missing values, 0 observations, 0 variables, format 119 (also past 32,767
  variables), and the same files rewritten in big-endian (MSF) byte order;
- files written by pandas (formats 117, 118, 119, both byte orders) and by ReadStat;
- the shipped hsb.dta;

and a file it does not take (odd bit patterns, dangling strL references, damage) goes to the
pandas path, so every damaged file gives the same outcome as before: the same Dataset or the
same Stata error, never a traceback. `use hsb` loads no pandas at all.
"""
from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlmshell.data import dta
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.data.dta import read_dta, write_dta
from hlmshell.data.dta_read import read_native
from hlmshell.data.missing import ext_missing
from hlmshell.errors import StataError

ROOT = Path(__file__).resolve().parents[1]
HSB = ROOT / "hlmshell" / "sample_data" / "hsb.dta"
LONG_TEXT = "é" * 1500 + "x\n\tend"                     # 3,006 bytes: strL
BINARYISH = "".join(chr(c) for c in range(1, 32)) + "\x7f\u00a0\ufffd" + "\0mid\0"


# ------------------------------------------------------------------------------ comparison
def snapshot(ds: Dataset) -> tuple:
    """Everything a Dataset holds, comparable with ==: values as their bits."""
    cols = []
    for nm, v in ds.vars.items():
        vals = v.values
        if v.is_string:
            assert vals.dtype == object and all(type(x) is str for x in vals)
            data = tuple(vals.tolist())
        else:
            assert vals.dtype == np.float64
            data = vals.view(np.uint64).tobytes()
        cols.append((nm, v.name, v.vtype, v.format, v.label, v.vallab, tuple(v.chars.items()),
                     len(vals), data))
    labels = [(k, [(struct.pack("<d", key), text) for key, text in table.items()])
              for k, table in ds.value_labels.items()]
    return (tuple(cols), repr(labels), tuple(ds.sortedby), ds.label, ds.n, ds.filename,
            tuple(ds.dta_chars.items()), ds.changed)


@contextmanager
def pandas_only():
    """read_dta as it was: every file through pandas' reader."""
    with mock.patch.object(dta, "read_native", lambda path, check: None):
        yield


def outcome(path) -> tuple:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")          # no warning may escape either path
            return ("ok", snapshot(read_dta(path)))
    except StataError as exc:
        return ("error", exc.rc, exc.message)


def assert_native_same(path) -> Dataset:
    """The native reader takes the file, and read_dta's Dataset is the pandas path's."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # the native reader warns of nothing
        assert read_native(path, dta._check_size) is not None, f"{path} left to pandas"
    ds = read_dta(path)
    with pandas_only():
        old = read_dta(path)
    assert snapshot(ds) == snapshot(old)
    return ds


# ------------------------------------------------------------------------------ files
def rich_dataset(n: int = 40, seed: int = 0) -> Dataset:
    """Every storage type, every missing code in every numeric type, strings of many widths."""
    rng = np.random.default_rng(seed)
    codes = np.array([np.nan] + [ext_missing(c) for c in range(1, 27)])
    ds = Dataset()

    def with_missing(vals):
        vals = np.asarray(vals, dtype=np.float64).copy()
        k = min(n, 27)
        vals[:k] = codes[:k]                     # ., .a .. .z
        return rng.permutation(vals)

    ds.add(Variable("b", with_missing(rng.integers(-127, 101, n)), "byte", "%8.0g", "a byte"))
    ds.add(Variable("i", with_missing(rng.integers(-32767, 32741, n)), "int"))
    ds.add(Variable("l", with_missing(rng.integers(-2147483647, 2147483621, n)), "long"))
    f32 = rng.normal(size=n).astype(np.float32) * np.float32(1e30)
    f32[:4] = [1.7014117e38, -1.7014117e38, 1e-45, -0.0]
    ds.add(Variable("f", with_missing(f32.astype(np.float64)), "float", "%9.2f"))
    f64 = rng.normal(size=n) * 1e300
    f64[:4] = [8.988465674311579e307, -1.7976931348623157e308, 5e-324, -0.0]
    ds.add(Variable("d", with_missing(f64), "double", "%10.0g", "ü" * 80))
    ds.add(Variable("s1", np.array(["", "a", "b"] * (n // 3) + ["z"] * (n % 3), dtype=object),
                    "str1"))
    words = ["", "plain", "héllo wörld", "日本語", "\U0001d11e clef", "tab\there", "a\0cut"]
    ds.add(Variable("s20", np.array([words[j % len(words)] for j in range(n)], dtype=object),
                    "str20", "%-20s"))
    ds.add(Variable("s2045", np.array(["x" * 2045 if j % 3 == 0 else "€" * (j % 600)
                                       for j in range(n)], dtype=object), "str2045"))
    ds.add(Variable("big", np.array([LONG_TEXT, "", BINARYISH, "short", LONG_TEXT] * (n // 5)
                                    + [""] * (n % 5), dtype=object), "strL", "%9s", "text"))
    ds.vars["b"].vallab = "yn"
    ds.vars["l"].vallab = "yn"
    ds.vars["i"].vallab = "undefined_here"
    ds.value_labels = {"yn": {1.0: "yes", 0.0: "no", -2147483647.0: "bottom",
                              2147483620.0: "top", np.nan: "missing", ext_missing(1): "refused",
                              ext_missing(26): "zed"},
                       "unused": {5.0: "ñ" * 100, 6.0: ""}}
    ds.label = "€" * 80
    ds.sortedby = ["i", "b"]
    ds.set_char("_dta", "note1", "a note")
    ds.set_char("d", "unit", "metres")
    ds.changed = False
    return ds


def save(ds: Dataset, path: Path, release: int | None = None) -> Path:
    write_dta(ds, path, release=release)
    return path


def section_offsets(raw: bytes) -> list[int]:
    at = raw.index(b"<map>") + 5
    order = ">" if raw[52:55] == b"MSF" else "<"
    return list(struct.unpack(order + "14Q", raw[at:at + 112]))


def to_msf(raw: bytes) -> bytes:
    """An LSF format 117-119 file (as hlmshell or pandas writes it) rewritten big-endian:
    every number swapped, strL references as (v, o) with v in the high bytes."""
    out = bytearray(raw)
    release = int(raw[28:31])
    m = section_offsets(raw)
    kf, nf = ("I" if release == 119 else "H"), ("Q" if release >= 118 else "I")

    def swap(at: int, code: str, count: int = 1) -> int:
        size = struct.calcsize(code) * count
        vals = struct.unpack_from(f"<{count}{code}", raw, at)
        out[at:at + size] = struct.pack(f">{count}{code}", *vals)
        return at + size

    out[52:55] = b"MSF"
    (k,) = struct.unpack_from("<" + kf, raw, 70)
    at = swap(70, kf) + 7
    (n,) = struct.unpack_from("<" + nf, raw, at)
    at = swap(at, nf) + 11
    if release >= 118:
        swap(at, "H")
    swap(raw.index(b"<map>") + 5, "Q", 14)
    types = struct.unpack_from(f"<{k}H", raw, m[2] + 16)
    swap(m[2] + 16, "H", k)
    swap(m[4] + 10, "I" if release == 119 else "H", k + 1)
    at = m[8] + len(b"<characteristics>")
    while raw.startswith(b"<ch>", at):
        (size,) = struct.unpack_from("<I", raw, at + 4)
        swap(at + 4, "I")
        at += 8 + size + 5
    _swap_data(raw, out, m[9] + 6, types, n, release)
    at = m[10] + 7
    while raw.startswith(b"GSO", at):
        at = swap(swap(at + 3, "I"), "Q" if release >= 118 else "I") + 1
        (size,) = struct.unpack_from("<I", raw, at)
        at = swap(at, "I") + size
    at = m[11] + 14
    while raw.startswith(b"<lbl>", at):
        at = swap(at + 5, "I") + (129 if release >= 118 else 33) + 3
        (count, txtlen) = struct.unpack_from("<2I", raw, at)
        at = swap(at, "I", 2)
        at = swap(at, "i", 2 * count) + txtlen + 6
    return bytes(out)


def _swap_data(raw: bytes, out: bytearray, start: int, types, n: int, release: int) -> None:
    npt = {65530: "i1", 65529: "i2", 65528: "i4", 65527: "f4", 65526: "f8", 32768: "u8"}
    fields = [(f"c{j}", npt.get(t, f"S{t}")) for j, t in enumerate(types)]
    if not fields or not n:
        return
    little = np.dtype([(nm, ("<" + t) if not t.startswith("S") else t) for nm, t in fields])
    big = np.dtype([(nm, (">" + t) if not t.startswith("S") else t) for nm, t in fields])
    rec = np.frombuffer(raw, dtype=little, count=n, offset=start)
    new = np.empty(n, dtype=big)
    vbits = {117: 32, 118: 16, 119: 24}[release]
    for (nm, _), t in zip(fields, types):
        col = rec[nm]
        if t == 32768:               # (v, o): LSF v | o << vbits -> MSF v << (64 - vbits) | o
            v = col & np.uint64((1 << vbits) - 1)
            o = col >> np.uint64(vbits)
            col = (v << np.uint64(64 - vbits)) | o
        new[nm] = col
    out[start:start + n * little.itemsize] = new.tobytes()


def pandas_frame(n: int = 25, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f32 = rng.normal(size=n).astype(np.float32)
    f32[::4] = np.nan
    f64 = rng.normal(size=n) * 1e10
    f64[1::5] = np.nan
    return pd.DataFrame({
        "i8": rng.integers(-127, 101, n).astype(np.int8),
        "i16": rng.integers(-32767, 32741, n).astype(np.int16),
        "i32": rng.integers(-2147483647, 2147483621, n).astype(np.int32),
        "f32": f32, "f64": f64,
        "s": [["ab", "", "x y", "ça"][j % 4] for j in range(n)],
        "txt": [["a" * 3000, "b", "", "long " * 500][j % 4] for j in range(n)],
        "cat": pd.Categorical([["lo", "mid", "hi"][j % 3] for j in range(n)]),
    })


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Every kind of file the native reader takes."""
    d = tmp_path_factory.mktemp("dta")
    out = {"hsb": HSB}
    ds = rich_dataset()
    out["rich118"] = save(ds, d / "rich118.dta")
    out["rich119"] = save(ds, d / "rich119.dta", release=119)
    for name in ("rich118", "rich119"):
        out[name + "msf"] = d / f"{name}msf.dta"
        out[name + "msf"].write_bytes(to_msf(out[name].read_bytes()))
    empty = rich_dataset()
    empty.take(np.zeros(0, dtype=np.intp))
    out["no_obs"] = save(empty, d / "no_obs.dta")
    none = Dataset()
    none.set_obs(7)
    none.value_labels = {"l": {1.0: "one"}}
    out["no_vars"] = save(none, d / "no_vars.dta")
    out["no_vars119"] = save(none, d / "no_vars119.dta", release=119)
    out["nothing"] = save(Dataset(), d / "nothing.dta")
    frame = pandas_frame()
    for version in (117, 118, 119):
        for order in ("<", ">"):
            text = "ASCII text" if version == 117 else "π ≈ 3.14 données"
            path = d / f"pandas{version}{'msf' if order == '>' else ''}.dta"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame.to_stata(path, write_index=False, version=version, byteorder=order,
                               data_label=text[:80], convert_strl=["txt"],
                               variable_labels={"f64": text, "i8": "small"})
            out[path.stem] = path
    return out


NATIVE_FILES = ["hsb", "rich118", "rich119", "rich118msf", "rich119msf", "no_obs", "no_vars",
                "no_vars119", "nothing", "pandas117", "pandas118", "pandas119", "pandas117msf",
                "pandas118msf", "pandas119msf"]


@pytest.mark.parametrize("name", NATIVE_FILES)
def test_native_reader_gives_the_pandas_dataset(files, name):
    ds = assert_native_same(files[name])
    assert ds.changed is False and ds.filename == str(files[name])


def test_rich_file_reads_back_what_was_saved(files):
    """And what the pandas path gives is what was saved (so both are right, not just equal)."""
    ds = rich_dataset()
    for name in ("rich118", "rich119", "rich118msf", "rich119msf"):
        back = read_dta(files[name])
        assert back.names == ds.names and back.sortedby == ["i", "b"]
        for nm in ds.names:
            a, b = ds.vars[nm], back.vars[nm]
            if a.is_string:
                want = [s.split("\0")[0] for s in a.values] if nm != "big" else list(a.values)
                assert list(b.values) == want, nm
            else:
                assert b.values.view(np.uint64).tolist() == \
                    np.asarray(a.values, np.float64).view(np.uint64).tolist(), nm
        assert back.vars["big"].vtype == "strL" and back.vars["s2045"].vtype == "str2045"
        assert back.vars["d"].chars == {"unit": "metres"} and back.dta_chars == {"note1": "a note"}
        keys = {struct.pack("<d", k) for k in back.value_labels["yn"]}
        assert struct.pack("<d", ext_missing(26)) in keys and struct.pack("<d", np.nan) in keys
        assert back.label == ds.label and back.vars["d"].label == "ü" * 80


def test_float_column_keeps_float32_grid(files):
    back = read_dta(files["rich118"])
    f = back.vars["f"].values
    ok = ~np.isnan(f)
    assert np.array_equal(f[ok], f[ok].astype(np.float32).astype(np.float64))
    assert sorted({int(b >> 32 & 0xFF) for b in f[~ok].view(np.uint64).tolist()}) == list(range(27))


def test_format_119_beyond_32767_variables(tmp_path):
    """Past 32,767 variables (K in 4 bytes, 4-byte sort list, strL keys with 3-byte v): the
    native reader gives back what was saved (pandas needs many seconds for this file)."""
    k = 32_770
    ds = Dataset()
    for j in range(k):
        ds.vars[f"v{j}"] = Variable(f"v{j}", np.array([float(j), ext_missing(j % 27 or 1)]),
                                    "long")
    ds.vars["v32769"] = Variable("v32769", np.array([LONG_TEXT, "z"], dtype=object), "strL")
    ds._n = 2
    ds.sortedby = ["v32768", "v2"]
    path = save(ds, tmp_path / "wide.dta")
    assert b"<release>119</release>" in path.read_bytes()[:60]
    back = read_native(path, dta._check_size)
    assert back is not None and back.names == ds.names and back.sortedby == ["v32768", "v2"]
    for nm in ("v0", "v5", "v32768"):
        assert back.vars[nm].values.view(np.uint64).tolist() == \
            ds.vars[nm].values.view(np.uint64).tolist()
    assert list(back.vars["v32769"].values) == [LONG_TEXT, "z"]


def test_readstat_written_files(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    frame = pandas_frame().drop(columns=["cat", "txt"])
    for version in (13, 14, 15):                           # formats 117, 118, 118
        path = tmp_path / f"rs{version}.dta"
        pyreadstat.write_dta(frame, str(path), version=version, file_label="ReadStat",
                             column_labels={"f64": "a double"})
        assert_native_same(path)


# ------------------------------------------------------------------------------ property
_NUMERIC = {"byte": (-127, 100), "int": (-32767, 32740), "long": (-2147483647, 2147483620)}
_MISSING = st.sampled_from([np.nan] + [ext_missing(c) for c in range(1, 27)])
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_F32_MAX = float(np.float32(1.7e38))


@st.composite
def columns(draw, n: int):
    vtype = draw(st.sampled_from(["byte", "int", "long", "float", "double", "str", "strL"]))
    if vtype in _NUMERIC:
        lo, hi = _NUMERIC[vtype]
        vals = st.one_of(st.integers(lo, hi).map(float), _MISSING)
    elif vtype == "float":
        vals = st.one_of(st.floats(width=32, allow_nan=False, allow_infinity=False,
                                   min_value=-_F32_MAX, max_value=_F32_MAX), _MISSING)
    elif vtype == "double":
        vals = st.one_of(st.floats(allow_nan=False, allow_infinity=False, min_value=-8.9e307,
                                   max_value=8.9e307), _MISSING)
    else:
        texts = st.one_of(_TEXT, st.sampled_from(["", LONG_TEXT, BINARYISH, "x" * 2045]))
        values = draw(st.lists(texts, min_size=n, max_size=n))
        if vtype == "str":
            vtype = f"str{draw(st.integers(1, 2045))}"
        return np.array(values, dtype=object), vtype
    return np.array(draw(st.lists(vals, min_size=n, max_size=n)), dtype=np.float64), vtype


@st.composite
def datasets(draw):
    n = draw(st.integers(0, 12))
    k = draw(st.integers(0, 6))
    ds = Dataset()
    ds._n = n
    for j in range(k):
        vals, vtype = draw(columns(n))
        ds.add(Variable(f"v{j}", vals, vtype, label=draw(_TEXT),
                        vallab=draw(st.sampled_from([None, "a", "b"]))))
    keys = st.one_of(st.integers(-2147483647, 2147483620).map(float), _MISSING)
    ds.value_labels = draw(st.dictionaries(st.sampled_from(["a", "c"]),
                                           st.dictionaries(keys, _TEXT, max_size=4), max_size=2))
    ds.sortedby = draw(st.lists(st.sampled_from(ds.names), unique=True)) if k else []
    ds.label = draw(_TEXT)
    if k and draw(st.booleans()):
        ds.set_char("v0", "c", draw(_TEXT) or "x")
    return ds


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(ds=datasets(), release=st.sampled_from([118, 119]), msf=st.booleans())
def test_random_datasets_native_equals_pandas(tmp_path, ds, release, msf):
    path = save(ds, tmp_path / "r.dta", release=release)
    if msf:
        path.write_bytes(to_msf(path.read_bytes()))
    assert_native_same(path)


# ------------------------------------------------------------------------------ odd files
def _patch(src: Path, dst: Path, at: int, data: bytes) -> Path:
    raw = bytearray(src.read_bytes())
    raw[at:at + len(data)] = data
    dst.write_bytes(bytes(raw))
    return dst


def _small(tmp_path, vtype: str, values, **kw) -> Path:
    ds = Dataset()
    ds.add(Variable("x", np.array(values, dtype=object if vtype.startswith("str") else float),
                    vtype))
    return save(ds, tmp_path / f"small_{vtype}.dta", **kw)


@pytest.mark.parametrize("vtype,cell,native", [
    ("byte", struct.pack("<b", -128), False),            # not a Stata value: pandas r(610)
    ("int", struct.pack("<h", -32768), False),
    ("long", struct.pack("<i", -2147483648), False),
    ("float", struct.pack("<I", 0x7F800000), False),     # +inf
    ("float", struct.pack("<I", 0x7F000001), False),     # beyond the largest, not a code
    ("float", struct.pack("<I", 0x7FC00000), True),      # a NaN: kept as it is
    ("float", struct.pack("<I", 0xFFC00123), True),
    ("double", struct.pack("<Q", 0xFFF0000000000000), False),    # -inf
    ("double", struct.pack("<Q", 0x7FE0000000000001), False),
    ("double", struct.pack("<Q", 0x7FF8DEAD00000001), True),     # a NaN with a payload
    ("double", struct.pack("<Q", 0x7FE0000000000000 + (26 << 40)), True),     # .z
])
def test_odd_numeric_cells(tmp_path, vtype, cell, native):
    """Bit patterns pandas refuses go to pandas (same r(610)); NaNs keep their bits."""
    src = _small(tmp_path, vtype, [1.0, ext_missing(2), 3.0])
    path = _patch(src, tmp_path / "odd.dta", section_offsets(src.read_bytes())[9] + 6, cell)
    assert (read_native(path, dta._check_size) is not None) == native
    got = outcome(path)
    with pandas_only():
        assert got == outcome(path)
    assert got[0] == ("ok" if native else "error")


def test_text_that_is_not_utf8_reads_as_latin1(tmp_path):
    src = _small(tmp_path, "str4", ["abcd", "ok"])
    path = _patch(src, tmp_path / "latin.dta", section_offsets(src.read_bytes())[9] + 6,
                  b"\xe9t\xe9\0")
    assert list(assert_native_same(path).vars["x"].values) == ["été", "ok"]


def test_strl_oddities(tmp_path):
    src = _small(tmp_path, "strL", ["first", "", "first", "second"])
    raw = src.read_bytes()
    m = section_offsets(raw)
    # a binary GSO (type 129): pandas gives the repr of its bytes
    kind = raw.index(b"GSO", m[10]) + 3 + 4 + 8
    path = _patch(src, tmp_path / "binary.dta", kind, b"\x81")
    assert assert_native_same(path).vars["x"].values[0] == "b'first\\x00'"
    # type 130 that is not UTF-8: pandas refuses the file
    text = kind + 1 + 4
    bad = _patch(src, tmp_path / "bad.dta", text, b"\xff")
    assert read_native(bad, dta._check_size) is None
    assert outcome(bad)[:2] == ("error", 610)
    # a cell referring to no GSO: r(610) as before
    dangling = _patch(src, tmp_path / "dangling.dta", m[9] + 6, struct.pack("<Q", 7 | 9 << 16))
    assert read_native(dangling, dta._check_size) is None
    assert outcome(dangling)[:2] == ("error", 610)


def test_value_label_oddities(tmp_path):
    """Overlapping and unordered text offsets are read the way pandas reads them."""
    ds = Dataset()
    ds.add(Variable("x", np.array([1.0, 2.0]), "byte", vallab="l"))
    ds.value_labels = {"l": {1.0: "one", 2.0: "two", 3.0: "three"}}
    src = save(ds, tmp_path / "lab.dta")
    raw = src.read_bytes()
    at = raw.index(b"<lbl>") + 5 + 4 + 129 + 3 + 8
    path = _patch(src, tmp_path / "lab2.dta", at, struct.pack("<3i", 4, 0, 4))
    labels = assert_native_same(path).value_labels["l"]
    assert labels == {2.0: "one", 1.0: "", 3.0: "two"}     # each text ends at the next offset


def _mutations(raw: bytes, count: int, seed: int):
    rng = np.random.default_rng(seed)
    m = section_offsets(raw)
    hot = [p for off in [0, 28, 52, 70, 80, 100] + m for p in range(off, off + 24)]
    for j in range(count):
        out = bytearray(raw)
        at = int(rng.choice(hot)) if j % 2 else int(rng.integers(0, len(raw)))
        at = min(at, len(raw) - 1)
        out[at] = int(rng.integers(0, 256)) if j % 3 else out[at] ^ 0xFF
        yield f"flip{j}@{at}", bytes(out)


@pytest.mark.parametrize("name", ["rich118", "rich119msf", "pandas117", "no_vars"])
def test_damaged_files_same_outcome_as_before(files, tmp_path, name):
    """Cut anywhere or with a byte changed, a file gives what the pandas path gave: the same
    Dataset, or the same Stata error, never a traceback; cut before its data it is r(610).
    (Cut after the data, pandas' reader read it without its strLs or value labels, and still
    does: those files are left to it.)"""
    raw = files[name].read_bytes()
    cuts = {*range(0, 200, 7), *range(0, len(raw), max(1, len(raw) // 60)), len(raw) - 1,
            len(raw) - 20}
    cases = [(f"cut{c}", raw[:c]) for c in sorted(cuts)]
    cases += list(_mutations(raw, 150, seed=len(name)))
    start = section_offsets(raw)[9] + len(b"<data>")
    seen = set()
    for label, data in cases:
        path = tmp_path / "damaged.dta"
        path.write_bytes(data)
        got = outcome(path)
        with pandas_only():
            want = outcome(path)
        assert got == want, label
        seen.add(got[:2])
        if label.startswith("cut") and len(data) < start:    # cut before its data
            assert got[:2] == ("error", 610), label
    assert ("error", 610) in seen


def test_zero_width_type_is_not_stata_format(tmp_path):
    """Type 0 (a str0) is no Stata type: pandas' reader stopped with StopIteration on it,
    which read_dta now reports as r(610) too."""
    src = _small(tmp_path, "byte", [1.0, 2.0])
    path = _patch(src, tmp_path / "str0.dta", section_offsets(src.read_bytes())[2] + 16,
                  b"\0\0")
    assert read_native(path, dta._check_size) is None
    assert outcome(path)[:2] == ("error", 610)


def test_damaged_header_still_checked(files, tmp_path):
    raw = bytearray(files["rich118"].read_bytes())
    at = raw.index(b"<N>") + 3
    raw[at:at + 8] = struct.pack("<Q", 2 ** 40)
    path = tmp_path / "huge.dta"
    path.write_bytes(bytes(raw))
    with mock.patch.object(dta, "_read_parts", side_effect=AssertionError("pandas used")), \
            pytest.raises(StataError) as err:
        read_dta(path)
    assert err.value.rc == 610 and "not Stata format" in err.value.message


# ------------------------------------------------------------------------------ no pandas
_PROBE = """
import json, sys
from hlmshell.cli import main
rc = main(sys.argv[1:])
json.dump({"rc": rc, "pandas": sorted(m for m in sys.modules if m.split(".")[0] == "pandas")},
          open(sys.argv[0] + ".json", "w"))
"""


def test_use_loads_no_pandas(files, tmp_path):
    """`use` of hsb.dta and of format 117/118/119 files (both byte orders), then `mixed`,
    in a fresh process: pandas is never imported."""
    lines = ["use hsb, clear", "mixed mathach ses || id:"]
    lines += [f'use "{files[name]}", clear' for name in NATIVE_FILES if name.startswith("pandas")]
    lines += [f'use "{files["rich119msf"]}", clear', "summarize"]
    (tmp_path / "t.do").write_text("\n".join(lines) + "\n", encoding="utf-8")
    probe = tmp_path / "probe.py"
    probe.write_text(_PROBE, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(probe), "t.do"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0 and proc.stderr == "", proc.stdout + proc.stderr
    info = json.loads((tmp_path / "probe.py.json").read_text())
    assert info == {"rc": 0, "pandas": []}, proc.stdout
    assert "LR test vs. linear model" in proc.stdout


def test_older_formats_still_read_by_pandas(tmp_path):
    """Format 115 (and older) is not native: read by pandas' reader as before."""
    frame = pandas_frame().drop(columns=["txt"])
    path = tmp_path / "f115.dta"
    frame.to_stata(path, write_index=False, version=114)
    assert read_native(path, dta._check_size) is None
    ds = read_dta(path)
    assert ds.names == list(frame.columns)
    assert math.isclose(ds.vars["f64"].values[0], frame["f64"].iloc[0])
