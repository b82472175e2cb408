"""Legacy Excel workbooks (.xls, BIFF8 inside a compound file): read cell values, and write a
workbook of values with simple formatting.

Stata's `import excel`, `export excel` and `putexcel` all take .xls as well as .xlsx, and much
public course data is still distributed as .xls. openpyxl handles only .xlsx, so this module
covers the records .xls needs:

- reading: the shared strings (SST with its CONTINUE records), LABELSST/LABEL/RSTRING, NUMBER,
  RK/MULRK, BOOLERR, FORMULA's cached result (and its STRING record), the XF and FORMAT records
  that tell dates from numbers, and DATEMODE (1900 or 1904 dates). BIFF5 and older files are
  refused (`XlsError`).
- writing: FONT/FORMAT/XF records for bold, italic, underline, number formats, horizontal
  alignment and wrapping; SST strings; NUMBER and BOOLERR cells; dates as numbers with a date
  format. Formulas are not written (they would need Excel's parsed-token form).

The workbook model (`Workbook`, `Sheet`, `Cell`) mirrors the few openpyxl calls hlmshell's
Excel commands make, so the command code is the same for both formats.
"""
from __future__ import annotations

import datetime as _dt
import re
import struct

from hlmshell.data.cfb import CfbError, read_stream, write_single_stream


class XlsError(ValueError):
    """Not a BIFF8 workbook this module can read."""


# ----------------------------------------------------------------------------- the model
class Style:
    """Font and alignment attributes of a cell, set the way openpyxl's Font/Alignment are."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


class Cell:
    def __init__(self, value=None):
        self.value = value
        self.number_format = "General"
        self.font = None                    # Style(bold=, italic=, underline=)
        self.alignment = None               # Style(horizontal=, wrap_text=)


class Sheet:
    def __init__(self, title: str):
        self.title = title
        self.cells: dict[tuple[int, int], Cell] = {}

    def cell(self, row: int, column: int, value=None) -> Cell:
        c = self.cells.get((row, column))
        if c is None:
            c = self.cells[(row, column)] = Cell()
        if value is not None:
            c.value = value
        return c

    def iter_rows(self, min_row=1, max_row=None, min_col=1, max_col=None, values_only=True):
        if not self.cells:
            return
        last_r = max(r for r, _ in self.cells) if max_row is None else max_row
        last_c = max(c for _, c in self.cells) if max_col is None else max_col
        for r in range(min_row, last_r + 1):
            yield tuple(self.cells[(r, c)].value if (r, c) in self.cells else None
                        for c in range(min_col, last_c + 1))


class Workbook:
    def __init__(self):
        self.worksheets: list[Sheet] = [Sheet("Sheet1")]

    @property
    def active(self) -> Sheet:
        return self.worksheets[0]

    @property
    def sheetnames(self) -> list[str]:
        return [s.title for s in self.worksheets]

    def __getitem__(self, name: str) -> Sheet:
        for s in self.worksheets:
            if s.title == name:
                return s
        raise KeyError(name)

    def __delitem__(self, name: str) -> None:
        self.worksheets = [s for s in self.worksheets if s.title != name]

    def create_sheet(self, title: str, index: int | None = None) -> Sheet:
        s = Sheet(title)
        self.worksheets.insert(len(self.worksheets) if index is None else index, s)
        return s

    def close(self) -> None:
        pass

    def save(self, fh) -> None:
        fh.write(write_single_stream("Workbook", _Writer(self).stream()))


def load_workbook(path, read_only: bool = False, data_only: bool = True) -> Workbook:
    """The cell values of an .xls file (dates as datetime). XlsError when it is not BIFF8."""
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        stream = read_stream(data, ("Workbook", "Book"))
    except CfbError as exc:
        raise XlsError(str(exc)) from None
    try:
        return _Reader(stream).workbook()
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise XlsError(f"damaged workbook ({type(exc).__name__})") from None


# ----------------------------------------------------------------------------- reading
_BUILTIN_DATE_FORMATS = set(range(14, 23)) | set(range(27, 37)) | {45, 46, 47} | set(range(50, 59))
_BUILTIN_FORMATS = {1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%",
                    11: "0.00E+00", 14: "m/d/yy", 22: "m/d/yy h:mm", 49: "@"}
_STRIP_FMT = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def _is_date_format(code: str) -> bool:
    text = _STRIP_FMT.sub("", code).lower()
    if "general" in text:
        return False
    return any(ch in text for ch in "dmyhs")


def _rk(v: int) -> float:
    if v & 2:
        x = float(v >> 2 if v < 0x80000000 else (v >> 2) - (1 << 30))
    else:
        x = struct.unpack("<d", struct.pack("<Q", (v & 0xFFFFFFFC) << 32))[0]
    return x / 100 if v & 1 else x


class _Chunks:
    """Record data spread over a record and its CONTINUE records: strings that cross a
    boundary restart with a new option byte (compressed or UTF-16 characters)."""

    def __init__(self, parts: list[bytes]):
        self.parts, self.k, self.pos = parts, 0, 0

    def _ensure(self) -> None:
        while self.pos >= len(self.parts[self.k]) and self.k + 1 < len(self.parts):
            self.k, self.pos = self.k + 1, 0

    def take(self, n: int) -> bytes:
        out = b""
        while n > 0:
            self._ensure()
            part = self.parts[self.k]
            got = part[self.pos:self.pos + n]
            if not got:
                raise IndexError("record data ended")
            out += got
            self.pos += len(got)
            n -= len(got)
        return out

    def string(self) -> str:
        cch, = struct.unpack("<H", self.take(2))
        flags = self.take(1)[0]
        runs = struct.unpack("<H", self.take(2))[0] if flags & 8 else 0
        ext = struct.unpack("<I", self.take(4))[0] if flags & 4 else 0
        chars, wide = [], flags & 1
        while cch > 0:
            avail = len(self.parts[self.k]) - self.pos
            if avail <= 0:                   # continued in the next record, which starts
                if self.k + 1 >= len(self.parts):     # with the characters' option byte
                    raise IndexError("string ended")
                self.k, self.pos = self.k + 1, 0
                wide = self.take(1)[0] & 1
                continue
            n = min(cch, avail // 2 if wide else avail)
            if n == 0:                       # a boundary inside a UTF-16 character
                raise IndexError("bad split")
            raw = self.take(n * 2 if wide else n)
            chars.append(raw.decode("utf-16-le") if wide else raw.decode("latin-1"))
            cch -= n
        self.take(4 * runs + ext)
        return "".join(chars)


def _short_string(data: bytes, off: int, wide_len: bool = False) -> tuple[str, int]:
    """An unformatted XLUnicodeString (1- or 2-byte length) at off -> (text, next offset)."""
    if wide_len:
        cch, = struct.unpack_from("<H", data, off)
        off += 2
    else:
        cch = data[off]
        off += 1
    flags = data[off]
    off += 1
    runs = ext = 0
    if flags & 8:
        runs, = struct.unpack_from("<H", data, off)
        off += 2
    if flags & 4:
        ext, = struct.unpack_from("<I", data, off)
        off += 4
    if flags & 1:
        text = data[off:off + 2 * cch].decode("utf-16-le")
        off += 2 * cch
    else:
        text = data[off:off + cch].decode("latin-1")
        off += cch
    return text, off + 4 * runs + ext


class _Reader:
    def __init__(self, stream: bytes):
        self.s = stream
        self.sst: list[str] = []
        self.formats: dict[int, str] = {}
        self.xf_fmt: list[int] = []
        self.xf_style: list[tuple[int, int, int]] = []      # (font, halign, wrap)
        self.fonts: list[tuple[bool, bool, bool]] = []
        self.datemode = 0

    def records(self, pos: int):
        s = self.s
        while pos + 4 <= len(s):
            rtype, length = struct.unpack_from("<HH", s, pos)
            yield pos, rtype, s[pos + 4:pos + 4 + length]
            pos += 4 + length

    def workbook(self) -> Workbook:
        it = self.records(0)
        _, rtype, data = next(it, (0, 0, b""))
        if rtype != 0x0809 or struct.unpack_from("<H", data, 0)[0] != 0x0600:
            raise XlsError("not a BIFF8 (Excel 97-2003) workbook")
        sheets = self._globals(it)
        wb = Workbook()
        wb.worksheets = []
        for name, offset in sheets:
            wb.worksheets.append(self._sheet(name, offset))
        if not wb.worksheets:
            raise XlsError("no worksheets")
        return wb

    def _globals(self, it) -> list[tuple[str, int]]:
        sheets = []
        sst_parts: list[bytes] | None = None
        for _, rtype, data in it:
            if sst_parts is not None and rtype != 0x003C:
                self._read_sst(sst_parts)
                sst_parts = None
            if rtype == 0x000A:                          # EOF of the globals
                break
            if rtype == 0x0085 and data[5] == 0:         # BOUNDSHEET of a worksheet
                name, _ = _short_string(data, 6)
                sheets.append((name, struct.unpack_from("<I", data, 0)[0]))
            elif rtype == 0x00FC:
                sst_parts = [data]
            elif rtype == 0x003C and sst_parts is not None:
                sst_parts.append(data)
            elif rtype == 0x041E:
                idx, = struct.unpack_from("<H", data, 0)
                self.formats[idx] = _short_string(data, 2, wide_len=True)[0]
            elif rtype == 0x00E0:
                font, fmt = struct.unpack_from("<HH", data, 0)
                self.xf_fmt.append(fmt)
                self.xf_style.append((font, data[6] & 7, data[6] & 8))
            elif rtype == 0x0031:
                if len(self.fonts) == 4:                 # font index 4 does not exist
                    self.fonts.append((False, False, False))
                grbit, weight = struct.unpack_from("<HxxH", data, 2)
                self.fonts.append((weight >= 700, bool(grbit & 2), data[10] != 0))
            elif rtype == 0x0022:
                self.datemode = struct.unpack_from("<H", data, 0)[0]
        return sheets

    def _read_sst(self, parts: list[bytes]) -> None:
        ch = _Chunks(parts)
        _, unique = struct.unpack("<II", ch.take(8))
        self.sst = [ch.string() for _ in range(unique)]

    def _is_date(self, xf: int) -> bool:
        if xf >= len(self.xf_fmt):
            return False
        f = self.xf_fmt[xf]
        if f in self.formats:
            return _is_date_format(self.formats[f])
        return f in _BUILTIN_DATE_FORMATS

    def _number(self, xf: int, x: float):
        if not self._is_date(xf):
            return x
        if self.datemode:
            base = _dt.datetime(1904, 1, 1)
        else:
            base = _dt.datetime(1899, 12, 30) + _dt.timedelta(days=1 if x < 60 else 0)
        try:
            return base + _dt.timedelta(milliseconds=round(x * 86400000))
        except OverflowError:
            return x

    def _sheet(self, name: str, offset: int) -> Sheet:
        sh = Sheet(name)
        pending = None                                   # a FORMULA whose text follows
        for _, rtype, d in self.records(offset):
            if rtype == 0x000A:
                break
            if rtype == 0x0207 and pending is not None:  # STRING: a formula's text result
                sh.cell(*pending).value = _short_string(d, 0, wide_len=True)[0]
                pending = None
                continue
            pending = None
            pending = self._cell_record(sh, rtype, d)
        return sh

    def _styled(self, sh: Sheet, r: int, c: int, xf: int) -> Cell:
        """The cell, with the formatting its XF gives (kept when a workbook is modified)."""
        cell = sh.cell(r, c)
        if xf < len(self.xf_style):
            font, halign, wrap = self.xf_style[xf]
            if 0 < font < len(self.fonts) and any(self.fonts[font]):
                b, i, u = self.fonts[font]
                cell.font = Style(bold=b, italic=i, underline="single" if u else None)
            if halign or wrap:
                name = next((k for k, v in _HALIGN.items() if v == halign and k), None)
                cell.alignment = Style(horizontal=name, wrap_text=bool(wrap))
            code = self.formats.get(self.xf_fmt[xf]) or _BUILTIN_FORMATS.get(self.xf_fmt[xf])
            if code:
                cell.number_format = code
        return cell

    def _cell_record(self, sh: Sheet, rtype: int, d: bytes):
        if rtype not in (0x0203, 0x027E, 0x00BD, 0x00FD, 0x0204, 0x00D6, 0x0205, 0x0006):
            return None
        r, c, xf = struct.unpack_from("<HHH", d, 0)
        r, c = r + 1, c + 1
        if rtype != 0x00BD:
            self._styled(sh, r, c, xf)
        if rtype == 0x0203:
            sh.cell(r, c).value = self._number(xf, struct.unpack_from("<d", d, 6)[0])
        elif rtype == 0x027E:
            sh.cell(r, c).value = self._number(xf, _rk(struct.unpack_from("<I", d, 6)[0]))
        elif rtype == 0x00BD:
            n = (len(d) - 6) // 6
            for k in range(n):
                xfk, rk = struct.unpack_from("<HI", d, 4 + 6 * k)
                self._styled(sh, r, c + k, xfk).value = self._number(xfk, _rk(rk))
        elif rtype == 0x00FD:
            i, = struct.unpack_from("<I", d, 6)
            sh.cell(r, c).value = self.sst[i] if i < len(self.sst) else None
        elif rtype in (0x0204, 0x00D6):
            sh.cell(r, c).value = _short_string(d, 6, wide_len=True)[0]
        elif rtype == 0x0205:
            val, is_err = d[6], d[7]
            sh.cell(r, c).value = None if is_err else bool(val)
        else:
            return self._formula(sh, r, c, xf, d)
        return None

    def _formula(self, sh: Sheet, r: int, c: int, xf: int, d: bytes):
        res = d[6:14]
        if res[6:8] != b"\xff\xff":
            sh.cell(r, c).value = self._number(xf, struct.unpack("<d", res)[0])
            return None
        kind = res[0]
        if kind == 0:
            return (r, c)                                # the text comes in a STRING record
        if kind == 1:
            sh.cell(r, c).value = bool(res[2])
        elif kind == 3:
            sh.cell(r, c).value = ""
        return None


# ----------------------------------------------------------------------------- writing
def _rec(rtype: int, data: bytes) -> bytes:
    return struct.pack("<HH", rtype, len(data)) + data


def _ustr(text: str, wide_len: bool = True) -> bytes:
    enc = text.encode("utf-16-le")
    n = len(text.encode("utf-16-le")) // 2
    return (struct.pack("<H", n) if wide_len else struct.pack("<B", min(n, 255))) + b"\x01" + enc


_DEFAULT_XF = 15
_EXCEL_EPOCH = _dt.datetime(1899, 12, 30)
_DATE_FMT = "yyyy-mm-dd"
_DATETIME_FMT = "yyyy-mm-dd hh:mm:ss"
_HALIGN = {None: 0, "general": 0, "left": 1, "center": 2, "right": 3, "fill": 4,
           "justify": 5, "centerContinuous": 6, "distributed": 7}


class _Writer:
    """BIFF8 records of a Workbook: globals (fonts, formats, XFs, sheets, shared strings) then
    one substream per sheet."""

    def __init__(self, wb: Workbook):
        self.wb = wb
        self.fonts: list[tuple[bool, bool, bool]] = []
        self.formats: dict[str, int] = {}
        self.xfs: list[tuple[int, int, int, bool]] = []
        self.xf_index: dict[tuple, int] = {}
        self.sst: dict[str, int] = {}
        self.n_strings = 0

    # -- styles
    def _font(self, cell: Cell) -> int:
        f = cell.font
        key = (bool(getattr(f, "bold", False)), bool(getattr(f, "italic", False)),
               bool(getattr(f, "underline", None)))
        if key == (False, False, False):
            return 0
        if key not in self.fonts:
            self.fonts.append(key)
        return 5 + self.fonts.index(key)                 # fonts 0-3, then 5...: 4 is skipped

    def _format(self, cell: Cell) -> int:
        code = cell.number_format or "General"
        if isinstance(cell.value, _dt.datetime) and code == "General":
            code = _DATETIME_FMT
        elif isinstance(cell.value, _dt.date) and code == "General":
            code = _DATE_FMT
        if code == "General":
            return 0
        if code not in self.formats:
            self.formats[code] = 164 + len(self.formats)
        return self.formats[code]

    def _xf(self, cell: Cell) -> int:
        a = cell.alignment
        key = (self._font(cell), self._format(cell),
               _HALIGN.get(getattr(a, "horizontal", None), 0), bool(getattr(a, "wrap_text", False)))
        if key == (0, 0, 0, False):
            return _DEFAULT_XF
        if key not in self.xf_index:
            self.xf_index[key] = 16 + len(self.xfs)
            self.xfs.append(key)
        return self.xf_index[key]

    def _string(self, text: str) -> int:
        self.n_strings += 1
        if text not in self.sst:
            self.sst[text] = len(self.sst)
        return self.sst[text]

    # -- cells
    def _cell(self, r: int, c: int, cell: Cell) -> bytes:
        v = cell.value
        xf = self._xf(cell)
        head = struct.pack("<HHH", r - 1, c - 1, xf)
        if isinstance(v, bool):
            return _rec(0x0205, head + bytes([int(v), 0]))
        if isinstance(v, (_dt.datetime, _dt.date)):
            if not isinstance(v, _dt.datetime):
                v = _dt.datetime(v.year, v.month, v.day)
            serial = (v - _EXCEL_EPOCH) / _dt.timedelta(days=1)
            return _rec(0x0203, head + struct.pack("<d", serial))
        if isinstance(v, (int, float)):
            return _rec(0x0203, head + struct.pack("<d", float(v)))
        return _rec(0x00FD, head + struct.pack("<I", self._string(str(v))))

    def _sheet_stream(self, sh: Sheet, first: bool) -> bytes:
        cells = {k: c for k, c in sh.cells.items() if c.value is not None}
        if any(r > 65536 or c > 256 for r, c in cells):
            raise XlsError("an .xls worksheet holds at most 65,536 rows and 256 columns")
        rows = sorted({r for r, _ in cells})
        last_r = max(rows, default=0)
        last_c = max((c for _, c in cells), default=0)
        out = [_rec(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 6)),
               _rec(0x0200, struct.pack("<IIHHH", 0, last_r, 0, last_c, 0))]
        for r in rows:
            cols = [c for (rr, c) in cells if rr == r]
            out.append(_rec(0x0208, struct.pack("<HHHHHHI", r - 1, min(cols) - 1, max(cols),
                                                0x00FF, 0, 0, 0x000F0100)))
        for (r, c) in sorted(cells):
            out.append(self._cell(r, c, cells[(r, c)]))
        grbit = 0x06B6 if first else 0x02B6
        out.append(_rec(0x023E, struct.pack("<HHHHHHHI", grbit, 0, 0, 0x40, 0, 0, 0, 0)))
        out.append(_rec(0x000A, b""))
        return b"".join(out)

    # -- globals
    def _font_records(self) -> bytes:
        def font(bold: bool, italic: bool, underline: bool) -> bytes:
            grbit = (1 if bold else 0) | (2 if italic else 0) | (4 if underline else 0)
            return _rec(0x0031, struct.pack("<HHHHHBBBB", 200, grbit, 0x7FFF,
                                            700 if bold else 400, 0, 1 if underline else 0,
                                            0, 0, 0) + _ustr("Arial", wide_len=False))
        base = [font(False, False, False)] * 4
        return b"".join(base + [font(*k) for k in self.fonts])

    def _xf_records(self) -> bytes:
        def xf(font: int, fmt: int, style: bool, halign: int = 0, wrap: bool = False) -> bytes:
            flags = 0xFFF5 if style else 0x0001
            alc = halign | (0x08 if wrap else 0) | 0x20
            used = 0xF4 if style else 0xFC
            return _rec(0x00E0, struct.pack("<HHHBBBBIIH", font, fmt, flags, alc, 0, 0, used,
                                            0, 0, 0x20C0))
        recs = [xf(0, 0, True)] + [xf(1 if k < 3 else 0, 0, True) for k in range(14)]
        recs.append(xf(0, 0, False))
        recs += [xf(f, m, False, h, w) for (f, m, h, w) in self.xfs]
        return b"".join(recs)

    def _sst_records(self) -> bytes:
        """SST and its CONTINUE records (8,224 data bytes each); a string that crosses a
        boundary continues with its option byte repeated."""
        limit = 8224
        recs, cur = [], bytearray(struct.pack("<II", self.n_strings, len(self.sst)))
        rtype = 0x00FC
        for text in self.sst:
            enc = text.encode("utf-16-le")
            header = struct.pack("<HB", len(enc) // 2, 1)
            if len(cur) + len(header) + 2 > limit:
                recs.append(_rec(rtype, bytes(cur)))
                cur, rtype = bytearray(), 0x003C
            cur += header
            while enc:
                room = (limit - len(cur)) // 2 * 2
                cur += enc[:room]
                enc = enc[room:]
                if enc:
                    recs.append(_rec(rtype, bytes(cur)))
                    cur, rtype = bytearray(b"\x01"), 0x003C
        recs.append(_rec(rtype, bytes(cur)))
        return b"".join(recs)

    def stream(self) -> bytes:
        if not self.wb.worksheets:
            raise XlsError("a workbook needs a worksheet")
        subs = [self._sheet_stream(sh, k == 0) for k, sh in enumerate(self.wb.worksheets)]
        head = [_rec(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 6)),
                _rec(0x0042, struct.pack("<H", 1200)),
                _rec(0x003D, struct.pack("<HHHHHHHHH", 0, 0, 0x3000, 0x2000, 0x0038, 0, 0, 1,
                                         0x0258)),
                _rec(0x0022, struct.pack("<H", 0)),
                self._font_records()]
        head += [_rec(0x041E, struct.pack("<H", idx) + _ustr(code))
                 for code, idx in self.formats.items()]
        head += [self._xf_records(), _rec(0x0293, struct.pack("<HBB", 0x8000, 0, 0xFF))]
        tail = [self._sst_records(), _rec(0x000A, b"")]
        names = [sh.title for sh in self.wb.worksheets]
        bound_len = sum(4 + 6 + len(_ustr(n, wide_len=False)) for n in names)
        pos = len(b"".join(head)) + bound_len + len(b"".join(tail))
        bounds = []
        for n, sub in zip(names, subs):
            bounds.append(_rec(0x0085, struct.pack("<IBB", pos, 0, 0) + _ustr(n, wide_len=False)))
            pos += len(sub)
        return b"".join(head + bounds + tail + subs)
