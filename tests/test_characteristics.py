"""Characteristics (Stata's `char`): _dta[name] and varname[name] in the dataset, copied by
snapshots, carried through rename/drop, written to and read from .dta files (the
<characteristics> section of formats 117-119, the expansion fields of 113-115).

Files "written by other Stata-like writers" are made here by pandas' own StataWriter (formats
114, 117, 118, 119) with characteristic records spliced in as Stata lays them out (format 117:
33-byte names padded with whatever followed the nul, as Stata 13 writes them), so the reader is
checked against the format description, not against our writer.
"""
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hlmshell.data.dataset import Dataset, Variable
from hlmshell.data.dta import CHAR_MAX, read_characteristics, read_dta, write_dta
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

GRUNFELD = Path(__file__).resolve().parent / "data" / "grunfeld.csv"


@pytest.fixture
def sh(tmp_path, monkeypatch):
    """Run commands through the interpreter: sh("cmd") -> (rc, output of that command)."""
    monkeypatch.chdir(tmp_path)
    ses = Session(out=Capture())
    it = Interpreter(ses)

    def run(text):
        start = len(ses.out.getvalue())
        rc = it.run_line(text)
        return rc, ses.out.getvalue()[start:]

    run.session = ses
    run(f'import delimited using "{GRUNFELD}", clear')
    return run


# ---------------------------------------------------------------------------- the command
def test_define_list_delete(sh):
    assert sh("char _dta[source] Grunfeld (1958), from R's plm")[0] == 0
    assert sh('char define inv[units] "millions of 1947 dollars"')[0] == 0
    assert sh('char capital[note1] `"a "quoted" word"\'')[0] == 0
    ds = sh.session.data
    assert ds.char("_dta", "source") == "Grunfeld (1958), from R's plm"
    assert ds.char("inv", "units") == "millions of 1947 dollars"       # quotes stripped
    assert ds.char("capital", "note1") == 'a "quoted" word'
    rc, out = sh("char list")
    assert rc == 0
    assert out.splitlines() == [
        "  _dta[source]:               Grunfeld (1958), from R's plm",
        "  inv[units]:                 millions of 1947 dollars",
        '  capital[note1]:             a "quoted" word']
    assert sh("char list inv[]")[1] == "  inv[units]:                 millions of 1947 dollars\n"
    assert sh("char list _dta[source]")[1].startswith("  _dta[source]:")
    assert sh("char list capital")[1].startswith("  capital[note1]:")
    assert sh("char inv[units]")[0] == 0                                 # no text: deleted
    assert ds is sh.session.data and sh.session.data.char("inv", "units") == ""
    assert "inv[" not in sh("char list")[1]


def test_abbreviated_variable_and_rename(sh):
    assert sh("char cap[unit] dollars")[0] == 0                         # abbreviation of capital
    assert sh.session.data.char("capital", "unit") == "dollars"
    assert sh("char rename capital value")[0] == 0
    ds = sh.session.data
    assert ds.char("value", "unit") == "dollars" and ds.char("capital", "unit") == ""
    sh("char capital[unit] x")
    rc, out = sh("char rename capital value")
    assert rc == 110
    assert sh("char rename capital value, replace")[0] == 0
    assert sh.session.data.char("value", "unit") == "x"


def test_errors_leave_everything_as_it_was(sh):
    sh("char _dta[keep] me")
    before = sh.session.data.characteristics()
    rc, out = sh("char nosuch[x] y")
    assert rc == 111 and "variable nosuch not found" in out
    rc, out = sh("char inv[1bad] y")
    assert rc == 198 and "1bad invalid name" in out
    assert sh("char inv y")[0] == 198
    assert sh("char list nosuch")[0] == 111
    assert sh.session.data.characteristics() == before


def test_contents_longer_than_stata_allows_are_cut(sh):
    sh("char _dta[big] " + "x" * (CHAR_MAX + 50))
    assert len(sh.session.data.char("_dta", "big")) == CHAR_MAX - 1


# ---------------------------------------------------------------------------- dataset semantics
def _ds():
    ds = Dataset()
    ds.add(Variable("id", np.array([1.0, 2.0]), "byte"))
    ds.add(Variable("x", np.array([3.0, 4.0]), "float"))
    return ds


def test_snapshot_copy_on_write():
    ds = _ds()
    ds.set_char("_dta", "a", "1")
    ds.set_char("x", "b", "2")
    snap = ds.copy()
    ds.set_char("_dta", "a", "changed")
    ds.set_char("x", "b", "")
    ds.set_char("x", "c", "new")
    assert snap.char("_dta", "a") == "1" and snap.char("x", "b") == "2" and snap.char("x", "c") == ""
    assert ds.characteristics() == {"_dta": {"a": "changed"}, "x": {"c": "new"}}


def test_failed_command_rolls_characteristics_back(sh):
    sh("xtset firm year")
    sh("char _dta[a] 1")
    snap = sh.session.snapshot()
    sh.session.data.set_char("_dta", "a", "2")
    sh.session.data.set_char("inv", "u", "x")
    sh.session.restore(snap)
    assert sh.session.data.char("_dta", "a") == "1" and sh.session.data.char("inv", "u") == ""
    # through the interpreter: a failing command restores them
    rc, _ = sh("xtset firm inv")                # non-integer time: r(451)
    assert rc == 451
    assert sh.session.data.char("_dta", "_TStvar") == "year"


def test_rename_and_drop_carry_characteristics():
    ds = _ds()
    ds.set_char("x", "note", "hello")
    ds.set_char("_dta", "_TSpanel", "id")
    ds.set_char("_dta", "iis", "id")
    ds.rename("x", "y")
    assert ds.char("y", "note") == "hello"
    ds.rename_many({"id": "pid"})
    assert ds.char("_dta", "_TSpanel") == "pid" and ds.char("_dta", "iis") == "pid"
    ds.drop(["pid"])
    assert ds.char("_dta", "_TSpanel") == "" and ds.char("_dta", "iis") == ""
    assert ds.char("y", "note") == "hello"


def test_keep_and_drop_commands(sh):
    sh("char inv[u] a")
    sh("char value[u] b")
    assert sh("drop inv")[0] == 0
    assert sh.session.data.characteristics() == {"value": {"u": "b"}}
    assert sh("keep firm year")[0] == 0
    assert sh.session.data.characteristics() == {}


# ---------------------------------------------------------------------------- .dta files
def test_save_use_round_trip_and_other_readers(sh, tmp_path):
    sh("char _dta[source] Grunfeld — über R's plm")                     # UTF-8 kept
    sh("char inv[units] millions")
    sh("xtset firm year")
    assert sh("save g")[0] == 0
    sh("clear")
    assert sh("use g")[0] == 0
    ds = sh.session.data
    assert ds.char("_dta", "source") == "Grunfeld — über R's plm"
    assert ds.char("inv", "units") == "millions"
    assert ds.char("_dta", "_TSpanel") == "firm" and ds.char("_dta", "_TSdelta") == "+1.0000000000000X+000"
    assert ds.sortedby == ["firm", "year"] and ds.changed is False
    # pandas and pyreadstat read the file (they skip characteristics) and see the same data
    ref = pd.read_csv(GRUNFELD)
    df = pd.read_stata(tmp_path / "g.dta")
    assert list(df.columns) == list(ref.columns)
    assert np.allclose(df["inv"].to_numpy(), ref["inv"].to_numpy().astype(np.float32), rtol=1e-6)
    pyreadstat = pytest.importorskip("pyreadstat")
    df2, meta = pyreadstat.read_dta(str(tmp_path / "g.dta"))
    assert df2.shape == (200, 5) and meta.number_rows == 200


def test_characteristics_section_bytes(tmp_path):
    """Our writer's <ch> records, read back by an independent parse of the format."""
    ds = _ds()
    ds.set_char("_dta", "note1", "hello")
    ds.set_char("x", "unit", "kg")
    write_dta(ds, tmp_path / "c.dta")
    raw = (tmp_path / "c.dta").read_bytes()
    body = raw[raw.index(b"<characteristics>") + 17: raw.index(b"</characteristics>")]
    recs = []
    while body:
        assert body[:4] == b"<ch>"
        (n,) = struct.unpack("<I", body[4:8])
        rec = body[8:8 + n]
        assert body[8 + n: 8 + n + 5] == b"</ch>"
        recs.append((rec[:129].split(b"\0")[0], rec[129:258].split(b"\0")[0], rec[258:]))
        body = body[8 + n + 5:]
    assert recs == [(b"_dta", b"note1", b"hello\0"), (b"x", b"unit", b"kg\0")]


def _splice_xml(path: Path, records: list[tuple[str, str, str]], width: int, garbage: bool):
    """Put <ch> records into the empty <characteristics> section pandas wrote, shifting the map."""
    raw = bytearray(path.read_bytes())
    order = "<" if b"<byteorder>LSF" in raw[:80] else ">"
    blob = b""
    for owner, name, text in records:
        def field(s):
            b = s.encode() + b"\0"
            pad = (b"\xfe\xff=>N@\x01" * 30) if garbage else b"\0" * width
            return (b + pad)[:width]
        rec = field(owner) + field(name) + text.encode() + b"\0"
        blob += b"<ch>" + struct.pack(order + "I", len(rec)) + rec + b"</ch>"
    at = raw.index(b"<characteristics>") + len(b"<characteristics>")
    m = raw.index(b"<map>") + 5
    offs = list(struct.unpack(order + "14Q", raw[m:m + 112]))
    offs = [o + len(blob) if o > at else o for o in offs]
    raw[m:m + 112] = struct.pack(order + "14Q", *offs)
    raw[at:at] = blob
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("version,width", [(117, 33), (118, 129), (119, 129)])
def test_reads_characteristics_of_xml_formats(tmp_path, version, width):
    df = pd.DataFrame({"panelid": np.repeat([1, 2], 2).astype(np.int16),
                       "year": np.tile([2000, 2001], 2).astype(np.int16),
                       "y": [1.5, 2.5, 3.5, 4.5]})
    path = tmp_path / f"v{version}.dta"
    df.to_stata(path, write_index=False, version=version)
    recs = [("_dta", "iis", "panelid"), ("_dta", "_TSpanel", "panelid"),
            ("_dta", "_TStvar", "year"), ("_dta", "_TSdelta", "+1.0000000000000X+000"),
            ("y", "note1", "measured in kg")]
    _splice_xml(path, recs, width, garbage=(version == 117))
    assert pd.read_stata(path).shape == (4, 3)          # still a valid file for pandas
    ds = read_dta(path)
    assert ds.char("_dta", "_TSpanel") == "panelid" and ds.char("y", "note1") == "measured in kg"
    ses = Session(out=Capture())
    ses.data = ds
    it = Interpreter(ses)
    assert it.run_line("xtset") == 0
    assert "Panel variable: panelid (strongly balanced)" in ses.out.getvalue()
    assert "Time variable: year, 2000 to 2001" in ses.out.getvalue()


def test_reads_expansion_fields_of_format_114(tmp_path):
    """Formats 113-115 keep characteristics in the expansion fields (type 1 records)."""
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    path = tmp_path / "old.dta"
    df.to_stata(path, write_index=False, version=114)
    raw = bytearray(path.read_bytes())
    assert raw[0] == 114
    nvar = 2
    at = 109 + nvar * (1 + 33 + 2 + 49 + 33 + 81) + 2
    assert raw[at:at + 5] == b"\0" * 5                    # pandas writes only the terminator
    body = (b"_dta".ljust(33, b"\0") + b"note1".ljust(33, b"\0") + b"Source is Vinod\0")
    rec = b"\x01" + struct.pack("<i", len(body)) + body
    raw[at:at] = rec
    path.write_bytes(bytes(raw))
    assert pd.read_stata(path).shape == (2, 2)
    assert read_characteristics(path) == {"_dta": {"note1": "Source is Vinod"}}
    assert read_dta(path).char("_dta", "note1") == "Source is Vinod"


def test_damaged_section_keeps_the_data(tmp_path):
    ds = _ds()
    ds.set_char("_dta", "a", "first")
    ds.set_char("_dta", "b", "second")
    write_dta(ds, tmp_path / "d.dta")
    raw = bytearray((tmp_path / "d.dta").read_bytes())
    second = raw.index(b"<ch>", raw.index(b"<ch>") + 4)
    raw[second + 4:second + 8] = struct.pack("<I", 10 ** 6)   # length beyond the section
    (tmp_path / "d.dta").write_bytes(bytes(raw))
    back = read_dta(tmp_path / "d.dta")
    assert back.n == 2 and back.char("_dta", "a") == "first" and back.char("_dta", "b") == ""


def test_file_without_characteristics(tmp_path):
    assert read_characteristics(tmp_path / "missing.dta") == {}
    ds = _ds()
    write_dta(ds, tmp_path / "e.dta")
    assert read_dta(tmp_path / "e.dta").characteristics() == {}
