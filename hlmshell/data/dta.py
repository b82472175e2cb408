"""Stata .dta files <-> Dataset.

Formats 117-119 are read with numpy alone (hlmshell.data.dta_read, giving the same Dataset);
the older ones (104-116), and any file that reader does not take, go through pandas'
StataReader with missing-value conversion on, so .a-.z arrive as StataMissingValue objects and are mapped to the NaN payload codes of
missing.py. Before any data is read the header's N x record width is checked against the size
of the file, so a damaged or hostile header (2^40 observations) is `not Stata format` r(610)
instead of an attempt to allocate terabytes; running out of memory is r(909).

Writing is done here, in format 118 (119 beyond 32,767 variables), because pandas' writer
cannot keep what Stata users rely on: byte/int/long storage with missing values (pandas
promotes them to double), extended missing values, and the sort order. Strings longer than
str2045 are written as strL (the <strls> section of GSO records), and every fixed-width text
field is cut at a UTF-8 character boundary, so a round trip loses nothing. The file is
streamed through hlmshell.data.atomic: the old file stays whole until the new one is complete.
"""
from __future__ import annotations

import datetime as _dt
import os
import struct
import warnings
from pathlib import Path

import numpy as np

from hlmshell.data.atomic import atomic_write
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.data.dta_read import read_native
from hlmshell.data.missing import ext_missing, missing_code, parse_missing
from hlmshell.errors import StataError
from hlmshell.limits import check_memory, no_memory

_PD_TYPES = {"b": "byte", "h": "int", "l": "long", "f": "float", "d": "double", "Q": "strL"}
_PD_WIDTH = {"b": 1, "h": 2, "l": 4, "f": 4, "d": 8, "Q": 8}
STR_MAX = 2045                  # the widest str# variable; longer strings are strL
LABEL_MIN, LABEL_MAX = -2147483647, 2147483620   # values a value label may map
MAX_OBS = 2 ** 40 - 1           # Stata/MP's largest number of observations


def _to_float(col) -> np.ndarray:
    """A pandas column (possibly object with StataMissingValue) -> float64 with payload codes."""
    arr = np.asarray(col)
    if arr.dtype != object:
        return arr.astype(np.float64)
    out = np.empty(len(arr), dtype=np.float64)
    for i, x in enumerate(arr):
        s = getattr(x, "string", None)
        if s is not None:
            out[i] = parse_missing(s)
        elif x is None:
            out[i] = np.nan
        else:
            out[i] = float(x)
    return out


def not_stata_format(path) -> StataError:
    return StataError(f"file {Path(path).name} not Stata format", 610)


def _check_size(reader, path) -> None:
    """The header's N x record width must fit in the file, and in memory.

    pandas would otherwise trust N and ask for N x width bytes; a header claiming 2^40 rows
    in a 1 KB file is damaged (r(610)), a real file too big for the free memory is r(909).
    """
    nobs = int(getattr(reader, "_nobs", 0) or 0)
    typlist = list(getattr(reader, "_typlist", []) or [])
    start = getattr(reader, "_data_location", None)
    if start is None:
        return
    width = sum(t if isinstance(t, int) else _PD_WIDTH.get(t, 8) for t in typlist)
    room = os.path.getsize(path) - int(start)
    if nobs < 0 or nobs > MAX_OBS or nobs * width > room:
        raise not_stata_format(path)
    # in memory at least: 8 bytes per numeric cell, a Python str (~50 bytes + text) per
    # string cell (a sparse file can pass the size check and still claim terabytes)
    per_row = sum(56 + t if isinstance(t, int) else (64 if t == "Q" else 8) for t in typlist)
    need = float(nobs) * per_row
    avail = _available_memory()
    if avail is None:
        check_memory(need)
    elif need > avail:
        raise no_memory()


def _available_memory() -> int | None:
    """MemAvailable (free plus reclaimable cache) where Linux tells it: MemFree alone is
    small on any machine that has been reading files, and would refuse loads that fit."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _sortlist_119(path, reader) -> list[int]:
    """Format 119 stores the sort list as 4-byte entries; pandas reads 2-byte ones."""
    seek = getattr(reader, "_seek_sortlist", None)
    nvar = int(getattr(reader, "_nvar", 0) or 0)
    if seek is None:
        return []
    with open(path, "rb") as fh:
        fh.seek(seek)
        raw = fh.read(4 * (nvar + 1))
    order = ">" if getattr(reader, "_byteorder", "<") == ">" else "<"
    return list(struct.unpack(f"{order}{len(raw) // 4}I", raw[: len(raw) // 4 * 4]))


def _read_parts(path):
    """pandas' reading of the file: (frame, variable labels, value labels, types, formats,
    value-label names, sort list, data label)."""
    import pandas as pd

    reader = pd.io.stata.StataReader(str(path), convert_categoricals=False,
                                     convert_missing=True, convert_dates=False)
    with reader:
        data_label = reader.data_label or ""        # reads the header
        _check_size(reader, path)
        if int(getattr(reader, "_nvar", 1) or 0) == 0:     # pandas cannot read N obs of nothing
            df = pd.DataFrame(index=pd.RangeIndex(int(getattr(reader, "_nobs", 0) or 0)))
        else:
            df = reader.read(convert_categoricals=False, convert_missing=True,
                             convert_dates=False, preserve_dtypes=True)
        varlabels = reader.variable_labels()
        vallabs = reader.value_labels()
        typlist = list(reader._typlist)
        fmtlist = list(reader._fmtlist)
        lbllist = list(reader._lbllist)
        if getattr(reader, "_format_version", 0) >= 119:
            srt = _sortlist_119(path, reader)
        else:
            srt = list(getattr(reader, "_srtlist", []) or [])
    return df, varlabels, vallabs, typlist, fmtlist, lbllist, srt, data_label


def read_dta(path: str | Path) -> Dataset:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # pandas' encoding notes must not reach stderr
            ds = read_native(path, _check_size)     # formats 117-119, without pandas
            parts = None if ds is not None else _read_parts(path)   # the others, and odd files
    except StataError:
        raise
    except MemoryError:
        raise no_memory() from None
    except PermissionError:
        raise StataError(f"file {path} could not be opened", 603) from None
    except (ValueError, OSError, struct.error, KeyError, IndexError, TypeError,
            OverflowError, UnicodeError, EOFError, StopIteration) as exc:
        raise not_stata_format(path) from exc
    try:
        ds = ds if parts is None else _build(path, *parts)
    except MemoryError:
        raise no_memory() from None
    for owner, table in read_characteristics(path).items():
        if owner == "_dta":
            ds.dta_chars = table
        elif owner in ds.vars:
            ds.vars[owner] = ds.vars[owner].evolve(chars=table)
    ds.changed = False
    return ds


# --------------------------------------------------------------------------- characteristics
def read_characteristics(path) -> dict[str, dict[str, str]]:
    """The characteristics of a .dta file (`_dta[name]`, `var[name]`): the <characteristics>
    section of formats 117-119, the expansion fields of formats 110-115; {} for other formats.
    A damaged section gives the characteristics read before the damage (the data is intact)."""
    out: dict[str, dict[str, str]] = {}
    try:
        with open(path, "rb") as fh:
            head = fh.read(1)
            fh.seek(0)
            records = _chars_xml(fh) if head == b"<" else _chars_old(fh)
            for owner, name, text in records:
                out.setdefault(owner, {})[name] = text
    except (OSError, struct.error, ValueError, IndexError):
        pass
    return out


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _chars_xml(fh):
    """Formats 117-119: the map's 9th offset is <characteristics>; each <ch> holds a 4-byte
    length, then the owner and name (33 bytes each in 117, 129 in 118/119) and the text."""
    size = os.fstat(fh.fileno()).st_size
    head = fh.read(min(size, 4096))
    release = int(head[28:31])
    if release not in (117, 118, 119):
        return
    order = ">" if head[52:55] == b"MSF" else "<"
    width = 33 if release == 117 else 129
    at = 70 + (4 if release == 119 else 2) + 7 + (4 if release == 117 else 8) + 11
    if release == 117:
        at += 1 + head[at]
    else:
        at += 2 + struct.unpack(order + "H", head[at:at + 2])[0]
    at += 19
    at += 1 + head[at] + 21
    if head[at:at + 5] != b"<map>":
        return
    offsets = struct.unpack(order + "14Q", head[at + 5:at + 117])
    start, stop = offsets[8], offsets[9]
    if not 0 < start < stop <= size:
        return
    fh.seek(start)
    body = fh.read(stop - start)
    pos = len(b"<characteristics>")
    while body.startswith(b"<ch>", pos):
        (n,) = struct.unpack(order + "I", body[pos + 4:pos + 8])
        rec = body[pos + 8:pos + 8 + n]
        if len(rec) != n or n < 2 * width:
            return
        yield _cstr(rec[:width]), _cstr(rec[width:2 * width]), _cstr(rec[2 * width:])
        pos += 8 + n + len(b"</ch>")


def _chars_old(fh):
    """Formats 110-115: expansion fields after the variable labels, each a type byte (1 for a
    characteristic), a 4-byte length, the owner and name (33 bytes each) and the text."""
    size = os.fstat(fh.fileno()).st_size
    head = fh.read(6)
    version = head[0]
    if version not in (110, 111, 113, 114, 115):
        return
    order = "<" if head[1] == 2 else ">"
    (nvar,) = struct.unpack(order + "H", head[4:6])
    fmtw = 49 if version >= 114 else 12
    fh.seek(109 + nvar * (1 + 33 + 2 + fmtw + 33 + 81) + 2)
    while True:
        kind = fh.read(1)
        (n,) = struct.unpack(order + "i", fh.read(4))
        if not kind or (kind == b"\0" and n == 0) or n < 0 or fh.tell() + n > size:
            return
        rec = fh.read(n)
        if kind == b"\1" and n >= 66:
            yield _cstr(rec[:33]), _cstr(rec[33:66]), _cstr(rec[66:])


CHAR_MAX = 67784                # Stata's longest characteristic (bytes)


def _characteristics_bytes(ds: Dataset) -> bytes:
    """The <ch> records: `_dta` first, then the variables' in the order of the variables."""
    out = bytearray()
    for owner, table in ds.characteristics().items():
        for name, text in table.items():
            if not text:
                continue
            rec = _fixed(owner, 129) + _fixed(name, 129) \
                + cut_utf8(text.encode("utf-8"), CHAR_MAX - 1) + b"\0"
            out += b"<ch>" + struct.pack("<I", len(rec)) + rec + b"</ch>"
    return bytes(out)


def _build(path, df, varlabels, vallabs, typlist, fmtlist, lbllist, srt, data_label) -> Dataset:
    ds = Dataset()
    names = list(df.columns)
    for j, name in enumerate(names):
        typ = typlist[j]
        if isinstance(typ, int) or _PD_TYPES.get(typ) == "strL":
            vtype = f"str{typ}" if isinstance(typ, int) else "strL"
            vals = np.array(["" if (x is None or (isinstance(x, float) and np.isnan(x))) else str(x)
                             for x in df[name].to_numpy(dtype=object)], dtype=object)
        else:
            vtype = _PD_TYPES.get(typ, "double")
            vals = _to_float(df[name])
            if vtype == "float":
                vals = vals.astype(np.float32).astype(np.float64) if not np.isnan(vals).any() \
                    else _float32_keep_payload(vals)
        fmt = fmtlist[j] if j < len(fmtlist) else ""
        var = Variable(name, vals, vtype, fmt, varlabels.get(name, ""), lbllist[j] or None)
        ds.vars[name] = var
    ds._n = len(df)
    ds.value_labels = {k: {_label_key(v): str(t) for v, t in d.items()} for k, d in vallabs.items()}
    order = []
    for s in srt:
        s = int(s)
        if s == 0:
            break
        if 1 <= s <= len(names):
            order.append(names[s - 1])
    ds.sortedby = order
    ds.label = data_label
    ds.filename = str(path)
    ds.changed = False
    return ds


def _label_key(v) -> float:
    """Value-label keys at Stata's long missing codes stand for '.', '.a'-'.z'."""
    v = int(v)
    if v >= 2147483621:
        return ext_missing(min(v - 2147483621, 26))
    return float(v)


def _float32_keep_payload(vals: np.ndarray) -> np.ndarray:
    nan = np.isnan(vals)
    out = vals.copy()
    out[~nan] = vals[~nan].astype(np.float32).astype(np.float64)
    return out


# --------------------------------------------------------------------------- writing
_TYPE_CODE = {"byte": 65530, "int": 65529, "long": 65528, "float": 65527, "double": 65526}
_STRL_CODE = 32768
_INT_MISS = {"byte": ("<i1", 101), "int": ("<i2", 32741), "long": ("<i4", 2147483621)}
_CHUNK_BYTES = 8 << 20          # rows are encoded and written about 8 MB at a time


def _numeric_bytes(values: np.ndarray, vtype: str) -> np.ndarray:
    """Column values -> structured-array-ready numpy array in Stata's binary form."""
    code = missing_code(values)
    miss = code >= 0
    if vtype in _INT_MISS:
        dt, base = _INT_MISS[vtype]
        out = np.where(miss, 0, values).astype(np.int64)
        out = np.where(miss, base + np.maximum(code, 0), out)
        return out.astype(dt)
    if vtype == "float":
        out = np.where(miss, 0, values).astype("<f4")
        if miss.any():
            bits = out.view("<u4")
            bits[miss] = (0x7F000000 + np.maximum(code[miss], 0) * 0x800).astype("<u4")
        return out
    out = np.where(miss, 0, values).astype("<f8")
    if miss.any():
        bits = out.view("<u8")
        bits[miss] = (np.uint64(0x7FE0000000000000)
                      + np.maximum(code[miss], 0).astype(np.uint64) * np.uint64(1 << 40))
    return out


def cut_utf8(data: bytes, limit: int) -> bytes:
    """At most `limit` bytes of UTF-8 text, never ending inside a character: a byte slice
    can split a multibyte character, which Stata (and pandas) would then fail to decode."""
    if len(data) <= limit:
        return data
    cut = limit
    while cut > 0 and (data[cut] & 0xC0) == 0x80:   # data[cut] continues the previous char
        cut -= 1
    return data[:cut]


def _fixed(text: str, width: int) -> bytes:
    """A nul-terminated, nul-padded field of `width` bytes (at most width-1 bytes of text)."""
    b = cut_utf8(text.encode("utf-8"), width - 1)
    return b + b"\0" * (width - len(b))


def _needs_strl(var: Variable) -> bool:
    if var.vtype == "strL":
        return True
    return any(len(s) > STR_MAX // 4 and len(s.encode("utf-8")) > STR_MAX for s in var.values)


def _str_width(var: Variable) -> int:
    if var.vtype.startswith("str") and var.vtype[3:].isdigit():
        w = int(var.vtype[3:])
    else:
        w = 1
    longest = max((len(s.encode("utf-8")) for s in var.values), default=1)
    return max(1, min(STR_MAX, max(w, longest)))


class _Strls:
    """The <strls> section: one GSO record per distinct non-empty strL value.

    Each observation's 8-byte cell holds (v, o), the variable and observation numbers of the
    GSO that has its text; in format 118 v takes the low 2 bytes and o the high 6 (119: 3 and
    5). Repeated values point at their first GSO, as Stata writes them; "" is (0, 0).
    """

    def __init__(self, release: int):
        self.shift = 16 if release == 118 else 24
        self.chunks: list[bytes] = []
        self.size = 0

    def column(self, j: int, values: np.ndarray) -> np.ndarray:
        keys = np.zeros(len(values), dtype="<u8")
        first: dict[str, int] = {}
        v = j + 1
        for i, s in enumerate(values):
            if not s:
                continue
            key = first.get(s)
            if key is None:
                key = v | ((i + 1) << self.shift)
                first[s] = key
                text = s.encode("utf-8") + b"\0"
                rec = b"GSO" + struct.pack("<IQBI", v, i + 1, 130, len(text)) + text
                self.chunks.append(rec)
                self.size += len(rec)
            keys[i] = key
        return keys


class _Column:
    """How one variable is stored: numpy dtype of its cell and a function giving the cells of
    rows [a, b) in Stata's binary form."""

    def __init__(self, ds: Dataset, name: str, strls: _Strls, j: int):
        var = ds.vars[name]
        self.name = name
        if var.is_string and _needs_strl(var):
            self.code = _STRL_CODE
            self.keys = strls.column(j, var.values)
            self.dtype = "<u8"
            self.cells = lambda a, b: self.keys[a:b]
        elif var.is_string:
            w = _str_width(var)
            self.code, self.dtype = w, f"S{w}"
            vals = var.values
            self.cells = lambda a, b: np.array([cut_utf8(s.encode("utf-8"), w) for s in vals[a:b]],
                                               dtype=f"S{w}")
        else:
            vt = var.vtype if var.vtype in _TYPE_CODE else "double"
            self.code = _TYPE_CODE[vt]
            self.dtype = {"byte": "<i1", "int": "<i2", "long": "<i4", "float": "<f4",
                          "double": "<f8"}[vt]
            vals = var.values
            self.cells = lambda a, b: _numeric_bytes(vals[a:b], vt)


def _header(ds: Dataset, release: int, k: int, n: int) -> bytes:
    head = bytearray()
    head += f"<stata_dta><header><release>{release}</release><byteorder>LSF</byteorder>".encode()
    head += b"<K>" + struct.pack("<H" if release == 118 else "<I", k) + b"</K>"
    head += b"<N>" + struct.pack("<Q", n) + b"</N>"
    lab = cut_utf8(ds.label.encode("utf-8"), 320)
    head += b"<label>" + struct.pack("<H", len(lab)) + lab + b"</label>"
    ts = _dt.datetime.now().strftime("%d %b %Y %H:%M").encode("ascii", "replace")
    head += b"<timestamp>" + bytes([len(ts)]) + ts + b"</timestamp></header>"
    return bytes(head)


def _descriptors(ds: Dataset, cols: list[_Column], release: int) -> list[tuple[str, bytes]]:
    names = ds.names
    k = len(names)
    index = {nm: i for i, nm in enumerate(names)}
    srt = [index[s] + 1 for s in ds.sortedby if s in index] + [0]
    srt = (srt + [0] * (k + 1))[: k + 1]
    sfmt = "<H" if release == 118 else "<I"
    return [
        ("variable_types", b"".join(struct.pack("<H", c.code) for c in cols)),
        ("varnames", b"".join(_fixed(nm, 129) for nm in names)),
        ("sortlist", b"".join(struct.pack(sfmt, s) for s in srt)),
        ("formats", b"".join(_fixed(ds.vars[nm].format, 57) for nm in names)),
        ("value_label_names", b"".join(_fixed(ds.vars[nm].vallab or "", 129) for nm in names)),
        ("variable_labels", b"".join(_fixed(ds.vars[nm].label, 321) for nm in names)),
        ("characteristics", _characteristics_bytes(ds)),
    ]


def _write_data(f, cols: list[_Column], n: int) -> None:
    """The data section, encoded and written a chunk of rows at a time (a copy of the whole
    dataset in Stata's form would double the memory a save needs)."""
    if not cols or not n:
        return
    rec_dtype = np.dtype([(f"v{i}", c.dtype) for i, c in enumerate(cols)])
    step = max(1, _CHUNK_BYTES // max(rec_dtype.itemsize, 1))
    for a in range(0, n, step):
        b = min(n, a + step)
        rec = np.empty(b - a, dtype=rec_dtype)
        for i, c in enumerate(cols):
            rec[f"v{i}"] = c.cells(a, b)
        f.write(rec.view(np.uint8))


def write_dta(ds: Dataset, path: str | Path, *, shown: str | None = None,
              release: int | None = None) -> None:
    """Write a Stata 14+ file, atomically: format 118, or 119 (which Stata uses beyond 32,767
    variables) when there are that many or when release=119 asks for it."""
    try:
        _write_dta(ds, path, atomic_write, shown, release)
    except MemoryError:
        raise no_memory() from None


def _write_dta(ds: Dataset, path, atomic_write, shown, release) -> None:
    names = ds.names
    k, n = len(names), ds.n
    if k > 120000:
        raise StataError("too many variables", 900)
    release = 119 if k > 32767 or release == 119 else 118
    labels = b"".join(_value_label_bytes(nm, tab) for nm, tab in ds.value_labels.items())
    strls = _Strls(release)
    cols = [_Column(ds, nm, strls, j) for j, nm in enumerate(names)]
    head = _header(ds, release, k, n)
    data_len = n * sum(np.dtype(c.dtype).itemsize for c in cols)
    sections = _descriptors(ds, cols, release)
    sizes = [(tag, len(body)) for tag, body in sections]
    sizes += [("data", data_len), ("strls", strls.size), ("value_labels", len(labels))]
    pos = len(head) + len(b"<map>") + 14 * 8 + len(b"</map>")
    offsets = {}
    for tag, size in sizes:
        offsets[tag] = pos
        pos += len(tag) * 2 + 5 + size
    offs = [0, len(head)] + [offsets[t] for t, _ in sizes] + [pos, pos + len(b"</stata_dta>")]
    with atomic_write(path, shown=shown) as f:
        f.write(head)
        f.write(b"<map>" + b"".join(struct.pack("<Q", o) for o in offs) + b"</map>")
        for tag, body in sections:
            f.write(b"<" + tag.encode() + b">" + body + b"</" + tag.encode() + b">")
        f.write(b"<data>")
        _write_data(f, cols, n)
        f.write(b"</data><strls>")
        for rec in strls.chunks:
            f.write(rec)
        f.write(b"</strls><value_labels>" + labels + b"</value_labels></stata_dta>")


def _value_label_bytes(name: str, table: dict[float, str]) -> bytes:
    items = _label_items(name, table)
    offs, txt = [], bytearray()
    for _, t in items:
        offs.append(len(txt))
        txt += cut_utf8(t.encode("utf-8"), 32000) + b"\0"
    n = len(items)
    tab = struct.pack("<ii", n, len(txt))
    tab += b"".join(struct.pack("<i", o) for o in offs)
    tab += b"".join(struct.pack("<i", v) for v, _ in items)
    tab += bytes(txt)
    return b"<lbl>" + struct.pack("<i", len(tab)) + _fixed(name, 129) + b"\0\0\0" + tab + b"</lbl>"


def _label_items(name: str, table: dict[float, str]) -> list[tuple[int, str]]:
    """Labels on .a-.z are stored at Stata's long missing codes (2147483621 + code).

    A value outside Stata's range cannot be stored; `label define` refuses those, this check
    keeps any other path from producing an unreadable file (checked before the file opens).
    """
    out = []
    for v, t in table.items():
        if np.isnan(v):
            out.append((2147483621 + int(missing_code(np.array([v]))[0]), t))
        elif LABEL_MIN <= v <= LABEL_MAX:
            out.append((int(v), t))
        else:
            raise StataError(f"value label {name}: may not label {v:.0f}", 198)
    return sorted(out)


__all__ = ["read_dta", "write_dta", "read_characteristics", "ext_missing", "cut_utf8", "STR_MAX", "LABEL_MIN",
           "LABEL_MAX"]
