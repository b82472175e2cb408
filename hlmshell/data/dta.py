"""Stata .dta files <-> Dataset.

Reading goes through pandas' StataReader (every format 104-119) with missing-value conversion
on, so .a-.z arrive as StataMissingValue objects and are mapped to the NaN payload codes of
missing.py. Writing is done here, in format 118, because pandas' writer cannot keep what Stata
users rely on: byte/int/long storage with missing values (pandas promotes them to double),
extended missing values, and the sort order.
"""
from __future__ import annotations

import datetime as _dt
import struct
from pathlib import Path

import numpy as np

from hlmshell.data.dataset import Dataset, Variable
from hlmshell.data.missing import ext_missing, missing_code, parse_missing
from hlmshell.errors import StataError

_PD_TYPES = {"b": "byte", "h": "int", "l": "long", "f": "float", "d": "double", "Q": "strL"}


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


def read_dta(path: str | Path) -> Dataset:
    import pandas as pd

    try:
        reader = pd.io.stata.StataReader(str(path), convert_categoricals=False,
                                         convert_missing=True, convert_dates=False)
        with reader:
            df = reader.read(convert_categoricals=False, convert_missing=True,
                             convert_dates=False, preserve_dtypes=True)
            varlabels = reader.variable_labels()
            vallabs = reader.value_labels()
            typlist = list(reader._typlist)
            fmtlist = list(reader._fmtlist)
            lbllist = list(reader._lbllist)
            srt = list(getattr(reader, "_srtlist", []) or [])
            data_label = reader.data_label or ""
    except (ValueError, OSError, struct.error, KeyError) as exc:
        raise StataError(f"file {Path(path).name} not Stata format", 610) from exc

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
_INT_MISS = {"byte": ("<i1", 101), "int": ("<i2", 32741), "long": ("<i4", 2147483621)}


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


def _fixed(text: str, width: int) -> bytes:
    b = text.encode("utf-8")[: width - 1]
    return b + b"\0" * (width - len(b))


def _str_width(var: Variable) -> int:
    if var.vtype.startswith("str") and var.vtype[3:].isdigit():
        w = int(var.vtype[3:])
    else:
        w = 1
    longest = max((len(s.encode("utf-8")) for s in var.values), default=1)
    return max(1, min(2045, max(w, longest)))


def write_dta(ds: Dataset, path: str | Path) -> None:
    """Write a Stata 14+ (format 118) file."""
    names = ds.names
    k, n = len(names), ds.n
    if k > 32767:
        raise StataError("too many variables", 900)
    head = bytearray()
    head += b"<stata_dta><header><release>118</release><byteorder>LSF</byteorder>"
    head += b"<K>" + struct.pack("<H", k) + b"</K>"
    head += b"<N>" + struct.pack("<Q", n) + b"</N>"
    lab = ds.label.encode("utf-8")[:320]
    head += b"<label>" + struct.pack("<H", len(lab)) + lab + b"</label>"
    ts = _dt.datetime.now().strftime("%d %b %Y %H:%M").encode()
    head += b"<timestamp>" + bytes([len(ts)]) + ts + b"</timestamp></header>"

    sections: list[tuple[str, bytes]] = []
    types, dtypes, cols = [], [], []
    for nm in names:
        v = ds.vars[nm]
        if v.is_string:
            w = _str_width(v)
            types.append(w)
            dtypes.append((nm, f"S{w}"))
            cols.append(np.array([s.encode("utf-8")[:w] for s in v.values], dtype=f"S{w}"))
        else:
            vt = v.vtype if v.vtype in _TYPE_CODE else "double"
            types.append(_TYPE_CODE[vt])
            col = _numeric_bytes(v.values, vt)
            dtypes.append((nm, col.dtype.str))
            cols.append(col)
    sections.append(("variable_types", b"".join(struct.pack("<H", t) for t in types)))
    sections.append(("varnames", b"".join(_fixed(nm, 129) for nm in names)))
    srt = [names.index(s) + 1 for s in ds.sortedby if s in names] + [0]
    srt += [0] * (k + 1 - len(srt))
    sections.append(("sortlist", b"".join(struct.pack("<H", s) for s in srt[: k + 1])))
    sections.append(("formats", b"".join(_fixed(ds.vars[nm].format, 57) for nm in names)))
    sections.append(("value_label_names",
                     b"".join(_fixed(ds.vars[nm].vallab or "", 129) for nm in names)))
    sections.append(("variable_labels", b"".join(_fixed(ds.vars[nm].label, 321) for nm in names)))
    sections.append(("characteristics", b""))
    if k and n:
        rec = np.empty(n, dtype=np.dtype(dtypes))
        for nm, col in zip(names, cols):
            rec[nm] = col
        data = rec.tobytes()
    else:
        data = b""
    sections.append(("data", data))
    sections.append(("strls", b""))
    sections.append(("value_labels", b"".join(_value_label_bytes(nm, tab)
                                              for nm, tab in ds.value_labels.items())))

    body = bytearray()
    offsets = {}
    map_len = len(b"<map>") + 14 * 8 + len(b"</map>")
    pos = len(head) + map_len
    for tag, content in sections:
        offsets[tag] = pos + len(body)
        body += b"<" + tag.encode() + b">" + content + b"</" + tag.encode() + b">"
    end_tag = pos + len(body)
    body += b"</stata_dta>"
    offs = [0, len(head)] + [offsets[t] for t, _ in sections] + [end_tag, pos + len(body)]
    mapb = b"<map>" + b"".join(struct.pack("<Q", o) for o in offs) + b"</map>"
    try:
        with open(path, "wb") as f:
            f.write(bytes(head) + mapb + bytes(body))
    except OSError as exc:
        raise StataError(f"file {path} could not be opened", 603) from exc


def _value_label_bytes(name: str, table: dict[float, str]) -> bytes:
    items = _label_items(table)
    offs, txt = [], bytearray()
    for _, t in items:
        offs.append(len(txt))
        txt += t.encode("utf-8")[:32000] + b"\0"
    n = len(items)
    tab = struct.pack("<ii", n, len(txt))
    tab += b"".join(struct.pack("<i", o) for o in offs)
    tab += b"".join(struct.pack("<i", v) for v, _ in items)
    tab += bytes(txt)
    return b"<lbl>" + struct.pack("<i", len(tab)) + _fixed(name, 129) + b"\0\0\0" + tab + b"</lbl>"


def _label_items(table: dict[float, str]) -> list[tuple[int, str]]:
    """Labels on .a-.z are stored at Stata's long missing codes (2147483621 + code)."""
    out = []
    for v, t in table.items():
        if np.isnan(v):
            out.append((2147483621 + int(missing_code(np.array([v]))[0]), t))
        else:
            out.append((int(v), t))
    return sorted(out)


__all__ = ["read_dta", "write_dta", "ext_missing"]
