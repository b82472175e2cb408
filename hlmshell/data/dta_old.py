"""Writing .dta files that Stata 11, 12 and 13 can open (`saveold`).

Stata 14 and later write format 118 (hlmshell.data.dta); a colleague on Stata 13 needs format
117 and one on Stata 11 or 12 needs format 115. The formats differ from 118 in the widths of
their fields, not in how numbers are stored (missing values and their .a-.z codes are the
same since format 113), so the numeric cells are encoded by dta's own functions and only the
layout lives here:

- 117 (Stata 13): the XML-tagged layout of 118 with narrower fields: K in 2 bytes, N in 4,
  names 33 bytes, formats 49, variable labels 81, strL references of 4+4 bytes.
- 115 (Stata 11/12): the binary layout without tags; strings at most str244, no strL, and the
  characteristics travel in "expansion fields".

Text in these formats is not Unicode: Stata 13 and earlier read bytes as Latin-1, so text is
written in Latin-1 and a character outside it becomes "?" (a note names the variables whose
text changed). Longer strings than a format holds are cut, with a note, as Stata's saveold does.
"""
from __future__ import annotations

import datetime as _dt
import struct

import numpy as np

from hlmshell.data.atomic import atomic_write
from hlmshell.data.dataset import Dataset
from hlmshell.errors import StataError
from hlmshell.data.dta import _TYPE_CODE, _label_items, _numeric_bytes

# Stata version the user asks for -> file format written
FORMAT_FOR_VERSION = {11: 115, 12: 115, 13: 117}
_OLD_TYPE_115 = {"byte": 251, "int": 252, "long": 253, "float": 254, "double": 255}
_STR_MAX = {115: 244, 117: 2045}
_STRL_117 = 32768


def _latin1(text: str, width: int | None = None) -> tuple[bytes, bool]:
    """Text as Latin-1 bytes (at most `width`), and whether anything had to be replaced."""
    raw = text.encode("latin-1", errors="replace")
    changed = raw != text.encode("latin-1", errors="ignore") or len(raw) != len(text)
    if width is not None and len(raw) > width:
        raw = raw[:width]
    return raw, changed


def _fixed(text: str, width: int) -> bytes:
    raw, _ = _latin1(text, width - 1)
    return raw + b"\0" * (width - len(raw))


class _OldColumn:
    """One variable's storage in an old format: type code, numpy cell dtype, cell bytes."""

    def __init__(self, ds: Dataset, name: str, fmt: int, strl_index: int, notes: list[str]):
        var = ds.vars[name]
        self.name = name
        self.strl = None
        if var.is_string:
            texts = [_latin1(s) for s in var.values]
            if any(ch for _, ch in texts):
                notes.append(f"(note: variable {name} has characters Stata {13 if fmt == 117 else 12}"
                             " cannot show; they were saved as ?)")
            cells = [b for b, _ in texts]
            longest = max((len(b) for b in cells), default=1)
            if fmt == 117 and (var.vtype == "strL" or longest > _STR_MAX[117]):
                self._as_strl(cells, strl_index)
                return
            width = max(1, min(_STR_MAX[fmt], max(longest, self._declared(var.vtype))))
            if longest > _STR_MAX[fmt] or var.vtype == "strL":
                notes.append(f"(note: variable {name} was {var.vtype}, now str{width} to save "
                             f"in Stata {13 if fmt == 117 else 12} format; longer values were cut)")
            self.code = width
            self.dtype = f"S{width}"
            self._cells = np.array([b[:width] for b in cells], dtype=f"S{width}")
            self.cells = lambda a, b: self._cells[a:b]
        else:
            vt = var.vtype if var.vtype in _TYPE_CODE else "double"
            self.code = _TYPE_CODE[vt] if fmt == 117 else _OLD_TYPE_115[vt]
            self.dtype = {"byte": "<i1", "int": "<i2", "long": "<i4", "float": "<f4",
                          "double": "<f8"}[vt]
            vals = var.values
            self.cells = lambda a, b: _numeric_bytes(vals[a:b], vt)

    @staticmethod
    def _declared(vtype: str) -> int:
        """The str# width the variable has (strL: 1, i.e. as wide as its longest value)."""
        if vtype.startswith("str") and vtype[3:].isdigit():
            return int(vtype[3:])
        return 1

    def _as_strl(self, cells: list[bytes], v: int) -> None:
        """Format 117 strL: the cell holds (v, o) as two 4-byte numbers; repeated values point
        at the first GSO with the same text; "" is (0, 0)."""
        keys = np.zeros(len(cells), dtype="<u8")
        first: dict[bytes, int] = {}
        recs = []
        for i, s in enumerate(cells):
            if not s:
                continue
            key = first.get(s)
            if key is None:
                key = v | ((i + 1) << 32)
                first[s] = key
                text = s + b"\0"
                recs.append(b"GSO" + struct.pack("<IIBI", v, i + 1, 130, len(text)) + text)
            keys[i] = key
        self.strl = b"".join(recs)
        self.code, self.dtype = _STRL_117, "<u8"
        self.cells = lambda a, b: keys[a:b]


def _rows(cols: list[_OldColumn], n: int) -> bytes:
    if not cols or not n:
        return b""
    rec = np.empty(n, dtype=np.dtype([(f"v{i}", c.dtype) for i, c in enumerate(cols)]))
    for i, c in enumerate(cols):
        rec[f"v{i}"] = c.cells(0, n)
    return rec.tobytes()


def _label_table(name: str, table: dict[float, str]) -> bytes:
    items = _label_items(name, table)
    offs, txt = [], bytearray()
    for _, t in items:
        offs.append(len(txt))
        txt += _latin1(t, 32000)[0] + b"\0"
    tab = struct.pack("<ii", len(items), len(txt))
    tab += b"".join(struct.pack("<i", o) for o in offs)
    tab += b"".join(struct.pack("<i", v) for v, _ in items) + bytes(txt)
    return struct.pack("<i", len(tab)) + _fixed(name, 33) + b"\0\0\0" + tab


def _sortlist(ds: Dataset) -> list[int]:
    index = {nm: i for i, nm in enumerate(ds.names)}
    k = len(ds.names)
    srt = [index[s] + 1 for s in ds.sortedby if s in index] + [0]
    return (srt + [0] * (k + 1))[: k + 1]


def _timestamp() -> bytes:
    return _dt.datetime.now().strftime("%d %b %Y %H:%M").encode("ascii", "replace")


def _chars(ds: Dataset) -> list[tuple[str, str, bytes]]:
    out = []
    for owner, table in ds.characteristics().items():
        for name, text in table.items():
            if text:
                out.append((owner, name, _latin1(text, 67783)[0] + b"\0"))
    return out


def _build_117(ds: Dataset, cols: list[_OldColumn]) -> bytes:
    k, n = len(ds.names), ds.n
    lab, _ = _latin1(ds.label, 80)
    ts = _timestamp()
    head = (b"<stata_dta><header><release>117</release><byteorder>LSF</byteorder>"
            + b"<K>" + struct.pack("<H", k) + b"</K><N>" + struct.pack("<I", n) + b"</N>"
            + b"<label>" + bytes([len(lab)]) + lab + b"</label>"
            + b"<timestamp>" + bytes([len(ts)]) + ts + b"</timestamp></header>")
    chars = b"".join(b"<ch>" + struct.pack("<I", 66 + len(t)) + _fixed(o, 33) + _fixed(nm, 33) + t
                     + b"</ch>" for o, nm, t in _chars(ds))
    sections = [
        ("variable_types", b"".join(struct.pack("<H", c.code) for c in cols)),
        ("varnames", b"".join(_fixed(nm, 33) for nm in ds.names)),
        ("sortlist", b"".join(struct.pack("<H", s) for s in _sortlist(ds))),
        ("formats", b"".join(_fixed(ds.vars[nm].format, 49) for nm in ds.names)),
        ("value_label_names", b"".join(_fixed(ds.vars[nm].vallab or "", 33) for nm in ds.names)),
        ("variable_labels", b"".join(_fixed(ds.vars[nm].label, 81) for nm in ds.names)),
        ("characteristics", chars),
        ("data", _rows(cols, n)),
        ("strls", b"".join(c.strl for c in cols if c.strl)),
        ("value_labels", b"".join(b"<lbl>" + _label_table(nm, tab) + b"</lbl>"
                                  for nm, tab in ds.value_labels.items())),
    ]
    pos = len(head) + len(b"<map>") + 14 * 8 + len(b"</map>")
    offsets = []
    for tag, body in sections:
        offsets.append(pos)
        pos += len(tag) * 2 + 5 + len(body)
    offs = [0, len(head)] + offsets + [pos, pos + len(b"</stata_dta>")]
    body = b"".join(b"<" + t.encode() + b">" + b_ + b"</" + t.encode() + b">" for t, b_ in sections)
    return head + b"<map>" + b"".join(struct.pack("<Q", o) for o in offs) + b"</map>" + body \
        + b"</stata_dta>"


def _build_115(ds: Dataset, cols: list[_OldColumn]) -> bytes:
    k, n = len(ds.names), ds.n
    ts = _timestamp()
    head = struct.pack("<BBBBHI", 115, 2, 1, 0, k, n) + _fixed(ds.label, 81) + ts + b"\0" * (18 - len(ts))
    out = bytearray(head)
    out += bytes(c.code for c in cols)
    out += b"".join(_fixed(nm, 33) for nm in ds.names)
    out += b"".join(struct.pack("<H", s) for s in _sortlist(ds))
    out += b"".join(_fixed(ds.vars[nm].format, 49) for nm in ds.names)
    out += b"".join(_fixed(ds.vars[nm].vallab or "", 33) for nm in ds.names)
    out += b"".join(_fixed(ds.vars[nm].label, 81) for nm in ds.names)
    for owner, name, text in _chars(ds):
        out += struct.pack("<BI", 1, 66 + len(text)) + _fixed(owner, 33) + _fixed(name, 33) + text
    out += struct.pack("<BI", 0, 0)
    out += _rows(cols, n)
    for nm, tab in ds.value_labels.items():
        out += _label_table(nm, tab)
    return bytes(out)


def write_old_dta(ds: Dataset, path, version: int, *, shown: str | None = None) -> list[str]:
    """Write `ds` for Stata `version` (11, 12 or 13), atomically; returns the notes to show."""
    fmt = FORMAT_FOR_VERSION[version]
    if len(ds.names) > 32767:
        raise StataError(f"too many variables for a Stata {version} dataset", 900)
    notes: list[str] = []
    cols = [_OldColumn(ds, nm, fmt, j + 1, notes) for j, nm in enumerate(ds.names)]
    blob = _build_117(ds, cols) if fmt == 117 else _build_115(ds, cols)
    with atomic_write(path, shown=shown) as f:
        f.write(blob)
    return notes


__all__ = ["write_old_dta", "FORMAT_FOR_VERSION"]
