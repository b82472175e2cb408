"""import excel / export excel (.xlsx through openpyxl, imported only when used; legacy .xls
through data/xls_biff.py, which mirrors the openpyxl calls made here).

Reading: cells become numeric columns (integers in the smallest integer type, others double,
Excel dates %td, date-times %tc) or string columns when any cell is text. Writing: numbers,
value labels as text (unless nolabel), %td/%tc variables as Excel dates, missing as empty
cells; the file is written to a temporary file and renamed over the target.
"""
from __future__ import annotations

import datetime as _dt
import re

import numpy as np

from hlmshell.data.dataset import INT_LIMITS, Dataset, Variable
from hlmshell.errors import StataError

_EPOCH = _dt.datetime(1960, 1, 1)
_CELL = re.compile(r"^([A-Za-z]{1,3})([0-9]+)$")


def _openpyxl():
    try:
        import openpyxl
    except ImportError:
        raise StataError("import/export excel needs the Python package openpyxl "
                         "(pip install openpyxl)", 198) from None
    return openpyxl


def is_xls_name(path) -> bool:
    return str(path).lower().endswith(".xls")


def _is_xls_file(path) -> bool:
    """A compound-file signature: a legacy .xls workbook, whatever the file is called."""
    from hlmshell.data.cfb import is_cfb
    try:
        with open(path, "rb") as fh:
            return is_cfb(fh.read(8))
    except OSError:
        return False


def workbook_module(path, *, reading: bool):
    """openpyxl for .xlsx, data.xls_biff for .xls: chosen by the file's signature when
    reading, by its name when writing a new file."""
    if (_is_xls_file(path) if reading else is_xls_name(path)):
        from hlmshell.data import xls_biff
        return xls_biff
    return _openpyxl()


def load_any(path, shown, **kw):
    """The workbook at path, either format; r(603) when it cannot be read."""
    xl = workbook_module(path, reading=True)
    try:
        return xl.load_workbook(path, **kw)
    except Exception as exc:  # noqa: BLE001 - a corrupt file or neither format
        raise StataError(f"file {shown} could not be read as an Excel workbook "
                         f"({type(exc).__name__})", 603) from None


def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def col_letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def parse_cell(text: str) -> tuple[int, int]:
    """`B3` -> (row 3, column 2); r(198) otherwise."""
    m = _CELL.match(text.strip())
    if not m:
        raise StataError(f"{text}: invalid cell name", 198)
    return int(m.group(2)), col_number(m.group(1))


def parse_range(text: str | None) -> tuple[int, int, int | None, int | None]:
    """cellrange([start][:end]) -> (first row, first col, last row, last col) (None: to the end)."""
    if not text:
        return 1, 1, None, None
    start, _, end = text.strip().strip('"').partition(":")
    r0, c0 = parse_cell(start) if start else (1, 1)
    r1, c1 = parse_cell(end) if end else (None, None)
    return r0, c0, r1, c1


# ----------------------------------------------------------------------------- reading
def read_sheet(path, sheet: str | None, cellrange: str | None) -> tuple[list[list], int]:
    """(the cell values of the sheet (first sheet by default) within cellrange, its first
    column number)."""
    wb = load_any(path, path, read_only=True, data_only=True)
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise StataError(f"worksheet {sheet} not found", 601)
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        r0, c0, r1, c1 = parse_range(cellrange)
        rows = [list(r) for r in ws.iter_rows(min_row=r0, max_row=r1, min_col=c0, max_col=c1,
                                              values_only=True)]
    finally:
        wb.close()
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    width = max((max((j + 1 for j, v in enumerate(r) if v is not None), default=0) for r in rows), default=0)
    return [(r + [None] * width)[:width] for r in rows], c0


def _excel_name(raw, j: int, c0: int, used: set, case: str) -> str:
    text = "" if raw is None else str(raw).strip()
    nm = re.sub(r"\W", "", text)
    if case == "lower":
        nm = nm.lower()
    elif case == "upper":
        nm = nm.upper()
    if not nm or nm[0].isdigit():
        nm = col_letters(c0 + j)
    nm = nm[:32]
    base, k = nm, 1
    while nm in used:
        k += 1
        nm = f"{base[:30]}{k}"
    used.add(nm)
    return nm


def _column(cells: list, allstring: bool) -> tuple[str, np.ndarray, str]:
    """(storage type, values, display format or "") of one column's cells."""
    present = [c for c in cells if c is not None and not (isinstance(c, str) and c == "")]
    if allstring or any(isinstance(c, str) for c in present):
        return _string_column(cells)
    if present and all(isinstance(c, (_dt.datetime, _dt.date)) for c in present):
        return _time_column(cells, present)
    vals = np.array([np.nan if c is None else float(c) for c in cells], dtype=float)
    return _numeric_type(vals), vals, ""


def _string_column(cells: list) -> tuple[str, np.ndarray, str]:
    vals = np.array(["" if c is None else _as_text(c) for c in cells], dtype=object)
    width = max((len(s.encode("utf-8")) for s in vals), default=1)
    return (f"str{max(1, width)}" if width <= 2045 else "strL"), vals, ""


def _time_column(cells: list, present: list) -> tuple[str, np.ndarray, str]:
    """Excel dates: %td days (long); with times of day, %tc milliseconds (double)."""
    with_time = any(isinstance(c, _dt.datetime) and c.time() != _dt.time(0) for c in present)
    vals = np.array([np.nan if c is None else _stata_time(c, with_time) for c in cells])
    return ("double", vals, "%tc") if with_time else ("long", vals, "%td")


def _numeric_type(vals: np.ndarray) -> str:
    """Integers in the smallest integer type that holds them, other numbers double."""
    ok = vals[~np.isnan(vals)]
    if ok.size == 0:
        return "byte"
    if np.all(ok == np.round(ok)):
        for t in ("byte", "int", "long"):
            lo, hi = INT_LIMITS[t]
            if ok.min() >= lo and ok.max() <= hi:
                return t
    return "double"


def _as_text(c) -> str:
    if isinstance(c, float) and c.is_integer():
        return str(int(c))
    if isinstance(c, _dt.datetime):
        return c.strftime("%d%b%Y").lower() if c.time() == _dt.time(0) else str(c)
    return str(c)


def _stata_time(c, with_time: bool) -> float:
    if not isinstance(c, _dt.datetime):
        c = _dt.datetime(c.year, c.month, c.day)
    delta = c - _EPOCH
    if with_time:
        return delta.days * 86400000.0 + delta.seconds * 1000.0 + delta.microseconds // 1000
    return float(delta.days)


def excel_dataset(rows: list[list], c0: int, firstrow: bool, case: str, allstring: bool) -> Dataset:
    head = rows[0] if firstrow and rows else []
    data = rows[1:] if firstrow else rows
    k = len(rows[0]) if rows else 0
    ds = Dataset()
    used: set[str] = set()
    for j in range(k):
        raw = head[j] if j < len(head) else None
        name = _excel_name(raw if firstrow else None, j, c0, used, case)
        vtype, vals, fmt = _column([r[j] for r in data], allstring)
        label = str(raw).strip() if firstrow and raw is not None and str(raw).strip() != name else ""
        ds.vars[name] = Variable(name, vals, vtype, fmt, label=label)
    ds._n = len(data)
    ds.changed = False
    return ds


# ----------------------------------------------------------------------------- writing
def _cell_value(ds, v, x, nolabel: bool):
    if v.is_string:
        return x if x != "" else None
    if np.isnan(x):
        return None
    if not nolabel and v.vallab and v.vallab in ds.value_labels:
        lab = ds.value_labels[v.vallab].get(float(x))
        if lab is not None:
            return lab
    f = v.format or ""
    if f.startswith("%td") or f.startswith("%d"):
        try:
            return (_EPOCH + _dt.timedelta(days=float(x))).date()
        except OverflowError:
            return float(x)
    if f.startswith("%tc") or f.startswith("%tC"):
        try:
            return _EPOCH + _dt.timedelta(milliseconds=float(x))
        except OverflowError:
            return float(x)
    fx = float(x)
    return int(fx) if fx.is_integer() and abs(fx) < 2 ** 53 else fx


def write_sheet(path, exists: bool, ds, names, idx, *, sheet: str, mode: str, firstrow: str | None,
                cell: str | None, nolabel: bool, shown: str) -> None:
    """Write the cells and save the workbook atomically. mode: new (a new workbook),
    sheetreplace (replace that sheet of the existing workbook), sheetmodify (write into it)."""
    from hlmshell.data.atomic import atomic_write

    if mode == "new":
        wb = workbook_module(path, reading=False).Workbook()
        ws = wb.active
        ws.title = sheet
    else:
        wb = load_any(path, shown)
        if sheet in wb.sheetnames and mode == "sheetreplace":
            pos = wb.sheetnames.index(sheet)
            del wb[sheet]
            ws = wb.create_sheet(sheet, pos)
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            ws = wb.create_sheet(sheet)
    r0, c0 = parse_cell(cell) if cell else (1, 1)
    r = r0
    if firstrow:
        for j, nm in enumerate(names):
            v = ds.var(nm)
            ws.cell(row=r, column=c0 + j, value=(v.label or nm) if firstrow == "varlabels" else nm)
        r += 1
    for i in idx:
        for j, nm in enumerate(names):
            v = ds.var(nm)
            val = _cell_value(ds, v, v.values[i], nolabel)
            if val is None:
                continue
            c = ws.cell(row=r, column=c0 + j, value=val)
            if isinstance(val, _dt.datetime):
                c.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(val, _dt.date):
                c.number_format = "yyyy-mm-dd"
        r += 1
    from hlmshell.data.xls_biff import XlsError

    try:
        with atomic_write(path, shown=shown) as fh:
            wb.save(fh)
    except XlsError as exc:
        raise StataError(f"{shown}: {exc}", 198) from None
