"""putexcel: write expressions, strings and matrices into cells of an .xlsx or .xls workbook.

    putexcel set filename [, replace modify sheet(name[, replace]) open]
    putexcel cell = exp [cell = exp ...] [, bold italic underline nformat() hcenter
                                            halign() txtwrap]
    putexcel cell = matrix(name) [, names rownames colnames ...]
    putexcel cell = formula("...")
    putexcel save | clear | describe

As in Stata, every write goes to the file at once ("file x.xlsx saved"), unless `set ...,
open` keeps the workbook in memory until `putexcel save`. Each save writes a temporary file
and renames it over the target (data/atomic.py). .xls workbooks go through data/xls_biff.py:
values and the formatting options, but no formula() (BIFF stores formulas as parsed tokens,
which are not written). The target set by `putexcel set` lives in
session.putexcel (a PutexcelTarget, replaced, never changed in place).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace as _replace

import numpy as np

from hlmshell.commands._excel import is_xls_name, load_any, parse_cell, workbook_module
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import Sub, abbrev_match, command
from hlmshell.syntax.evaluate import evaluate_scalar
from hlmshell.syntax.functions import is_str
from hlmshell.syntax.lexer import find_top, matching_paren, strip_quotes, top_level_mask
from hlmshell.syntax.parser import parse_expr, parse_options

_ASSIGN = re.compile(r"([A-Za-z]{1,3}[0-9]+)\s*=(?!=)")
_RHS_FUNC = re.compile(r"(matrix|formula|image|etable|returnset)\s*(\(|$)", re.S)
_FORMAT_OPTS = ("bold", "italic", "underline", "hcenter", "txtwrap")


@dataclass(frozen=True)
class PutexcelTarget:
    path: str
    shown: str
    sheet: str = "Sheet1"
    mode: str = "new"            # new (refuse an existing file) | replace | modify
    sheet_replace: bool = False
    open: bool = False
    workbook: object = None      # the workbook kept in memory with `open`


def _target(session) -> PutexcelTarget:
    t = getattr(session, "putexcel", None)
    if t is None:
        raise StataError("putexcel set not specified; type putexcel set filename first", 198)
    return t


_SUBS = (Sub("set", "set", "choose the workbook and sheet",
             "replace modify sheet= open"),
         Sub("save", "save", "save a workbook kept open"),
         Sub("clear", "clear", "forget the workbook set"),
         Sub("describe", "describe", "show the workbook set"))


@command("putexcel", byable=False, raw=True, family="Files", changes_data=False,
         desc="write results to Excel cells", example='putexcel A1 = "Coefficient"',
         subcommands=_SUBS)
def putexcel_cmd(session, cmd):
    body = cmd.body.strip()
    word = body.split()[0].rstrip(",") if body.split() else ""
    spec = next((s for s in _SUBS if s.matches(word)), None)
    if spec is None:
        _write(session, body)
        return
    rest = body[len(word):].strip()
    {"set": _set, "save": _save, "clear": _clear, "describe": _describe}[spec.name](session, rest)


# ---- set / save / clear / describe -----------------------------------------------------------
def _set(session, rest: str) -> None:
    comma = find_top(rest, ",")
    name, opts = (rest, "") if comma < 0 else (rest[:comma], rest[comma + 1:])
    shown = strip_quotes(name.strip())
    if not shown:
        raise syntax_error()
    if not os.path.splitext(shown)[1]:
        shown += ".xlsx"
    if not shown.lower().endswith((".xlsx", ".xls")):
        raise StataError(f"{shown}: only .xlsx and .xls workbooks can be written", 198)
    target = PutexcelTarget(os.path.expanduser(shown), shown)
    for o in parse_options(opts):
        target = _set_option(target, o)
    if target.mode == "replace" and target.sheet_replace:
        raise StataError("options replace and sheet(, replace) may not be combined", 198)
    if target.open:
        target = _replace(target, workbook=_load(target))
    session.putexcel = target


def _set_option(t: PutexcelTarget, o) -> PutexcelTarget:
    if abbrev_match(o.name, "replace", 7) and o.arg is None:
        if t.mode == "modify":
            raise StataError("options replace and modify may not be combined", 198)
        return _replace(t, mode="replace")
    if abbrev_match(o.name, "modify", 6) and o.arg is None:
        if t.mode == "replace":
            raise StataError("options replace and modify may not be combined", 198)
        return _replace(t, mode="modify")
    if abbrev_match(o.name, "open", 4) and o.arg is None:
        return _replace(t, open=True)
    if abbrev_match(o.name, "sheet", 5) and o.arg is not None:
        name, _, sub = o.arg.partition(",")
        name = strip_quotes(name.strip())
        if not name or len(name) > 31 or re.search(r"[\\/*?:\[\]]", name):
            raise StataError(f"{name}: invalid sheet name", 198)
        if sub.strip() and not abbrev_match(sub.strip(), "replace", 7):
            raise syntax_error()
        return _replace(t, sheet=name, sheet_replace=bool(sub.strip()))
    raise StataError(f"option {o.name} not allowed", 198)


def _save(session, rest: str) -> None:
    if rest:
        raise syntax_error()
    t = _target(session)
    if not t.open:
        return
    _store(session, t, t.workbook)


def _clear(session, rest: str) -> None:
    if rest:
        raise syntax_error()
    session.putexcel = None


def _describe(session, rest: str) -> None:
    if rest:
        raise syntax_error()
    t = getattr(session, "putexcel", None)
    out = session.out
    line = "-" * 79
    out.line(line)
    if t is None:
        out.line("  File:       (not set)")
    else:
        out.line(f"  File:       {t.shown}")
        out.line(f"  Sheet:      {t.sheet}{', replace' if t.sheet_replace else ''}")
        out.line(f"  Mode:       {t.mode if t.mode != 'new' else 'create'}")
        out.line(f"  Open:       {'yes' if t.open else 'no'}")
    out.line(line)


# ---- the workbook ------------------------------------------------------------------------------
def _load(t: PutexcelTarget):
    exists = os.path.exists(t.path)
    if exists and t.mode == "new":
        raise StataError(f"file {t.shown} already exists", 602)
    if exists and t.mode == "modify":
        wb = load_any(t.path, t.shown)
    else:
        wb = workbook_module(t.path, reading=False).Workbook()
        wb.active.title = t.sheet
    if t.sheet_replace and t.sheet in wb.sheetnames:
        pos = wb.sheetnames.index(t.sheet)
        del wb[t.sheet]
        wb.create_sheet(t.sheet, pos)
    elif t.sheet not in wb.sheetnames:
        wb.create_sheet(t.sheet)
    return wb


def _store(session, t: PutexcelTarget, wb) -> None:
    from hlmshell.data.atomic import atomic_write

    from hlmshell.data.xls_biff import XlsError

    try:
        with atomic_write(t.path, shown=t.shown) as fh:
            wb.save(fh)
    except XlsError as exc:
        raise StataError(f"{t.shown}: {exc}", 198) from None
    session.out.line(f"file {t.shown} saved")
    # later writes add to what is there: the first one has replaced the file or sheet
    session.putexcel = _replace(t, mode="modify", sheet_replace=False,
                                workbook=wb if t.open else None)


# ---- cell = value --------------------------------------------------------------------------
def _write(session, text: str) -> None:
    t = _target(session)
    comma = find_top(text, ",")
    main, opts = (text, "") if comma < 0 else (text[:comma], text[comma + 1:])
    pairs = _assignments(main)
    fmt, matrix_names = _format_options(parse_options(opts))
    cells = []
    for cell, rhs in pairs:
        cells.extend(_cells(session, cell, rhs, matrix_names))
    wb = t.workbook if t.open else _load(t)
    ws = wb[t.sheet]
    for row, col, value, number_format in cells:
        c = ws.cell(row=row, column=col, value=value)
        if number_format:
            c.number_format = number_format
        _apply_format(c, fmt)
    if t.open:
        session.putexcel = _replace(t, workbook=wb)
    else:
        _store(session, t, wb)


def _assignments(main: str) -> list[tuple[str, str]]:
    """`A1 = exp B1 = (exp)` -> [('A1', 'exp'), ('B1', '(exp)')]: a pair starts at each
    top-level `cell =`."""
    mask = top_level_mask(main)
    starts = [m for m in _ASSIGN.finditer(main) if mask[m.start()]
              and (m.start() == 0 or main[m.start() - 1].isspace() or main[m.start() - 1] == ")")]
    if not starts or main[:starts[0].start()].strip():
        raise syntax_error()
    pairs = []
    for k, m in enumerate(starts):
        end = starts[k + 1].start() if k + 1 < len(starts) else len(main)
        rhs = main[m.end():end].strip()
        if not rhs:
            raise syntax_error()
        pairs.append((m.group(1).upper(), rhs))
    return pairs


def _format_options(options) -> tuple[dict, set]:
    fmt: dict = {}
    names: set = set()
    for o in options:
        full = next((f for f in _FORMAT_OPTS if o.name == f), None)
        if full and o.arg is None:
            fmt[full] = True
        elif o.name in ("names", "rownames", "colnames") and o.arg is None:
            names.add(o.name)
        elif abbrev_match(o.name, "nformat", 2) and o.arg:
            fmt["nformat"] = strip_quotes(o.arg)
        elif o.name == "halign" and o.arg and o.arg.strip() in ("left", "right", "center"):
            fmt["halign"] = o.arg.strip()
        else:
            raise StataError(f"option {o.name} not allowed", 198)
    return fmt, names


def _apply_format(cell, fmt: dict) -> None:
    if not fmt:
        return
    if type(cell).__module__ == "hlmshell.data.xls_biff":
        from hlmshell.data.xls_biff import Style as Alignment, Style as Font
    else:
        from openpyxl.styles import Alignment, Font

    if any(k in fmt for k in ("bold", "italic", "underline")):
        cell.font = Font(bold=fmt.get("bold", False), italic=fmt.get("italic", False),
                         underline="single" if fmt.get("underline") else None)
    if "nformat" in fmt:
        cell.number_format = fmt["nformat"]
    align = "center" if fmt.get("hcenter") else fmt.get("halign")
    if align or fmt.get("txtwrap"):
        cell.alignment = Alignment(horizontal=align, wrap_text=bool(fmt.get("txtwrap")))


def _cells(session, cell: str, rhs: str, matrix_names: set) -> list:
    row, col = parse_cell(cell)
    m = _RHS_FUNC.match(rhs)
    if m and m.group(1) in ("matrix", "formula"):
        close = matching_paren(rhs, m.end(2) - 1) if m.group(2) else -1
        if close < 0 or rhs[close + 1:].strip():
            raise syntax_error()
        inner = rhs[m.end(2):close].strip()
        if m.group(1) == "formula":
            if is_xls_name(_target(session).path):
                raise StataError("putexcel formula(): hlmshell writes formulas only to .xlsx "
                                 "workbooks", 198)
            f = strip_quotes(inner)
            return [(row, col, f if f.startswith("=") else "=" + f, None)]
        return _matrix_cells(session, inner, row, col, matrix_names)
    if m:
        raise StataError(f"putexcel {m.group(1)}: not available in hlmshell", 198)
    if matrix_names:
        raise StataError("option names not allowed", 198)
    value = evaluate_scalar(parse_expr(rhs), session)
    return [(row, col, _value(value), None)]


def _value(v):
    if is_str(v):
        return str(v)
    x = float(v)
    if np.isnan(x):
        return None                  # a missing value leaves the cell empty
    return int(x) if x.is_integer() and abs(x) < 2 ** 53 else x


def _matrix_cells(session, name: str, row: int, col: int, names: set) -> list:
    from hlmshell.commands.program import _get_matrix

    if not name or ("names" in names and len(names) > 1):
        raise syntax_error()
    vals, rows, cols, _ = _get_matrix(session, name.strip())
    with_rows = bool(names & {"names", "rownames"})
    with_cols = bool(names & {"names", "colnames"})
    r0, c0 = row + with_cols, col + with_rows
    out = []
    if with_cols:
        out += [(row, c0 + j, _label(q, n), None) for j, (q, n) in enumerate(cols)]
    if with_rows:
        out += [(r0 + i, col, _label(q, n), None) for i, (q, n) in enumerate(rows)]
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            out.append((r0 + i, c0 + j, _value(vals[i, j]), None))
    return out


def _label(eq: str, name: str) -> str:
    return f"{eq}:{name}" if eq else name
