"""Stata .dta formats 117, 118 and 119 read with numpy alone (no pandas).

These are the formats Stata 13-17 (and later, with `saveold`) write and the ones hlmshell's
writer makes. The file is a sequence of XML-like tags:

    <stata_dta><header><release>118</release><byteorder>LSF</byteorder><K>..</K><N>..</N>
    <label>..</label><timestamp>..</timestamp></header><map>14 offsets</map>
    <variable_types> <varnames> <sortlist> <formats> <value_label_names> <variable_labels>
    <characteristics> <data> <strls> <value_labels></stata_dta>

with the widths of each release: K in 2 bytes (4 in 119), N in 4 bytes for 117 (8 after),
names and value-label names of 33 bytes in 117 (129 after), formats of 49 (57), variable
labels of 81 (321), sort-list entries of 2 bytes (4 in 119); text is Latin-1 in 117 and UTF-8
after, each fixed field cut at its first NUL. The data is read at once as one numpy structured
array (the record layout, in the file's byte order), then converted a column at a time:

- byte/int/long: values above 100/32740/2147483620 are Stata's missing values, 101/32741/
  2147483621 being '.' and the next 26 '.a'..'.z'; float/double missing values are the bit
  patterns 0x7f000000 + k*0x800 and 0x7fe0000000000000 + k*2^40. They become the NaN payload
  codes of missing.py, so the result is bit for bit what pandas' reader gave (hlmshell.data.dta
  `_to_float`): other NaNs keep their bits, floats are widened exactly;
- str#: fixed-width text, cut at the first NUL (a field that is not valid UTF-8 is read as
  Latin-1, as pandas did);
- strL: each 8-byte cell is a (v, o) reference to a GSO record of <strls> (v in 4 bytes and o
  in 4 in 117; v in 2 bytes and o in 6 in 118, 3 and 5 in 119); "" is (0, 0).

This reader is the fast path of hlmshell.data.dta.read_dta, which falls back on pandas'
reader for every other format (104-116) and for any file this one does not take: anything
unusual (an unknown type, a missing-value bit pattern that is not one of Stata's, a
reference to no GSO, a tag out of place, a truncated section) raises NotNative, and read_native
returns None. pandas then reads the file exactly as before, or refuses it with the same error
as before; the damaged-header checks (N x record width must fit in the file, and in memory)
are the caller's, passed in as `check_size`.
"""
from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from hlmshell.data.dataset import Dataset, Variable
from hlmshell.data.missing import ext_missing

RELEASES = (117, 118, 119)
_STRL = 32768
_STR_MAX = 2045
# type code -> (pandas' letter for the type, numpy type, Stata's storage type)
_NUMERIC = {65530: ("b", "i1", "byte"), 65529: ("h", "i2", "int"), 65528: ("l", "i4", "long"),
            65527: ("f", "f4", "float"), 65526: ("d", "f8", "double")}
_VTYPE = {letter: vtype for letter, _, vtype in _NUMERIC.values()}
_NPTYPE = {letter: np_type for letter, np_type, _ in _NUMERIC.values()}
# '.', '.a' .. '.z' as missing.py codes them (ext_missing(0) is the plain NaN)
_CODES = np.array([ext_missing(c) for c in range(27)], dtype=np.float64)
# integer types: the valid range, and the value that stands for '.' (then '.a' .. '.z')
_INT_RANGE = {"b": (-127, 100, 101), "h": (-32767, 32740, 32741),
              "l": (-2147483647, 2147483620, 2147483621)}


def _float_range(bits_max: bytes, fmt: str) -> float:
    return float(struct.unpack(fmt, bits_max)[0])


# float types: the largest valid value (the smallest is its negative), the bits of '.', the
# step from one missing code to the next, and the unsigned type of the same width
_FLOAT_RANGE = {
    "f": (_float_range(b"\xff\xff\xff\x7e", "<f"), 0x7F000000, 0x800, "=u4", "=f4"),
    "d": (_float_range(b"\xff\xff\xff\xff\xff\xff\xdf\x7f", "<d"), 0x7FE0000000000000, 1 << 40,
          "=u8", "=f8"),
}
_HEAD_MAX = 70 + 4 + 7 + 8 + 11 + 2 + 65535 + 19 + 1 + 255 + 26 + 14 * 8 + 6


class NotNative(Exception):
    """The file is not one this reader takes (another format, or anything unusual in it):
    pandas' reader, the fallback, reads it, or refuses it with the error it always gave."""


class _Layout:
    """The field widths and encodings of one release."""

    def __init__(self, release: int, order: str):
        new = release >= 118
        self.release = release
        self.order = order
        self.enc = "utf-8" if new else "latin-1"
        self.name = 129 if new else 33          # variable and value-label names
        self.fmt = 57 if new else 49
        self.varlab = 321 if new else 81
        self.k = "I" if release == 119 else "H"
        self.n = "Q" if new else "I"
        self.sort = "u4" if release == 119 else "i2"


class _Cursor:
    """Reads fields one after another from bytes, in the file's byte order."""

    def __init__(self, buf: bytes, order: str = "<"):
        self.buf, self.pos, self.order = buf, 0, order

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise NotNative("field beyond the end")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def tag(self, text: bytes) -> None:
        if self.take(len(text)) != text:
            raise NotNative(f"expected {text!r}")

    def num(self, code: str) -> int:
        return struct.unpack(self.order + code, self.take(struct.calcsize(code)))[0]


def decode(raw: bytes, enc: str) -> str:
    """A fixed-width text field: cut at the first NUL, Latin-1 where it is not valid `enc`."""
    raw = raw.partition(b"\0")[0]
    try:
        return raw.decode(enc)
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# --------------------------------------------------------------------------- the header
class _Header:
    """<header> and <map>: release, byte order, K, N, data label and the section offsets."""

    def __init__(self, head: bytes):
        cur = _Cursor(head)
        cur.tag(b"<stata_dta><header><release>")
        digits = cur.take(3)
        if not digits.isdigit() or int(digits) not in RELEASES:
            raise NotNative("not format 117-119")
        cur.tag(b"</release><byteorder>")
        order = cur.take(3)
        if order not in (b"MSF", b"LSF"):
            raise NotNative("byte order")
        cur.order = ">" if order == b"MSF" else "<"
        self.lay = lay = _Layout(int(digits), cur.order)
        cur.tag(b"</byteorder><K>")
        self.k = cur.num(lay.k)
        cur.tag(b"</K><N>")
        self.n = cur.num(lay.n)
        cur.tag(b"</N><label>")
        self.label = decode(cur.take(cur.num("H" if lay.release >= 118 else "b")), lay.enc)
        cur.tag(b"</label><timestamp>")
        stamp = cur.take(cur.num("b"))
        if lay.release >= 118:
            stamp.decode("utf-8")               # pandas refuses a timestamp that is not UTF-8
        cur.tag(b"</timestamp></header><map>")
        self.map = [cur.num("Q") for _ in range(14)]
        cur.tag(b"</map>")


def _section(fh, at: int, tag: bytes, size: int) -> bytes:
    """`size` bytes after the opening `tag` found at offset `at` (within the file)."""
    if at < 0 or size < 0 or at + len(tag) + size > os.fstat(fh.fileno()).st_size:
        raise NotNative(f"section {tag!r} outside the file")
    fh.seek(at)
    raw = fh.read(len(tag) + size)
    if len(raw) != len(tag) + size or not raw.startswith(tag):
        raise NotNative(f"section {tag!r}")
    return raw[len(tag):]


def _texts(raw: bytes, width: int, k: int, enc: str) -> list[str]:
    return [decode(raw[i * width:(i + 1) * width], enc) for i in range(k)]


def _types(raw: bytes, lay: _Layout) -> list:
    """pandas' type list: the width of a str#, 'Q' for strL, b/h/l/f/d for numbers."""
    out: list = []
    for code in np.frombuffer(raw, dtype=lay.order + "u2").tolist():
        if 1 <= code <= _STR_MAX:
            out.append(code)
        elif code == _STRL:
            out.append("Q")
        elif code in _NUMERIC:
            out.append(_NUMERIC[code][0])
        else:
            raise NotNative(f"type {code}")
    return out


class _Descriptors:
    """The variables' descriptions, read where pandas reads them (the 117 variable labels
    follow the value-label names, as pandas finds them)."""

    def __init__(self, fh, hd: _Header):
        lay, k, m = hd.lay, hd.k, hd.map
        self.types = _types(_section(fh, m[2], b"<variable_types>", 2 * k), lay)
        self.names = _texts(_section(fh, m[3], b"<varnames>", lay.name * k), lay.name, k, lay.enc)
        if len(set(self.names)) != k:
            raise NotNative("duplicate names")
        width = 4 if lay.release == 119 else 2
        srt = np.frombuffer(_section(fh, m[4], b"<sortlist>", width * (k + 1)),
                            dtype=lay.order + lay.sort).tolist()
        self.sortlist = srt if lay.release == 119 else srt[:-1]
        self.formats = _texts(_section(fh, m[5], b"<formats>", lay.fmt * k), lay.fmt, k, lay.enc)
        self.vallabs = _texts(_section(fh, m[6], b"<value_label_names>", lay.name * k),
                              lay.name, k, lay.enc)
        at = m[6] + 19 + 33 * k + 20 if lay.release == 117 else m[7]
        self.varlabs = _texts(_section(fh, at, b"<variable_labels>", lay.varlab * k),
                              lay.varlab, k, lay.enc)


# --------------------------------------------------------------------------- strLs and labels
def _gso_key(cur: _Cursor, release: int) -> int:
    """The (v, o) of a GSO record as the 8-byte number in the data cells, as pandas makes it."""
    if release == 117:
        return cur.num("Q")
    buf = cur.take(12)
    vsize = 2 if release == 118 else 3
    if cur.order == "<":
        buf = buf[0:vsize] + buf[4:12 - vsize]
    else:
        buf = buf[4 - vsize:4] + buf[4 + vsize:]
    return struct.unpack(cur.order + "Q", buf)[0]


def _strls(fh, hd: _Header) -> dict[int, str]:
    """The GSO records of <strls>: key -> text (type 130 is text with a closing NUL; pandas
    gives type 129, binary, as the repr of its bytes)."""
    start, stop = hd.map[10], hd.map[11]
    body = _section(fh, start, b"<strls>", stop - start - 7)
    cur = _Cursor(body, hd.lay.order)
    gso = {0: ""}
    while body.startswith(b"GSO", cur.pos):
        cur.pos += 3
        key = _gso_key(cur, hd.lay.release)
        kind = cur.num("B")
        data = cur.take(cur.num("I"))
        gso[key] = data[:-1].decode(hd.lay.enc) if kind == 130 else str(data)
    cur.tag(b"</strls>")
    if cur.pos != len(body):
        raise NotNative("<strls> longer than its records")
    return gso


def _label_table(cur: _Cursor, lay: _Layout) -> dict[int, str]:
    """One value-label table (after its name): n, the text length, n offsets, n values and the
    texts; each text runs from its offset to the next larger offset (pandas' reading)."""
    n = cur.num("I")
    txtlen = cur.num("I")
    off = np.frombuffer(cur.take(4 * n), dtype=lay.order + "i4")
    val = np.frombuffer(cur.take(4 * n), dtype=lay.order + "i4")
    ii = np.argsort(off)
    off, val = off[ii].tolist(), val[ii].tolist()
    txt = cur.take(txtlen)
    table: dict[int, str] = {}
    for i in range(n):
        end = off[i + 1] if i < n - 1 else txtlen
        table[val[i]] = decode(txt[off[i]:end], lay.enc)
    return table


def _value_labels(fh, hd: _Header) -> dict[str, dict[float, str]]:
    start, stop = hd.map[11], hd.map[12]
    body = _section(fh, start, b"<value_labels>", stop - start - 14)
    cur = _Cursor(body, hd.lay.order)
    found: dict[str, dict[int, str]] = {}
    while not body.startswith(b"</value_labels>", cur.pos):
        cur.tag(b"<lbl>")
        cur.take(4)                             # the table's length (pandas does not use it)
        name = decode(cur.take(hd.lay.name), hd.lay.enc)
        cur.take(3)
        found[name] = _label_table(cur, hd.lay)
        cur.tag(b"</lbl>")
    if cur.pos + len(b"</value_labels>") != len(body):
        raise NotNative("<value_labels>")
    return {name: {_label_key(v): str(t) for v, t in table.items()}
            for name, table in found.items()}


def _label_key(v: int) -> float:
    """Value-label keys at Stata's long missing codes stand for '.', '.a'-'.z'."""
    if v >= 2147483621:
        return ext_missing(min(v - 2147483621, 26))
    return float(v)


# --------------------------------------------------------------------------- the data
def _record_dtype(types: list, order: str) -> np.dtype:
    fields = []
    for i, t in enumerate(types):
        if isinstance(t, int):
            fields.append((f"s{i}", f"S{t}"))
        else:
            fields.append((f"s{i}", order + ("u8" if t == "Q" else _NPTYPE[t])))
    return np.dtype(fields)


def _int_column(raw: np.ndarray, letter: str) -> np.ndarray:
    lo, hi, base = _INT_RANGE[letter]
    out = raw.astype(np.float64)
    if (out < lo).any():                        # -128, -32768, -2^31: not Stata values
        raise NotNative("integer below the valid range")
    miss = out > hi
    if miss.any():
        out[miss] = _CODES[(out[miss] - base).astype(np.intp)]
    return out


def _float_column(raw: np.ndarray, letter: str) -> np.ndarray:
    """float/double: values beyond +-max are missing codes (NaNs are not, and keep their
    bits); any other value there is refused (pandas' reader stops on those too)."""
    top, base, step, utype, ftype = _FLOAT_RANGE[letter]
    out = raw.astype(np.float64)                # exact; NaN payloads are kept
    miss = (out > top) | (out < -top)
    if miss.any():
        bits = raw[miss].astype(ftype).view(utype).astype(np.uint64) - np.uint64(base)
        code = bits // np.uint64(step)
        if ((bits % np.uint64(step)) != 0).any() or (code > 26).any():
            raise NotNative("not a Stata missing value")
        out[miss] = _CODES[code.astype(np.intp)]
    return out


def _objects(items: list) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _str_column(raw: np.ndarray, enc: str) -> np.ndarray:
    """str#: numpy drops the trailing NULs; a NUL inside cuts the text there.

    The cells are decoded at once, joined by NULs and split again: the same texts as cell by
    cell (a NUL is never part of a UTF-8 character) unless a cell is not valid text or holds
    a NUL (then more pieces than cells), and those columns are decoded cell by cell."""
    cells = raw.tolist()
    try:
        texts = b"\0".join(cells).decode(enc).split("\0")
    except UnicodeDecodeError:
        texts = []
    if len(texts) != len(cells):
        texts = [decode(b, enc) for b in cells]
    return _objects(texts)


def _strl_column(raw: np.ndarray, gso: dict[int, str]) -> np.ndarray:
    keys, where = np.unique(raw, return_inverse=True)
    try:
        texts = [gso[k] for k in keys.tolist()]
    except KeyError:
        raise NotNative("strL refers to no GSO") from None
    return _objects(texts)[where.reshape(-1)]


def _column(rec: np.ndarray, j: int, typ, enc: str, gso: dict[int, str]):
    """(values, storage type) of variable j, as hlmshell.data.dta._build makes them."""
    raw = rec[f"s{j}"]
    if typ == "Q":
        return _strl_column(raw, gso), "strL"
    if isinstance(typ, int):
        return _str_column(raw, enc), f"str{typ}"
    if typ in _INT_RANGE:
        return _int_column(raw, typ), _VTYPE[typ]
    return _float_column(raw, typ), _VTYPE[typ]


def _empty_column(typ) -> tuple[np.ndarray, str]:
    if typ == "Q":
        return np.empty(0, dtype=object), "strL"
    if isinstance(typ, int):
        return np.empty(0, dtype=object), f"str{typ}"
    return np.empty(0, dtype=np.float64), _VTYPE[typ]


def _read_records(fh, hd: _Header, dtype: np.dtype) -> np.ndarray:
    fh.seek(hd.map[9])
    if fh.read(6) != b"<data>":
        raise NotNative("<data>")
    rec = np.fromfile(fh, dtype=dtype, count=hd.n)
    if len(rec) != hd.n:
        raise NotNative("data cut short")
    return rec


# --------------------------------------------------------------------------- the dataset
def _columns(fh, hd: _Header, desc: _Descriptors) -> list[tuple[np.ndarray, str]]:
    if hd.n == 0:
        return [_empty_column(t) for t in desc.types]
    gso = _strls(fh, hd)                        # pandas reads them for any file with data
    rec = _read_records(fh, hd, _record_dtype(desc.types, hd.lay.order))
    return [_column(rec, j, t, hd.lay.enc, gso) for j, t in enumerate(desc.types)]


def _dataset(path, hd: _Header, desc: _Descriptors, columns, value_labels) -> Dataset:
    ds = Dataset()
    for j, name in enumerate(desc.names):
        vals, vtype = columns[j]
        ds.vars[name] = Variable(name, vals, vtype, desc.formats[j], desc.varlabs[j],
                                 desc.vallabs[j] or None)
    ds._n = hd.n
    ds.value_labels = value_labels
    order = []
    for s in desc.sortlist:
        if s == 0:
            break
        if 1 <= s <= len(desc.names):
            order.append(desc.names[s - 1])
    ds.sortedby = order
    ds.label = hd.label
    ds.filename = str(path)
    ds.changed = False
    return ds


def _read(fh, path, check_size: Callable) -> Dataset:
    hd = _Header(fh.read(_HEAD_MAX))
    desc = _Descriptors(fh, hd)
    # the caller's damaged-file checks, on what pandas' reader would give them
    check_size(SimpleNamespace(_nobs=hd.n, _typlist=desc.types, _data_location=hd.map[9] + 6),
               path)
    value_labels = _value_labels(fh, hd)
    columns = _columns(fh, hd, desc) if hd.k else []
    return _dataset(path, hd, desc, columns, value_labels)


def read_native(path: str | Path, check_size: Callable) -> Dataset | None:
    """The Dataset of a format 117-119 file, or None when this reader does not take the file
    (then pandas' reader does). `check_size(header, path)` raises the caller's errors for a
    header whose N x record width cannot be in the file or in memory (r(610), r(909));
    MemoryError is the caller's to report too."""
    try:
        with open(path, "rb") as fh:
            if fh.read(1) != b"<":
                return None
            fh.seek(0)
            return _read(fh, path, check_size)
    except (NotNative, OSError, ValueError, struct.error, IndexError, KeyError, OverflowError,
            UnicodeError):
        return None


__all__ = ["RELEASES", "NotNative", "decode", "read_native"]
